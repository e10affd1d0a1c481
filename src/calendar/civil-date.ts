/**
 * Calendar dates without a time or a zone, written YYYY-MM-DD. The arithmetic runs on
 * UTC day numbers, so no result depends on the time zone of the process.
 */

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

/** Tells whether `text` is a real date in the form YYYY-MM-DD (so 2025-02-30 is not). */
export function isCivilDate(text: string): boolean {
  return toDayNumberOrNull(text) !== null;
}

/** Converts YYYY-MM-DD to the number of days since 1970-01-01, or null for anything else. */
function toDayNumberOrNull(text: string): number | null {
  const match = DATE_PATTERN.exec(text);
  if (!match) return null;

  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 2025-02-30 over to 2025-03-02, so a real date must survive the round trip.
  const roundTrip = new Date(ms);
  const isReal =
    roundTrip.getUTCFullYear() === year &&
    roundTrip.getUTCMonth() === month - 1 &&
    roundTrip.getUTCDate() === day;
  return isReal && year >= 1000 ? ms / MS_PER_DAY : null;
}

/** Converts YYYY-MM-DD to the number of days since 1970-01-01; throws a RangeError for an invalid date. */
export function toDayNumber(date: string): number {
  const dayNumber = toDayNumberOrNull(date);
  if (dayNumber === null) throw new RangeError(`invalid date "${date}": expected a real date as YYYY-MM-DD`);
  return dayNumber;
}

export function fromDayNumber(dayNumber: number): string {
  return new Date(dayNumber * MS_PER_DAY).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return fromDayNumber(toDayNumber(date) + days);
}

/** Day of the week, 0 for Sunday to 6 for Saturday. */
export function dayOfWeek(date: string): number {
  return new Date(toDayNumber(date) * MS_PER_DAY).getUTCDay();
}

export function weekdayName(date: string): string {
  return WEEKDAY_NAMES[dayOfWeek(date)] ?? 'unknown day';
}

export function isWeekend(date: string): boolean {
  const weekday = dayOfWeek(date);
  return weekday === 0 || weekday === 6;
}

export function yearOf(date: string): number {
  toDayNumber(date);
  return Number(date.slice(0, 4));
}
