/**
 * Working days (工作日) in Asia/Shanghai: weekends and public holidays are off, and the
 * adjusted working days (调休上班) announced with the holidays are worked even on a
 * Saturday or Sunday. Pure: the tables come in through the constructor.
 */
import { addDays, isCivilDate, isWeekend, yearOf } from './civil-date.ts';
import { endOfShanghaiDay, formatShanghaiIso, parseClockTime, toShanghaiWallClock } from './shanghai-time.ts';
import type { NoticeSource, YearTable } from './year-table.ts';

/** Office hours on the Asia/Shanghai clock, HH:MM; the end is exclusive. */
export interface WorkingHours {
  start: string;
  end: string;
}

export const DEFAULT_WORKING_HOURS: WorkingHours = { start: '09:00', end: '17:00' };

export interface CalendarOptions {
  /** Receipt before `start` counts from that day's opening, at or after `end` from the next working day's. */
  workingHours?: WorkingHours;
}

export interface DueTime {
  /** Last second of the due date, ISO 8601 with +08:00, e.g. 2025-10-10T23:59:59+08:00. */
  dueAt: string;
  dueDate: string;
  /** True when a day of the count fell in a year with no table, so Monday to Friday were assumed. */
  provisional: boolean;
  missingYears: number[];
}

export interface LoadedYear {
  year: number;
  version: number;
  source: NoticeSource;
}

export interface CoverageReport {
  /** The instant checked, ISO 8601 with +08:00. */
  checkedAt: string;
  loadedYears: LoadedYear[];
  /** The current year, and from 1 December also the next one. */
  requiredYears: number[];
  missingYears: number[];
}

/**
 * Upper bound on one count. Legal time limits here are a few dozen working days at most,
 * so a larger count is a caller's bug, and counting it day by day could take very long.
 */
export const MAX_WORKING_DAYS = 1000;

export class WorkingDayCalendar {
  private readonly tables = new Map<number, YearTable>();
  private readonly daysOff = new Set<string>();
  private readonly adjustedWorkingDays = new Set<string>();
  private readonly openingMinute: number;
  private readonly closingMinute: number;

  /** Takes tables that passed validateYearTable; throws when two tables cover the same year. */
  constructor(tables: readonly YearTable[], options: CalendarOptions = {}) {
    for (const table of tables) this.addTable(table);

    const hours = options.workingHours ?? DEFAULT_WORKING_HOURS;
    [this.openingMinute, this.closingMinute] = parseWorkingHours(hours);
  }

  private addTable(table: YearTable): void {
    if (this.tables.has(table.year)) throw new Error(`two calendar tables cover the year ${table.year}`);

    this.tables.set(table.year, table);
    for (const holiday of table.holidays) {
      for (const date of holiday.daysOff) this.daysOff.add(date);
    }
    for (const workedDay of table.adjustedWorkingDays) this.adjustedWorkingDays.add(workedDay.date);
  }

  /** Years with a loaded table, ascending. */
  years(): number[] {
    return [...this.tables.keys()].sort((a, b) => a - b);
  }

  yearTable(year: number): YearTable | undefined {
    return this.tables.get(year);
  }

  isCovered(year: number): boolean {
    return this.tables.has(year);
  }

  /** Tells whether `date` is a working day; in a year without a table, Monday to Friday are. */
  isWorkingDay(date: string): boolean {
    assertDate(date);
    if (this.adjustedWorkingDays.has(date)) return true;
    if (this.daysOff.has(date)) return false;
    return !isWeekend(date);
  }

  /** Returns the first working day after `date`, not counting `date` itself. */
  nextWorkingDay(date: string): string {
    assertDate(date);
    return this.countForward(date, 1, new Set());
  }

  /** Counts `n` working days after `date`; the day `date` itself is not counted, and 0 returns it unchanged. */
  addWorkingDays(date: string, n: number): string {
    assertDate(date);
    assertWorkingDayCount(n);
    return this.countForward(date, n, new Set());
  }

  /**
   * Returns the instant a receipt counts as received, ISO 8601 with +08:00. Receipt during
   * office hours keeps its time, receipt before opening on a working day moves to that
   * day's opening, and receipt at or after closing or on a day off moves to the next
   * working day's opening.
   */
  effectiveReceivedAt(receivedAt: Date): string {
    const receipt = this.effectiveReceipt(receivedAt, new Set());
    if (receipt.minuteOfDay === null) return formatShanghaiIso(receivedAt);
    return `${receipt.date}T${formatMinuteOfDay(receipt.minuteOfDay)}:00+08:00`;
  }

  /**
   * Computes when an item received at `receivedAt` with a limit of `workingDays` falls
   * due: at 23:59:59 Asia/Shanghai of the last working day. A limit of 0 (即时办结) is due
   * at the end of the receipt day itself.
   */
  dueAt(receivedAt: Date, workingDays: number): DueTime {
    assertWorkingDayCount(workingDays);

    const yearsSeen = new Set<number>();
    const receiptDate = this.effectiveReceipt(receivedAt, yearsSeen).date;
    const dueDate = this.countForward(receiptDate, workingDays, yearsSeen);

    const missingYears = [...yearsSeen].filter((year) => !this.isCovered(year)).sort((a, b) => a - b);
    return { dueAt: endOfShanghaiDay(dueDate), dueDate, provisional: missingYears.length > 0, missingYears };
  }

  /** Lists the loaded years and the required years without a table; the next year is required from 1 December. */
  coverageReport(now: Date): CoverageReport {
    const today = toShanghaiWallClock(now).date;
    const year = yearOf(today);
    const inDecember = today.slice(5, 7) === '12';
    const requiredYears = inDecember ? [year, year + 1] : [year];

    return {
      checkedAt: formatShanghaiIso(now),
      loadedYears: [...this.tables.values()].sort((a, b) => a.year - b.year).map(describeTable),
      requiredYears,
      missingYears: requiredYears.filter((required) => !this.isCovered(required)),
    };
  }

  /**
   * The day a receipt counts from (never itself counted), and the minute of the day it
   * moved to, or null when it kept its own time.
   */
  private effectiveReceipt(
    receivedAt: Date,
    yearsSeen: Set<number>,
  ): { date: string; minuteOfDay: number | null } {
    const { date, minuteOfDay } = toShanghaiWallClock(receivedAt);
    yearsSeen.add(yearOf(date));

    if (!this.isWorkingDay(date) || minuteOfDay >= this.closingMinute) {
      return { date: this.countForward(date, 1, yearsSeen), minuteOfDay: this.openingMinute };
    }
    // Receipt before opening stays on its own day, because that day's office hours are still ahead.
    if (minuteOfDay < this.openingMinute) return { date, minuteOfDay: this.openingMinute };
    return { date, minuteOfDay: null };
  }

  /** Steps day by day; every year the walk enters goes into `yearsSeen`. */
  private countForward(start: string, workingDays: number, yearsSeen: Set<number>): string {
    let date = start;
    let remaining = workingDays;
    while (remaining > 0) {
      date = addDays(date, 1);
      yearsSeen.add(yearOf(date));
      if (this.isWorkingDay(date)) remaining -= 1;
    }
    return date;
  }
}

function describeTable(table: YearTable): LoadedYear {
  return { year: table.year, version: table.version, source: table.source };
}

function formatMinuteOfDay(minuteOfDay: number): string {
  const hours = String(Math.floor(minuteOfDay / 60)).padStart(2, '0');
  const minutes = String(minuteOfDay % 60).padStart(2, '0');
  return `${hours}:${minutes}`;
}

function assertDate(date: string): void {
  if (!isCivilDate(date)) throw new RangeError(`invalid date "${date}": expected a real date as YYYY-MM-DD`);
}

function assertWorkingDayCount(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_WORKING_DAYS) {
    throw new RangeError(
      `invalid number of working days ${n}: expected an integer from 0 to ${MAX_WORKING_DAYS}`,
    );
  }
}

function parseWorkingHours(hours: WorkingHours): [number, number] {
  const opening = parseClockTime(hours.start);
  const closing = parseClockTime(hours.end);
  if (opening === null || closing === null || opening >= closing) {
    throw new RangeError(
      `invalid working hours ${hours.start}-${hours.end}: expected HH:MM times with the start before the end`,
    );
  }
  return [opening, closing];
}
