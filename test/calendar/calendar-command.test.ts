import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCalendarCommand, type CalendarCommandIo } from '../../src/cli/calendar-command.ts';
import { freePort, startTestRedis, type TestRedis } from '../support/redis.ts';

const FICTIONAL_2027_FILE = fileURLToPath(new URL('./fixtures/cn-2027-fictional.json', import.meta.url));

interface Captured {
  io: CalendarCommandIo;
  out: string[];
  err: string[];
}

function capture(extra: Partial<CalendarCommandIo> = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  const io: CalendarCommandIo = { out: (line) => out.push(line), err: (line) => err.push(line), ...extra };
  return { io, out, err };
}

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'lianban-calendar-cli-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('calendar check', () => {
  it('reports 2027 missing on 2026-12-04', async () => {
    const run = capture({ now: () => new Date('2026-12-04T10:00:00+08:00') });

    const code = await runCalendarCommand(['check'], run.io);

    expect(code).toBe(1);
    expect(run.out).toContain(
      '  2025  version 1  国务院办公厅关于2025年部分节假日安排的通知 国办发明电〔2024〕12号',
    );
    expect(run.out).toContain('  2026  version 1  国务院办公厅关于2026年部分节假日安排的通知');
    expect(run.out).toContain('checked at 2026-12-04T10:00:00+08:00; required years: 2026, 2027');
    expect(run.err).toEqual([
      'missing: no table for 2027; due times reaching 2027 are provisional (Monday to Friday counted)',
    ]);
  });

  it('passes in June 2026', async () => {
    const run = capture({ now: () => new Date('2026-06-01T10:00:00+08:00') });

    expect(await runCalendarCommand(['check'], run.io)).toBe(0);
    expect(run.out).toContain('ok: every required year has a table');
    expect(run.err).toEqual([]);
  });

  it('rejects extra arguments', async () => {
    const run = capture();

    expect(await runCalendarCommand(['check', '2027'], run.io)).toBe(2);
    expect(run.err).toEqual(['calendar check takes 0 argument(s), got 1: expected lianban calendar check']);
  });
});

describe('calendar due', () => {
  it('prints the due time of a 2-day item received 2025-09-30', async () => {
    const run = capture();

    expect(await runCalendarCommand(['due', '2025-09-30T10:00:00+08:00', '2'], run.io)).toBe(0);
    expect(run.out).toEqual([
      'received at 2025-09-30T10:00:00+08:00',
      'treated as received at 2025-09-30T10:00:00+08:00',
      'due at 2025-10-10T23:59:59+08:00',
    ]);
  });

  it('shows a UTC receipt on the Shanghai clock', async () => {
    const run = capture();

    expect(await runCalendarCommand(['due', '2025-10-01T02:00:00Z', '0'], run.io)).toBe(0);
    expect(run.out).toEqual([
      'received at 2025-10-01T10:00:00+08:00',
      'treated as received at 2025-10-09T09:00:00+08:00',
      'due at 2025-10-09T23:59:59+08:00',
    ]);
  });

  it('marks a due time in 2027 as provisional', async () => {
    const run = capture();

    expect(await runCalendarCommand(['due', '2026-12-30T10:00:00+08:00', '9'], run.io)).toBe(0);
    expect(run.out).toContain('due at 2027-01-12T23:59:59+08:00');
    expect(run.out).toContain(
      'provisional: no table for 2027, so Monday to Friday were counted as working days there',
    );
  });

  it.each([
    ['2025-09-30 10:00', 'invalid received-at "2025-09-30 10:00"'],
    ['2025-09-30T10:00:00', 'invalid received-at "2025-09-30T10:00:00"'],
    ['2025-02-30T10:00:00+08:00', 'invalid received-at "2025-02-30T10:00:00+08:00"'],
  ])('rejects received-at %s', async (receivedAt, message) => {
    const run = capture();

    expect(await runCalendarCommand(['due', receivedAt, '2'], run.io)).toBe(2);
    expect(run.err[0]).toContain(message);
    expect(run.err[0]).toContain('expected an ISO 8601 time with an offset, e.g. 2025-09-30T10:00:00+08:00');
  });

  it.each(['-1', 'two', '1.5', '1001', ''])('rejects working-days "%s"', async (workingDays) => {
    const run = capture();

    expect(await runCalendarCommand(['due', '2025-09-30T10:00:00+08:00', workingDays], run.io)).toBe(2);
    expect(run.err).toEqual([
      `invalid working-days "${workingDays}": expected a whole number from 0 to 1000`,
    ]);
  });

  it('rejects a missing argument', async () => {
    const run = capture();

    expect(await runCalendarCommand(['due', '2025-09-30T10:00:00+08:00'], run.io)).toBe(2);
    expect(run.err[0]).toContain('expected lianban calendar due <received-at> <working-days>');
  });
});

describe('calendar validate', () => {
  it('accepts the fictional 2027 table', async () => {
    const run = capture();

    expect(await runCalendarCommand(['validate', FICTIONAL_2027_FILE], run.io)).toBe(0);
    expect(run.out[0]).toContain(
      'valid; 2027 version 1, 1 holidays with 1 days off, 0 adjusted working days',
    );
  });

  it('prints every problem with its date', async () => {
    const file = join(workDir, 'cn-2027-broken.json');
    const table = {
      year: 2027,
      version: 1,
      source: { title: '测试用虚构安排（非官方）' },
      holidays: [{ name: '元旦', daysOff: ['2027-01-01', '2026-12-31', '2027-02-29'] }],
      adjustedWorkingDays: [
        { date: '2027-01-01', holiday: '元旦' },
        { date: '2027-01-05', holiday: '元旦' },
      ],
    };
    await writeFile(file, JSON.stringify(table));
    const run = capture();

    expect(await runCalendarCommand(['validate', file], run.io)).toBe(1);
    expect(run.err).toEqual([
      '2027-02-29 at /holidays/0/daysOff/2: "2027-02-29" is not a valid date: expected a real date as YYYY-MM-DD',
      '2026-12-31 at /holidays/0/daysOff/1: 2026-12-31 is not in 2027',
      '2027-01-01 at /adjustedWorkingDays/0/date: 2027-01-01 is listed both as a day off and as an adjusted working day (other entry at /holidays/0/daysOff/0)',
      '2027-01-01 at /adjustedWorkingDays/0/date: 2027-01-01 is a Friday: an adjusted working day must be a Saturday or Sunday, because weekdays are worked anyway',
      '2027-01-05 at /adjustedWorkingDays/1/date: 2027-01-05 is a Tuesday: an adjusted working day must be a Saturday or Sunday, because weekdays are worked anyway',
      `${file}: 5 problem(s); the table cannot be activated`,
    ]);
  });

  it('reports a file that is not JSON', async () => {
    const file = join(workDir, 'not-json.json');
    await writeFile(file, 'year: 2027');
    const run = capture();

    expect(await runCalendarCommand(['validate', file], run.io)).toBe(1);
    expect(run.err[0]).toContain('not valid JSON');
  });

  it('rejects a missing file as a bad argument', async () => {
    const file = join(workDir, 'absent.json');
    const run = capture();

    expect(await runCalendarCommand(['validate', file], run.io)).toBe(2);
    expect(run.err).toEqual([`file not found "${file}": expected the path of a year table JSON file`]);
  });
});

describe('calendar subcommands', () => {
  it('rejects an unknown subcommand', async () => {
    const run = capture();

    expect(await runCalendarCommand(['show'], run.io)).toBe(2);
    expect(run.err[0]).toBe('unknown subcommand "show": expected check, due, validate or activate');
    expect(run.err).toContain('usage: lianban calendar check');
  });

  it('rejects a missing subcommand', async () => {
    const run = capture();

    expect(await runCalendarCommand([], run.io)).toBe(2);
    expect(run.err[0]).toBe('no subcommand: expected check, due, validate or activate');
  });

  it('prints usage on help', async () => {
    const run = capture();

    expect(await runCalendarCommand(['help'], run.io)).toBe(0);
    expect(run.out).toContain('       lianban calendar activate <file>');
  });
});

describe('calendar activate', () => {
  let server: TestRedis;

  beforeAll(async () => {
    server = await startTestRedis();
  });

  afterAll(async () => {
    await server.stop();
  });

  it('needs a Redis URL', async () => {
    const run = capture();

    expect(await runCalendarCommand(['activate', FICTIONAL_2027_FILE], run.io)).toBe(2);
    expect(run.err[0]).toContain('calendar activate needs Redis');
  });

  it('activates a table that due and check then use', async () => {
    const keyPrefix = `lb-test-${randomUUID()}`;
    const activation = capture({ redisUrl: server.url, keyPrefix });

    expect(await runCalendarCommand(['activate', FICTIONAL_2027_FILE], activation.io)).toBe(0);
    expect(activation.out[0]).toBe(`activated 2027 version 1 under ${keyPrefix}:calendar:table:2027`);

    const due = capture({ redisUrl: server.url, keyPrefix });
    expect(await runCalendarCommand(['due', '2026-12-30T10:00:00+08:00', '9'], due.io)).toBe(0);
    expect(due.out).toContain('due at 2027-01-13T23:59:59+08:00');
    expect(due.out.some((line) => line.startsWith('provisional'))).toBe(false);

    const check = capture({
      redisUrl: server.url,
      keyPrefix,
      now: () => new Date('2026-12-04T10:00:00+08:00'),
    });
    expect(await runCalendarCommand(['check'], check.io)).toBe(0);
    expect(check.out).toContain('  2027  version 1  测试用虚构安排（非官方）');
  });

  it('rejects activating the same version twice', async () => {
    const keyPrefix = `lb-test-${randomUUID()}`;
    expect(
      await runCalendarCommand(
        ['activate', FICTIONAL_2027_FILE],
        capture({ redisUrl: server.url, keyPrefix }).io,
      ),
    ).toBe(0);

    const again = capture({ redisUrl: server.url, keyPrefix });
    expect(await runCalendarCommand(['activate', FICTIONAL_2027_FILE], again.io)).toBe(1);
    expect(again.err[0]).toContain('version 1 is already active');
  });

  it('prints the problems of an invalid table and activates nothing', async () => {
    const file = join(workDir, 'cn-2027-weekday.json');
    const table = {
      year: 2027,
      version: 1,
      source: { title: '测试用虚构安排（非官方）' },
      holidays: [{ name: '元旦', daysOff: ['2027-01-01'] }],
      adjustedWorkingDays: [{ date: '2027-01-05', holiday: '元旦' }],
    };
    await writeFile(file, JSON.stringify(table));
    const run = capture({ redisUrl: server.url, keyPrefix: `lb-test-${randomUUID()}` });

    expect(await runCalendarCommand(['activate', file], run.io)).toBe(1);
    expect(run.err[0]).toContain('2027-01-05 is a Tuesday');
    expect(run.err[1]).toBe(`${file}: 1 problem(s); nothing was activated`);
  });

  it('reports an unreachable Redis', async () => {
    const closedPort = await freePort();
    const run = capture({ redisUrl: `redis://127.0.0.1:${closedPort}` });

    expect(await runCalendarCommand(['check'], run.io)).toBe(1);
    expect(run.err[0]).toMatch(/^cannot connect to Redis: /);
  });
});
