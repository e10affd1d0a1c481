export * from './types.ts';
export * from './errors.ts';
export * from './http.ts';
export * from './signing.ts';
