/**
 * The department circuit breaker around the real veterans adapter, against a real HTTP
 * server that counts the requests it receives: thresholds, the single half-open probe
 * under 50 concurrent calls, and the open state shared by two processes through Redis.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVeteransAdapter } from '../../adapters/veterans/adapter.ts';
import { BreakerOpenError } from '../../src/adapters-kit/errors.ts';
import type {
  DepartmentAdapter,
  SubmissionReceipt,
  SubmissionRequest,
} from '../../src/adapters-kit/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import {
  DepartmentBreaker,
  SharedBreakerState,
  sharedBreakerKey,
  type BreakerSettings,
} from '../../src/orchestration/breakers.ts';
import { makeMaterial, makeRequest } from '../adapters/fixtures-veterans-medical.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

const SECRET = 'test-veterans-secret';
const RESET_TIMEOUT_MS = 300;
const CONCURRENT_CALLS = 50;

const SETTINGS: BreakerSettings = {
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  rollingWindowMs: 10_000,
  resetTimeoutMs: RESET_TIMEOUT_MS,
  probeLeaseMs: 5_000,
};

type Mode = 'fail' | 'ok' | 'refuse';

/** A veterans front that counts requests and responds by mode; `ok` responds after `delayMs`. */
interface CountingDepartment {
  url: string;
  requests: number;
  mode: Mode;
  delayMs: number;
  close(): Promise<void>;
}

async function startCountingDepartment(): Promise<CountingDepartment> {
  const state = { requests: 0, mode: 'fail' as Mode, delayMs: 100 };
  let sequence = 0;
  const server: Server = createServer((request, response) => {
    state.requests += 1;
    request.resume();
    request.on('end', () => {
      if (state.mode === 'fail') {
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end('{"error":{"code":"service_unavailable","message":"down"}}');
        return;
      }
      if (state.mode === 'refuse') {
        response.writeHead(422, { 'content-type': 'application/json' });
        response.end('{"error":{"code":"refused_test","message":"测试拒绝理由。","legal_basis":"测试依据"}}');
        return;
      }
      sequence += 1;
      setTimeout(() => {
        response.writeHead(201, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ receipt_no: `VA${sequence}`, received_at: '2025-09-29T09:42:11+08:00' }),
        );
      }, state.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  }) as CountingDepartment;
}

function checkInRequest(): SubmissionRequest {
  return makeRequest({
    itemKey: 'veteran-check-in',
    businessCode: 'VA-CHECKIN',
    callbackUrl: `${department.url}/unused-callback`,
    materials: [makeMaterial('photo')],
  });
}

const logger = createLogger({ level: 'silent' });
let redisServer: TestRedis;
let redis: Redis;
let department: CountingDepartment;
let adapter: DepartmentAdapter;
const breakers: Array<{ shutdown(): void }> = [];
let prefixSequence = 0;

function newBreaker(options: { shared?: SharedBreakerState; metrics?: Metrics } = {}) {
  const breaker = new DepartmentBreaker<[SubmissionRequest], SubmissionReceipt>(
    'veterans',
    (request) => adapter.submit(request),
    { settings: SETTINGS, logger, ...options },
  );
  breakers.push(breaker);
  return breaker;
}

function newSharedState(prefix: string): SharedBreakerState {
  return new SharedBreakerState(redis, prefix, 'veterans', SETTINGS);
}

async function settle(
  calls: Array<Promise<unknown>>,
): Promise<{ succeeded: number; refused: number; failed: number }> {
  const results = await Promise.allSettled(calls);
  const refused = results.filter(
    (r) => r.status === 'rejected' && r.reason instanceof BreakerOpenError,
  ).length;
  const succeeded = results.filter((r) => r.status === 'fulfilled').length;
  return { succeeded, refused, failed: results.length - succeeded - refused };
}

async function trip(breaker: { fire(request: SubmissionRequest): Promise<unknown> }): Promise<void> {
  department.mode = 'fail';
  for (let call = 0; call < SETTINGS.volumeThreshold; call += 1) {
    await breaker.fire(checkInRequest()).catch(() => undefined);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  redisServer = await startTestRedis();
  redis = new Redis(redisServer.url);
  department = await startCountingDepartment();
  adapter = createVeteransAdapter({ baseUrl: department.url, secret: SECRET });
});

afterEach(() => {
  for (const breaker of breakers.splice(0)) breaker.shutdown();
  department.mode = 'fail';
  department.delayMs = 100;
});

afterAll(async () => {
  await department?.close();
  redis?.disconnect();
  await redisServer?.stop();
});

describe('breaker thresholds', () => {
  it('stays closed after one failure of a quiet department', async () => {
    const breaker = newBreaker();

    await breaker.fire(checkInRequest()).catch(() => undefined);
    const before = department.requests;
    await breaker.fire(checkInRequest()).catch(() => undefined);

    expect(breaker.localState()).toBe('closed');
    expect(department.requests).toBe(before + 1);
  });

  it('opens at the volume threshold and refuses without sending', async () => {
    const breaker = newBreaker();

    await trip(breaker);
    const before = department.requests;
    const error = await breaker.fire(checkInRequest()).catch((caught: unknown) => caught);

    expect(breaker.localState()).toBe('open');
    expect(error).toBeInstanceOf(BreakerOpenError);
    expect((error as BreakerOpenError).retryAfterMs).toBeLessThanOrEqual(RESET_TIMEOUT_MS);
    expect(department.requests).toBe(before);
  });

  it('does not count refusals as failures', async () => {
    const breaker = newBreaker();
    department.mode = 'refuse';

    for (let call = 0; call < 10; call += 1) await breaker.fire(checkInRequest()).catch(() => undefined);

    expect(breaker.localState()).toBe('closed');
  });

  it('records state changes in the metrics', async () => {
    const metrics = new Metrics();
    const breaker = newBreaker({ metrics });

    await trip(breaker);
    const text = await metrics.registry.metrics();

    expect(text).toContain('lianban_breaker_state{department="veterans"} 2');
    expect(text).toContain('lianban_breaker_transitions_total{department="veterans",state="open"} 1');
  });
});

describe('breaker half-open probe', () => {
  it('lets exactly one of 50 concurrent calls through', async () => {
    const breaker = newBreaker();
    await trip(breaker);
    await sleep(RESET_TIMEOUT_MS + 50);
    expect(breaker.localState()).toBe('half-open');
    department.mode = 'ok';
    const before = department.requests;

    const outcome = await settle(
      Array.from({ length: CONCURRENT_CALLS }, () => breaker.fire(checkInRequest())),
    );

    expect(department.requests - before).toBe(1);
    expect(outcome).toEqual({ succeeded: 1, refused: CONCURRENT_CALLS - 1, failed: 0 });
    expect(breaker.localState()).toBe('closed');
  });

  it('lets calls through again after a successful probe', async () => {
    const breaker = newBreaker();
    await trip(breaker);
    await sleep(RESET_TIMEOUT_MS + 50);
    department.mode = 'ok';
    department.delayMs = 10;
    await breaker.fire(checkInRequest());
    const before = department.requests;

    const outcome = await settle(Array.from({ length: 5 }, () => breaker.fire(checkInRequest())));

    expect(outcome.succeeded).toBe(5);
    expect(department.requests - before).toBe(5);
  });

  it('reopens after a failed probe', async () => {
    const breaker = newBreaker();
    await trip(breaker);
    await sleep(RESET_TIMEOUT_MS + 50);
    const before = department.requests;

    const outcome = await settle(
      Array.from({ length: CONCURRENT_CALLS }, () => breaker.fire(checkInRequest())),
    );

    expect(department.requests - before).toBe(1);
    expect(outcome).toEqual({ succeeded: 0, refused: CONCURRENT_CALLS - 1, failed: 1 });
    expect(breaker.localState()).toBe('open');
  });
});

describe('breaker state shared through Redis', () => {
  it('pauses a second process that saw no failure', async () => {
    prefixSequence += 1;
    const prefix = `breaker-test-${prefixSequence}`;
    const first = newBreaker({ shared: newSharedState(prefix) });
    const second = newBreaker({ shared: newSharedState(prefix) });

    await trip(first);
    await eventuallyShared(prefix);
    const before = department.requests;
    const error = await second.fire(checkInRequest()).catch((caught: unknown) => caught);

    expect(second.localState()).toBe('closed');
    expect(error).toBeInstanceOf(BreakerOpenError);
    expect(department.requests).toBe(before);
  });

  it('sends one probe for 50 calls over two processes', async () => {
    prefixSequence += 1;
    const prefix = `breaker-test-${prefixSequence}`;
    const first = newBreaker({ shared: newSharedState(prefix) });
    const second = newBreaker({ shared: newSharedState(prefix) });
    await trip(first);
    await eventuallyShared(prefix);
    await sleep(RESET_TIMEOUT_MS + 50);
    department.mode = 'ok';
    const before = department.requests;

    const calls = Array.from({ length: CONCURRENT_CALLS }, (_, index) =>
      (index % 2 === 0 ? first : second).fire(checkInRequest()),
    );
    const outcome = await settle(calls);

    expect(department.requests - before).toBe(1);
    expect(outcome).toEqual({ succeeded: 1, refused: CONCURRENT_CALLS - 1, failed: 0 });
    expect(await redis.exists(sharedBreakerKey(prefix, 'veterans'))).toBe(0);
  });

  it('reopens the shared record after a failed probe', async () => {
    prefixSequence += 1;
    const prefix = `breaker-test-${prefixSequence}`;
    const shared = newSharedState(prefix);
    const second = newBreaker({ shared: newSharedState(prefix) });
    await shared.open('another-process', Date.now() - RESET_TIMEOUT_MS - 10);
    const before = department.requests;

    const outcome = await settle(Array.from({ length: 10 }, () => second.fire(checkInRequest())));
    const view = await shared.read();

    expect(department.requests - before).toBe(1);
    expect(outcome.failed).toBe(1);
    expect(view.state).toBe('open');
  });
});

async function eventuallyShared(prefix: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while ((await redis.exists(sharedBreakerKey(prefix, 'veterans'))) === 0) {
    if (Date.now() > deadline) throw new Error('the shared breaker record was not written');
    await sleep(10);
  }
}
