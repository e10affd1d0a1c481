/**
 * Dead letters and their replay through the admin API and the CLI, on the whole system.
 * An item whose attempts run out (or that fails permanently) is dead-lettered with its
 * last error. An operator previews and replays it with a reason, which the case trail
 * records with the operator's name. The replay sends the original idempotency key with
 * a fresh BullMQ job, and the case completes. Failed jobs of the support queues are
 * listed and retried the same way.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBreakersCommand, runDeadLettersCommand } from '../../src/cli/operator-commands.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { DeadLetter, ReplayReport } from '../../src/operations/dead-letters.ts';
import type { RetryJobsReport } from '../../src/operations/failed-jobs.ts';
import { ReplayThrottle } from '../../src/operations/replay-support.ts';
import { itemJobId } from '../../src/orchestration/queues.ts';
import { eventually, waitForCase } from '../support/gateway-env.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import {
  callAdmin,
  readMetrics,
  startResilienceEnvironment,
  submitTypicalCase,
  type ResilienceEnvironment,
} from './resilience-env.ts';

const CHECK_IN = 'veteran-check-in';
const REASON = '测试重放：部门系统已恢复';
const PERSONAL_VALUES = ['测试退役甲', '500106200003151233', '6217000000000000004', '13800000000'];

let redis: TestRedis;
let env: ResilienceEnvironment;
let logDir: string;

beforeAll(async () => {
  redis = await startTestRedis();
  logDir = await mkdtemp(join(tmpdir(), 'lianban-dead-letters-log-'));
  env = await startResilienceEnvironment({
    redisUrl: redis.url,
    logger: createLogger({ file: join(logDir, 'gateway.log'), level: 'debug' }),
    env: {
      LIANBAN_DEPARTMENT_ATTEMPTS: '2',
      LIANBAN_RETRY_BASE_DELAY_MS: '20',
      LIANBAN_RETRY_MAX_DELAY_MS: '40',
      // High enough that these failures never open a breaker.
      LIANBAN_BREAKER_VOLUME_THRESHOLD: '100',
    },
  });
});

afterAll(async () => {
  await env?.close();
  await redis?.stop();
  await rm(logDir, { recursive: true, force: true });
});

async function deadLetters(department: string): Promise<DeadLetter[]> {
  const { body } = await callAdmin(env, 'GET', `/v1/admin/dead-letters?department=${department}`);
  return (body as { items: DeadLetter[] }).items;
}

async function replay(body: Record<string, unknown>): Promise<{ status: number; report: ReplayReport }> {
  const answer = await callAdmin(env, 'POST', '/v1/admin/dead-letters/replay', body);
  return { status: answer.status, report: answer.body as ReplayReport };
}

describe('transient failures on every attempt', () => {
  let caseId: string;
  let reference: string;
  let entry: DeadLetter;

  beforeAll(async () => {
    env.departments.veterans.injectFault('server-error', 2);
    caseId = await submitTypicalCase(env);
    reference = `${caseId}.${CHECK_IN}`;
    await eventually(async () => (await deadLetters('veterans')).length === 1, 20_000);
    entry = (await deadLetters('veterans'))[0] as DeadLetter;
  });

  it('dead-letter the item with its last error', async () => {
    const item = await env.gateway.store.getItem(caseId, CHECK_IN);

    expect(item?.state).toBe('failed');
    expect(entry).toMatchObject({
      reference,
      caseId,
      itemKey: CHECK_IN,
      department: 'veterans',
      attempts: 2,
    });
    expect(entry.errorKind).toBe('transient');
    expect(entry.lastError).toContain('HTTP 503');
  });

  it('show in the counts and the metrics', async () => {
    const { body } = await callAdmin(env, 'GET', '/v1/admin/dead-letters');
    const metrics = await readMetrics(env);

    expect((body as { departments: Record<string, number> }).departments.veterans).toBe(1);
    expect(metrics).toContain('lianban_dead_letter_entries{department="veterans"} 1');
    expect(metrics).toContain('lianban_dead_letters_total{department="veterans"} 1');
  });

  it('require an operator token', async () => {
    const { status } = await callAdmin(
      { ...env, operatorToken: 'wrong-token' },
      'GET',
      '/v1/admin/dead-letters',
    );

    expect(status).toBe(401);
  });

  it('require a reason to replay', async () => {
    const { status, report } = await replay({ department: 'veterans', items: [reference] });

    expect(status).toBe(400);
    expect((report as unknown as { details: Array<{ pointer: string }> }).details[0]?.pointer).toBe(
      '/reason',
    );
  });

  it('reject an unknown department', async () => {
    const { status, report } = await replay({ department: 'tax', reason: REASON });

    expect(status).toBe(400);
    expect((report as unknown as { details: Array<{ pointer: string }> }).details[0]?.pointer).toBe(
      '/department',
    );
  });

  it('preview a replay without changing anything', async () => {
    const item = await env.gateway.store.getItem(caseId, CHECK_IN);

    const { status, report } = await replay({ department: 'veterans', reason: REASON, dryRun: true });

    expect(status).toBe(200);
    expect(report.dryRun).toBe(true);
    expect(report.replayed.map((replayed) => replayed.reference)).toEqual([reference]);
    expect(report.replayed[0]?.idempotencyKey).toBe(item?.idempotencyKey);
    expect(report.remaining).toBe(1);
    expect((await env.gateway.store.getItem(caseId, CHECK_IN))?.state).toBe('failed');
  });

  describe('after a replay', () => {
    let report: ReplayReport;
    let idempotencyKey: string;

    beforeAll(async () => {
      idempotencyKey = (await env.gateway.store.getItem(caseId, CHECK_IN))?.idempotencyKey ?? '';
      const answer = await replay({ department: 'veterans', items: [reference], reason: REASON });
      report = answer.report;
      await waitForCase(env, caseId, 60_000);
    });

    it('replays the item and empties the list', () => {
      expect(report.dryRun).toBe(false);
      expect(report.replayed.map((replayed) => replayed.reference)).toEqual([reference]);
      expect(report.skipped).toEqual([]);
      expect(report.remaining).toBe(0);
    });

    it('completes the case', async () => {
      const meta = await env.gateway.store.getCase(caseId);

      expect(meta?.status).toBe('completed');
    });

    it('sends the original idempotency key', () => {
      const submissions = env.departments.veterans.submissions.filter(
        (entry) => entry.reference === reference,
      );

      expect(submissions).toHaveLength(1);
      expect(submissions[0]?.idempotencyKey).toBe(idempotencyKey);
    });

    it('records operator and reason in the case trail', async () => {
      const trail = await env.gateway.store.getTrail(caseId);
      const event = trail.find((entry) => entry.itemKey === CHECK_IN && entry.from === 'failed');

      expect(event?.to).toBe('ready');
      expect(event?.detail).toContain(env.operatorName);
      expect(event?.detail).toContain(REASON);
    });

    it('ran a fresh job under the same job id', async () => {
      const job = await env.gateway.queues.departmentQueue('veterans').getJob(itemJobId(caseId, CHECK_IN));

      expect(await job?.getState()).toBe('completed');
      expect(job?.attemptsMade).toBe(1);
    });

    it('skips an item that is no longer failed', async () => {
      const again = await replay({ department: 'veterans', items: [reference], reason: REASON });

      expect(again.report.replayed).toEqual([]);
      expect(again.report.skipped).toEqual([{ reference, reason: 'item-not-failed', state: 'completed' }]);
    });
  });
});

describe('permanent failure', () => {
  let caseId: string;

  beforeAll(async () => {
    env.departments.police.injectFault('doctype-reply');
    caseId = await submitTypicalCase(env);
    await eventually(async () => (await deadLetters('police')).length === 1, 30_000);
  });

  it('dead-letters at the first attempt', async () => {
    const [entry] = await deadLetters('police');

    expect(entry?.caseId).toBe(caseId);
    expect(entry?.attempts).toBe(1);
    expect(entry?.errorKind).toBe('permanent');
    expect(entry?.lastError).toContain('DOCTYPE');
  });

  it('replays all of a department through the CLI', async () => {
    const lines: string[] = [];
    const io = {
      out: (line: string) => lines.push(line),
      err: (line: string) => lines.push(line),
      env: { LIANBAN_ADMIN_URL: env.gatewayUrl, LIANBAN_OPERATOR_TOKEN: env.operatorToken },
    };

    const code = await runDeadLettersCommand(['replay', '--department', 'police', '--reason', REASON], io);
    const answer = await waitForCase(env, caseId, 60_000);

    expect(code).toBe(0);
    expect(lines[0]).toBe('replayed 1 items');
    expect(lines.at(-1)).toBe('dead letters left in police: 0');
    expect(answer.status).toBe('completed');
  });
});

describe('operator CLI', () => {
  function capture(extraEnv: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      out: (line: string) => out.push(line),
      err: (line: string) => err.push(line),
      env: { LIANBAN_ADMIN_URL: env.gatewayUrl, LIANBAN_OPERATOR_TOKEN: env.operatorToken, ...extraEnv },
    };
    return { io, out, err };
  }

  it('lists counts per department and queue', async () => {
    const { io, out } = capture();

    const code = await runDeadLettersCommand(['list'], io);

    expect(code).toBe(0);
    expect(out[0]).toBe('DEPARTMENT OR QUEUE\tDEAD LETTERS');
    expect(out).toContain('veterans\t0');
    expect(out).toContain('pushes\t0');
  });

  it('refuses a replay without a reason', async () => {
    const { io, err } = capture();

    const code = await runDeadLettersCommand(['replay', '--department', 'veterans'], io);

    expect(code).toBe(2);
    expect(err[0]).toContain('--reason is required');
  });

  it('needs the operator token', async () => {
    const { io, err } = capture({ LIANBAN_OPERATOR_TOKEN: '' });

    const code = await runDeadLettersCommand(['list'], io);

    expect(code).toBe(2);
    expect(err[0]).toContain('LIANBAN_OPERATOR_TOKEN');
  });

  it('reports a wrong token as a failure', async () => {
    const { io, err } = capture({ LIANBAN_OPERATOR_TOKEN: 'wrong-token' });

    const code = await runDeadLettersCommand(['list'], io);

    expect(code).toBe(1);
    expect(err[0]).toContain('HTTP 401');
  });

  it('shows every breaker', async () => {
    const { io, out } = capture();

    const code = await runBreakersCommand([], io);

    expect(code).toBe(0);
    expect(out.slice(1).map((line) => line.split('\t').slice(0, 2))).toEqual([
      ['veterans', 'closed'],
      ['police', 'closed'],
      ['hrss', 'closed'],
      ['medical', 'closed'],
    ]);
  });
});

describe('failed jobs of the support queues', () => {
  const jobId = 'test-unappliable-callback';
  let caseId: string;
  let firstFinishedOn: number | undefined;

  beforeAll(async () => {
    caseId = await submitTypicalCase(env);
    await waitForCase(env, caseId, 60_000);
    // A callback whose stored outcome is gone fails at once and stays in the failed set.
    await env.gateway.queues.callbacks.add(
      'apply',
      { caseId, department: 'veterans', outcomeKey: `${env.env.LIANBAN_KEY_PREFIX}:missing-outcome` },
      { jobId, attempts: 1, removeOnFail: false },
    );
    await eventually(
      async () => (await env.gateway.queues.callbacks.getJob(jobId))?.finishedOn !== undefined,
    );
    firstFinishedOn = (await env.gateway.queues.callbacks.getJob(jobId))?.finishedOn;
  });

  it('are listed with their last error', async () => {
    const { body } = await callAdmin(env, 'GET', '/v1/admin/failed-jobs?queue=callbacks');
    const answer = body as {
      count: number;
      jobs: Array<{ jobId: string; caseId: string; failedReason: string }>;
    };

    expect(answer.count).toBe(1);
    expect(answer.jobs[0]).toMatchObject({ jobId, caseId });
    expect(answer.jobs[0]?.failedReason).toContain('not found');
  });

  it('reject an unknown queue', async () => {
    const { status } = await callAdmin(env, 'GET', '/v1/admin/failed-jobs?queue=department-veterans');

    expect(status).toBe(400);
  });

  it('are retried with the reason in the trail', async () => {
    const { status, body } = await callAdmin(env, 'POST', '/v1/admin/failed-jobs/retry', {
      queue: 'callbacks',
      jobIds: [jobId],
      reason: REASON,
    });
    const report = body as RetryJobsReport;
    await eventually(async () => {
      const job = await env.gateway.queues.callbacks.getJob(jobId);
      return (job?.finishedOn ?? 0) > (firstFinishedOn ?? 0);
    });
    const trail = await env.gateway.store.getTrail(caseId);

    expect(status).toBe(200);
    expect(report.retried.map((job) => job.jobId)).toEqual([jobId]);
    const event = trail.find((entry) => entry.type === 'operator.job-retry');
    expect(event?.detail).toContain(env.operatorName);
    expect(event?.detail).toContain(REASON);
  });
});

describe('withdrawn case', () => {
  it('keeps its failed item out of a replay', async () => {
    env.departments.veterans.injectFault('server-error', 2);
    const caseId = await submitTypicalCase(env);
    const reference = `${caseId}.${CHECK_IN}`;
    await eventually(async () => (await deadLetters('veterans')).length === 1, 20_000);
    await env.gateway.store.transitionCase(caseId, 'in_progress', 'withdrawn');

    const { report } = await replay({ department: 'veterans', items: [reference], reason: REASON });

    expect(report.replayed).toEqual([]);
    expect(report.skipped).toEqual([{ reference, reason: 'case-not-in-progress', state: 'failed' }]);
    expect((await env.gateway.store.getItem(caseId, CHECK_IN))?.state).toBe('failed');
  });
});

describe('replay throttle', () => {
  it('keeps to the configured rate across instances', async () => {
    const client = new Redis(redis.url);
    try {
      const first = new ReplayThrottle(client, 'throttle-test', 2);
      const second = new ReplayThrottle(client, 'throttle-test', 2);
      // Starts right after a second boundary so the count of windows is exact.
      await new Promise((resolve) => setTimeout(resolve, 1_000 - (Date.now() % 1_000) + 5));
      const started = Date.now();

      for (let take = 0; take < 3; take += 1) {
        await first.take();
        await second.take();
      }

      // Six takes at two per second fill three one-second windows.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    } finally {
      client.disconnect();
    }
  });
});

describe('gateway log', () => {
  it('records replays without personal data', async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const log = readFileSync(join(logDir, 'gateway.log'), 'utf8');

    expect(log).toContain('"msg":"item moved to dead letters"');
    expect(log).toContain('"msg":"dead letter replayed"');
    expect(log).toContain('"msg":"failed job retried by operator"');
    for (const value of PERSONAL_VALUES) expect(log.includes(value), value).toBe(false);
  });
});
