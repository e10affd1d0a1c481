/**
 * Prints, as JSON, what the default calendar computes for every day of 2025 and 2026 and
 * for the hand-worked cases. Run in a child process with another TZ to show that no
 * result depends on the process time zone.
 */
import { createDefaultCalendar } from '../../../src/calendar/index.ts';
import { ADDITION_CASES, DUE_CASES } from './official-arrangements.ts';

const calendar = createDefaultCalendar();

const workingDays: Record<string, boolean> = {};
for (let ms = Date.UTC(2025, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 86_400_000) {
  const date = new Date(ms).toISOString().slice(0, 10);
  workingDays[date] = calendar.isWorkingDay(date);
}

const additions = ADDITION_CASES.map((entry) => calendar.addWorkingDays(entry.from, entry.workingDays));
const dueTimes = DUE_CASES.map((entry) => calendar.dueAt(new Date(entry.receivedAt), entry.workingDays));
const coverage = calendar.coverageReport(new Date('2026-11-30T16:00:00Z'));

process.stdout.write(
  JSON.stringify({
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    localMidnightOffsetMinutes: new Date(2025, 6, 1).getTimezoneOffset(),
    workingDays,
    additions,
    dueTimes,
    coverage,
  }),
);
