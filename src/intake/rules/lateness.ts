/**
 * Lateness against the time limits after discharge. They count natural days, and the
 * gateway cannot judge a "good reason" for being late, so it flags lateness on the case
 * for veterans affairs instead of rejecting:
 * - check-in (退役报到) within 30 days of the discharge approval (退役军人安置条例
 *   art. 51; more than 30 days late without good reason counts as giving up placement);
 * - the military service registration change (兵役登记信息变更, done together with reserve
 *   registration) within 40 days of discharge (兵役法 art. 17).
 *
 * The days are counted as the Civil Code counts periods: the day of discharge is not
 * counted (art. 201), and a period whose last day is a rest day runs to the next working
 * day (art. 203), which a calendar of working days decides when one is given.
 */
import { addDays, toDayNumber } from '../../calendar/civil-date.ts';
import { readDate, shanghaiDate } from './context.ts';

export const CHECK_IN_LIMIT_DAYS = 30;
export const SERVICE_REGISTRATION_LIMIT_DAYS = 40;

/** The part of the working-day calendar that the Civil Code's extension needs. */
export interface RestDayCalendar {
  isWorkingDay(date: string): boolean;
}

/**
 * Returns the flags `check-in-late:<days>` and `service-registration-late:<days>`, where
 * days is the natural-day count from discharge to the submission (check-in happens when
 * the case is submitted) or to the reserve registration date.
 */
export function lateFlags(form: unknown, submittedAt: Date, calendar?: RestDayCalendar): string[] {
  const discharge = readDate(form, '/service/dischargeDate');
  if (discharge === undefined || Number.isNaN(submittedAt.getTime())) return [];

  const flags: string[] = [];
  const checkIn = shanghaiDate(submittedAt);
  if (checkIn > lastDay(discharge, CHECK_IN_LIMIT_DAYS, calendar)) {
    flags.push(`check-in-late:${daysBetween(discharge, checkIn)}`);
  }

  // The registration happened before the case, on the reserve registration date when known.
  const registration = readDate(form, '/service/reserveRegistration/date') ?? checkIn;
  if (registration > lastDay(discharge, SERVICE_REGISTRATION_LIMIT_DAYS, calendar)) {
    flags.push(`service-registration-late:${daysBetween(discharge, registration)}`);
  }
  return flags;
}

/** Returns the last day of a period of `days` natural days that starts the day after `start`. */
export function lastDay(start: string, days: number, calendar?: RestDayCalendar): string {
  let last = addDays(start, days);
  if (!calendar) return last;
  while (!calendar.isWorkingDay(last)) last = addDays(last, 1);
  return last;
}

function daysBetween(from: string, to: string): number {
  return toDayNumber(to) - toDayNumber(from);
}
