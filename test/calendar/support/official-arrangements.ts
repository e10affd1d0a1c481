/**
 * The official arrangements written out day by day from the State Council General
 * Office notices for 2025 and 2026, and cases worked out by hand from them. Tests
 * compare the calendar against these lists, never against the calendar's own output.
 */

/** Every day off of a public holiday, weekend days included, one holiday a line. */
// prettier-ignore
export const DAYS_OFF: Record<2025 | 2026, string[]> = {
  2025: [
    '2025-01-01',
    '2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31', '2025-02-01', '2025-02-02', '2025-02-03', '2025-02-04',
    '2025-04-04', '2025-04-05', '2025-04-06',
    '2025-05-01', '2025-05-02', '2025-05-03', '2025-05-04', '2025-05-05',
    '2025-05-31', '2025-06-01', '2025-06-02',
    '2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05', '2025-10-06', '2025-10-07', '2025-10-08',
  ],
  2026: [
    '2026-01-01', '2026-01-02', '2026-01-03',
    '2026-02-15', '2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20', '2026-02-21', '2026-02-22',
    '2026-02-23',
    '2026-04-04', '2026-04-05', '2026-04-06',
    '2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04', '2026-05-05',
    '2026-06-19', '2026-06-20', '2026-06-21',
    '2026-09-25', '2026-09-26', '2026-09-27',
    '2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04', '2026-10-05', '2026-10-06', '2026-10-07',
  ],
};

/** Saturdays and Sundays worked (调休上班). */
export const WORKED_WEEKEND_DAYS: Record<2025 | 2026, string[]> = {
  2025: ['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11'],
  2026: ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10'],
};

/** Working days added to a date; the start date itself is never counted. */
export const ADDITION_CASES: Array<{ from: string; workingDays: number; expected: string }> = [
  // 09-27 Sat off, 09-28 worked Sunday (1), 09-29 (2), 09-30 (3), 10-01..10-08 off, 10-09 (4),
  // 10-10 (5), 10-11 worked Saturday (6), 10-12 Sun off, 10-13 (7), 10-14 (8), 10-15 (9).
  { from: '2025-09-26', workingDays: 9, expected: '2025-10-15' },
  { from: '2025-09-26', workingDays: 0, expected: '2025-09-26' },
  // 04-26 is a Saturday off, 04-27 a worked Sunday.
  { from: '2025-04-25', workingDays: 1, expected: '2025-04-27' },
  // 劳动节 05-01..05-05 off, 05-06 is a Tuesday.
  { from: '2025-04-30', workingDays: 1, expected: '2025-05-06' },
  // 元旦 2026-01-01..01-03 off, 01-04 a worked Sunday.
  { from: '2025-12-31', workingDays: 1, expected: '2026-01-04' },
  { from: '2026-02-13', workingDays: 1, expected: '2026-02-14' },
  // 春节 02-15..02-23 off, 02-24 is a Tuesday.
  { from: '2026-02-14', workingDays: 1, expected: '2026-02-24' },
  { from: '2026-02-27', workingDays: 1, expected: '2026-02-28' },
];

export interface DueCase {
  title: string;
  receivedAt: string;
  workingDays: number;
  dueAt: string;
  provisional: boolean;
  missingYears: number[];
}

/** Due times with the default office hours 09:00 to 17:00 Asia/Shanghai. */
export const DUE_CASES: DueCase[] = [
  {
    // Receipt day 09-30 not counted, 10-01..10-08 off, 10-09 (1), 10-10 (2).
    title: 'working day during office hours',
    receivedAt: '2025-09-30T10:00:00+08:00',
    workingDays: 2,
    dueAt: '2025-10-10T23:59:59+08:00',
    provisional: false,
    missingYears: [],
  },
  {
    // A holiday receipt counts as received at the opening of 10-09, the next working day.
    title: 'immediate item received on a holiday',
    receivedAt: '2025-10-01T10:00:00+08:00',
    workingDays: 0,
    dueAt: '2025-10-09T23:59:59+08:00',
    provisional: false,
    missingYears: [],
  },
  {
    title: 'immediate item received after closing',
    receivedAt: '2025-09-30T17:30:00+08:00',
    workingDays: 0,
    dueAt: '2025-10-09T23:59:59+08:00',
    provisional: false,
    missingYears: [],
  },
  {
    // Received at closing time: counts from 10-09, then 10-10 (1), 10-11 worked Saturday (2).
    title: 'received exactly at closing',
    receivedAt: '2025-09-30T17:00:00+08:00',
    workingDays: 2,
    dueAt: '2025-10-11T23:59:59+08:00',
    provisional: false,
    missingYears: [],
  },
  {
    title: 'received one second before closing',
    receivedAt: '2025-09-30T16:59:59+08:00',
    workingDays: 2,
    dueAt: '2025-10-10T23:59:59+08:00',
    provisional: false,
    missingYears: [],
  },
  {
    title: 'immediate item received before opening',
    receivedAt: '2025-09-30T08:00:00+08:00',
    workingDays: 0,
    dueAt: '2025-09-30T23:59:59+08:00',
    provisional: false,
    missingYears: [],
  },
  {
    // 09:30 UTC is 17:30 in Shanghai, after closing.
    title: 'UTC instant after Shanghai closing',
    receivedAt: '2025-09-30T09:30:00Z',
    workingDays: 0,
    dueAt: '2025-10-09T23:59:59+08:00',
    provisional: false,
    missingYears: [],
  },
  {
    // 23:00 UTC on 09-29 is 07:00 on 09-30 in Shanghai, before opening on a working day.
    title: 'UTC instant on the previous UTC day',
    receivedAt: '2025-09-29T23:00:00Z',
    workingDays: 0,
    dueAt: '2025-09-30T23:59:59+08:00',
    provisional: false,
    missingYears: [],
  },
  {
    // 16:00 UTC on 2025-12-31 is midnight of 元旦 2026 in Shanghai; 01-04 is a worked Sunday.
    title: 'midnight of new year in Shanghai',
    receivedAt: '2025-12-31T16:00:00Z',
    workingDays: 0,
    dueAt: '2026-01-04T23:59:59+08:00',
    provisional: false,
    missingYears: [],
  },
  {
    title: 'received on a worked Sunday',
    receivedAt: '2025-09-28T10:00:00+08:00',
    workingDays: 1,
    dueAt: '2025-09-29T23:59:59+08:00',
    provisional: false,
    missingYears: [],
  },
  {
    // Friday evening counts from the worked Saturday 02-14; 02-15..02-23 off, 02-24 (1).
    title: 'Friday evening before spring festival',
    receivedAt: '2026-02-13T18:00:00+08:00',
    workingDays: 1,
    dueAt: '2026-02-24T23:59:59+08:00',
    provisional: false,
    missingYears: [],
  },
  {
    // No 2027 table, so Monday to Friday: 12-31 Thu (1), 01-01 Fri (2), 01-04..01-08 (3-7),
    // 01-11 (8), 01-12 (9).
    title: 'limit reaching a year without a table',
    receivedAt: '2026-12-30T10:00:00+08:00',
    workingDays: 9,
    dueAt: '2027-01-12T23:59:59+08:00',
    provisional: true,
    missingYears: [2027],
  },
  {
    // No 2024 table; 2024-12-31 is a Tuesday, 2025-01-01 off, 01-02 (1).
    title: 'received in a year without a table',
    receivedAt: '2024-12-31T10:00:00+08:00',
    workingDays: 1,
    dueAt: '2025-01-02T23:59:59+08:00',
    provisional: true,
    missingYears: [2024],
  },
];

/**
 * The same case once a (fictional) 2027 table with 2027-01-01 off is loaded: 12-31 (1),
 * 01-04..01-08 (2-6), 01-11 (7), 01-12 (8), 01-13 (9).
 */
export const DUE_WITH_FICTIONAL_2027 = {
  receivedAt: '2026-12-30T10:00:00+08:00',
  workingDays: 9,
  dueAt: '2027-01-13T23:59:59+08:00',
};

/** Computes the expected working-day status of every day of a covered year from the lists above. */
export function expectedWorkingDays(year: 2025 | 2026): Map<string, boolean> {
  const daysOff = new Set(DAYS_OFF[year]);
  const worked = new Set(WORKED_WEEKEND_DAYS[year]);
  const expected = new Map<string, boolean>();
  for (let ms = Date.UTC(year, 0, 1); ms < Date.UTC(year + 1, 0, 1); ms += 86_400_000) {
    const day = new Date(ms);
    const date = day.toISOString().slice(0, 10);
    const isWeekday = day.getUTCDay() >= 1 && day.getUTCDay() <= 5;
    expected.set(date, worked.has(date) || (isWeekday && !daysOff.has(date)));
  }
  return expected;
}
