/**
 * Instants seen on the Asia/Shanghai wall clock. China has kept UTC+8 without daylight
 * saving time since 1991, so the conversion is a fixed shift and never reads the time
 * zone of the process.
 */
import { isCivilDate } from './civil-date.ts';

export const SHANGHAI_OFFSET_MINUTES = 8 * 60;
const SHANGHAI_OFFSET_MS = SHANGHAI_OFFSET_MINUTES * 60_000;
const SHANGHAI_OFFSET_TEXT = '+08:00';

/** An instant as a clerk in Chongqing reads it: the date and the minutes since midnight. */
export interface ShanghaiWallClock {
  date: string;
  minuteOfDay: number;
}

function assertValidInstant(instant: Date): void {
  if (Number.isNaN(instant.getTime())) throw new RangeError('invalid Date: expected a valid instant');
}

export function toShanghaiWallClock(instant: Date): ShanghaiWallClock {
  assertValidInstant(instant);
  const shifted = new Date(instant.getTime() + SHANGHAI_OFFSET_MS);
  return {
    date: shifted.toISOString().slice(0, 10),
    minuteOfDay: shifted.getUTCHours() * 60 + shifted.getUTCMinutes(),
  };
}

/** Formats an instant as ISO 8601 on the Shanghai clock, to the second: 2025-09-30T10:00:00+08:00. */
export function formatShanghaiIso(instant: Date): string {
  assertValidInstant(instant);
  const shifted = new Date(instant.getTime() + SHANGHAI_OFFSET_MS);
  return `${shifted.toISOString().slice(0, 19)}${SHANGHAI_OFFSET_TEXT}`;
}

/** Returns the last second (23:59:59) of a day in Asia/Shanghai, when a deadline on that day runs out. */
export function endOfShanghaiDay(date: string): string {
  return `${date}T23:59:59${SHANGHAI_OFFSET_TEXT}`;
}

const ISO_INSTANT_PATTERN =
  /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses an ISO 8601 instant that names its offset (`Z` or `±hh:mm`), or returns null.
 * Text without an offset is rejected because its meaning would depend on the process time
 * zone. Date.parse alone is not enough: it accepts 2025-02-30 and 24:00.
 */
export function parseIsoInstant(text: string): Date | null {
  const match = ISO_INSTANT_PATTERN.exec(text);
  if (!match) return null;

  const [, date = '', hours = '', minutes = '', seconds = '00', , offset = ''] = match;
  if (!isCivilDate(date)) return null;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) return null;
  if (offset !== 'Z' && !isValidOffset(offset)) return null;

  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms);
}

function isValidOffset(offset: string): boolean {
  const hours = Number(offset.slice(1, 3));
  const minutes = Number(offset.slice(4, 6));
  return hours <= 14 && minutes <= 59;
}

/** Parses a clock time HH:MM (00:00 to 24:00) into minutes since midnight, or returns null. */
export function parseClockTime(text: string): number | null {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  if (!match) return null;

  const minuteOfDay = Number(match[1]) * 60 + Number(match[2]);
  if (Number(match[2]) > 59 || minuteOfDay > 24 * 60) return null;
  return minuteOfDay;
}
