/**
 * Gateway configuration, read once from environment variables. Every variable is
 * listed in the README; names carry their unit where they have one.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPARTMENTS, type DepartmentKey } from './adapters-kit/types.ts';

export interface DepartmentEndpoint {
  baseUrl: string;
  secret: string;
}

export interface GatewayConfig {
  mode: 'production' | 'development';
  host: string;
  port: number;
  /** Base URL departments use to reach this gateway's callbacks. */
  publicUrl: string;
  redisUrl: string;
  /** Prefix of every Redis key and BullMQ queue, so several gateways can share a Redis in tests. */
  keyPrefix: string;
  documentsDir: string;
  /** Data keys by key id; the first is used for new data, all decrypt. */
  dataKeys: Map<string, Buffer>;
  activeDataKeyId: string;
  departments: Record<DepartmentKey, DepartmentEndpoint>;
  platform: { statusUrl: string; secret: string };
  /** Callers allowed to post cases: app id to shared secret. */
  platformCallers: Map<string, string>;
  /** Operators of the admin API: name to bearer token. */
  operatorTokens: Map<string, string>;
  policePollIntervalMs: number;
  departmentAttempts: number;
  maxUploadBytes: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string, mode: GatewayConfig['mode'], developmentDefault: string): string {
  const value = env[name];
  if (value) return value;
  if (mode === 'development') return developmentDefault;
  throw new ConfigError(`${name} is not set; production mode requires it`);
}

function integer(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  }
  return value;
}

/** Parses `keyId:base64key,keyId:base64key`; each key must be 32 bytes for AES-256-GCM. */
export function parseDataKeys(raw: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const entry of raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [keyId, encoded] = entry.split(':', 2);
    if (!keyId || !encoded)
      throw new ConfigError(`LIANBAN_DATA_KEYS entry "${keyId ?? ''}" must be keyId:base64key`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== 32) {
      throw new ConfigError(`LIANBAN_DATA_KEYS key "${keyId}" must decode to 32 bytes, got ${key.length}`);
    }
    keys.set(keyId, key);
  }
  if (keys.size === 0) throw new ConfigError('LIANBAN_DATA_KEYS contains no key');
  return keys;
}

/** Parses `name:secret,name:secret` (platform callers, operator tokens). */
function parseCallers(raw: string): Map<string, string> {
  const callers = new Map<string, string>();
  for (const entry of raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const separator = entry.indexOf(':');
    if (separator <= 0)
      throw new ConfigError(
        'LIANBAN_PLATFORM_CALLERS and LIANBAN_OPERATOR_TOKENS entries must be name:secret',
      );
    callers.set(entry.slice(0, separator), entry.slice(separator + 1));
  }
  return callers;
}

function departmentEndpoints(
  env: Env,
  mode: GatewayConfig['mode'],
): Record<DepartmentKey, DepartmentEndpoint> {
  const endpoints = {} as Record<DepartmentKey, DepartmentEndpoint>;
  for (const department of DEPARTMENTS) {
    const upper = department.toUpperCase();
    endpoints[department] = {
      baseUrl: required(env, `LIANBAN_${upper}_URL`, mode, 'http://127.0.0.1:1'),
      secret: required(env, `LIANBAN_${upper}_SECRET`, mode, `development-${department}-secret`),
    };
  }
  return endpoints;
}

export function loadConfig(env: Env = process.env): GatewayConfig {
  const mode = env.NODE_ENV === 'production' ? 'production' : 'development';
  const host = env.HOST ?? '127.0.0.1';
  const port = integer(env, 'PORT', 8080);
  const dataKeys = parseDataKeys(
    required(env, 'LIANBAN_DATA_KEYS', mode, `dev:${randomBytes(32).toString('base64')}`),
  );

  return {
    mode,
    host,
    port,
    publicUrl: env.LIANBAN_PUBLIC_URL ?? `http://${host}:${port}`,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    keyPrefix: env.LIANBAN_KEY_PREFIX ?? 'lb',
    documentsDir: required(env, 'LIANBAN_DOCUMENTS_DIR', mode, join(tmpdir(), 'lianban-documents')),
    dataKeys,
    activeDataKeyId: [...dataKeys.keys()][0] as string,
    departments: departmentEndpoints(env, mode),
    platform: {
      statusUrl: required(env, 'LIANBAN_PLATFORM_STATUS_URL', mode, 'http://127.0.0.1:1/status'),
      secret: required(env, 'LIANBAN_PLATFORM_SECRET', mode, 'development-platform-secret'),
    },
    platformCallers: parseCallers(
      required(env, 'LIANBAN_PLATFORM_CALLERS', mode, 'ykb:development-caller-secret'),
    ),
    operatorTokens: parseCallers(
      required(env, 'LIANBAN_OPERATOR_TOKENS', mode, 'operator:development-operator-token'),
    ),
    policePollIntervalMs: integer(env, 'LIANBAN_POLICE_POLL_INTERVAL_MS', 5_000),
    departmentAttempts: integer(env, 'LIANBAN_DEPARTMENT_ATTEMPTS', 8),
    maxUploadBytes: integer(env, 'LIANBAN_MAX_UPLOAD_BYTES', 10 * 1024 * 1024),
  };
}
