/**
 * Deadlines in working days at run time. The module contains the calendar a process
 * counts with, which reloads without a restart, and the sweeper that recomputes
 * provisional due times and warns about items at risk or overdue. It also contains the
 * operator's list and the readiness report of calendar coverage. DeadlineServices wires
 * them for the gateway.
 */
import { createHash } from 'node:crypto';
import type { ConnectionOptions } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { registerDeadlineRoutes } from '../api/deadline-routes.ts';
import type { Bundle } from '../bundle/bundle.ts';
import { CalendarStore, type CoverageReport } from '../calendar/index.ts';
import type { GatewayConfig } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { CaseStore } from '../store/case-store.ts';
import { CalendarHolder, describeTables } from './calendar-holder.ts';
import { readDeadlineCounts } from './deadline-keys.ts';
import { listDeadlines, type DeadlineListFilter, type DeadlineListing } from './deadline-list.ts';
import { DeadlineSweeper } from './sweeper.ts';
import { DeadlineSweepWorker } from './sweep-worker.ts';

export { CalendarHolder, describeTables } from './calendar-holder.ts';
export { classifyDueTime, type DeadlineStatus, type DeadlineState } from './deadline-status.ts';
export {
  LISTED_DEADLINE_STATES,
  listDeadlines,
  parseDeadlineState,
  type DeadlineListEntry,
  type DeadlineListFilter,
  type DeadlineListing,
  type ListedDeadlineState,
} from './deadline-list.ts';
export {
  DeadlineSweeper,
  departmentsWithDeadlines,
  type DeadlineSweeperDeps,
  type SweepReport,
} from './sweeper.ts';
export { DEADLINE_SWEEP_QUEUE, DeadlineSweepWorker, type DeadlineSweepWorkerDeps } from './sweep-worker.ts';
export { DueTimeRecomputer } from './recompute.ts';
export { deadlineCountsKey, provisionalNotedKey, readDeadlineCounts } from './deadline-keys.ts';

export interface DeadlineServicesOptions {
  config: Pick<
    GatewayConfig,
    'keyPrefix' | 'deadlineSweepIntervalMs' | 'deadlineAtRiskWorkingDays' | 'calendarReloadIntervalMs'
  >;
  redis: Redis;
  bundle: Bundle;
  store: CaseStore;
  requestPush: (caseId: string) => Promise<void>;
  metrics: Metrics;
  logger: Logger;
  /** The current time; tests set it to check behaviour on chosen dates. */
  clock?: () => Date;
}

/** Calendar coverage as /health/ready reports it. */
export interface CalendarReadiness {
  calendar: { loadedYears: number[]; requiredYears: number[]; missingYears: number[] };
  warnings?: string[];
}

export class DeadlineServices {
  private sweepWorker: DeadlineSweepWorker | undefined;
  private readonly clock: () => Date;

  private constructor(
    private readonly options: DeadlineServicesOptions,
    readonly calendar: CalendarHolder,
  ) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** Loads the calendar, starts keeping it fresh and lets the metrics read the sweep counts. */
  static async create(options: DeadlineServicesOptions): Promise<DeadlineServices> {
    const { config, redis, logger } = options;
    const store = new CalendarStore(redis, { keyPrefix: config.keyPrefix, logger });
    const holder = await CalendarHolder.load({
      store,
      redis,
      reloadIntervalMs: config.calendarReloadIntervalMs,
      logger,
    });
    await holder.start();
    options.metrics.readDeadlineCounts = () => readDeadlineCounts(redis, config.keyPrefix);
    return new DeadlineServices(options, holder);
  }

  /** Starts the sweeper (worker role); a calendar change then requests a sweep at once. */
  async startSweeper(connection: ConnectionOptions, queuePrefix: string): Promise<void> {
    const { options } = this;
    const sweeper = new DeadlineSweeper({
      bundle: options.bundle,
      store: options.store,
      calendar: this.calendar,
      requestPush: options.requestPush,
      metrics: options.metrics,
      logger: options.logger,
      clock: this.clock,
      atRiskWorkingDays: options.config.deadlineAtRiskWorkingDays,
    });
    const worker = new DeadlineSweepWorker({
      sweeper,
      connection,
      queuePrefix,
      intervalMs: options.config.deadlineSweepIntervalMs,
      metrics: options.metrics,
      logger: options.logger,
    });
    await worker.start();
    this.sweepWorker = worker;

    this.calendar.onChange((calendar) => {
      const tables = describeTables(calendar);
      const requestId = `calendar-${createHash('sha256').update(tables).digest('hex').slice(0, 16)}`;
      worker.requestSweep(`calendar changed to ${tables}`, requestId).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        options.logger.error({ err: { message } }, 'cannot request a deadline sweep after a calendar change');
      });
    });
  }

  /** Lists at-risk and overdue items with the calendar and clock of this process. */
  list(filter: DeadlineListFilter = {}): Promise<DeadlineListing> {
    const { bundle, store, config } = this.options;
    const deps = {
      bundle,
      store,
      calendar: this.calendar.current,
      now: this.clock(),
      atRiskWorkingDays: config.deadlineAtRiskWorkingDays,
    };
    return listDeadlines(deps, filter);
  }

  /** Admin routes (GET /v1/admin/deadlines), to register behind the operator guard. */
  adminRoutes(): (app: FastifyInstance) => void {
    return (app) => registerDeadlineRoutes(app, { list: (filter) => this.list(filter) });
  }

  coverage(): CoverageReport {
    return this.calendar.current.coverageReport(this.clock());
  }

  /**
   * Reports calendar coverage for readiness. A missing year is a warning, not a failure:
   * due times reaching it are provisional and recomputed once its table is activated,
   * while taking every gateway out of rotation would stop intake altogether.
   */
  readiness(): CalendarReadiness {
    const report = this.coverage();
    const readiness: CalendarReadiness = {
      calendar: {
        loadedYears: report.loadedYears.map((loaded) => loaded.year),
        requiredYears: report.requiredYears,
        missingYears: report.missingYears,
      },
    };
    if (report.missingYears.length > 0) {
      readiness.warnings = report.missingYears.map(
        (year) =>
          `no working-day calendar table for ${year}: due times reaching ${year} are provisional until its table is activated (lianban calendar activate FILE)`,
      );
    }
    return readiness;
  }

  async close(): Promise<void> {
    await this.sweepWorker?.close();
    await this.calendar.close();
  }
}
