/**
 * The operator's list of unfinished items that are at risk or overdue, computed from the
 * records and the calendar at the moment of the request rather than from the last sweep.
 * Entries carry ids and times only, no personal data.
 */
import type { Bundle } from '../bundle/bundle.ts';
import { formatShanghaiIso, type WorkingDayCalendar } from '../calendar/index.ts';
import { currentDeadlineWarning } from '../orchestration/presenter.ts';
import type { CaseStore } from '../store/case-store.ts';
import {
  TERMINAL_ITEM_STATES,
  type DeadlineWarning,
  type ItemRecord,
  type ItemState,
} from '../store/records.ts';
import { forEachActiveCase } from './active-cases.ts';
import { classifyDueTime, type DeadlineStatus } from './deadline-status.ts';

export const LISTED_DEADLINE_STATES = ['at-risk', 'overdue'] as const;
export type ListedDeadlineState = (typeof LISTED_DEADLINE_STATES)[number];

export interface DeadlineListFilter {
  /** Both states when absent. */
  state?: ListedDeadlineState;
  department?: string;
}

export interface DeadlineListEntry {
  caseId: string;
  platformCaseId: string;
  itemKey: string;
  itemName: string;
  department: string;
  itemState: ItemState;
  deadlineState: ListedDeadlineState;
  receivedAt?: string;
  dueAt: string;
  dueProvisional: boolean;
  /** Working days left after the current working day; null when overdue. */
  workingDaysLeft: number | null;
  /** The warning already pushed to the platform for this due time, if any. */
  warningPushed?: DeadlineWarning;
}

export interface DeadlineListing {
  checkedAt: string;
  atRiskWorkingDays: number;
  items: DeadlineListEntry[];
}

export interface DeadlineListDeps {
  bundle: Bundle;
  store: CaseStore;
  calendar: WorkingDayCalendar;
  now: Date;
  atRiskWorkingDays: number;
}

/** Returns the state named by `text`, undefined for an absent filter, or null for an unknown value. */
export function parseDeadlineState(text: string | undefined): ListedDeadlineState | undefined | null {
  if (text === undefined || text === '') return undefined;
  return (LISTED_DEADLINE_STATES as readonly string[]).includes(text) ? (text as ListedDeadlineState) : null;
}

export async function listDeadlines(
  deps: DeadlineListDeps,
  filter: DeadlineListFilter = {},
): Promise<DeadlineListing> {
  const entries: DeadlineListEntry[] = [];
  await forEachActiveCase(deps.store, (view) => {
    for (const item of view.items) {
      const entry = describeItem(deps, view.meta.platformCaseId, item);
      if (entry && matches(entry, filter)) entries.push(entry);
    }
  });

  entries.sort(
    (a, b) =>
      Date.parse(a.dueAt) - Date.parse(b.dueAt) ||
      a.caseId.localeCompare(b.caseId) ||
      a.itemKey.localeCompare(b.itemKey),
  );
  return {
    checkedAt: formatShanghaiIso(deps.now),
    atRiskWorkingDays: deps.atRiskWorkingDays,
    items: entries,
  };
}

function describeItem(
  deps: DeadlineListDeps,
  platformCaseId: string,
  item: ItemRecord,
): DeadlineListEntry | null {
  if (!item.dueAt || TERMINAL_ITEM_STATES.has(item.state)) return null;
  const status = statusOf(deps, item.dueAt);
  const state = status?.state;
  if (!status || state === undefined || state === 'on-time') return null;

  return {
    caseId: item.caseId,
    platformCaseId,
    itemKey: item.itemKey,
    itemName: deps.bundle.hasItem(item.itemKey) ? deps.bundle.item(item.itemKey).name : item.itemKey,
    department: item.department,
    itemState: item.state,
    deadlineState: state,
    receivedAt: item.receivedAt,
    dueAt: item.dueAt,
    dueProvisional: item.dueProvisional ?? false,
    workingDaysLeft: status.workingDaysLeft,
    warningPushed: currentDeadlineWarning(item),
  };
}

/** Classifies a due time; null for one that cannot be read, which the sweeper logs. */
function statusOf(deps: DeadlineListDeps, dueAt: string): DeadlineStatus | null {
  try {
    return classifyDueTime(deps.calendar, dueAt, deps.now, deps.atRiskWorkingDays);
  } catch {
    return null;
  }
}

function matches(entry: DeadlineListEntry, filter: DeadlineListFilter): boolean {
  if (filter.state && entry.deadlineState !== filter.state) return false;
  return !filter.department || entry.department === filter.department;
}
