/**
 * One deadline sweep over the active cases. It recomputes provisional due times with the
 * current calendar and logs and counts each provisional due time once. It pushes an
 * at-risk and an overdue warning at most once per item and due time, and stores the
 * counts by department for the gauges. Every write is conditional on the record read in
 * the same retry loop, so sweeps running at once in several processes push each warning
 * once.
 */
import type { Bundle } from '../bundle/bundle.ts';
import type { DueTime, WorkingDayCalendar } from '../calendar/index.ts';
import { formatShanghaiIso } from '../calendar/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { currentDeadlineWarning } from '../orchestration/presenter.ts';
import type { CaseDeadlineView, CaseStore } from '../store/case-store.ts';
import {
  DEADLINE_WARNINGS,
  TERMINAL_ITEM_STATES,
  type DeadlineWarning,
  type ItemRecord,
} from '../store/records.ts';
import { forEachActiveCase } from './active-cases.ts';
import type { CalendarHolder } from './calendar-holder.ts';
import { provisionalNotedKey, writeDeadlineCounts } from './deadline-keys.ts';
import { classifyDueTime } from './deadline-status.ts';
import { DueTimeRecomputer } from './recompute.ts';

export interface DeadlineSweeperDeps {
  bundle: Bundle;
  store: CaseStore;
  calendar: CalendarHolder;
  /** Asks the platform notifier to drain the case's outbox. */
  requestPush: (caseId: string) => Promise<void>;
  metrics: Metrics;
  logger: Logger;
  clock: () => Date;
  atRiskWorkingDays: number;
}

export interface SweepReport {
  /** The sweep's "now", ISO 8601 with +08:00. */
  checkedAt: string;
  cases: number;
  /** Unfinished items that have a due time. */
  itemsWithDueTime: number;
  recomputedDueTimes: number;
  provisionalDueTimes: number;
  warningsPushed: number;
  atRisk: Record<string, number>;
  overdue: Record<string, number>;
}

export class DeadlineSweeper {
  private readonly recomputer: DueTimeRecomputer;

  constructor(private readonly deps: DeadlineSweeperDeps) {
    this.recomputer = new DueTimeRecomputer(deps);
  }

  async sweep(): Promise<SweepReport> {
    // Reloading first lets the sweep that follows an activation use the new table even in
    // a process that has not received the activation message yet.
    await this.deps.calendar.reload();
    const calendar = this.deps.calendar.current;
    const now = this.deps.clock();
    const report = this.emptyReport(now);

    report.cases = await forEachActiveCase(this.deps.store, (view) =>
      this.sweepCase(view, calendar, now, report),
    );

    await writeDeadlineCounts(this.deps.store.redis, this.deps.store.keys.prefix, {
      atRisk: report.atRisk,
      overdue: report.overdue,
      sweptAtSeconds: Math.floor(now.getTime() / 1000),
    });
    const { atRisk, overdue, ...totals } = report;
    this.deps.logger.info(
      { ...totals, atRisk: sum(atRisk), overdue: sum(overdue) },
      'deadline sweep finished',
    );
    return report;
  }

  private emptyReport(now: Date): SweepReport {
    const zeros = (): Record<string, number> =>
      Object.fromEntries(departmentsWithDeadlines(this.deps.bundle).map((department) => [department, 0]));
    return {
      checkedAt: formatShanghaiIso(now),
      cases: 0,
      itemsWithDueTime: 0,
      recomputedDueTimes: 0,
      provisionalDueTimes: 0,
      warningsPushed: 0,
      atRisk: zeros(),
      overdue: zeros(),
    };
  }

  private async sweepCase(
    view: CaseDeadlineView,
    calendar: WorkingDayCalendar,
    now: Date,
    report: SweepReport,
  ): Promise<void> {
    let pushed = false;
    const promise = await this.recomputer.recomputePromise(view.meta, calendar);
    if (promise?.changed) pushed = true;
    if (promise) await this.notePromise(view.meta.caseId, promise.due);

    for (const stored of view.items) {
      const { item, changed, due } = await this.recomputer.recomputeItem(stored, calendar);
      if (changed) {
        pushed = true;
        report.recomputedDueTimes += 1;
      }
      if (due) await this.noteItem(item, due, report);
      if (await this.checkDeadline(item, calendar, now, report)) pushed = true;
    }

    if (pushed) await this.deps.requestPush(view.meta.caseId);
  }

  /** Logs and counts a provisional item due time the first time any sweep meets it. */
  private async noteItem(item: ItemRecord, due: DueTime, report: SweepReport): Promise<void> {
    const member = `${item.caseId}.${item.itemKey}`;
    if (!due.provisional) {
      await this.deps.store.redis.srem(provisionalNotedKey(this.deps.store.keys.prefix), member);
      return;
    }

    // A finished item's due time no longer matters, so it is recomputed but not reported.
    if (TERMINAL_ITEM_STATES.has(item.state)) return;
    report.provisionalDueTimes += 1;
    const added = await this.deps.store.redis.sadd(provisionalNotedKey(this.deps.store.keys.prefix), member);
    if (added === 0) return;
    this.deps.metrics.provisionalDueTimes.inc({ department: item.department });
    this.deps.logger.warn(
      {
        caseId: item.caseId,
        itemKey: item.itemKey,
        department: item.department,
        dueAt: item.dueAt,
        missingYears: due.missingYears,
      },
      'due time is provisional: no calendar table for a year it reaches',
    );
  }

  private async notePromise(caseId: string, due: DueTime): Promise<void> {
    const key = provisionalNotedKey(this.deps.store.keys.prefix);
    if (!due.provisional) {
      await this.deps.store.redis.srem(key, `${caseId}.promise`);
      return;
    }
    if ((await this.deps.store.redis.sadd(key, `${caseId}.promise`)) === 0) return;
    this.deps.logger.warn(
      { caseId, dueAt: due.dueAt, missingYears: due.missingYears },
      'case promise is provisional: no calendar table for a year it reaches',
    );
  }

  /** Counts an unfinished item that is at risk or overdue and warns the platform; true when it pushed. */
  private async checkDeadline(
    item: ItemRecord,
    calendar: WorkingDayCalendar,
    now: Date,
    report: SweepReport,
  ): Promise<boolean> {
    if (!item.dueAt || TERMINAL_ITEM_STATES.has(item.state)) return false;
    report.itemsWithDueTime += 1;

    const status = this.classify(item, item.dueAt, calendar, now);
    if (status === 'on-time' || status === 'invalid') return false;

    const counts = status === 'at-risk' ? report.atRisk : report.overdue;
    counts[item.department] = (counts[item.department] ?? 0) + 1;
    // The scanned record already shows most warnings, which saves a read per sweep.
    if (warningRank(currentDeadlineWarning(item)) >= warningRank(status)) return false;
    const raised = await this.raiseWarning(item, status);
    if (raised) report.warningsPushed += 1;
    return raised;
  }

  private classify(
    item: ItemRecord,
    dueAt: string,
    calendar: WorkingDayCalendar,
    now: Date,
  ): 'on-time' | DeadlineWarning | 'invalid' {
    try {
      return classifyDueTime(calendar, dueAt, now, this.deps.atRiskWorkingDays).state;
    } catch (error) {
      // Only a hand edit of the record stores an unreadable due time.
      const message = error instanceof Error ? error.message : String(error);
      this.deps.logger.error(
        { caseId: item.caseId, itemKey: item.itemKey, err: { message } },
        'item skipped by the deadline sweep: invalid due time',
      );
      return 'invalid';
    }
  }

  private async raiseWarning(item: ItemRecord, warning: DeadlineWarning): Promise<boolean> {
    const updated = await this.deps.store.updateItemAndPush(item.caseId, item.itemKey, (current) => {
      if (current.dueAt !== item.dueAt || TERMINAL_ITEM_STATES.has(current.state)) return null;
      if (warningRank(currentDeadlineWarning(current)) >= warningRank(warning)) return null;
      return {
        fields: { deadlineWarning: warning, deadlineWarningDueAt: current.dueAt },
        eventType: 'item.deadline-warning',
        detail: `${warning}: due ${current.dueAt}`,
      };
    });
    if (!updated) return false;

    this.deps.metrics.deadlineWarnings.inc({ department: item.department, warning });
    this.deps.logger.warn(
      { caseId: item.caseId, itemKey: item.itemKey, department: item.department, dueAt: item.dueAt, warning },
      warning === 'overdue' ? 'item is overdue' : 'item due time is at risk',
    );
    return true;
  }
}

/** Departments with at least one item that has a deadline, so their gauges read 0 rather than vanish. */
export function departmentsWithDeadlines(bundle: Bundle): string[] {
  const departments = bundle.items.filter((item) => item.deadline !== null).map((item) => item.department);
  return [...new Set(departments)].sort();
}

function warningRank(warning: DeadlineWarning | undefined): number {
  return warning === undefined ? -1 : DEADLINE_WARNINGS.indexOf(warning);
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, count) => total + count, 0);
}
