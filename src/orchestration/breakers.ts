/**
 * One circuit breaker per department (opossum 9), with its open state shared through
 * Redis so that every worker process pauses together.
 *
 * States: `closed` lets calls through and counts failures in a rolling window. `open`
 * rejects calls without sending them until the reset timeout has passed. `half-open`
 * lets exactly one probe call through, and its result closes or reopens the breaker.
 *
 * Each process has its own opossum instance, with its own counts. When one of them
 * opens, it writes the shared record `<prefix>:breaker:<department>`, and every
 * process refuses calls while the record says open. After the record's open period,
 * the first caller in any process that takes the probe lease
 * `<prefix>:breaker:<department>:probe` sends the one probe, and all others are refused
 * until the probe's result closes or reopens the shared record.
 *
 * opossum 9 admits one probe per process in half-open on its own: the first `fire`
 * clears its pending-close flag synchronously, and later calls are rejected with
 * EOPENBREAKER until the probe settles. The lease extends that to all processes.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import CircuitBreaker from 'opossum';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { countsAsBreakerFailure } from '../adapters-kit/classify.ts';
import { BreakerOpenError } from '../adapters-kit/errors.ts';
import type { DepartmentAdapter, SubmissionReceipt, SubmissionRequest } from '../adapters-kit/types.ts';
import type { Metrics } from '../observability/metrics.ts';

export interface BreakerSettings {
  /** Percentage of failed calls in the rolling window above which the breaker opens. */
  errorThresholdPercentage: number;
  /** Calls in the rolling window before the breaker may open, so one failure of a quiet department does not. */
  volumeThreshold: number;
  rollingWindowMs: number;
  /** How long the breaker stays open before one probe call may pass. */
  resetTimeoutMs: number;
  /** How long a process may hold the probe lease; longer than one call's total HTTP timeout. */
  probeLeaseMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = {
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  rollingWindowMs: 60_000,
  resetTimeoutMs: 30_000,
  probeLeaseMs: 30_000,
};

export type BreakerState = 'closed' | 'half-open' | 'open';

/** Values of the `lianban_breaker_state` gauge. */
export const BREAKER_STATE_VALUES: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** How long a caller refused during another process's probe waits before it tries again. */
const PROBE_WAIT_MS = 1_000;

/** Shortest pause handed to a refused caller, so a queue is never resumed in a busy loop. */
const MIN_RETRY_AFTER_MS = 50;

export interface SharedBreakerRecord {
  openedAt: string;
  /** Epoch milliseconds at which the open period ends and one probe may pass. */
  openUntilMs: number;
  /** Process that opened the breaker: `<host>:<pid>:<random>`. */
  openedBy: string;
}

export type SharedBreakerView =
  { state: 'open' | 'half-open'; record: SharedBreakerRecord } | { state: 'closed' };

// Deletes the lease only if this process still holds it, so an expired lease taken over
// by another process is not released by the one that lost it.
const RELEASE_PROBE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export function sharedBreakerKey(prefix: string, department: string): string {
  return `${prefix}:breaker:${department}`;
}

/** The shared open state of one department's breaker in Redis. */
export class SharedBreakerState {
  private readonly key: string;
  private readonly probeKey: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    readonly department: string,
    private readonly settings: BreakerSettings,
  ) {
    this.key = sharedBreakerKey(prefix, department);
    this.probeKey = `${this.key}:probe`;
  }

  async read(nowMs = Date.now()): Promise<SharedBreakerView> {
    const raw = await this.redis.get(this.key);
    if (!raw) return { state: 'closed' };
    const record = JSON.parse(raw) as SharedBreakerRecord;
    return { state: nowMs < record.openUntilMs ? 'open' : 'half-open', record };
  }

  async open(openedBy: string, nowMs = Date.now()): Promise<void> {
    const record: SharedBreakerRecord = {
      openedAt: new Date(nowMs).toISOString(),
      openUntilMs: nowMs + this.settings.resetTimeoutMs,
      openedBy,
    };
    // The record outlives its open period so that the half-open phase is shared too, but
    // it expires on its own when no process is left to probe.
    const ttlMs = this.settings.resetTimeoutMs * 4 + this.settings.probeLeaseMs * 2;
    await this.redis.set(this.key, JSON.stringify(record), 'PX', ttlMs);
  }

  async close(): Promise<void> {
    await this.redis.del(this.key);
  }

  async tryAcquireProbe(owner: string): Promise<boolean> {
    return (await this.redis.set(this.probeKey, owner, 'PX', this.settings.probeLeaseMs, 'NX')) === 'OK';
  }

  async releaseProbe(owner: string): Promise<void> {
    await this.redis.eval(RELEASE_PROBE_SCRIPT, 1, this.probeKey, owner);
  }
}

export interface DepartmentBreakerOptions {
  settings: BreakerSettings;
  /** Shared state in Redis; without it the breaker protects this process only. */
  shared?: SharedBreakerState;
  logger: Logger;
  metrics?: Metrics;
  /** Id of this process in shared records and probe leases. */
  processId?: string;
}

export interface LocalBreakerStatus {
  state: BreakerState;
  openedAt?: string;
  /** Counts in the current rolling window. */
  fires: number;
  failures: number;
  rejects: number;
  successes: number;
}

/** A department's breaker around one action, usually the adapter's `submit`. */
export class DepartmentBreaker<TArgs extends unknown[], TResult> {
  private readonly breaker: CircuitBreaker<TArgs, TResult>;
  private readonly processId: string;
  private openedAtMs: number | undefined;

  constructor(
    readonly department: string,
    action: (...args: TArgs) => Promise<TResult>,
    private readonly options: DepartmentBreakerOptions,
  ) {
    this.processId = options.processId ?? newProcessId();
    const { settings } = options;
    this.breaker = new CircuitBreaker(action, {
      // The HTTP client enforces its own timeouts; a second timer here would race it.
      timeout: false,
      errorThresholdPercentage: settings.errorThresholdPercentage,
      volumeThreshold: settings.volumeThreshold,
      rollingCountTimeout: settings.rollingWindowMs,
      resetTimeout: settings.resetTimeoutMs,
      // opossum treats a filtered error as a success, because the department responded.
      errorFilter: (error: unknown) => !countsAsBreakerFailure(error),
      name: department,
    });
    this.observe();
  }

  /**
   * Calls the action through the breaker and returns or throws what the action does.
   * Throws `BreakerOpenError` without calling it while this process's breaker or the
   * shared record is open, or while another call is the half-open probe.
   */
  async fire(...args: TArgs): Promise<TResult> {
    const shared = await this.readShared();
    if (shared.state === 'open') {
      this.countRejection();
      throw new BreakerOpenError(this.department, retryAfter(shared.record.openUntilMs - Date.now()), 'open');
    }
    if (shared.state === 'half-open') return this.probe(args);
    return this.fireLocal(args);
  }

  localState(): BreakerState {
    if (this.breaker.opened) return 'open';
    return this.breaker.halfOpen ? 'half-open' : 'closed';
  }

  localStatus(): LocalBreakerStatus {
    const { fires, failures, rejects, successes } = this.breaker.stats;
    const openedAt =
      this.openedAtMs !== undefined && this.localState() !== 'closed'
        ? new Date(this.openedAtMs).toISOString()
        : undefined;
    return { state: this.localState(), openedAt, fires, failures, rejects, successes };
  }

  /** Returns the pause a caller should take after this breaker opened, in milliseconds. */
  retryAfterMs(): number {
    if (this.openedAtMs === undefined) return MIN_RETRY_AFTER_MS;
    return retryAfter(this.openedAtMs + this.options.settings.resetTimeoutMs - Date.now());
  }

  shutdown(): void {
    this.breaker.shutdown();
  }

  /** Sends the one probe of the shared half-open phase, if this call wins the lease. */
  private async probe(args: TArgs): Promise<TResult> {
    const shared = this.options.shared as SharedBreakerState;
    if (!(await shared.tryAcquireProbe(this.processId))) {
      this.countRejection();
      throw new BreakerOpenError(this.department, PROBE_WAIT_MS, 'half-open');
    }

    try {
      const result = await this.fireLocal(args);
      await this.writeShared(() => shared.close());
      this.options.logger.info({ department: this.department }, 'department circuit breaker probe succeeded');
      return result;
    } catch (error) {
      // Still open in this process: the shared record stays as it is.
      if (error instanceof BreakerOpenError) throw error;
      const reopen = countsAsBreakerFailure(error);
      await this.writeShared(() => (reopen ? shared.open(this.processId) : shared.close()));
      throw error;
    } finally {
      await this.writeShared(() => shared.releaseProbe(this.processId));
    }
  }

  /**
   * Runs a write to the shared record and logs a failure instead of throwing it, so a
   * Redis error never hides the department's response. The record and the lease expire
   * on their own.
   */
  private async writeShared(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.options.logger.warn(
        { department: this.department, err: { message: (error as Error).message } },
        'shared circuit breaker state not written',
      );
    }
  }

  private async fireLocal(args: TArgs): Promise<TResult> {
    try {
      return await this.breaker.fire(...args);
    } catch (error) {
      if (!isOpossumOpenError(error)) throw error;
      this.countRejection();
      // In half-open the probe is in flight; its result comes within one call's timeout.
      if (this.localState() !== 'open')
        throw new BreakerOpenError(this.department, PROBE_WAIT_MS, 'half-open');
      throw new BreakerOpenError(this.department, this.retryAfterMs(), 'open');
    }
  }

  /** Reads the shared record; a Redis failure falls back to this process's breaker alone. */
  private async readShared(): Promise<SharedBreakerView> {
    if (!this.options.shared) return { state: 'closed' };
    try {
      return await this.options.shared.read();
    } catch (error) {
      this.options.logger.warn(
        { department: this.department, err: { message: (error as Error).message } },
        'shared circuit breaker state unreadable; using this process state only',
      );
      return { state: 'closed' };
    }
  }

  private countRejection(): void {
    this.options.metrics?.breakerRejections.inc({ department: this.department });
  }

  /** Turns opossum's state events into log lines, metrics and the shared record. */
  private observe(): void {
    const { logger, metrics, shared } = this.options;
    const department = this.department;
    const record = (state: BreakerState): void => {
      metrics?.breakerState.set({ department }, BREAKER_STATE_VALUES[state]);
      metrics?.breakerTransitions.inc({ department, state });
    };

    this.breaker.on('open', () => {
      this.openedAtMs = Date.now();
      record('open');
      const { fires, failures } = this.breaker.stats;
      logger.warn({ department, fires, failures }, 'department circuit breaker opened');
      if (shared) void this.writeShared(() => shared.open(this.processId));
    });
    this.breaker.on('halfOpen', () => {
      record('half-open');
      logger.info({ department }, 'department circuit breaker half-open; one probe call may pass');
    });
    this.breaker.on('close', () => {
      record('closed');
      logger.info({ department }, 'department circuit breaker closed');
    });
  }
}

export type SubmitBreaker = DepartmentBreaker<[SubmissionRequest], SubmissionReceipt>;

/** The breakers of one process, one per configured department adapter. */
export class DepartmentBreakers {
  private readonly breakers = new Map<string, SubmitBreaker>();

  constructor(
    adapters: ReadonlyMap<string, DepartmentAdapter>,
    options: {
      settings: BreakerSettings;
      logger: Logger;
      metrics?: Metrics;
      /** Redis and key prefix for the shared state; without them each breaker is local. */
      shared?: { redis: Redis; prefix: string };
      processId?: string;
    },
  ) {
    const processId = options.processId ?? newProcessId();
    for (const adapter of adapters.values()) {
      const { department } = adapter;
      const shared = options.shared
        ? new SharedBreakerState(options.shared.redis, options.shared.prefix, department, options.settings)
        : undefined;
      const breaker = new DepartmentBreaker(
        department,
        (request: SubmissionRequest) => adapter.submit(request),
        {
          ...options,
          shared,
          processId,
        },
      );
      this.breakers.set(department, breaker);
    }
  }

  get(department: string): SubmitBreaker {
    const breaker = this.breakers.get(department);
    if (!breaker) throw new Error(`no circuit breaker for department "${department}"`);
    return breaker;
  }

  departments(): string[] {
    return [...this.breakers.keys()];
  }

  shutdown(): void {
    for (const breaker of this.breakers.values()) breaker.shutdown();
  }
}

/** Returns an id for this process in shared records: host, pid and a random part for several per process. */
export function newProcessId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

function isOpossumOpenError(error: unknown): boolean {
  return error instanceof Error && (error as Error & { code?: string }).code === 'EOPENBREAKER';
}

function retryAfter(remainingMs: number): number {
  return Math.max(MIN_RETRY_AFTER_MS, Math.ceil(remainingMs));
}
