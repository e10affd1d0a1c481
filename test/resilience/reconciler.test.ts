/**
 * The reconciler against a real Redis. Each test writes the state a crash would leave,
 * runs one pass and checks the repair. Such states are an item without its job, a
 * failed or completed job under an item's id, a stored callback never applied, and a
 * push left in an outbox. No worker runs, so every job the pass adds stays queued.
 */
import { randomBytes } from 'node:crypto';
import { UnrecoverableError, Worker, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DepartmentAdapter } from '../../src/adapters-kit/types.ts';
import { sha256Hex } from '../../src/adapters-kit/signing.ts';
import { loadBundle } from '../../src/bundle/bundle.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import type { NewDeadLetter } from '../../src/operations/dead-letters.ts';
import { Orchestrator } from '../../src/orchestration/orchestrator.ts';
import type { StoredOutcome } from '../../src/orchestration/outcomes.ts';
import { createItemPresenter } from '../../src/orchestration/presenter.ts';
import { GatewayQueues, itemJobId } from '../../src/orchestration/queues.ts';
import { Reconciler, type ReconcilerOptions } from '../../src/orchestration/reconciler.ts';
import { CaseStore } from '../../src/store/case-store.ts';
import { DataCipher } from '../../src/store/crypto.ts';
import { KeySpace } from '../../src/store/keys.ts';
import type { ItemState } from '../../src/store/records.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

const LONG_AGO = '2025-01-01T00:00:00.000Z';
const GRACE_MS = 1_000;

const bundle = loadBundle();
const logger = createLogger({ level: 'silent' });

function fakeAdapter(
  department: DepartmentAdapter['department'],
  resultMode: 'callback' | 'poll',
): DepartmentAdapter {
  return {
    department,
    resultMode,
    submit: () => Promise.reject(new Error('no department call in this test')),
  };
}

const ADAPTERS = new Map<string, DepartmentAdapter>([
  ['veterans', fakeAdapter('veterans', 'callback')],
  ['police', fakeAdapter('police', 'poll')],
  ['hrss', fakeAdapter('hrss', 'callback')],
  ['medical', fakeAdapter('medical', 'callback')],
]);

interface SeedItem {
  itemKey: string;
  state: ItemState;
  waitsFor?: string[];
  /** Default: long ago, outside the grace period. */
  updatedAt?: string;
}

interface Context {
  store: CaseStore;
  queues: GatewayQueues;
  orchestrator: Orchestrator;
  metrics: Metrics;
  deadLetters: NewDeadLetter[];
  reconciler(options?: ReconcilerOptions): Reconciler;
  seedCase(items: SeedItem[], options?: { active?: boolean }): Promise<string>;
}

describe('reconciler', () => {
  let redis: TestRedis;
  let client: Redis;
  const contexts: Context[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.queues.close();
  });

  afterAll(async () => {
    client.disconnect();
    await redis?.stop();
  });

  /** Creates a store, queues and an orchestrator under a key prefix of their own. */
  function createContext(): Context {
    const keys = new KeySpace(`rc-${randomBytes(4).toString('hex')}`);
    const cipher = new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1');
    const store = new CaseStore(client, keys, cipher, createItemPresenter(bundle));
    const connection = { url: redis.url, maxRetriesPerRequest: null };
    const queues = new GatewayQueues(connection, keys, [...ADAPTERS.keys()], 3);
    const orchestrator = new Orchestrator(bundle, store, queues, logger);
    const metrics = new Metrics();
    const deadLetters: NewDeadLetter[] = [];
    const context: Context = {
      store,
      queues,
      orchestrator,
      metrics,
      deadLetters,
      reconciler: (options = {}) =>
        new Reconciler(
          {
            store,
            queues,
            orchestrator,
            adapters: ADAPTERS,
            logger,
            metrics,
            deadLetters: { record: async (entry) => void deadLetters.push(entry) },
          },
          { graceMs: GRACE_MS, intervalMs: 0, ...options },
        ),
      seedCase: (items, options) => seedCase(store, items, options),
    };
    contexts.push(context);
    return context;
  }

  /** Writes a case whose items sit in the given states, as a crash would leave them, with an empty outbox. */
  async function seedCase(
    store: CaseStore,
    items: SeedItem[],
    options: { active?: boolean } = {},
  ): Promise<string> {
    const caseId = `LB20250929-${randomBytes(6).toString('hex')}`;
    await store.createCase({
      caseId,
      platformCaseId: `YKB-TEST-${randomBytes(4).toString('hex')}`,
      bundle: bundle.key,
      submittedAt: LONG_AGO,
      form: { note: 'fictional test case' },
      materials: {},
      flags: [],
      items: items.map((item) => ({
        itemKey: item.itemKey,
        department: bundle.item(item.itemKey).department,
        state: 'waiting',
        waitsFor: item.waitsFor ?? [],
        takes: [],
        idempotencyKey: randomBytes(16).toString('hex'),
      })),
      requestHash: randomBytes(8).toString('hex'),
      answer: '{}',
    });
    for (const item of items) {
      await client.hset(store.keys.item(caseId, item.itemKey), {
        state: item.state,
        updatedAt: item.updatedAt ?? LONG_AGO,
      });
    }
    await client.del(store.keys.outbox(caseId));
    if (options.active === false) await client.srem(store.keys.activeCases(), caseId);
    return caseId;
  }

  /** Leaves a job under `jobId` in the failed or completed set, as a worker that ran it would. */
  async function finishJob(
    queue: Queue,
    jobId: string,
    data: object,
    end: 'failed' | 'completed',
  ): Promise<void> {
    await queue.add('seeded', data, { jobId, attempts: 1, removeOnComplete: false, removeOnFail: false });
    const worker = new Worker(
      queue.name,
      async () => {
        if (end === 'failed') throw new UnrecoverableError('seeded failure');
        return 'done';
      },
      { connection: { url: redis.url, maxRetriesPerRequest: null }, prefix: queue.opts.prefix },
    );
    try {
      await waitFor(async () => (await queue.getJobState(jobId)) === end);
    } finally {
      await worker.close();
    }
  }

  async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  describe('department jobs', () => {
    it('dispatches a ready item without a job', async () => {
      const { store, queues, reconciler, seedCase } = createContext();
      const caseId = await seedCase([{ itemKey: 'veteran-check-in', state: 'ready' }]);

      const report = await reconciler().runOnce();

      expect(report.repairs.dispatch).toBe(1);
      expect((await store.getItem(caseId, 'veteran-check-in'))?.state).toBe('dispatched');
      const jobId = itemJobId(caseId, 'veteran-check-in');
      expect(await queues.departmentQueue('veterans').getJobState(jobId)).toBe('waiting');
    });

    it('dispatches a dispatched item without a job', async () => {
      const { queues, reconciler, seedCase } = createContext();
      const caseId = await seedCase([{ itemKey: 'lump-sum-grant', state: 'dispatched' }]);

      const report = await reconciler().runOnce();

      expect(report.repairs.dispatch).toBe(1);
      const job = await queues.departmentQueue('veterans').getJob(itemJobId(caseId, 'lump-sum-grant'));
      expect(job?.data).toEqual({ caseId, itemKey: 'lump-sum-grant' });
    });

    it.each(['failed', 'completed'] as const)('replaces a %s job of a dispatched item', async (end) => {
      const { queues, reconciler, seedCase } = createContext();
      const caseId = await seedCase([{ itemKey: 'household-settlement', state: 'dispatched' }]);
      const queue = queues.departmentQueue('police');
      const jobId = itemJobId(caseId, 'household-settlement');
      await finishJob(queue, jobId, { caseId, itemKey: 'household-settlement' }, end);

      const report = await reconciler().runOnce();

      expect(report.repairs.dispatch).toBe(1);
      expect(await queue.getJobState(jobId)).toBe('waiting');
      const job = await queue.getJob(jobId);
      expect(job?.attemptsMade).toBe(0);
      expect(job?.opts.attempts).toBe(3);
    });

    it('leaves an item with a waiting job alone', async () => {
      const { store, queues, reconciler, seedCase } = createContext();
      const caseId = await seedCase([{ itemKey: 'veteran-check-in', state: 'dispatched' }]);
      await queues.dispatchItem('veterans', { caseId, itemKey: 'veteran-check-in' });
      const before = await store.getItem(caseId, 'veteran-check-in');

      const report = await reconciler().runOnce();

      expect(report.repairs.dispatch).toBe(0);
      expect((await store.getItem(caseId, 'veteran-check-in'))?.version).toBe(before?.version);
    });

    it('leaves items changed within the grace period alone', async () => {
      const { queues, reconciler, seedCase } = createContext();
      const now = new Date().toISOString();
      const caseId = await seedCase([{ itemKey: 'veteran-check-in', state: 'ready', updatedAt: now }]);

      const report = await reconciler({ graceMs: 60_000 }).runOnce();

      expect(report.repairs.dispatch).toBe(0);
      expect(
        await queues.departmentQueue('veterans').getJob(itemJobId(caseId, 'veteran-check-in')),
      ).toBeUndefined();
    });

    it('dead-letters an item that keeps losing its job', async () => {
      const { store, queues, deadLetters, reconciler, seedCase } = createContext();
      const caseId = await seedCase([{ itemKey: 'veteran-check-in', state: 'dispatched' }]);
      const queue = queues.departmentQueue('veterans');
      const jobId = itemJobId(caseId, 'veteran-check-in');
      const pass = reconciler({ maxRedispatches: 1 });

      expect((await pass.runOnce()).repairs.dispatch).toBe(1);
      await queue.remove(jobId);
      // The item stayed dispatched, so its updatedAt is still outside the grace period.
      const second = await pass.runOnce();

      expect(second.repairs.dispatch).toBe(0);
      expect(second.repairs['dead-letter']).toBe(1);
      const item = await store.getItem(caseId, 'veteran-check-in');
      expect(item?.state).toBe('failed');
      expect(item?.lastError).toContain('reconciler');
      expect(deadLetters).toHaveLength(1);
      expect(deadLetters[0]).toMatchObject({ caseId, itemKey: 'veteran-check-in', department: 'veterans' });
      expect(await queue.getJob(jobId)).toBeUndefined();
    });
  });

  describe('police polls', () => {
    it('schedules a poll for a submitted police item without one', async () => {
      const { queues, reconciler, seedCase } = createContext();
      const caseId = await seedCase([
        { itemKey: 'household-settlement', state: 'submitted' },
        { itemKey: 'veteran-check-in', state: 'accepted' },
      ]);

      const report = await reconciler().runOnce();

      expect(report.repairs.poll).toBe(1);
      const poll = await queues.polls.getJob(`${itemJobId(caseId, 'household-settlement')}.poll`);
      expect(poll?.data).toEqual({ caseId, itemKey: 'household-settlement' });
      // Veterans affairs calls back, so its accepted item needs no poll.
      expect(await queues.polls.getJob(`${itemJobId(caseId, 'veteran-check-in')}.poll`)).toBeUndefined();
    });

    it('replaces a failed poll job', async () => {
      const { queues, reconciler, seedCase } = createContext();
      const caseId = await seedCase([{ itemKey: 'id-card-renewal', state: 'accepted' }]);
      const jobId = `${itemJobId(caseId, 'id-card-renewal')}.poll`;
      await finishJob(queues.polls, jobId, { caseId, itemKey: 'id-card-renewal' }, 'failed');

      const report = await reconciler().runOnce();

      expect(report.repairs.poll).toBe(1);
      expect(await queues.polls.getJobState(jobId)).toBe('waiting');
    });

    it('leaves a delayed poll job alone', async () => {
      const { queues, reconciler, seedCase } = createContext();
      const caseId = await seedCase([{ itemKey: 'household-settlement', state: 'accepted' }]);
      await queues.schedulePoll({ caseId, itemKey: 'household-settlement' }, 60_000);

      const report = await reconciler().runOnce();

      expect(report.repairs.poll).toBe(0);
    });
  });

  describe('stored callbacks', () => {
    /** Stores an outcome as the callback route does and returns its key and job id. */
    async function storeOutcome(
      store: CaseStore,
      department: string,
      outcome: StoredOutcome,
    ): Promise<{ outcomeKey: string; jobId: string }> {
      const digest = sha256Hex(`${department}:${outcome.eventId}`).slice(0, 32);
      const outcomeKey = `${store.keys.prefix}:outcome:${department}:${digest}`;
      await client.set(outcomeKey, JSON.stringify(outcome), 'EX', 3600);
      return { outcomeKey, jobId: `callback.${department}.${digest}` };
    }

    function outcomeFor(caseId: string, itemKey: string, eventId: string): StoredOutcome {
      return {
        reference: `${caseId}.${itemKey}`,
        receiptNo: 'VA00000001',
        status: 'completed',
        eventId,
        occurredAt: '2025-09-29T10:00:00+08:00',
        documents: [],
      };
    }

    it('queues an outcome whose apply job is missing', async () => {
      const { store, queues, reconciler, seedCase } = createContext();
      const caseId = await seedCase([{ itemKey: 'lump-sum-grant', state: 'submitted' }]);
      const { outcomeKey, jobId } = await storeOutcome(
        store,
        'veterans',
        outcomeFor(caseId, 'lump-sum-grant', 'E1'),
      );

      const report = await reconciler().runOnce();

      expect(report.repairs.callback).toBe(1);
      const job = await queues.callbacks.getJob(jobId);
      expect(job?.data).toEqual({ caseId, department: 'veterans', outcomeKey });
    });

    it('replaces a failed apply job', async () => {
      const { store, queues, reconciler, seedCase } = createContext();
      const caseId = await seedCase([{ itemKey: 'lump-sum-grant', state: 'dispatched' }]);
      const outcome = outcomeFor(caseId, 'lump-sum-grant', 'E2');
      const { outcomeKey, jobId } = await storeOutcome(store, 'veterans', outcome);
      await finishJob(queues.callbacks, jobId, { caseId, department: 'veterans', outcomeKey }, 'failed');

      const report = await reconciler().runOnce();

      expect(report.repairs.callback).toBe(1);
      expect(await queues.callbacks.getJobState(jobId)).toBe('waiting');
    });

    it('skips applied, completed and stale outcomes', async () => {
      const { store, queues, reconciler, seedCase } = createContext();
      const caseId = await seedCase([
        { itemKey: 'lump-sum-grant', state: 'submitted' },
        { itemKey: 'training-eligibility', state: 'accepted' },
        { itemKey: 'veteran-check-in', state: 'completed' },
      ]);
      await storeOutcome(store, 'veterans', outcomeFor(caseId, 'lump-sum-grant', 'APPLIED'));
      await store.markEventApplied(caseId, 'veterans:APPLIED');
      const ran = await storeOutcome(store, 'veterans', outcomeFor(caseId, 'training-eligibility', 'RAN'));
      await finishJob(
        queues.callbacks,
        ran.jobId,
        { caseId, department: 'veterans', outcomeKey: ran.outcomeKey },
        'completed',
      );
      await storeOutcome(store, 'veterans', outcomeFor(caseId, 'veteran-check-in', 'STALE'));

      const report = await reconciler().runOnce();

      expect(report.repairs.callback).toBe(0);
      expect(await queues.callbacks.getJobCounts('waiting')).toEqual({ waiting: 0 });
    });
  });

  describe('platform pushes', () => {
    async function leavePush(store: CaseStore, caseId: string, changedAt: string): Promise<void> {
      const push = {
        sequence: 2,
        caseId,
        platformCaseId: 'YKB-TEST',
        caseStatus: 'completed',
        changedAt,
        items: [],
      };
      await client.rpush(store.keys.outbox(caseId), JSON.stringify(push));
    }

    it('requests delivery of old pushes, finished cases included', async () => {
      const { store, queues, reconciler, seedCase } = createContext();
      const openCase = await seedCase([{ itemKey: 'veteran-check-in', state: 'completed' }]);
      const finishedCase = await seedCase([{ itemKey: 'veteran-check-in', state: 'completed' }], {
        active: false,
      });
      const freshCase = await seedCase([{ itemKey: 'veteran-check-in', state: 'completed' }], {
        active: false,
      });
      await leavePush(store, openCase, LONG_AGO);
      await leavePush(store, finishedCase, LONG_AGO);
      await leavePush(store, freshCase, new Date().toISOString());

      const report = await reconciler({ graceMs: 60_000 }).runOnce();

      expect(report.repairs.push).toBe(2);
      expect((await queues.pushes.getJob(`reconcile-push.${openCase}`))?.data).toEqual({ caseId: openCase });
      expect((await queues.pushes.getJob(`reconcile-push.${finishedCase}`))?.data).toEqual({
        caseId: finishedCase,
      });
      expect(await queues.pushes.getJob(`reconcile-push.${freshCase}`)).toBeUndefined();
    });

    it('adds one push job per case however often it runs', async () => {
      const { store, queues, reconciler, seedCase } = createContext();
      const caseId = await seedCase([{ itemKey: 'veteran-check-in', state: 'completed' }], { active: false });
      await leavePush(store, caseId, LONG_AGO);
      const pass = reconciler();

      await pass.runOnce();
      const second = await pass.runOnce();

      expect(second.repairs.push).toBe(0);
      expect(await queues.pushes.getJobCounts('waiting')).toEqual({ waiting: 1 });
    });
  });

  describe('case progress', () => {
    it('releases a waiting item whose need completed', async () => {
      const { store, queues, reconciler, seedCase } = createContext();
      const caseId = await seedCase([
        { itemKey: 'veteran-check-in', state: 'completed' },
        { itemKey: 'lump-sum-grant', state: 'waiting', waitsFor: ['veteran-check-in'] },
      ]);

      const report = await reconciler().runOnce();

      expect(report.repairs.advance).toBe(1);
      expect((await store.getItem(caseId, 'lump-sum-grant'))?.state).toBe('dispatched');
      expect(await queues.departmentQueue('veterans').getJobState(itemJobId(caseId, 'lump-sum-grant'))).toBe(
        'waiting',
      );
    });

    it('cancels a waiting item whose need was rejected', async () => {
      const { store, reconciler, seedCase } = createContext();
      const caseId = await seedCase([
        { itemKey: 'veteran-check-in', state: 'rejected' },
        { itemKey: 'lump-sum-grant', state: 'waiting', waitsFor: ['veteran-check-in'] },
      ]);

      await reconciler().runOnce();

      expect((await store.getItem(caseId, 'lump-sum-grant'))?.state).toBe('cancelled');
      expect((await store.getCase(caseId))?.status).toBe('rejected');
    });

    it('closes a case whose items are all final', async () => {
      const { store, reconciler, seedCase } = createContext();
      const caseId = await seedCase([
        { itemKey: 'veteran-check-in', state: 'completed' },
        { itemKey: 'military-pension-transfer', state: 'not_required' },
      ]);

      const report = await reconciler().runOnce();

      expect(report.repairs.advance).toBe(1);
      expect((await store.getCase(caseId))?.status).toBe('completed');
      expect(await store.activeCaseIds()).not.toContain(caseId);
    });

    it('leaves a case waiting on an unfinished item alone', async () => {
      const { reconciler, seedCase } = createContext();
      await seedCase([
        { itemKey: 'veteran-check-in', state: 'failed' },
        { itemKey: 'lump-sum-grant', state: 'waiting', waitsFor: ['veteran-check-in'] },
      ]);

      const report = await reconciler().runOnce();

      expect(report.repairs.advance).toBe(0);
      expect(report.repairs.dispatch).toBe(0);
    });
  });

  describe('scheduling', () => {
    it('runs one pass at a time across processes', async () => {
      const { reconciler, seedCase } = createContext();
      await seedCase([{ itemKey: 'veteran-check-in', state: 'ready' }]);

      const [first, second] = await Promise.all([reconciler().runOnce(), reconciler().runOnce()]);

      expect([first.ran, second.ran].sort()).toEqual([false, true]);
      expect(first.repairs.dispatch + second.repairs.dispatch).toBe(1);
    });

    it('runs a pass at start and counts repairs in metrics', async () => {
      const { store, metrics, reconciler, seedCase } = createContext();
      const caseId = await seedCase([{ itemKey: 'veteran-check-in', state: 'ready' }]);
      const running = reconciler({ intervalMs: 50 });

      running.start();
      await waitFor(async () => (await store.getItem(caseId, 'veteran-check-in'))?.state === 'dispatched');
      await running.stop();

      const text = await metrics.registry.metrics();
      expect(text).toMatch(/lianban_reconciler_repairs_total\{kind="dispatch"\} 1/);
    });
  });
});
