/**
 * The Redis settings check: AOF on and `maxmemory-policy noeviction`, read with CONFIG
 * GET. Production mode refuses to start without them, readiness reports them, and a
 * Redis whose CONFIG command is disabled needs the explicit override.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/observability/logger.ts';
import Fastify from 'fastify';
import { RedisSafetyError, checkRedisSafety, readinessHook } from '../../src/operations/redis-safety.ts';
import { freePort } from '../../src/support/ports.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

const logger = createLogger({ level: 'silent' });

/** A redis-server started by this test with extra arguments, e.g. CONFIG renamed away. */
interface CustomRedis {
  url: string;
  stop(): Promise<void>;
}

async function startCustomRedis(extraArgs: string[]): Promise<CustomRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'lianban-test-redis-custom-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...extraArgs],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') break;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server at ${url} did not start`);
    } finally {
      client.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Gateway configuration in production mode: every secret set, nothing reachable but Redis. */
async function productionConfig(redisUrl: string, extra: Record<string, string> = {}) {
  const secret = (): string => randomBytes(16).toString('hex');
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    REDIS_URL: redisUrl,
    LIANBAN_KEY_PREFIX: `lb-${randomBytes(4).toString('hex')}`,
    LIANBAN_DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LIANBAN_DOCUMENTS_DIR: join(tmpdir(), `lianban-safety-${randomBytes(4).toString('hex')}`),
    LIANBAN_PLATFORM_STATUS_URL: 'http://127.0.0.1:1/status',
    LIANBAN_PLATFORM_SECRET: secret(),
    LIANBAN_PLATFORM_CALLERS: `ykb:${secret()}`,
    LIANBAN_OPERATOR_TOKENS: `operator:${secret()}`,
    ...extra,
  };
  for (const department of ['VETERANS', 'POLICE', 'HRSS', 'MEDICAL']) {
    env[`LIANBAN_${department}_URL`] = 'http://127.0.0.1:1';
    env[`LIANBAN_${department}_SECRET`] = secret();
  }
  return loadConfig(env);
}

async function readiness(
  gateway: Gateway,
): Promise<{ status: number; body: { details?: Array<{ message: string }> } }> {
  const response = await request(`${gateway.url}/health/ready`, {
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return {
    status: response.statusCode,
    body: (await response.body.json()) as { details?: Array<{ message: string }> },
  };
}

describe('redis settings check', () => {
  let safe: TestRedis;
  let unsafe: TestRedis;
  let noConfig: CustomRedis;
  let client: Redis;

  beforeAll(async () => {
    safe = await startTestRedis();
    unsafe = await startTestRedis();
    noConfig = await startCustomRedis(['--appendonly', 'yes', '--rename-command', 'CONFIG', '']);
    client = new Redis(unsafe.url);
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await client.config('SET', 'appendonly', 'no');
  });

  afterAll(async () => {
    client?.disconnect();
    await Promise.all([safe?.stop(), unsafe?.stop(), noConfig?.stop()]);
  });

  it('passes AOF with noeviction', async () => {
    const redis = new Redis(safe.url);
    try {
      const report = await checkRedisSafety(redis, { allowUnverified: false });

      expect(report).toEqual({
        safe: true,
        verified: true,
        problems: [],
        settings: { maxmemoryPolicy: 'noeviction', appendonly: 'yes', appendfsync: 'everysec' },
      });
    } finally {
      redis.disconnect();
    }
  });

  it('names eviction and missing AOF', async () => {
    const report = await checkRedisSafety(client, { allowUnverified: true });

    expect(report.safe).toBe(false);
    expect(report.verified).toBe(true);
    expect(report.problems).toHaveLength(2);
    expect(report.problems[0]).toContain('maxmemory-policy is allkeys-lru');
    expect(report.problems[1]).toContain('appendonly is no');
  });

  it('names an appendfsync that never syncs', async () => {
    const redis = new Redis(safe.url);
    try {
      await redis.config('SET', 'appendfsync', 'no');
      const report = await checkRedisSafety(redis, { allowUnverified: false });
      await redis.config('SET', 'appendfsync', 'everysec');

      expect(report.safe).toBe(false);
      expect(report.problems).toEqual(['appendfsync is no, expected everysec or always.']);
    } finally {
      redis.disconnect();
    }
  });

  it('says when CONFIG is disabled', async () => {
    const redis = new Redis(noConfig.url);
    try {
      const strict = await checkRedisSafety(redis, { allowUnverified: false });
      const overridden = await checkRedisSafety(redis, { allowUnverified: true });

      expect(strict).toMatchObject({ safe: false, verified: false });
      expect(strict.problems[0]).toContain('CONFIG GET failed');
      expect(strict.problems[0]).toContain('LIANBAN_ALLOW_UNVERIFIED_REDIS=true');
      expect(overridden).toMatchObject({ safe: true, verified: false });
    } finally {
      redis.disconnect();
    }
  });

  it('stops a production start on an unsafe Redis', async () => {
    const config = await productionConfig(unsafe.url);

    await expect(startGateway(config, 'api', { logger })).rejects.toThrow(RedisSafetyError);
  });

  it('stops a production start when CONFIG is disabled', async () => {
    const config = await productionConfig(noConfig.url);

    await expect(startGateway(config, 'api', { logger })).rejects.toThrow(/LIANBAN_ALLOW_UNVERIFIED_REDIS/);
  });

  it('starts in production with the override', async () => {
    const config = await productionConfig(noConfig.url, { LIANBAN_ALLOW_UNVERIFIED_REDIS: 'true' });
    const gateway = await startGateway(config, 'api', { logger });
    try {
      expect((await readiness(gateway)).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });

  it('starts a development gateway on an unsafe Redis', async () => {
    const config = { ...(await productionConfig(unsafe.url)), mode: 'development' as const };
    const gateway = await startGateway(config, 'api', { logger });
    try {
      expect((await readiness(gateway)).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });

  it('reports a setting changed after start in readiness', async () => {
    const config = await productionConfig(safe.url);
    const gateway = await startGateway(config, 'api', { logger });
    const redis = new Redis(safe.url);
    try {
      await redis.config('SET', 'maxmemory-policy', 'volatile-lru');
      const answer = await readiness(gateway);

      expect(answer.status).toBe(503);
      expect(answer.body.details?.[0]?.message).toContain('maxmemory-policy is volatile-lru');
    } finally {
      await redis.config('SET', 'maxmemory-policy', 'noeviction');
      redis.disconnect();
      await gateway.close();
    }
  });

  it('reports a disconnected Redis in readiness at once', async () => {
    const disconnected = new Redis(safe.url, { lazyConnect: true });
    const app = Fastify();
    app.addHook('onRequest', readinessHook(disconnected, { mode: 'development', allowUnverified: false }));
    app.get('/health/ready', async () => ({ status: 'ready' }));
    try {
      const answer = await app.inject({ method: 'GET', url: '/health/ready' });

      expect(answer.statusCode).toBe(503);
      expect(answer.json().details[0]).toMatchObject({ code: 'redis-connection' });
    } finally {
      await app.close();
      disconnected.disconnect();
    }
  });
});
