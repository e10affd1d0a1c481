import { describe, expect, it } from 'vitest';
import { WorkingDayCalendar, createDefaultCalendar } from '../../src/calendar/index.ts';
import {
  ADDITION_CASES,
  DAYS_OFF,
  DUE_CASES,
  WORKED_WEEKEND_DAYS,
  expectedWorkingDays,
} from './support/official-arrangements.ts';

const calendar = createDefaultCalendar();

describe('isWorkingDay', () => {
  for (const year of [2025, 2026] as const) {
    it(`treats every listed ${year} holiday day as off`, () => {
      for (const date of DAYS_OFF[year]) expect(calendar.isWorkingDay(date), date).toBe(false);
    });

    it(`treats every listed ${year} weekend day worked as working`, () => {
      for (const date of WORKED_WEEKEND_DAYS[year]) expect(calendar.isWorkingDay(date), date).toBe(true);
    });

    it(`matches the arrangement on every day of ${year}`, () => {
      for (const [date, working] of expectedWorkingDays(year)) {
        expect(calendar.isWorkingDay(date), date).toBe(working);
      }
    });
  }

  it('works the Saturday 2025-10-11', () => {
    expect(calendar.isWorkingDay('2025-10-11')).toBe(true);
  });

  it('gives all of 2026-02-15 to 2026-02-23 off', () => {
    const days = ['15', '16', '17', '18', '19', '20', '21', '22', '23'].map((day) => `2026-02-${day}`);
    for (const date of days) expect(calendar.isWorkingDay(date), date).toBe(false);
  });

  it('works the Saturdays 2026-02-14 and 2026-02-28', () => {
    expect(calendar.isWorkingDay('2026-02-14')).toBe(true);
    expect(calendar.isWorkingDay('2026-02-28')).toBe(true);
  });

  it('counts Monday to Friday in a year without a table', () => {
    expect(calendar.isWorkingDay('2027-01-01')).toBe(true);
    expect(calendar.isWorkingDay('2027-01-02')).toBe(false);
    expect(calendar.isWorkingDay('2027-01-03')).toBe(false);
    expect(calendar.isWorkingDay('2027-01-04')).toBe(true);
  });

  it('rejects malformed and unreal dates', () => {
    for (const bad of ['2025-02-30', '2025-13-01', '2025-1-2', '20250102', '', '2025-10-11T00:00:00Z']) {
      expect(() => calendar.isWorkingDay(bad), bad).toThrow(RangeError);
    }
    expect(() => calendar.isWorkingDay('2025-02-30')).toThrow('invalid date "2025-02-30"');
  });
});

describe('addWorkingDays', () => {
  for (const entry of ADDITION_CASES) {
    it(`adds ${entry.workingDays} to ${entry.from}`, () => {
      expect(calendar.addWorkingDays(entry.from, entry.workingDays)).toBe(entry.expected);
    });
  }

  it('rejects negative, fractional and huge counts', () => {
    expect(() => calendar.addWorkingDays('2025-09-26', -1)).toThrow(RangeError);
    expect(() => calendar.addWorkingDays('2025-09-26', 1.5)).toThrow(RangeError);
    expect(() => calendar.addWorkingDays('2025-09-26', Number.NaN)).toThrow(RangeError);
    expect(() => calendar.addWorkingDays('2025-09-26', 1001)).toThrow('expected an integer from 0 to 1000');
  });
});

describe('nextWorkingDay', () => {
  it('skips the national day holiday', () => {
    expect(calendar.nextWorkingDay('2025-09-30')).toBe('2025-10-09');
  });
});

describe('dueAt', () => {
  for (const entry of DUE_CASES) {
    it(`handles ${entry.title}`, () => {
      const due = calendar.dueAt(new Date(entry.receivedAt), entry.workingDays);

      expect(due.dueAt).toBe(entry.dueAt);
      expect(due.dueDate).toBe(entry.dueAt.slice(0, 10));
      expect(due.provisional).toBe(entry.provisional);
      expect(due.missingYears).toEqual(entry.missingYears);
    });
  }

  it('rejects an invalid Date and an invalid count', () => {
    expect(() => calendar.dueAt(new Date('not a date'), 1)).toThrow(RangeError);
    expect(() => calendar.dueAt(new Date('2025-09-30T10:00:00+08:00'), -1)).toThrow(RangeError);
  });

  it('honours configured office hours', () => {
    const longHours = createDefaultCalendar({ workingHours: { start: '08:30', end: '18:00' } });
    const receivedAt = new Date('2025-09-30T17:30:00+08:00');

    expect(longHours.dueAt(receivedAt, 0).dueAt).toBe('2025-09-30T23:59:59+08:00');
    expect(calendar.dueAt(receivedAt, 0).dueAt).toBe('2025-10-09T23:59:59+08:00');
  });

  it('rejects office hours that end before they start', () => {
    expect(() => new WorkingDayCalendar([], { workingHours: { start: '17:00', end: '09:00' } })).toThrow(
      'invalid working hours 17:00-09:00',
    );
    expect(() => new WorkingDayCalendar([], { workingHours: { start: '9:00', end: '17:00' } })).toThrow(
      RangeError,
    );
  });
});

describe('effectiveReceivedAt', () => {
  it('keeps a receipt during office hours', () => {
    expect(calendar.effectiveReceivedAt(new Date('2025-09-30T02:15:30Z'))).toBe('2025-09-30T10:15:30+08:00');
  });

  it('moves a receipt before opening to that day’s opening', () => {
    expect(calendar.effectiveReceivedAt(new Date('2025-09-30T08:00:00+08:00'))).toBe(
      '2025-09-30T09:00:00+08:00',
    );
  });

  it('moves a receipt after closing to the next working day’s opening', () => {
    expect(calendar.effectiveReceivedAt(new Date('2025-09-30T17:30:00+08:00'))).toBe(
      '2025-10-09T09:00:00+08:00',
    );
  });

  it('moves a Saturday receipt to the worked Sunday', () => {
    expect(calendar.effectiveReceivedAt(new Date('2025-09-27T11:00:00+08:00'))).toBe(
      '2025-09-28T09:00:00+08:00',
    );
  });
});

describe('coverageReport', () => {
  it('lists the loaded years with source and version', () => {
    const report = calendar.coverageReport(new Date('2026-06-01T10:00:00+08:00'));

    expect(report.loadedYears).toEqual([
      {
        year: 2025,
        version: 1,
        source: {
          title: '国务院办公厅关于2025年部分节假日安排的通知',
          documentNumber: '国办发明电〔2024〕12号',
        },
      },
      { year: 2026, version: 1, source: { title: '国务院办公厅关于2026年部分节假日安排的通知' } },
    ]);
    expect(report.requiredYears).toEqual([2026]);
    expect(report.missingYears).toEqual([]);
  });

  it('reports 2027 missing on 2026-12-04', () => {
    const report = calendar.coverageReport(new Date('2026-12-04T10:00:00+08:00'));

    expect(report.checkedAt).toBe('2026-12-04T10:00:00+08:00');
    expect(report.requiredYears).toEqual([2026, 2027]);
    expect(report.missingYears).toEqual([2027]);
  });

  it('starts requiring next year at midnight of 1 December in Shanghai', () => {
    const lastSecondOfNovember = calendar.coverageReport(new Date('2026-11-30T15:59:59Z'));
    const firstSecondOfDecember = calendar.coverageReport(new Date('2026-11-30T16:00:00Z'));

    expect(lastSecondOfNovember.missingYears).toEqual([]);
    expect(firstSecondOfDecember.missingYears).toEqual([2027]);
  });

  it('reports the current year when it has no table', () => {
    expect(calendar.coverageReport(new Date('2027-03-01T10:00:00+08:00')).missingYears).toEqual([2027]);
  });

  it('reports nothing missing in December 2025', () => {
    expect(calendar.coverageReport(new Date('2025-12-15T10:00:00+08:00')).missingYears).toEqual([]);
  });
});

describe('isCovered', () => {
  it('covers exactly the years with a table', () => {
    expect(calendar.years()).toEqual([2025, 2026]);
    expect(calendar.isCovered(2025)).toBe(true);
    expect(calendar.isCovered(2026)).toBe(true);
    expect(calendar.isCovered(2024)).toBe(false);
    expect(calendar.isCovered(2027)).toBe(false);
  });

  it('rejects two tables for one year', () => {
    const table = calendar.yearTable(2025);
    if (!table) throw new Error('2025 table not loaded');
    expect(() => new WorkingDayCalendar([table, table])).toThrow('two calendar tables cover the year 2025');
  });
});
