/** The sweeper's BullMQ queue: the schedule, requested sweeps and the failed set as dead letters. */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeadlineSweeper, SweepReport } from '../../src/deadlines/index.ts';
import { DeadlineSweepWorker } from '../../src/deadlines/index.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { eventually } from '../support/gateway-env.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { capturingLogger } from './support/cases.ts';

let server: TestRedis;
let worker: DeadlineSweepWorker | undefined;

beforeAll(async () => {
  server = await startTestRedis();
});

afterAll(async () => {
  await server.stop();
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
});

/** Returns a sweeper that counts its runs and fails while `failing` is true. */
function stubSweeper(state: { runs: number; failing: boolean }): DeadlineSweeper {
  return {
    sweep: async () => {
      state.runs += 1;
      if (state.failing) throw new Error('redis unavailable during the sweep');
      return {} as SweepReport;
    },
  } as unknown as DeadlineSweeper;
}

function startWorker(
  sweeper: DeadlineSweeper,
  intervalMs: number,
  metrics: Metrics,
  logLines: Array<Record<string, unknown>>,
): Promise<void> {
  worker = new DeadlineSweepWorker({
    sweeper,
    connection: { url: server.url, maxRetriesPerRequest: null },
    queuePrefix: `lb-test-${randomUUID()}:bull`,
    intervalMs,
    metrics,
    logger: capturingLogger(logLines),
    retry: { attempts: 2, backoffMs: 10 },
  });
  return worker.start();
}

async function sweepCount(metrics: Metrics, outcome: string): Promise<number> {
  const values = (await metrics.deadlineSweeps.get()).values;
  return values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
}

describe('deadline sweep worker', () => {
  it('sweeps on the schedule', async () => {
    const state = { runs: 0, failing: false };
    const metrics = new Metrics();
    await startWorker(stubSweeper(state), 100, metrics, []);

    await eventually(() => state.runs >= 2, 10_000);
    await eventually(async () => (await sweepCount(metrics, 'completed')) >= 2);
  });

  it('runs one sweep for repeated requests with one id', async () => {
    const state = { runs: 0, failing: false };
    await startWorker(stubSweeper(state), 0, new Metrics(), []);

    await worker?.requestSweep('calendar changed', 'calendar-test');
    await worker?.requestSweep('calendar changed', 'calendar-test');
    await eventually(() => state.runs === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(state.runs).toBe(1);
  });

  it('keeps a failed sweep in the failed set', async () => {
    const state = { runs: 0, failing: true };
    const metrics = new Metrics();
    const logLines: Array<Record<string, unknown>> = [];
    await startWorker(stubSweeper(state), 0, metrics, logLines);

    await worker?.requestSweep('test', 'failing-sweep');

    await eventually(async () => (await sweepCount(metrics, 'failed')) === 1);
    expect(state.runs).toBe(2);
    expect(await sweepCount(metrics, 'retrying')).toBe(1);
    const failed = (await worker?.queue.getFailed()) ?? [];
    expect(failed.map((job) => job.id)).toEqual(['failing-sweep']);
    expect(failed[0]?.failedReason).toBe('redis unavailable during the sweep');
    expect(
      logLines.find((line) => line.msg === 'deadline sweep failed for good; kept in the failed set'),
    ).toMatchObject({
      level: 50,
      jobId: 'failing-sweep',
    });
  });
});
