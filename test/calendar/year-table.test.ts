import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTRACT_CALENDAR_DIR,
  CalendarTableError,
  createDefaultCalendar,
  loadContractTables,
  validateYearTable,
  type TableProblem,
} from '../../src/calendar/index.ts';
import { DAYS_OFF, WORKED_WEEKEND_DAYS } from './support/official-arrangements.ts';

/** Builds a small valid table for a fictional year, for tests that break one thing at a time. */
function fictionalTable(): Record<string, unknown> {
  return {
    year: 2027,
    version: 1,
    source: { title: '测试用虚构安排（非官方）' },
    holidays: [
      { name: '元旦', daysOff: ['2027-01-01', '2027-01-02', '2027-01-03'] },
      { name: '劳动节', daysOff: ['2027-05-01', '2027-05-02', '2027-05-03'] },
    ],
    adjustedWorkingDays: [{ date: '2027-05-08', holiday: '劳动节' }],
  };
}

function problemsOf(json: unknown): TableProblem[] {
  const result = validateYearTable(json);
  return result.valid ? [] : result.problems;
}

describe('validateYearTable', () => {
  it('accepts a well-formed table', () => {
    const result = validateYearTable(fictionalTable());
    expect(result.valid).toBe(true);
  });

  it('accepts the contract files for 2025 and 2026', () => {
    const tables = loadContractTables();
    expect(tables.map((table) => table.year)).toEqual([2025, 2026]);
  });

  it('reports a date in another year', () => {
    const table = fictionalTable();
    table.adjustedWorkingDays = [{ date: '2026-12-26', holiday: '元旦' }];

    expect(problemsOf(table)).toEqual([
      { pointer: '/adjustedWorkingDays/0/date', date: '2026-12-26', message: '2026-12-26 is not in 2027' },
    ]);
  });

  it('reports a date both off and worked', () => {
    const table = fictionalTable();
    table.adjustedWorkingDays = [{ date: '2027-05-02', holiday: '劳动节' }];

    const problems = problemsOf(table);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.date).toBe('2027-05-02');
    expect(problems[0]?.message).toContain('both as a day off and as an adjusted working day');
  });

  it('reports a day off listed twice', () => {
    const table = fictionalTable();
    table.holidays = [
      { name: '元旦', daysOff: ['2027-01-01'] },
      { name: '劳动节', daysOff: ['2027-05-01', '2027-01-01'] },
    ];

    expect(problemsOf(table)).toEqual([
      {
        pointer: '/holidays/1/daysOff/1',
        date: '2027-01-01',
        message: '2027-01-01 is listed as a day off more than once (first at /holidays/0/daysOff/0)',
      },
    ]);
  });

  it('reports malformed and unreal dates', () => {
    const table = fictionalTable();
    table.holidays = [{ name: '元旦', daysOff: ['2027-1-1', '2027-02-30', '2027-01-01'] }];
    table.adjustedWorkingDays = [];

    const problems = problemsOf(table);
    expect(problems.map((problem) => problem.date)).toEqual(['2027-1-1', '2027-02-30']);
    expect(problems[1]).toEqual({
      pointer: '/holidays/0/daysOff/1',
      date: '2027-02-30',
      message: '"2027-02-30" is not a valid date: expected a real date as YYYY-MM-DD',
    });
  });

  it('reports an adjusted working day on a weekday', () => {
    const table = fictionalTable();
    // 2027-05-07 is a Friday.
    table.adjustedWorkingDays = [{ date: '2027-05-07', holiday: '劳动节' }];

    expect(problemsOf(table)).toEqual([
      {
        pointer: '/adjustedWorkingDays/0/date',
        date: '2027-05-07',
        message:
          '2027-05-07 is a Friday: an adjusted working day must be a Saturday or Sunday, because weekdays are worked anyway',
      },
    ]);
  });

  it('reports a worked day naming an unknown holiday', () => {
    const table = fictionalTable();
    table.adjustedWorkingDays = [{ date: '2027-05-08', holiday: '国庆节' }];

    const problems = problemsOf(table);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toBe(
      '2027-05-08 makes up for the holiday "国庆节", which the table does not list',
    );
  });

  it('accepts holiday days off on weekdays', () => {
    const table = fictionalTable();
    // 2027-02-10 is a Wednesday.
    table.holidays = [{ name: '春节', daysOff: ['2027-02-10'] }];
    table.adjustedWorkingDays = [];

    expect(problemsOf(table)).toEqual([]);
  });

  it('reports structural problems together with date problems', () => {
    const table = fictionalTable();
    delete table.version;
    table.colour = 'red';
    table.adjustedWorkingDays = [{ date: '2026-05-09', holiday: '劳动节' }];

    const problems = problemsOf(table);
    expect(problems).toContainEqual({ pointer: '/', message: "must have required property 'version'" });
    expect(problems).toContainEqual({ pointer: '/', message: 'unknown property "colour"' });
    expect(problems).toContainEqual({
      pointer: '/adjustedWorkingDays/0/date',
      date: '2026-05-09',
      message: '2026-05-09 is not in 2027',
    });
  });

  it('rejects values that are not tables', () => {
    for (const value of [null, [], 'cn-2027', 2027]) {
      expect(validateYearTable(value).valid, JSON.stringify(value)).toBe(false);
    }
  });
});

describe('contract files', () => {
  it('list the 2025 and 2026 arrangements exactly', () => {
    for (const table of loadContractTables()) {
      const year = table.year as 2025 | 2026;
      const daysOff = table.holidays.flatMap((holiday) => holiday.daysOff).sort();
      const worked = table.adjustedWorkingDays.map((workedDay) => workedDay.date).sort();

      expect(daysOff, `${year} days off`).toEqual([...DAYS_OFF[year]].sort());
      expect(worked, `${year} worked days`).toEqual([...WORKED_WEEKEND_DAYS[year]].sort());
    }
  });

  it('cite the notices', () => {
    const [table2025, table2026] = loadContractTables();

    expect(table2025?.source).toEqual({
      title: '国务院办公厅关于2025年部分节假日安排的通知',
      documentNumber: '国办发明电〔2024〕12号',
    });
    expect(table2026?.source.title).toBe('国务院办公厅关于2026年部分节假日安排的通知');
  });

  it('resolve to the contracts folder', () => {
    expect(CONTRACT_CALENDAR_DIR.replaceAll('\\', '/')).toMatch(/contracts\/calendar\/?$/);
  });
});

describe('loadContractTables', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lianban-calendar-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a file whose name and year disagree', async () => {
    await writeFile(join(dir, 'cn-2028.json'), JSON.stringify(fictionalTable()));

    expect(() => loadContractTables(dir)).toThrow(CalendarTableError);
    expect(() => loadContractTables(dir)).toThrow('the file name says 2028 but the table is for 2027');
    await rm(join(dir, 'cn-2028.json'));
  });

  it('rejects a file that is not JSON', async () => {
    await writeFile(join(dir, 'cn-2027.json'), '{ "year": 2027,');

    expect(() => loadContractTables(dir)).toThrow('not valid JSON');
    await rm(join(dir, 'cn-2027.json'));
  });

  it('loads a dropped-in file and ignores other names', async () => {
    await writeFile(join(dir, 'cn-2027.json'), JSON.stringify(fictionalTable()));
    await writeFile(join(dir, 'notes.json'), '{}');

    const calendar = createDefaultCalendar({ dir });
    expect(calendar.years()).toEqual([2027]);
    expect(calendar.isWorkingDay('2027-05-08')).toBe(true);
  });
});
