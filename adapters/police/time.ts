/** Times on the police interface are xsd:dateTime; the department's local time is UTC+08:00. */

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

const DATE_TIME_PATTERN = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})?$/;

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
  if (!match?.[1]) return undefined;

  const normalized = `${match[1]}${match[2] ?? '+08:00'}`;
  return Number.isNaN(Date.parse(normalized)) ? undefined : normalized;
}
