/**
 * Input of every intake rule: the form as sent, the selected items, the submission date
 * and the lists it adds problems and warnings to. Rules run after the schema check and
 * also on a form the schema rejected, so they read values defensively and skip a value
 * of the wrong type: the schema problem already names it.
 */
import type { ErrorDetail } from '../../api/errors.ts';
import type { Bundle } from '../../bundle/bundle.ts';
import { readPointer } from '../../bundle/bundle.ts';
import { isCivilDate } from '../../calendar/civil-date.ts';
import type { CodeTables } from '../code-tables.ts';

export interface RuleContext {
  form: unknown;
  bundle: Bundle;
  codes: CodeTables;
  /** Known item keys the case selects. */
  selected: ReadonlySet<string>;
  /** The Asia/Shanghai calendar date of `submittedAt`: "the future" means after this day. */
  submissionDate: string;
  /** The current instant, injectable for tests. */
  now: Date;
  problems: ErrorDetail[];
  warnings: ErrorDetail[];
}

export function readString(form: unknown, pointer: string): string | undefined {
  const value = readPointer(form, pointer);
  return typeof value === 'string' ? value : undefined;
}

/** Reads a real calendar date (YYYY-MM-DD); anything else reads as undefined. */
export function readDate(form: unknown, pointer: string): string | undefined {
  const value = readString(form, pointer);
  return value !== undefined && isCivilDate(value) ? value : undefined;
}

export function readBoolean(form: unknown, pointer: string): boolean | undefined {
  const value = readPointer(form, pointer);
  return typeof value === 'boolean' ? value : undefined;
}

export function isPresent(form: unknown, pointer: string): boolean {
  return readPointer(form, pointer) !== undefined;
}

/** Asia/Shanghai calendar date of an instant: the date that Chinese deadlines count in. */
export function shanghaiDate(instant: Date): string {
  return new Date(instant.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}
