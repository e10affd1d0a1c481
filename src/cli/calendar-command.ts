/**
 * `lianban calendar …`: the operator's view of the working-day calendar. Exit codes:
 * 0 done, 1 the check or the action failed, 2 bad arguments.
 */
import { Redis } from 'ioredis';
import {
  CalendarActivationError,
  CalendarStore,
  CalendarTableError,
  MAX_WORKING_DAYS,
  createDefaultCalendar,
  formatShanghaiIso,
  formatTableProblem,
  parseIsoInstant,
  readTableFile,
  validateYearTable,
  type WorkingDayCalendar,
  type YearTable,
} from '../calendar/index.ts';

export interface CalendarCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Redis holding tables activated at run time; without it only the contract files count. */
  redisUrl?: string;
  /** Prefix of the gateway's Redis keys; `lb` when absent. */
  keyPrefix?: string;
  /** Clock for `check`; the current time when absent. */
  now?: () => Date;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

const REDIS_TIMEOUT_MS = 5_000;

const USAGE = [
  'usage: lianban calendar check',
  '       lianban calendar due <received-at> <working-days>',
  '       lianban calendar validate <file>',
  '       lianban calendar activate <file>',
];

/** Thrown for arguments that cannot be used; the message names the value and the expected form. */
class UsageError extends Error {}

/** Thrown when the command cannot do its work, e.g. Redis is unreachable. */
class CommandFailure extends Error {}

export async function runCalendarCommand(args: string[], io: CalendarCommandIo): Promise<number> {
  try {
    return await dispatch(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      error.message.split('\n').forEach((line) => io.err(line));
      return EXIT_USAGE;
    }
    if (
      error instanceof CommandFailure ||
      error instanceof CalendarTableError ||
      error instanceof CalendarActivationError
    ) {
      io.err(error.message);
      return EXIT_FAILED;
    }
    throw error;
  }
}

async function dispatch(args: string[], io: CalendarCommandIo): Promise<number> {
  const [subcommand, ...rest] = args;
  switch (subcommand) {
    case 'check':
      expectArguments(rest, [], 'check');
      return check(io);
    case 'due':
      expectArguments(rest, ['<received-at>', '<working-days>'], 'due');
      return due(rest[0] ?? '', rest[1] ?? '', io);
    case 'validate':
      expectArguments(rest, ['<file>'], 'validate');
      return validate(rest[0] ?? '', io);
    case 'activate':
      expectArguments(rest, ['<file>'], 'activate');
      return activate(rest[0] ?? '', io);
    case 'help':
    case '--help':
      USAGE.forEach((line) => io.out(line));
      return EXIT_OK;
    default: {
      const problem = subcommand === undefined ? 'no subcommand' : `unknown subcommand "${subcommand}"`;
      throw new UsageError([`${problem}: expected check, due, validate or activate`, ...USAGE].join('\n'));
    }
  }
}

function expectArguments(actual: string[], expected: string[], subcommand: string): void {
  if (actual.length === expected.length) return;
  const form = ['lianban calendar', subcommand, ...expected].join(' ');
  throw new UsageError(
    `calendar ${subcommand} takes ${expected.length} argument(s), got ${actual.length}: expected ${form}`,
  );
}

async function check(io: CalendarCommandIo): Promise<number> {
  const calendar = await loadCalendar(io);
  const report = calendar.coverageReport(io.now?.() ?? new Date());

  io.out(`calendar tables from ${io.redisUrl ? 'contract files and Redis' : 'contract files'}:`);
  for (const loaded of report.loadedYears) {
    const documentNumber = loaded.source.documentNumber ? ` ${loaded.source.documentNumber}` : '';
    io.out(`  ${loaded.year}  version ${loaded.version}  ${loaded.source.title}${documentNumber}`);
  }
  io.out(`checked at ${report.checkedAt}; required years: ${report.requiredYears.join(', ')}`);

  if (report.missingYears.length === 0) {
    io.out('ok: every required year has a table');
    return EXIT_OK;
  }
  for (const year of report.missingYears) {
    io.err(
      `missing: no table for ${year}; due times reaching ${year} are provisional (Monday to Friday counted)`,
    );
  }
  return EXIT_FAILED;
}

async function due(receivedAtText: string, workingDaysText: string, io: CalendarCommandIo): Promise<number> {
  const receivedAt = parseIsoInstant(receivedAtText);
  if (!receivedAt) {
    throw new UsageError(
      `invalid received-at "${receivedAtText}": expected an ISO 8601 time with an offset, e.g. 2025-09-30T10:00:00+08:00`,
    );
  }
  const workingDays = parseWorkingDays(workingDaysText);

  const calendar = await loadCalendar(io);
  const dueTime = calendar.dueAt(receivedAt, workingDays);

  io.out(`received at ${formatShanghaiIso(receivedAt)}`);
  io.out(`treated as received at ${calendar.effectiveReceivedAt(receivedAt)}`);
  io.out(`due at ${dueTime.dueAt}`);
  if (dueTime.provisional) {
    const years = dueTime.missingYears.join(', ');
    io.out(`provisional: no table for ${years}, so Monday to Friday were counted as working days there`);
  }
  return EXIT_OK;
}

function parseWorkingDays(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > MAX_WORKING_DAYS) {
    throw new UsageError(
      `invalid working-days "${text}": expected a whole number from 0 to ${MAX_WORKING_DAYS}`,
    );
  }
  return value;
}

async function validate(file: string, io: CalendarCommandIo): Promise<number> {
  const result = validateYearTable(readJsonArgument(file));
  if (!result.valid) {
    result.problems.forEach((problem) => io.err(formatTableProblem(problem)));
    io.err(`${file}: ${result.problems.length} problem(s); the table cannot be activated`);
    return EXIT_FAILED;
  }

  io.out(`${file}: valid; ${summarize(result.table)}`);
  return EXIT_OK;
}

async function activate(file: string, io: CalendarCommandIo): Promise<number> {
  const json = readJsonArgument(file);
  if (!io.redisUrl) {
    throw new UsageError('calendar activate needs Redis, but no Redis URL was given: set REDIS_URL');
  }

  return withStore(io.redisUrl, io.keyPrefix, async (store) => {
    const staged = await store.validate(json);
    if (!staged.staged) {
      staged.problems.forEach((problem) => io.err(formatTableProblem(problem)));
      io.err(`${file}: ${staged.problems.length} problem(s); nothing was activated`);
      return EXIT_FAILED;
    }

    await store.activate(staged.year, staged.version);
    io.out(`activated ${staged.year} version ${staged.version} under ${store.tableKey(staged.year)}`);
    io.out(
      'running gateway processes were notified and reload their calendar; one that missed the message reloads within its reload interval',
    );
    return EXIT_OK;
  });
}

function readJsonArgument(file: string): unknown {
  try {
    return readTableFile(file);
  } catch (error) {
    if (isMissingFile(error))
      throw new UsageError(`file not found "${file}": expected the path of a year table JSON file`);
    throw error;
  }
}

function isMissingFile(error: unknown): boolean {
  return error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'EISDIR');
}

function summarize(table: YearTable): string {
  const daysOff = table.holidays.reduce((sum, holiday) => sum + holiday.daysOff.length, 0);
  const documentNumber = table.source.documentNumber ? ` ${table.source.documentNumber}` : '';
  return (
    `${table.year} version ${table.version}, ${table.holidays.length} holidays with ${daysOff} days off, ` +
    `${table.adjustedWorkingDays.length} adjusted working days; source ${table.source.title}${documentNumber}`
  );
}

async function loadCalendar(io: CalendarCommandIo): Promise<WorkingDayCalendar> {
  if (!io.redisUrl) return createDefaultCalendar();
  return withStore(io.redisUrl, io.keyPrefix, (store) => store.load());
}

async function withStore<T>(
  redisUrl: string,
  keyPrefix: string | undefined,
  work: (store: CalendarStore) => Promise<T>,
): Promise<T> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: REDIS_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  // Failures reach the caller through the rejected commands; without a listener ioredis
  // would also print each one as an unhandled error event.
  redis.on('error', () => undefined);
  try {
    await connect(redis);
    return await work(new CalendarStore(redis, keyPrefix === undefined ? {} : { keyPrefix }));
  } finally {
    redis.disconnect();
  }
}

async function connect(redis: Redis): Promise<void> {
  try {
    await redis.connect();
  } catch (error) {
    // The URL is left out of the message because it may carry a password.
    const reason = error instanceof Error ? error.message : String(error);
    throw new CommandFailure(`cannot connect to Redis: ${reason}`);
  }
}
