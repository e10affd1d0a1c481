/** Times on the police interface are xsd:dateTime; the department's local time is UTC+08:00. */

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

const DATE_TIME_PATTERN = /^((\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})?$/;

/** Formats epoch milliseconds as an ISO 8601 time in Beijing time, e.g. `2025-09-29T09:42:10+08:00`. */
export function formatBeijingTime(epochMs: number): string {
  return `${new Date(epochMs + BEIJING_OFFSET_MS).toISOString().slice(0, 19)}+08:00`;
}

/**
 * Returns an xsd:dateTime as ISO 8601 with an offset, or undefined when it is not a
 * real time. A time without a zone is the department's local time, so it gets +08:00.
 */
export function normalizeDateTime(text: string): string | undefined {
  const match = DATE_TIME_PATTERN.exec(text.trim());
  if (!match?.[1] || !isCalendarDate(Number(match[2]), Number(match[3]), Number(match[4]))) return undefined;

  const normalized = `${match[1]}${match[5] ?? '+08:00'}`;
  return Number.isNaN(Date.parse(normalized)) ? undefined : normalized;
}

/** Date.parse rolls 2025-02-30 over to March, so the day is checked against the month. */
function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
