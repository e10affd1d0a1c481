/**
 * The calendar a running process counts with, replaced without a restart when an
 * operator activates a year table. A process reloads from the CalendarStore on an
 * interval and at once when activate() announces a table on the pub/sub channel.
 */
import type { Redis } from 'ioredis';
import type { CalendarStore, DueTime, WorkingDayCalendar } from '../calendar/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { DueCalculator } from '../orchestration/department-worker.ts';

export interface CalendarHolderOptions {
  store: CalendarStore;
  /** Connection the pub/sub subscriber is duplicated from; a subscriber cannot run other commands. */
  redis: Redis;
  /** Interval of the periodic reload; 0 leaves only the reload on an activation message. */
  reloadIntervalMs: number;
  logger: Logger;
}

type ChangeListener = (calendar: WorkingDayCalendar) => void;

export class CalendarHolder implements DueCalculator {
  private calendar: WorkingDayCalendar;
  private readonly listeners: ChangeListener[] = [];
  /** Reloads run one after another, so the result of an older load never replaces a newer calendar. */
  private reloads: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private subscriber: Redis | undefined;

  private constructor(
    private readonly options: CalendarHolderOptions,
    initial: WorkingDayCalendar,
  ) {
    this.calendar = initial;
  }

  /** Loads the calendar from the contract files and Redis; call start() to keep it fresh. */
  static async load(options: CalendarHolderOptions): Promise<CalendarHolder> {
    return new CalendarHolder(options, await options.store.load());
  }

  get current(): WorkingDayCalendar {
    return this.calendar;
  }

  dueAt(receivedAt: Date, workingDays: number): DueTime {
    return this.calendar.dueAt(receivedAt, workingDays);
  }

  /** Registers a listener called after a reload that changed the tables. */
  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** Loads the tables again; resolves to true when a year or a version changed. */
  reload(): Promise<boolean> {
    const run = this.reloads.then(() => this.replace());
    this.reloads = run.catch(() => undefined);
    return run;
  }

  async start(): Promise<void> {
    const { reloadIntervalMs, redis, store, logger } = this.options;
    if (reloadIntervalMs > 0) {
      this.timer = setInterval(() => void this.reloadAndLog('interval'), reloadIntervalMs);
      this.timer.unref();
    }

    const subscriber = redis.duplicate();
    subscriber.on('error', (error: Error) =>
      logger.warn({ err: { message: error.message } }, 'calendar subscriber connection error'),
    );
    subscriber.on(
      'message',
      (_channel: string, table: string) => void this.reloadAndLog('activation', table),
    );
    await subscriber.subscribe(store.activationChannel());
    this.subscriber = subscriber;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.subscriber?.disconnect();
    await this.reloads;
  }

  private async replace(): Promise<boolean> {
    const loaded = await this.options.store.load();
    const previous = describeTables(this.calendar);
    const tables = describeTables(loaded);
    if (tables === previous) return false;

    this.calendar = loaded;
    this.options.logger.info({ tables, previous }, 'calendar tables changed');
    for (const listener of this.listeners) {
      try {
        listener(loaded);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.options.logger.error({ err: { message } }, 'calendar change listener failed');
      }
    }
    return true;
  }

  private async reloadAndLog(trigger: 'interval' | 'activation', table?: string): Promise<void> {
    try {
      await this.reload();
    } catch (error) {
      // Keeping the loaded tables is safe: due times reaching a missing year stay provisional.
      const message = error instanceof Error ? error.message : String(error);
      this.options.logger.warn(
        { trigger, table, err: { message } },
        'calendar reload failed; keeping the loaded tables',
      );
    }
  }
}

/** Describes the loaded tables as `2025:1,2026:1`: year and version, ascending by year. */
export function describeTables(calendar: WorkingDayCalendar): string {
  return calendar
    .years()
    .map((year) => `${year}:${calendar.yearTable(year)?.version ?? 0}`)
    .join(',');
}
