/**
 * The OpenAPI description served at /docs: built from the contracts, complete in its
 * references, and equal to the platform routes the server actually registers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/api/errors.ts';
import { registeredRoutes } from '../../src/api/openapi.ts';
import { loadConfig } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { PROBLEMS, WARNINGS } from '../../src/intake/problems.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { freePort } from '../../src/support/ports.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

// ajv-formats is CommonJS: under Node's ESM loader its default import is the plugin itself.
const addFormats = formatsModule as unknown as typeof formatsModule.default;

type Json = Record<string, unknown>;

const CASE_SCHEMA = JSON.parse(
  readFileSync(new URL('../../contracts/veteran-service/case.schema.json', import.meta.url), 'utf8'),
) as Json;
const TYPICAL_CASE = JSON.parse(
  readFileSync(new URL('../../examples/case-typical.json', import.meta.url), 'utf8'),
) as Json;

/** Routes that are not part of the platform interface: department callbacks and the admin API. */
const NOT_PLATFORM = /^\/v1\/(callbacks|admin)(\/|$)/;

describe('OpenAPI description', () => {
  let redis: TestRedis;
  let gateway: Gateway;
  let documentsDir: string;
  let spec: Json;

  beforeAll(async () => {
    redis = await startTestRedis();
    documentsDir = await mkdtemp(join(tmpdir(), 'lianban-openapi-documents-'));
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      REDIS_URL: redis.url,
      LIANBAN_KEY_PREFIX: `lb-${randomBytes(4).toString('hex')}`,
      LIANBAN_DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      LIANBAN_DOCUMENTS_DIR: documentsDir,
    });
    gateway = await startGateway(config, 'api', { logger: createLogger({ level: 'silent' }) });
    const response = await request(`${gateway.url ?? ''}/docs/openapi.json`, {
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    expect(response.statusCode).toBe(200);
    spec = (await response.body.json()) as Json;
  });

  afterAll(async () => {
    await gateway?.close();
    await redis?.stop();
    await rm(documentsDir, { recursive: true, force: true });
  });

  it('is OpenAPI 3.1', () => {
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('serves a page without outside assets', async () => {
    const response = await request(`${gateway.url ?? ''}/docs`, {
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const html = await response.body.text();
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(html).toContain('href="/docs/openapi.json"');
    expect(html).toContain('/v1/cases');
    expect(html).not.toMatch(/<script|<link|https?:\/\//);
  });

  it('lists exactly the platform routes the server registers', () => {
    const documented = Object.entries(spec.paths as Record<string, Json>).flatMap(([path, operations]) =>
      Object.keys(operations).map(
        (method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`,
      ),
    );
    const registered = registeredRoutes(gateway.api!)
      .filter(
        (route) => route.url.startsWith('/v1/') && !NOT_PLATFORM.test(route.url) && route.method !== 'HEAD',
      )
      .map((route) => `${route.method} ${route.url}`);
    expect(registered.length).toBeGreaterThan(0);
    expect([...new Set(registered)].sort()).toEqual(documented.sort());
  });

  it('resolves every reference', () => {
    const refs: string[] = [];
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(visit);
      else if (node !== null && typeof node === 'object') {
        for (const [key, value] of Object.entries(node as Json)) {
          if (key === '$ref' && typeof value === 'string') refs.push(value);
          else visit(value);
        }
      }
    };
    visit(spec);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref, ref).toMatch(/^#\/components\//);
      let target: unknown = spec;
      for (const token of ref.slice(2).split('/')) target = (target as Json | undefined)?.[token];
      expect(target, ref).toBeDefined();
    }
  });

  it('describes the case with the contract schema', async () => {
    const caseSchema = (spec.components as { schemas: Record<string, Json> }).schemas.Case;
    expect(Object.keys((caseSchema?.properties ?? {}) as Json)).toEqual(
      Object.keys(CASE_SCHEMA.properties as Json),
    );

    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'urn:lianban:openapi', components: spec.components });
    const validate = ajv.getSchema('urn:lianban:openapi#/components/schemas/Case');
    expect(validate?.(TYPICAL_CASE), JSON.stringify(validate?.errors)).toBe(true);
    expect(validate?.({ ...TYPICAL_CASE, channel: 'fax' })).toBe(false);
  });

  it('names every registry code in the error shape', () => {
    const schemas = (
      spec.components as { schemas: Record<string, { properties: Record<string, { enum: string[] }> }> }
    ).schemas;
    expect(schemas.ErrorBody?.properties.code?.enum).toEqual(Object.keys(ERRORS));
    expect(new Set(schemas.ErrorDetail?.properties.code?.enum)).toEqual(
      new Set([...Object.keys(PROBLEMS), ...Object.keys(WARNINGS), ...Object.keys(ERRORS)]),
    );
  });
});
