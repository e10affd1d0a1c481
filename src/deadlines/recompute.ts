/**
 * Recomputes provisional due times once the calendar covers the years they reached.
 * A due time is provisional when its count entered a year without a table, where Monday
 * to Friday were assumed to be working days. The new value is counted again from the
 * stored receipt time, recorded in the case trail and pushed to the platform.
 */
import type { Bundle } from '../bundle/bundle.ts';
import type { DueTime, WorkingDayCalendar } from '../calendar/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { CaseDeadlineView, CaseStore } from '../store/case-store.ts';
import type { ItemRecord } from '../store/records.ts';

export interface RecomputeDeps {
  bundle: Bundle;
  store: CaseStore;
  metrics: Metrics;
  logger: Logger;
}

export interface ItemRecomputation {
  /** The item after the recomputation, or as read when nothing changed. */
  item: ItemRecord;
  changed: boolean;
  /** The due time counted with the current calendar; undefined when the item has none to count. */
  due: DueTime | undefined;
}

export class DueTimeRecomputer {
  constructor(private readonly deps: RecomputeDeps) {}

  /** Counts a provisional item due time again; a stored due time that is not provisional is kept. */
  async recomputeItem(item: ItemRecord, calendar: WorkingDayCalendar): Promise<ItemRecomputation> {
    const workingDays = this.deps.bundle.hasItem(item.itemKey)
      ? this.deps.bundle.item(item.itemKey).deadline?.workingDays
      : undefined;
    if (!item.dueProvisional || !item.receivedAt || workingDays === undefined) {
      return { item, changed: false, due: undefined };
    }

    const due = calendar.dueAt(new Date(item.receivedAt), workingDays);
    const updated = await this.deps.store.updateItemAndPush(item.caseId, item.itemKey, (current) => {
      // Another process may have recomputed it already, possibly with a newer calendar.
      if (!current.dueProvisional || current.receivedAt !== item.receivedAt) return null;
      if (current.dueAt === due.dueAt && due.provisional) return null;
      return {
        fields: { dueAt: due.dueAt, dueProvisional: due.provisional },
        eventType: 'item.due-recomputed',
        detail: describeChange(current.dueAt, true, due),
      };
    });
    if (!updated) return { item, changed: false, due };

    this.deps.metrics.dueTimesRecomputed.inc({ department: item.department });
    this.deps.logger.info(
      {
        caseId: item.caseId,
        itemKey: item.itemKey,
        department: item.department,
        previousDueAt: item.dueAt,
        dueAt: due.dueAt,
        dueProvisional: due.provisional,
      },
      'provisional due time recomputed',
    );
    return { item: updated, changed: true, due };
  }

  /**
   * Counts a provisional promise of the whole case again, from the moment the gateway
   * stored the case. Returns the count, or undefined when the promise is not provisional.
   */
  async recomputePromise(
    meta: CaseDeadlineView['meta'],
    calendar: WorkingDayCalendar,
  ): Promise<{ changed: boolean; due: DueTime } | undefined> {
    if (!meta.promiseDueProvisional) return undefined;

    // NOTE: intake counted the promise from its own clock a moment before it stamped
    // createdAt. The two results differ only when that moment straddles closing time or midnight.
    const due = calendar.dueAt(new Date(meta.createdAt), this.deps.bundle.definition.promiseWorkingDays);
    const changed = await this.deps.store.updatePromiseAndPush(meta.caseId, (current) => {
      if (!current.promiseDueProvisional) return null;
      if (current.promiseDueAt === due.dueAt && due.provisional) return null;
      return {
        promiseDueAt: due.dueAt,
        promiseDueProvisional: due.provisional,
        detail: describeChange(current.promiseDueAt, true, due),
      };
    });
    if (changed) {
      this.deps.logger.info(
        {
          caseId: meta.caseId,
          previousDueAt: meta.promiseDueAt,
          dueAt: due.dueAt,
          dueProvisional: due.provisional,
        },
        'provisional case promise recomputed',
      );
    }
    return { changed: changed !== null, due };
  }
}

function describeChange(
  previousDueAt: string | undefined,
  previousProvisional: boolean,
  due: DueTime,
): string {
  const mark = (provisional: boolean): string => (provisional ? ' (provisional)' : '');
  return `due ${previousDueAt ?? 'unset'}${mark(previousProvisional)} -> ${due.dueAt}${mark(due.provisional)}`;
}
