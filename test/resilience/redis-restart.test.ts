/**
 * A Redis restart under a running gateway: the API and the workers reconnect on their
 * own (ioredis reconnects; BullMQ connections use `maxRetriesPerRequest: null`), the data
 * written before survives through AOF, and a case submitted afterwards completes without
 * restarting the gateway process.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { eventually, waitForCase, type CaseAnswer } from '../support/gateway-env.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import {
  startResilienceEnvironment,
  submitTypicalCase,
  type ResilienceEnvironment,
} from './resilience-env.ts';

async function readinessStatus(env: ResilienceEnvironment): Promise<number> {
  try {
    const response = await request(`${env.gatewayUrl}/health/ready`, {
      headersTimeout: 2_000,
      bodyTimeout: 2_000,
      signal: AbortSignal.timeout(2_000),
    });
    await response.body.dump();
    return response.statusCode;
  } catch {
    return 0;
  }
}

describe('redis restart', () => {
  let redis: TestRedis;
  let env: ResilienceEnvironment;
  let before: CaseAnswer;
  let after: CaseAnswer;
  let firstCaseId: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    env = await startResilienceEnvironment({
      redisUrl: redis.url,
      logger: createLogger({ level: 'silent' }),
    });
    firstCaseId = await submitTypicalCase(env);
    before = await waitForCase(env, firstCaseId, 60_000);

    await redis.restart();
    await eventually(async () => (await readinessStatus(env)) === 200, 30_000);
    const secondCaseId = await submitTypicalCase(env);
    after = await waitForCase(env, secondCaseId, 90_000);
  });

  // Closing after a restart may wait out the gateway's per-part close timeout.
  afterAll(async () => {
    await env?.close();
    await redis?.stop();
  }, 120_000);

  it('completes a case before the restart', () => {
    expect(before.status).toBe('completed');
  });

  it('keeps the first case through AOF', async () => {
    const meta = await env.gateway.store.getCase(firstCaseId);

    expect(meta?.status).toBe('completed');
  });

  it('completes a case submitted after the restart', () => {
    expect(after.status).toBe('completed');
    expect(
      after.items.filter((item) => item.status !== 'completed' && item.status !== 'not_required'),
    ).toEqual([]);
  });
});
