/**
 * The deadline sweeper against a private Redis, with cases written through the store and
 * the sweep's clock set by each test. Due times are worked out by hand from the official
 * arrangements: 2025-09-28 and 2025-10-11 are worked weekend days, 2025-10-01..10-08 off.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CalendarStore, type YearTable } from '../../src/calendar/index.ts';
import {
  CalendarHolder,
  DeadlineSweeper,
  listDeadlines,
  provisionalNotedKey,
  readDeadlineCounts,
} from '../../src/deadlines/index.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import type { CaseStore } from '../../src/store/case-store.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { bundle, capturingLogger, createStore, outbox, storeCase, trailOf } from './support/cases.ts';

const FICTIONAL_2027 = JSON.parse(
  readFileSync(new URL('../calendar/fixtures/cn-2027-fictional.json', import.meta.url), 'utf8'),
) as YearTable;

// Received Monday 09-29 in office hours with a 2-day limit: 09-30 (1), 10-09 (2).
const SETTLEMENT_DUE_1009 = {
  itemKey: 'household-settlement',
  receivedAt: '2025-09-29T10:00:00+08:00',
  dueAt: '2025-10-09T23:59:59+08:00',
};

let server: TestRedis;
let redis: Redis;
let keyPrefix: string;
let store: CaseStore;
let calendarStore: CalendarStore;
let holder: CalendarHolder;
let metrics: Metrics;
let logLines: Array<Record<string, unknown>>;
let pushRequests: string[];

beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1, connectTimeout: 5_000, commandTimeout: 5_000 });
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

beforeEach(async () => {
  keyPrefix = `lb-test-${randomUUID()}`;
  store = createStore(redis, keyPrefix);
  logLines = [];
  pushRequests = [];
  metrics = new Metrics();
  metrics.readDeadlineCounts = () => readDeadlineCounts(redis, keyPrefix);
  calendarStore = new CalendarStore(redis, { keyPrefix });
  holder = await CalendarHolder.load({
    store: calendarStore,
    redis,
    reloadIntervalMs: 0,
    logger: capturingLogger(logLines),
  });
});

function sweeperAt(now: string): DeadlineSweeper {
  return new DeadlineSweeper({
    bundle,
    store,
    calendar: holder,
    requestPush: async (caseId) => {
      pushRequests.push(caseId);
    },
    metrics,
    logger: capturingLogger(logLines),
    clock: () => new Date(now),
    atRiskWorkingDays: 1,
  });
}

async function lastPushedItem(caseId: string, itemKey: string) {
  const pushes = await outbox(store, caseId);
  return pushes
    .flatMap((push) => push.items)
    .filter((item) => item.itemKey === itemKey)
    .at(-1);
}

describe('deadline sweeper', () => {
  it('leaves an item with a working day to spare', async () => {
    const caseId = await storeCase(store, { items: [SETTLEMENT_DUE_1009] });
    const before = (await outbox(store, caseId)).length;

    const report = await sweeperAt('2025-09-30T10:00:00+08:00').sweep();

    expect(report.atRisk.police).toBe(0);
    expect(report.warningsPushed).toBe(0);
    expect(await outbox(store, caseId)).toHaveLength(before);
    expect(pushRequests).toEqual([]);
  });

  it('warns at risk when the last office day before the holiday closes', async () => {
    const caseId = await storeCase(store, { items: [SETTLEMENT_DUE_1009] });

    const report = await sweeperAt('2025-09-30T17:00:00+08:00').sweep();

    expect(report.atRisk.police).toBe(1);
    expect(report.warningsPushed).toBe(1);
    expect(pushRequests).toEqual([caseId]);
    const pushed = await lastPushedItem(caseId, 'household-settlement');
    expect(pushed?.deadlineWarning).toBe('at-risk');
    expect(pushed?.status).toBe('submitted');
    expect(pushed?.dueAt).toBe('2025-10-09T23:59:59+08:00');
    const events = await trailOf(store, caseId, 'item.deadline-warning');
    expect(events.map((event) => event.detail)).toEqual(['at-risk: due 2025-10-09T23:59:59+08:00']);
  });

  it('warns overdue the day after the due day', async () => {
    const caseId = await storeCase(store, { items: [SETTLEMENT_DUE_1009] });
    await sweeperAt('2025-10-05T10:00:00+08:00').sweep();

    const report = await sweeperAt('2025-10-10T00:00:00+08:00').sweep();

    expect(report.overdue.police).toBe(1);
    expect(report.atRisk.police).toBe(0);
    expect((await lastPushedItem(caseId, 'household-settlement'))?.deadlineWarning).toBe('overdue');
    const events = await trailOf(store, caseId, 'item.deadline-warning');
    expect(events.map((event) => event.detail)).toEqual([
      'at-risk: due 2025-10-09T23:59:59+08:00',
      'overdue: due 2025-10-09T23:59:59+08:00',
    ]);
  });

  it('pushes each warning once across repeated and parallel sweeps', async () => {
    const caseId = await storeCase(store, { items: [SETTLEMENT_DUE_1009] });

    for (let run = 0; run < 5; run += 1) await sweeperAt('2025-10-05T10:00:00+08:00').sweep();
    const parallel = [sweeperAt('2025-10-10T09:00:00+08:00'), sweeperAt('2025-10-10T09:00:00+08:00')];
    for (let run = 0; run < 5; run += 1) await Promise.all(parallel.map((sweeper) => sweeper.sweep()));

    const events = await trailOf(store, caseId, 'item.deadline-warning');
    expect(events.map((event) => event.detail)).toEqual([
      'at-risk: due 2025-10-09T23:59:59+08:00',
      'overdue: due 2025-10-09T23:59:59+08:00',
    ]);
    const warnings = (await outbox(store, caseId)).flatMap((push) =>
      push.items.filter((item) => item.deadlineWarning).map((item) => item.deadlineWarning),
    );
    expect(warnings).toEqual(['at-risk', 'overdue']);
  });

  it('skips at risk for an item first swept when overdue', async () => {
    const caseId = await storeCase(store, { items: [SETTLEMENT_DUE_1009] });

    await sweeperAt('2025-10-13T10:00:00+08:00').sweep();

    const events = await trailOf(store, caseId, 'item.deadline-warning');
    expect(events.map((event) => event.detail)).toEqual(['overdue: due 2025-10-09T23:59:59+08:00']);
  });

  it('ignores finished items', async () => {
    const caseId = await storeCase(store, { items: [{ ...SETTLEMENT_DUE_1009, state: 'completed' }] });

    const report = await sweeperAt('2025-10-13T10:00:00+08:00').sweep();

    expect(report.overdue.police).toBe(0);
    expect(report.itemsWithDueTime).toBe(0);
    expect(await trailOf(store, caseId, 'item.deadline-warning')).toEqual([]);
  });

  it('exports counts by department', async () => {
    await storeCase(store, {
      items: [
        SETTLEMENT_DUE_1009,
        // 1 working day from Tuesday 09-30: due 10-09.
        {
          itemKey: 'employee-pension-enrollment',
          receivedAt: '2025-09-30T10:00:00+08:00',
          dueAt: '2025-10-09T23:59:59+08:00',
        },
        // 1 working day from Friday 09-26: the worked Sunday 09-28.
        {
          itemKey: 'employee-medical-enrollment',
          receivedAt: '2025-09-26T10:00:00+08:00',
          dueAt: '2025-09-28T23:59:59+08:00',
        },
      ],
    });

    await sweeperAt('2025-10-03T12:00:00+08:00').sweep();
    const text = await metrics.registry.metrics();

    expect(text).toContain('lianban_items_at_risk{department="police"} 1');
    expect(text).toContain('lianban_items_at_risk{department="hrss"} 1');
    expect(text).toContain('lianban_items_at_risk{department="veterans"} 0');
    expect(text).toContain('lianban_items_overdue{department="medical"} 1');
    expect(text).toContain('lianban_items_overdue{department="police"} 0');
    expect(text).toContain('lianban_deadline_warnings_total{department="medical",warning="overdue"} 1');
  });

  it('lists items at risk and overdue', async () => {
    const caseId = await storeCase(store, {
      items: [
        SETTLEMENT_DUE_1009,
        {
          itemKey: 'employee-medical-enrollment',
          receivedAt: '2025-09-26T10:00:00+08:00',
          dueAt: '2025-09-28T23:59:59+08:00',
        },
      ],
    });
    const deps = {
      bundle,
      store,
      calendar: holder.current,
      now: new Date('2025-10-03T12:00:00+08:00'),
      atRiskWorkingDays: 1,
    };

    const all = await listDeadlines(deps);
    const overdue = await listDeadlines(deps, { state: 'overdue' });
    const police = await listDeadlines(deps, { department: 'police' });

    expect(all.checkedAt).toBe('2025-10-03T12:00:00+08:00');
    expect(all.items.map((entry) => [entry.itemKey, entry.deadlineState, entry.workingDaysLeft])).toEqual([
      ['employee-medical-enrollment', 'overdue', null],
      ['household-settlement', 'at-risk', 0],
    ]);
    expect(all.items[0]).toMatchObject({
      caseId,
      platformCaseId: `YKB-TEST-${caseId}`,
      department: 'medical',
    });
    expect(overdue.items.map((entry) => entry.itemKey)).toEqual(['employee-medical-enrollment']);
    expect(police.items.map((entry) => entry.itemKey)).toEqual(['household-settlement']);
  });
});

describe('provisional due times', () => {
  // Training eligibility (3 working days) received Wednesday 2026-12-30 10:00. Without a
  // 2027 table Monday to Friday count: 12-31 (1), Friday 2027-01-01 (2), Monday 01-04 (3).
  // With the fictional 2027 table 01-01 is off: 12-31 (1), 01-04 (2), 01-05 (3).
  const TRAINING = {
    itemKey: 'training-eligibility',
    receivedAt: '2026-12-30T10:00:00+08:00',
    dueAt: '2027-01-04T23:59:59+08:00',
    dueProvisional: true,
  };
  // The case promise of 9 working days from the same moment: 2027-01-12 without a 2027
  // table, 2027-01-13 with it (01-01 off).
  const PROMISE = {
    createdAt: '2026-12-30T02:00:00.000Z',
    promiseDueAt: '2027-01-12T23:59:59+08:00',
    promiseDueProvisional: true,
  };

  async function activate2027(): Promise<void> {
    await calendarStore.validate(FICTIONAL_2027);
    await calendarStore.activate(2027, 1);
  }

  it('logs and counts a provisional due time once', async () => {
    const caseId = await storeCase(store, { items: [TRAINING], ...PROMISE });

    for (let run = 0; run < 3; run += 1) await sweeperAt('2026-12-30T11:00:00+08:00').sweep();

    const warnings = logLines.filter(
      (line) => line.msg === 'due time is provisional: no calendar table for a year it reaches',
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      level: 40,
      caseId,
      itemKey: 'training-eligibility',
      department: 'veterans',
      dueAt: '2027-01-04T23:59:59+08:00',
      missingYears: [2027],
    });
    const text = await metrics.registry.getSingleMetricAsString('lianban_provisional_due_times_total');
    expect(text).toContain('lianban_provisional_due_times_total{department="veterans"} 1');
    expect((await store.getItem(caseId, 'training-eligibility'))?.dueProvisional).toBe(true);
  });

  it('recomputes the item and the promise after 2027 is activated', async () => {
    const caseId = await storeCase(store, { items: [TRAINING], ...PROMISE });
    await sweeperAt('2026-12-30T11:00:00+08:00').sweep();
    await activate2027();

    const report = await sweeperAt('2026-12-30T11:05:00+08:00').sweep();

    expect(report.recomputedDueTimes).toBe(1);
    const item = await store.getItem(caseId, 'training-eligibility');
    expect(item?.dueAt).toBe('2027-01-05T23:59:59+08:00');
    expect(item?.dueProvisional).toBe(false);
    const events = await trailOf(store, caseId, 'item.due-recomputed');
    expect(events.map((event) => event.detail)).toEqual([
      'due 2027-01-04T23:59:59+08:00 (provisional) -> 2027-01-05T23:59:59+08:00',
    ]);
    const pushed = await lastPushedItem(caseId, 'training-eligibility');
    expect(pushed).toMatchObject({
      dueAt: '2027-01-05T23:59:59+08:00',
      dueProvisional: false,
      dueExcludes: '培训时间',
    });

    const meta = await store.getCase(caseId);
    expect(meta?.promiseDueAt).toBe('2027-01-13T23:59:59+08:00');
    expect(meta?.promiseDueProvisional).toBe(false);
    const promisePush = (await outbox(store, caseId)).find((push) => push.promiseDueAt !== undefined);
    expect(promisePush).toMatchObject({
      promiseDueAt: '2027-01-13T23:59:59+08:00',
      promiseDueProvisional: false,
    });
    expect(await trailOf(store, caseId, 'case.promise-recomputed')).toHaveLength(1);

    expect(pushRequests).toContain(caseId);
    expect(await redis.sismember(provisionalNotedKey(keyPrefix), `${caseId}.training-eligibility`)).toBe(0);
  });

  it('recomputes once across parallel sweeps', async () => {
    const caseId = await storeCase(store, { items: [TRAINING] });
    await activate2027();

    const sweepers = [sweeperAt('2026-12-30T11:00:00+08:00'), sweeperAt('2026-12-30T11:00:00+08:00')];
    await Promise.all(sweepers.map((sweeper) => sweeper.sweep()));
    await Promise.all(sweepers.map((sweeper) => sweeper.sweep()));

    expect(await trailOf(store, caseId, 'item.due-recomputed')).toHaveLength(1);
  });
});
