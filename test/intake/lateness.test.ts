/** Lateness flags against the 30-day check-in and 40-day service registration limits. */
import { describe, expect, it } from 'vitest';
import { createDefaultCalendar } from '../../src/calendar/index.ts';
import { lastDay, lateFlags } from '../../src/intake/rules/lateness.ts';

/** A fictional case reduced to the dates the flags read. */
function form(dischargeDate: string, reserveDate?: string): Record<string, unknown> {
  return { service: { dischargeDate, reserveRegistration: { completed: true, date: reserveDate } } };
}

const at = (shanghaiTime: string): Date => new Date(`${shanghaiTime}+08:00`);

describe('lateness flags without a calendar', () => {
  it('does not count the discharge day', () => {
    // Day 1 is 09-13, so day 30 is 10-12.
    expect(lastDay('2025-09-12', 30)).toBe('2025-10-12');
    expect(lastDay('2025-09-12', 40)).toBe('2025-10-22');
  });

  it('flags check-in from the 31st day', () => {
    expect(lateFlags(form('2025-09-12', '2025-09-20'), at('2025-10-12T23:59:59'))).toEqual([]);
    expect(lateFlags(form('2025-09-12', '2025-09-20'), at('2025-10-13T00:00:00'))).toEqual([
      'check-in-late:31',
    ]);
  });

  it('counts days in Asia/Shanghai', () => {
    // 2025-10-12T16:30Z is already 2025-10-13 in Chongqing.
    expect(lateFlags(form('2025-09-12', '2025-09-20'), new Date('2025-10-12T16:30:00Z'))).toEqual([
      'check-in-late:31',
    ]);
  });

  it('flags service registration by the reserve registration date', () => {
    expect(lateFlags(form('2025-08-01', '2025-09-10'), at('2025-09-20T10:00:00'))).toEqual([
      'check-in-late:50',
    ]);
    expect(lateFlags(form('2025-08-01', '2025-09-11'), at('2025-09-20T10:00:00'))).toEqual([
      'check-in-late:50',
      'service-registration-late:41',
    ]);
  });

  it('uses the submission day when no reserve date is known', () => {
    expect(lateFlags(form('2025-08-01'), at('2025-09-11T10:00:00'))).toEqual([
      'check-in-late:41',
      'service-registration-late:41',
    ]);
  });

  it('reads nothing from an unusable discharge date', () => {
    expect(lateFlags(form('2025-02-30'), at('2025-09-11T10:00:00'))).toEqual([]);
    expect(lateFlags({}, at('2025-09-11T10:00:00'))).toEqual([]);
  });
});

describe('lateness flags with the working-day calendar', () => {
  const calendar = createDefaultCalendar();

  it('moves a last day on a Sunday to Monday', () => {
    // Day 30 after 2025-09-12 is Sunday 2025-10-12; the worked Saturday 10-11 does not matter.
    expect(lastDay('2025-09-12', 30, calendar)).toBe('2025-10-13');
    expect(lateFlags(form('2025-09-12', '2025-09-20'), at('2025-10-13T10:00:00'), calendar)).toEqual([]);
    expect(lateFlags(form('2025-09-12', '2025-09-20'), at('2025-10-14T10:00:00'), calendar)).toEqual([
      'check-in-late:32',
    ]);
  });

  it('moves a last day in the National Day holiday past it', () => {
    // Day 40 after 2025-08-22 is 2025-10-01; the holiday runs to 10-08, so 10-09 is the last day.
    expect(lastDay('2025-08-22', 40, calendar)).toBe('2025-10-09');
    expect(lateFlags(form('2025-08-22', '2025-10-09'), at('2025-10-09T10:00:00'), calendar)).toEqual([
      'check-in-late:48',
    ]);
    expect(lateFlags(form('2025-08-22', '2025-10-10'), at('2025-10-10T10:00:00'), calendar)).toEqual([
      'check-in-late:49',
      'service-registration-late:49',
    ]);
  });
});
