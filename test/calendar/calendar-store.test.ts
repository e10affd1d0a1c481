import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CalendarActivationError,
  CalendarStore,
  loadContractTables,
  type YearTable,
} from '../../src/calendar/index.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { DUE_WITH_FICTIONAL_2027 } from './support/official-arrangements.ts';

const FICTIONAL_2027 = JSON.parse(
  readFileSync(new URL('./fixtures/cn-2027-fictional.json', import.meta.url), 'utf8'),
) as YearTable;

let server: TestRedis;
let redis: Redis;
let keyPrefix: string;
let store: CalendarStore;

beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1, connectTimeout: 5_000, commandTimeout: 5_000 });
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

beforeEach(() => {
  keyPrefix = `lb-test-${randomUUID()}`;
  store = new CalendarStore(redis, { keyPrefix });
});

function withVersion(table: YearTable, version: number, extraDayOff?: string): YearTable {
  const copy = structuredClone(table);
  copy.version = version;
  if (extraDayOff) copy.holidays.push({ name: '测试假日（虚构）', daysOff: [extraDayOff] });
  return copy;
}

describe('CalendarStore', () => {
  it('recomputes a provisional due time after 2027 is activated', async () => {
    const receivedAt = new Date(DUE_WITH_FICTIONAL_2027.receivedAt);
    const before = (await store.load()).dueAt(receivedAt, DUE_WITH_FICTIONAL_2027.workingDays);
    expect(before).toEqual({
      dueAt: '2027-01-12T23:59:59+08:00',
      dueDate: '2027-01-12',
      provisional: true,
      missingYears: [2027],
    });

    const staged = await store.validate(FICTIONAL_2027);
    expect(staged).toEqual({ staged: true, year: 2027, version: 1 });
    await store.activate(2027, 1);

    const after = (await store.load()).dueAt(receivedAt, DUE_WITH_FICTIONAL_2027.workingDays);
    expect(after).toEqual({
      dueAt: DUE_WITH_FICTIONAL_2027.dueAt,
      dueDate: DUE_WITH_FICTIONAL_2027.dueAt.slice(0, 10),
      provisional: false,
      missingYears: [],
    });
  });

  it('stores the active table under the calendar table key', async () => {
    await store.validate(FICTIONAL_2027);
    await store.activate(2027, 1);

    expect(store.tableKey(2027)).toBe(`${keyPrefix}:calendar:table:2027`);
    const active = await redis.hget(`${keyPrefix}:calendar:table:2027`, 'active');
    expect(JSON.parse(active ?? 'null')).toEqual(FICTIONAL_2027);
  });

  it('uses lb:calendar:table:<year> by default', () => {
    expect(new CalendarStore(redis).tableKey(2027)).toBe('lb:calendar:table:2027');
  });

  it('ignores a staged table until activation', async () => {
    await store.validate(FICTIONAL_2027);

    const calendar = await store.load();
    expect(calendar.isCovered(2027)).toBe(false);
    expect(await store.activeTables()).toEqual([]);
  });

  it('does not stage an invalid table', async () => {
    const broken = structuredClone(FICTIONAL_2027);
    broken.holidays[0]?.daysOff.push('2026-12-31');

    const result = await store.validate(broken);
    expect(result.staged).toBe(false);
    expect(await redis.exists(store.tableKey(2027))).toBe(0);
    await expect(store.activate(2027, 1)).rejects.toThrow('no table of that year is staged');
  });

  it('activates only the version that was staged', async () => {
    await store.validate(withVersion(FICTIONAL_2027, 2));

    await expect(store.activate(2027, 1)).rejects.toThrow('the staged table has version 2');
    await store.activate(2027, 2);
    expect((await store.activeTables()).map((table) => table.version)).toEqual([2]);
  });

  it('rejects a version not above the active one', async () => {
    await store.validate(withVersion(FICTIONAL_2027, 3));
    await store.activate(2027, 3);
    await store.validate(withVersion(FICTIONAL_2027, 3));

    const attempt = store.activate(2027, 3);
    await expect(attempt).rejects.toBeInstanceOf(CalendarActivationError);
    await expect(store.activate(2027, 3)).rejects.toThrow('version 3 is already active');
  });

  it('rejects a version not above the contract file', async () => {
    const table2026 = loadContractTables().find((table) => table.year === 2026);
    if (!table2026) throw new Error('2026 contract table missing');
    await store.validate(table2026);

    await expect(store.activate(2026, 1)).rejects.toThrow('the contract file already has version 1');
  });

  it('lets a newer Redis table replace the contract file', async () => {
    const table2026 = loadContractTables().find((table) => table.year === 2026);
    if (!table2026) throw new Error('2026 contract table missing');
    // Fictional extra day off on Monday 2026-03-02, to see which table is in force.
    await store.validate(withVersion(table2026, 2, '2026-03-02'));
    await store.activate(2026, 2);

    const calendar = await store.load();
    expect(calendar.yearTable(2026)?.version).toBe(2);
    expect(calendar.isWorkingDay('2026-03-02')).toBe(false);
  });

  it('keeps the contract file when it is newer than Redis', async () => {
    const contractTables = loadContractTables();
    await store.validate(withVersion(FICTIONAL_2027, 2, '2027-03-01'));
    await store.activate(2027, 2);

    const newerFile = withVersion(FICTIONAL_2027, 5);
    const withNewerFile = new CalendarStore(redis, {
      keyPrefix,
      contractTables: [...contractTables, newerFile],
    });
    const calendar = await withNewerFile.load();

    expect(calendar.yearTable(2027)?.version).toBe(5);
    expect(calendar.isWorkingDay('2027-03-01')).toBe(true);
  });

  it('skips and logs an active table edited by hand', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logged = new CalendarStore(redis, { keyPrefix, logger: pino(sink) });
    await logged.validate(FICTIONAL_2027);
    await logged.activate(2027, 1);
    await redis.hset(logged.tableKey(2027), 'active', '{"year": 2027}');

    const calendar = await logged.load();
    expect(calendar.isCovered(2027)).toBe(false);
    expect(calendar.years()).toEqual([2025, 2026]);

    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(entry.msg).toBe('active calendar table in redis is invalid');
    expect(entry.year).toBe(2027);
    expect(entry.level).toBe(50);
  });
});
