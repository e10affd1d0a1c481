/**
 * Year tables loaded at run time, without a redeploy. A table goes into Redis in two
 * steps: `validate` checks it and stages it, `activate` makes the staged table the one
 * in force. A staged table is never used. Each year is one hash:
 *
 *   <prefix>:calendar:table:<year>  staged, stagedVersion, stagedAt, active, activeVersion, activatedAt
 *   <prefix>:calendar:years         set of the years that have such a hash
 *
 * After an activation the store publishes `<year>:<version>` on `<prefix>:calendar:activated`,
 * so running processes reload at once instead of at their next periodic reload.
 */
import type { Redis } from 'ioredis';
import { createLogger, type Logger } from '../observability/logger.ts';
import { loadContractTables } from './contract-files.ts';
import { validateYearTable, type TableProblem, type YearTable } from './year-table.ts';
import { WorkingDayCalendar, type CalendarOptions } from './working-day-calendar.ts';

export interface CalendarStoreOptions {
  /** Prefix of the store's keys; the gateway's default is `lb`. */
  keyPrefix?: string;
  /** Tables from the contract files; read from contracts/calendar when absent. */
  contractTables?: readonly YearTable[];
  calendarOptions?: CalendarOptions;
  logger?: Logger;
}

export type StageResult =
  { staged: true; year: number; version: number } | { staged: false; problems: TableProblem[] };

/** An activation that would leave the calendar wrong or unchanged. */
export class CalendarActivationError extends Error {
  override name = 'CalendarActivationError';
}

// Runs as one script so that the version check and the switch cannot interleave with
// another operator's validate or activate of the same year.
const ACTIVATE_SCRIPT = `
local staged = redis.call('HGET', KEYS[1], 'staged')
if not staged then return {'not-staged', ''} end
local stagedVersion = tonumber(redis.call('HGET', KEYS[1], 'stagedVersion'))
if stagedVersion ~= tonumber(ARGV[1]) then return {'version-mismatch', tostring(stagedVersion)} end
local activeVersion = tonumber(redis.call('HGET', KEYS[1], 'activeVersion'))
if activeVersion and activeVersion >= stagedVersion then return {'not-newer', tostring(activeVersion)} end
redis.call('HSET', KEYS[1], 'active', staged, 'activeVersion', stagedVersion, 'activatedAt', ARGV[2])
redis.call('HDEL', KEYS[1], 'staged', 'stagedVersion', 'stagedAt')
return {'activated', ''}
`;

export class CalendarStore {
  private readonly keyPrefix: string;
  private readonly contractTables: readonly YearTable[];
  private readonly calendarOptions: CalendarOptions;
  private readonly logger: Logger;

  constructor(
    private readonly redis: Redis,
    options: CalendarStoreOptions = {},
  ) {
    this.keyPrefix = options.keyPrefix ?? 'lb';
    this.contractTables = options.contractTables ?? loadContractTables();
    this.calendarOptions = options.calendarOptions ?? {};
    this.logger = options.logger ?? createLogger({ name: 'calendar' });
  }

  tableKey(year: number): string {
    return `${this.keyPrefix}:calendar:table:${year}`;
  }

  /** Pub/sub channel on which activate() announces a table put in force, as `<year>:<version>`. */
  activationChannel(): string {
    return `${this.keyPrefix}:calendar:activated`;
  }

  private yearsKey(): string {
    return `${this.keyPrefix}:calendar:years`;
  }

  /** Validates a parsed table and, when it has no problem, stages it for activation. */
  async validate(json: unknown): Promise<StageResult> {
    const result = validateYearTable(json);
    if (!result.valid) return { staged: false, problems: result.problems };

    const { year, version } = result.table;
    await this.redis.sadd(this.yearsKey(), String(year));
    await this.redis.hset(this.tableKey(year), {
      staged: JSON.stringify(result.table),
      stagedVersion: String(version),
      stagedAt: new Date().toISOString(),
    });
    return { staged: true, year, version };
  }

  /**
   * Puts the staged table of `year` in force. `version` must equal the staged version, so
   * a table staged meanwhile by someone else is not activated by mistake, and it must be
   * greater than both the active version and the contract file's version, because load()
   * would ignore it otherwise.
   */
  async activate(year: number, version: number): Promise<void> {
    const contractVersion = this.contractTables.find((table) => table.year === year)?.version;
    if (contractVersion !== undefined && version <= contractVersion) {
      throw new CalendarActivationError(
        `cannot activate version ${version} of ${year}: the contract file already has version ${contractVersion}; raise the version above it`,
      );
    }

    const reply = await this.redis.eval(
      ACTIVATE_SCRIPT,
      1,
      this.tableKey(year),
      String(version),
      new Date().toISOString(),
    );
    const [status, detail] = Array.isArray(reply) ? reply.map(String) : [];
    if (status !== 'activated')
      throw new CalendarActivationError(describeRefusal(year, version, status, detail));

    // A lost message costs nothing but time: processes also reload on an interval.
    await this.redis.publish(this.activationChannel(), `${year}:${version}`);
  }

  /** Reads the active tables in Redis; an entry that fails validation is logged and skipped. */
  async activeTables(): Promise<YearTable[]> {
    const years = (await this.redis.smembers(this.yearsKey())).map(Number).sort((a, b) => a - b);
    const tables: YearTable[] = [];
    for (const year of years) {
      const table = await this.readActive(year);
      if (table) tables.push(table);
    }
    return tables;
  }

  /**
   * Builds a calendar from the contract files and the active tables in Redis. For a year
   * in both, the Redis table is used only when its version is greater.
   */
  async load(): Promise<WorkingDayCalendar> {
    const byYear = new Map(this.contractTables.map((table) => [table.year, table]));
    for (const table of await this.activeTables()) {
      const contract = byYear.get(table.year);
      if (!contract || table.version > contract.version) byYear.set(table.year, table);
    }
    return new WorkingDayCalendar([...byYear.values()], this.calendarOptions);
  }

  private async readActive(year: number): Promise<YearTable | null> {
    const stored = await this.redis.hget(this.tableKey(year), 'active');
    if (stored === null) return null;

    const result = validateYearTable(parseJson(stored));
    if (result.valid && result.table.year === year) return result.table;

    // Only a hand edit of the key gets here, since validate() stores checked tables only.
    const problemCount = result.valid ? 1 : result.problems.length;
    this.logger.error(
      { year, key: this.tableKey(year), problemCount },
      'active calendar table in redis is invalid',
    );
    return null;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describeRefusal(
  year: number,
  version: number,
  status: string | undefined,
  detail: string | undefined,
): string {
  switch (status) {
    case 'not-staged':
      return `cannot activate ${year}: no table of that year is staged; validate it first`;
    case 'version-mismatch':
      return `cannot activate version ${version} of ${year}: the staged table has version ${detail}; validate the intended table again`;
    case 'not-newer':
      return `cannot activate version ${version} of ${year}: version ${detail} is already active; raise the version above it`;
    default:
      return `cannot activate ${year}: unexpected reply from Redis "${String(status)}"`;
  }
}
