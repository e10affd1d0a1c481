/** Reloading the calendar of a running process from Redis, without a restart. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CalendarStore,
  createDefaultCalendar,
  type WorkingDayCalendar,
  type YearTable,
} from '../../src/calendar/index.ts';
import { CalendarHolder } from '../../src/deadlines/index.ts';
import { eventually } from '../support/gateway-env.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { capturingLogger } from './support/cases.ts';

const FICTIONAL_2027 = JSON.parse(
  readFileSync(new URL('../calendar/fixtures/cn-2027-fictional.json', import.meta.url), 'utf8'),
) as YearTable;

let server: TestRedis;
let redis: Redis;
let store: CalendarStore;
let holder: CalendarHolder | undefined;
let logLines: Array<Record<string, unknown>>;

beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1, connectTimeout: 5_000, commandTimeout: 5_000 });
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

beforeEach(() => {
  store = new CalendarStore(redis, { keyPrefix: `lb-test-${randomUUID()}` });
  logLines = [];
});

afterEach(async () => {
  await holder?.close();
  holder = undefined;
});

async function activate2027(): Promise<void> {
  await store.validate(FICTIONAL_2027);
  await store.activate(2027, 1);
}

describe('CalendarHolder', () => {
  it('reloads on the activation message', async () => {
    holder = await CalendarHolder.load({
      store,
      redis,
      reloadIntervalMs: 0,
      logger: capturingLogger(logLines),
    });
    const changes: WorkingDayCalendar[] = [];
    holder.onChange((calendar) => changes.push(calendar));
    await holder.start();
    expect(holder.current.isCovered(2027)).toBe(false);

    await activate2027();

    await eventually(() => changes.length > 0);
    expect(changes).toHaveLength(1);
    expect(holder.current.isCovered(2027)).toBe(true);
    // 2026-12-31 16:00 with a 1-day limit: 2027-01-01 is off in the fictional table, so 01-04.
    expect(holder.dueAt(new Date('2026-12-31T16:00:00+08:00'), 1)).toMatchObject({
      dueAt: '2027-01-04T23:59:59+08:00',
      provisional: false,
    });
    expect(logLines.find((line) => line.msg === 'calendar tables changed')).toMatchObject({
      tables: '2025:1,2026:1,2027:1',
      previous: '2025:1,2026:1',
    });
  });

  it('reloads on the interval after a missed message', async () => {
    holder = await CalendarHolder.load({
      store,
      redis,
      reloadIntervalMs: 100,
      logger: capturingLogger(logLines),
    });
    // Published before the holder subscribes, so only the periodic reload can see it.
    await activate2027();
    await holder.start();

    await eventually(() => holder?.current.isCovered(2027) === true, 5_000);
  });

  it('reports an unchanged reload', async () => {
    holder = await CalendarHolder.load({
      store,
      redis,
      reloadIntervalMs: 0,
      logger: capturingLogger(logLines),
    });

    expect(await holder.reload()).toBe(false);
    await activate2027();
    expect(await holder.reload()).toBe(true);
    expect(await holder.reload()).toBe(false);
  });

  it('keeps the loaded tables when a reload fails', async () => {
    let loads = 0;
    const failingStore = {
      activationChannel: () => store.activationChannel(),
      load: async (): Promise<WorkingDayCalendar> => {
        loads += 1;
        if (loads > 1) throw new Error('connection refused');
        return createDefaultCalendar();
      },
    } as unknown as CalendarStore;
    holder = await CalendarHolder.load({
      store: failingStore,
      redis,
      reloadIntervalMs: 50,
      logger: capturingLogger(logLines),
    });
    const loaded = holder.current;
    await holder.start();

    await eventually(() =>
      logLines.some((line) => line.msg === 'calendar reload failed; keeping the loaded tables'),
    );
    expect(holder.current).toBe(loaded);
    await expect(holder.reload()).rejects.toThrow('connection refused');
  });
});
