/**
 * The status of an unfinished item's due time on the working-day calendar: on time, at risk or overdue.
 *
 * - Overdue: the Asia/Shanghai date is after the due date, since an item falls due at
 *   23:59:59 of that date.
 * - At risk: fewer than `atRiskWorkingDays` working days remain after the current
 *   working day. The current working day is today during or before office hours on a
 *   working day, and otherwise (after closing, on a day off) the next working day, the
 *   same rule that moves a receipt. With the default of 1, an item due on 2025-10-09 is
 *   at risk from 17:00 on 2025-09-30, when the last office day before the National Day
 *   holiday closes, and overdue from 2025-10-10 00:00.
 */
import { toShanghaiWallClock, type WorkingDayCalendar } from '../calendar/index.ts';

export type DeadlineState = 'on-time' | 'at-risk' | 'overdue';

export interface DeadlineStatus {
  state: DeadlineState;
  /**
   * Working days after the current working day up to and including the due date,
   * counted no further than the at-risk threshold; null when overdue.
   */
  workingDaysLeft: number | null;
}

export function classifyDueTime(
  calendar: WorkingDayCalendar,
  dueAt: string,
  now: Date,
  atRiskWorkingDays: number,
): DeadlineStatus {
  const dueDate = toShanghaiWallClock(parseDueAt(dueAt)).date;
  if (toShanghaiWallClock(now).date > dueDate) return { state: 'overdue', workingDaysLeft: null };

  const currentWorkingDay = calendar.effectiveReceivedAt(now).slice(0, 10);
  const workingDaysLeft = countWorkingDaysAfter(calendar, currentWorkingDay, dueDate, atRiskWorkingDays);
  return { state: workingDaysLeft < atRiskWorkingDays ? 'at-risk' : 'on-time', workingDaysLeft };
}

/** Counts working days d with from < d <= through, stopping at `limit`; dates are YYYY-MM-DD. */
function countWorkingDaysAfter(
  calendar: WorkingDayCalendar,
  from: string,
  through: string,
  limit: number,
): number {
  let count = 0;
  for (let day = calendar.nextWorkingDay(from); day <= through && count < limit;) {
    count += 1;
    day = calendar.nextWorkingDay(day);
  }
  return count;
}

function parseDueAt(dueAt: string): Date {
  const instant = new Date(dueAt);
  if (Number.isNaN(instant.getTime())) {
    throw new RangeError(`invalid due time "${dueAt}": expected ISO 8601 such as 2025-10-10T23:59:59+08:00`);
  }
  return instant;
}
