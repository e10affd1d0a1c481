/**
 * At-risk and overdue around holidays, with the official 2025 and 2026 arrangements.
 * Expected values are worked out by hand in the comments. An item falls due at 23:59:59
 * of its due date. It is at risk when fewer working days than the threshold remain after
 * the current working day, which after closing time or on a day off is the next one.
 */
import { describe, expect, it } from 'vitest';
import { createDefaultCalendar } from '../../src/calendar/index.ts';
import { classifyDueTime, type DeadlineStatus } from '../../src/deadlines/index.ts';

const calendar = createDefaultCalendar();

interface StandingCase {
  title: string;
  dueAt: string;
  now: string;
  atRiskWorkingDays?: number;
  expected: DeadlineStatus;
}

const CASES: StandingCase[] = [
  // Due at the end of 2025-10-09, the first working day after 国庆·中秋 (10-01..10-08 off).
  {
    // 09-30 is a working day in office hours; 10-09 is the one working day left after it.
    title: 'last office day before National Day, morning',
    dueAt: '2025-10-09T23:59:59+08:00',
    now: '2025-09-30T10:00:00+08:00',
    expected: { state: 'on-time', workingDaysLeft: 1 },
  },
  {
    // 17:00 closes 09-30, so the current working day is 10-09, the due day itself.
    title: 'last office day before National Day, at closing',
    dueAt: '2025-10-09T23:59:59+08:00',
    now: '2025-09-30T17:00:00+08:00',
    expected: { state: 'at-risk', workingDaysLeft: 0 },
  },
  {
    // Nine natural days remain, but no working day besides the due day.
    title: 'during the National Day holiday',
    dueAt: '2025-10-09T23:59:59+08:00',
    now: '2025-10-03T12:00:00+08:00',
    expected: { state: 'at-risk', workingDaysLeft: 0 },
  },
  {
    title: 'due day afternoon',
    dueAt: '2025-10-09T23:59:59+08:00',
    now: '2025-10-09T16:00:00+08:00',
    expected: { state: 'at-risk', workingDaysLeft: 0 },
  },
  {
    title: 'last second of the due day',
    dueAt: '2025-10-09T23:59:59+08:00',
    now: '2025-10-09T23:59:59+08:00',
    expected: { state: 'at-risk', workingDaysLeft: 0 },
  },
  {
    title: 'midnight after the due day',
    dueAt: '2025-10-09T23:59:59+08:00',
    now: '2025-10-10T00:00:00+08:00',
    expected: { state: 'overdue', workingDaysLeft: null },
  },
  {
    // 16:00 UTC on 10-09 is midnight of 10-10 in Shanghai.
    title: 'overdue instant given in UTC',
    dueAt: '2025-10-09T23:59:59+08:00',
    now: '2025-10-09T16:00:00Z',
    expected: { state: 'overdue', workingDaysLeft: null },
  },
  {
    // 15:59:59 UTC is 23:59:59 in Shanghai, still the due day.
    title: 'due-day instant given in UTC',
    dueAt: '2025-10-09T23:59:59+08:00',
    now: '2025-10-09T15:59:59Z',
    expected: { state: 'at-risk', workingDaysLeft: 0 },
  },
  // A 3-day item received 2025-09-30 10:00: 10-09 (1), 10-10 (2), worked Saturday 10-11 (3).
  {
    title: 'Friday before a worked Saturday due day',
    dueAt: '2025-10-11T23:59:59+08:00',
    now: '2025-10-10T12:00:00+08:00',
    expected: { state: 'on-time', workingDaysLeft: 1 },
  },
  {
    // After closing on Friday 10-10 the next working day is the worked Saturday 10-11.
    title: 'Friday evening before a worked Saturday due day',
    dueAt: '2025-10-11T23:59:59+08:00',
    now: '2025-10-10T18:00:00+08:00',
    expected: { state: 'at-risk', workingDaysLeft: 0 },
  },
  {
    title: 'Sunday after a worked Saturday due day',
    dueAt: '2025-10-11T23:59:59+08:00',
    now: '2025-10-12T09:00:00+08:00',
    expected: { state: 'overdue', workingDaysLeft: null },
  },
  // Due 2026-02-24, the first working day after 春节 (02-15..02-23 off); 02-14 is a worked Saturday.
  {
    // After Friday 02-13 come the worked Saturday 02-14 and then 02-24: two, capped at one.
    title: 'Friday before the spring festival',
    dueAt: '2026-02-24T23:59:59+08:00',
    now: '2026-02-13T12:00:00+08:00',
    expected: { state: 'on-time', workingDaysLeft: 1 },
  },
  {
    title: 'worked Saturday before the spring festival, office hours',
    dueAt: '2026-02-24T23:59:59+08:00',
    now: '2026-02-14T12:00:00+08:00',
    expected: { state: 'on-time', workingDaysLeft: 1 },
  },
  {
    title: 'worked Saturday before the spring festival, evening',
    dueAt: '2026-02-24T23:59:59+08:00',
    now: '2026-02-14T17:30:00+08:00',
    expected: { state: 'at-risk', workingDaysLeft: 0 },
  },
  {
    title: 'during the spring festival',
    dueAt: '2026-02-24T23:59:59+08:00',
    now: '2026-02-20T10:00:00+08:00',
    expected: { state: 'at-risk', workingDaysLeft: 0 },
  },
  {
    // An immediate item (即时办结) received in office hours is due the same day.
    title: 'immediate item on its receipt day',
    dueAt: '2025-09-30T23:59:59+08:00',
    now: '2025-09-30T10:05:00+08:00',
    expected: { state: 'at-risk', workingDaysLeft: 0 },
  },
  {
    // Before opening, the day itself is the current working day.
    title: 'before opening on the day before the due day',
    dueAt: '2025-10-10T23:59:59+08:00',
    now: '2025-10-09T07:00:00+08:00',
    expected: { state: 'on-time', workingDaysLeft: 1 },
  },
  // Threshold of 2 working days, item due 2025-10-10.
  {
    // After 09-30 come 10-09 and 10-10: two, not fewer than two.
    title: 'threshold 2, last office day before the holiday',
    dueAt: '2025-10-10T23:59:59+08:00',
    now: '2025-09-30T10:00:00+08:00',
    atRiskWorkingDays: 2,
    expected: { state: 'on-time', workingDaysLeft: 2 },
  },
  {
    // After closing the current working day is 10-09; only 10-10 remains after it.
    title: 'threshold 2, after closing before the holiday',
    dueAt: '2025-10-10T23:59:59+08:00',
    now: '2025-09-30T17:30:00+08:00',
    atRiskWorkingDays: 2,
    expected: { state: 'at-risk', workingDaysLeft: 1 },
  },
  {
    title: 'threshold 0, due day',
    dueAt: '2025-10-09T23:59:59+08:00',
    now: '2025-10-09T16:00:00+08:00',
    atRiskWorkingDays: 0,
    expected: { state: 'on-time', workingDaysLeft: 0 },
  },
  {
    title: 'threshold 0, after the due day',
    dueAt: '2025-10-09T23:59:59+08:00',
    now: '2025-10-10T08:00:00+08:00',
    atRiskWorkingDays: 0,
    expected: { state: 'overdue', workingDaysLeft: null },
  },
];

describe('classifyDueTime', () => {
  it.each(CASES)('$title', ({ dueAt, now, atRiskWorkingDays, expected }) => {
    expect(classifyDueTime(calendar, dueAt, new Date(now), atRiskWorkingDays ?? 1)).toEqual(expected);
  });

  it('rejects an unreadable due time', () => {
    expect(() => classifyDueTime(calendar, 'soon', new Date('2025-10-09T10:00:00+08:00'), 1)).toThrow(
      /invalid due time "soon"/,
    );
  });
});
