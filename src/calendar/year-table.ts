/**
 * The year table (年度工作日历): one year's public holidays and adjusted working days,
 * transcribed from the State Council General Office's annual holiday notice. Its JSON
 * Schema lives beside the data files in contracts/calendar.
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import yearTableSchema from '../../contracts/calendar/year-table.schema.json' with { type: 'json' };
import { isCivilDate, weekdayName, isWeekend, yearOf } from './civil-date.ts';

export interface NoticeSource {
  title: string;
  /** Document number (文号), e.g. 国办发明电〔2024〕12号; absent when not confirmed. */
  documentNumber?: string;
}

export interface Holiday {
  /** Chinese name as the notice writes it, e.g. 春节. */
  name: string;
  /** Every day off of the holiday, YYYY-MM-DD, weekend days included. */
  daysOff: string[];
}

/** A Saturday or Sunday that is worked (调休上班) to make up for a holiday. */
export interface AdjustedWorkingDay {
  date: string;
  holiday: string;
}

export interface YearTable {
  year: number;
  /** Revision of this year's table; a greater version replaces a smaller one. */
  version: number;
  source: NoticeSource;
  note?: string;
  holidays: Holiday[];
  adjustedWorkingDays: AdjustedWorkingDay[];
}

/** One thing wrong with a year table, located by a JSON pointer into it. */
export interface TableProblem {
  pointer: string;
  /** The date concerned, when the problem is about a date. */
  date?: string;
  message: string;
}

export type TableValidation = { valid: true; table: YearTable } | { valid: false; problems: TableProblem[] };

// verbose puts the offending value into each error, so a bad date can be shown to the operator.
const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true });
// The schema's "date" format is exactly the YYYY-MM-DD the calendar reads, real dates only.
ajv.addFormat('date', isCivilDate);
const matchesSchema = ajv.compile<YearTable>(yearTableSchema);

/**
 * Validates parsed JSON as a year table and returns every problem found, not only the
 * first. The schema checks the shape. The code then checks what a schema cannot express:
 * dates in another year, a date listed twice, a date both off and worked, a worked day
 * that is not a Saturday or Sunday, and a worked day naming a holiday the table lacks.
 */
export function validateYearTable(json: unknown): TableValidation {
  const problems = matchesSchema(json) ? [] : (matchesSchema.errors ?? []).map(describeSchemaError);
  problems.push(...findDateProblems(json));

  if (problems.length > 0) return { valid: false, problems };
  return { valid: true, table: json as YearTable };
}

function describeSchemaError(error: ErrorObject): TableProblem {
  const pointer = error.instancePath || '/';
  if (error.keyword === 'format') {
    const value = String(error.data);
    return {
      pointer,
      date: value,
      message: `"${value}" is not a valid date: expected a real date as YYYY-MM-DD`,
    };
  }
  if (error.keyword === 'additionalProperties') {
    const property = String(error.params.additionalProperty);
    return { pointer, message: `unknown property "${property}"` };
  }
  return { pointer, message: error.message ?? `failed the schema rule "${error.keyword}"` };
}

/** A well-formed date found in the table, with its JSON pointer and whether it is off or worked. */
interface DateEntry {
  pointer: string;
  date: string;
  kind: 'off' | 'worked';
  holiday: string | undefined;
}

function findDateProblems(json: unknown): TableProblem[] {
  if (!isRecord(json)) return [];

  const entries = collectDateEntries(json);
  const problems: TableProblem[] = [];
  if (typeof json.year === 'number' && Number.isInteger(json.year)) {
    problems.push(...checkYear(entries, json.year));
  }
  problems.push(...checkDuplicates(entries));
  problems.push(...checkWorkedDays(entries, holidayNames(json)));
  return problems;
}

function checkYear(entries: DateEntry[], year: number): TableProblem[] {
  return entries
    .filter((entry) => yearOf(entry.date) !== year)
    .map((entry) => ({
      pointer: entry.pointer,
      date: entry.date,
      message: `${entry.date} is not in ${year}`,
    }));
}

function checkDuplicates(entries: DateEntry[]): TableProblem[] {
  const firstSeen = new Map<string, DateEntry>();
  const problems: TableProblem[] = [];
  for (const entry of entries) {
    const earlier = firstSeen.get(entry.date);
    if (!earlier) {
      firstSeen.set(entry.date, entry);
      continue;
    }
    problems.push({ pointer: entry.pointer, date: entry.date, message: duplicateMessage(entry, earlier) });
  }
  return problems;
}

function duplicateMessage(entry: DateEntry, earlier: DateEntry): string {
  if (entry.kind === earlier.kind) {
    const what = entry.kind === 'off' ? 'a day off' : 'an adjusted working day';
    return `${entry.date} is listed as ${what} more than once (first at ${earlier.pointer})`;
  }
  return `${entry.date} is listed both as a day off and as an adjusted working day (other entry at ${earlier.pointer})`;
}

function checkWorkedDays(entries: DateEntry[], holidays: Set<string>): TableProblem[] {
  const problems: TableProblem[] = [];
  for (const entry of entries.filter((candidate) => candidate.kind === 'worked')) {
    if (!isWeekend(entry.date)) {
      problems.push({
        pointer: entry.pointer,
        date: entry.date,
        message: `${entry.date} is a ${weekdayName(entry.date)}: an adjusted working day must be a Saturday or Sunday, because weekdays are worked anyway`,
      });
    }
    if (entry.holiday !== undefined && !holidays.has(entry.holiday)) {
      problems.push({
        pointer: entry.pointer,
        date: entry.date,
        message: `${entry.date} makes up for the holiday "${entry.holiday}", which the table does not list`,
      });
    }
  }
  return problems;
}

/**
 * Collects the well-formed dates wherever the table's shape allows it, so that date
 * problems are reported even when the schema found other problems elsewhere.
 */
function collectDateEntries(table: Record<string, unknown>): DateEntry[] {
  const entries: DateEntry[] = [];
  forEachRecord(table.holidays, (holiday, index) => {
    forEachDate(holiday.daysOff, (date, dateIndex) => {
      const pointer = `/holidays/${index}/daysOff/${dateIndex}`;
      entries.push({ pointer, date, kind: 'off', holiday: stringOrUndefined(holiday.name) });
    });
  });
  forEachRecord(table.adjustedWorkingDays, (workedDay, index) => {
    if (typeof workedDay.date !== 'string' || !isCivilDate(workedDay.date)) return;
    const pointer = `/adjustedWorkingDays/${index}/date`;
    entries.push({
      pointer,
      date: workedDay.date,
      kind: 'worked',
      holiday: stringOrUndefined(workedDay.holiday),
    });
  });
  return entries;
}

function holidayNames(table: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  forEachRecord(table.holidays, (holiday) => {
    if (typeof holiday.name === 'string') names.add(holiday.name);
  });
  return names;
}

function forEachRecord(
  value: unknown,
  visit: (record: Record<string, unknown>, index: number) => void,
): void {
  if (!Array.isArray(value)) return;
  value.forEach((item: unknown, index) => {
    if (isRecord(item)) visit(item, index);
  });
}

function forEachDate(value: unknown, visit: (date: string, index: number) => void): void {
  if (!Array.isArray(value)) return;
  value.forEach((item: unknown, index) => {
    if (typeof item === 'string' && isCivilDate(item)) visit(item, index);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
