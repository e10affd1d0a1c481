/**
 * Reads the year tables shipped in contracts/calendar (cn-<year>.json). Reading is
 * synchronous, so the gateway has its calendar before it takes the first request.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateYearTable, type TableProblem, type YearTable } from './year-table.ts';
import { WorkingDayCalendar, type CalendarOptions } from './working-day-calendar.ts';

export const CONTRACT_CALENDAR_DIR = fileURLToPath(new URL('../../contracts/calendar/', import.meta.url));

const TABLE_FILE_PATTERN = /^cn-(\d{4})\.json$/;

/** A year table file that cannot be read, parsed or validated. */
export class CalendarTableError extends Error {
  override name = 'CalendarTableError';

  constructor(
    readonly file: string,
    readonly problems: TableProblem[],
  ) {
    super(`calendar table ${file} is invalid: ${problems.map(formatTableProblem).join('; ')}`);
  }
}

/** Formats a problem for a person: the date first when there is one, then where and what. */
export function formatTableProblem(problem: TableProblem): string {
  const date = problem.date === undefined ? '' : `${problem.date} `;
  return `${date}at ${problem.pointer}: ${problem.message}`;
}

/** Reads and parses a JSON file; a file that is not JSON throws a CalendarTableError naming it. */
export function readTableFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CalendarTableError(path, [{ pointer: '/', message: `not valid JSON: ${reason}` }]);
  }
}

/** Reads, parses and validates one table file whose name must carry the table's year. */
export function loadTableFile(path: string, expectedYear?: number): YearTable {
  const result = validateYearTable(readTableFile(path));
  if (!result.valid) throw new CalendarTableError(path, result.problems);

  if (expectedYear !== undefined && result.table.year !== expectedYear) {
    const message = `the file name says ${expectedYear} but the table is for ${result.table.year}`;
    throw new CalendarTableError(path, [{ pointer: '/year', message }]);
  }
  return result.table;
}

/** Loads every cn-<year>.json in `dir`, ordered by year; throws on the first invalid file. */
export function loadContractTables(dir: string = CONTRACT_CALENDAR_DIR): YearTable[] {
  const tables: YearTable[] = [];
  for (const file of readdirSync(dir).sort()) {
    const match = TABLE_FILE_PATTERN.exec(file);
    if (match) tables.push(loadTableFile(join(dir, file), Number(match[1])));
  }
  return tables;
}

/**
 * Builds the gateway's calendar from the contract files, synchronously. Tables
 * activated in Redis at run time come in through CalendarStore.load instead.
 */
export function createDefaultCalendar(options: CalendarOptions & { dir?: string } = {}): WorkingDayCalendar {
  const { dir, ...calendarOptions } = options;
  return new WorkingDayCalendar(loadContractTables(dir), calendarOptions);
}
