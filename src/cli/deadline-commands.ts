/**
 * `lianban deadlines …`: the operator's view of items at risk or overdue, read straight
 * from Redis with the calendar in force, so it works while no API process runs. Exit
 * codes: 0 done, 1 the command failed (e.g. Redis unreachable), 2 bad arguments.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { loadBundle } from '../bundle/bundle.ts';
import { CalendarStore } from '../calendar/index.ts';
import {
  LISTED_DEADLINE_STATES,
  listDeadlines,
  parseDeadlineState,
  type DeadlineListEntry,
  type DeadlineListFilter,
  type DeadlineListing,
} from '../deadlines/deadline-list.ts';
import { createItemPresenter } from '../orchestration/presenter.ts';
import { CaseStore } from '../store/case-store.ts';
import { DEPARTMENTS, type DepartmentKey } from '../adapters-kit/types.ts';
import { DataCipher } from '../store/crypto.ts';
import { KeySpace } from '../store/keys.ts';

export interface DeadlineCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  redisUrl: string;
  /** Prefix of the gateway's Redis keys; `lb` when absent. */
  keyPrefix?: string;
  /** The at-risk threshold in working days, as LIANBAN_DEADLINE_AT_RISK_WORKING_DAYS sets it; 1 when absent. */
  atRiskWorkingDays?: number;
  /** Clock for the listing; the current time when absent. */
  now?: () => Date;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

const REDIS_TIMEOUT_MS = 5_000;

const USAGE = [
  'usage: lianban deadlines list [--state at-risk|overdue] [--department <key>] [--json]',
  '',
  '  --state       only items in this state; both when absent',
  '  --department  only items of this department (veterans, police, hrss, medical)',
  '  --json        print the listing as JSON instead of one line per item',
];

class UsageError extends Error {}

export async function runDeadlineCommand(args: string[], io: DeadlineCommandIo): Promise<number> {
  try {
    return await dispatch(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      [error.message, ...USAGE].forEach((line) => io.err(line));
      return EXIT_USAGE;
    }
    if (error instanceof RedisFailure) {
      io.err(error.message);
      return EXIT_FAILED;
    }
    throw error;
  }
}

async function dispatch(args: string[], io: DeadlineCommandIo): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === 'help' || subcommand === '--help') {
    USAGE.forEach((line) => io.out(line));
    return EXIT_OK;
  }
  if (subcommand !== 'list') {
    const problem = subcommand === undefined ? 'no subcommand' : `unknown subcommand "${subcommand}"`;
    throw new UsageError(`${problem}: expected list`);
  }

  const { filter, json } = parseListOptions(rest);
  const listing = await withRedis(io, (redis) => readListing(redis, io, filter));
  if (json) io.out(JSON.stringify(listing, null, 2));
  else printListing(listing, io);
  return EXIT_OK;
}

function parseListOptions(args: string[]): { filter: DeadlineListFilter; json: boolean } {
  let values: { state?: string; department?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: { state: { type: 'string' }, department: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }

  const state = parseDeadlineState(values.state);
  if (state === null) {
    throw new UsageError(
      `invalid --state "${values.state ?? ''}": expected ${LISTED_DEADLINE_STATES.join(' or ')}`,
    );
  }
  const filter: DeadlineListFilter = {};
  if (state) filter.state = state;
  if (values.department !== undefined && !DEPARTMENTS.includes(values.department as DepartmentKey)) {
    throw new UsageError(
      `invalid --department "${values.department}": expected one of ${DEPARTMENTS.join(', ')}`,
    );
  }
  if (values.department) filter.department = values.department;
  return { filter, json: values.json ?? false };
}

async function readListing(
  redis: Redis,
  io: DeadlineCommandIo,
  filter: DeadlineListFilter,
): Promise<DeadlineListing> {
  const keyPrefix = io.keyPrefix ?? 'lb';
  const bundle = loadBundle();
  // The listing never reads a form, so the store gets a throwaway data key: a decryption
  // attempted by mistake would fail authentication instead of returning personal data.
  const throwawayKeys = new Map([['unused', randomBytes(32)]]);
  const store = new CaseStore(
    redis,
    new KeySpace(keyPrefix),
    new DataCipher(throwawayKeys, 'unused'),
    createItemPresenter(bundle),
  );
  const calendar = await new CalendarStore(redis, { keyPrefix }).load();
  const deps = {
    bundle,
    store,
    calendar,
    now: io.now?.() ?? new Date(),
    atRiskWorkingDays: io.atRiskWorkingDays ?? 1,
  };
  return listDeadlines(deps, filter);
}

function printListing(listing: DeadlineListing, io: DeadlineCommandIo): void {
  io.out(
    `checked at ${listing.checkedAt}; at risk means fewer than ${listing.atRiskWorkingDays} working day(s) left after the current working day`,
  );
  for (const entry of listing.items) io.out(formatEntry(entry));

  const overdue = listing.items.filter((entry) => entry.deadlineState === 'overdue').length;
  io.out(`${listing.items.length} item(s): ${listing.items.length - overdue} at risk, ${overdue} overdue`);
}

function formatEntry(entry: DeadlineListEntry): string {
  const left = entry.workingDaysLeft === null ? '' : `, ${entry.workingDaysLeft} working day(s) left`;
  const provisional = entry.dueProvisional ? ' (provisional)' : '';
  const warned = entry.warningPushed ? `, warning pushed: ${entry.warningPushed}` : ', no warning pushed yet';
  return (
    `  ${entry.deadlineState.padEnd(8)} due ${entry.dueAt}${provisional}  ${entry.caseId}.${entry.itemKey}` +
    `  [${entry.department}] ${entry.itemState}${left}${warned}`
  );
}

/** The connection to Redis failed. */
class RedisFailure extends Error {}

async function withRedis<T>(io: DeadlineCommandIo, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(io.redisUrl, {
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
    await redis.connect().catch((error: unknown) => {
      // The URL is left out of the message because it may carry a password.
      const reason = error instanceof Error ? error.message : String(error);
      throw new RedisFailure(`cannot connect to Redis: ${reason}`);
    });
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}
