/** Shapes of what the gateway stores about a case. None of these carry personal data in clear. */

export const ITEM_STATES = [
  'waiting',
  'ready',
  'dispatched',
  'submitted',
  'accepted',
  'completed',
  'rejected',
  'cancelled',
  'failed',
  'not_required',
  'withdrawn',
] as const;
export type ItemState = (typeof ITEM_STATES)[number];

/** States after which an item never moves again. `failed` is not one: an operator may replay it. */
export const TERMINAL_ITEM_STATES: ReadonlySet<ItemState> = new Set([
  'completed',
  'rejected',
  'cancelled',
  'not_required',
  'withdrawn',
]);

export type CaseStatus = 'in_progress' | 'completed' | 'partially_completed' | 'rejected' | 'withdrawn';

export interface DocumentRef {
  /** Material key of the document, e.g. `householdReferralLetter`. */
  kind: string;
  name: string;
  mediaType: string;
  sha256: string;
  size: number;
}

export interface ItemRecord {
  caseId: string;
  itemKey: string;
  department: string;
  state: ItemState;
  version: number;
  waitsFor: string[];
  takes: Array<{ material: string; fromItem: string }>;
  idempotencyKey: string;
  receiptNo?: string;
  receivedAt?: string;
  dueAt?: string;
  dueProvisional?: boolean;
  /** Highest deadline warning pushed to the platform for the due time in `deadlineWarningDueAt`. */
  deadlineWarning?: DeadlineWarning;
  /** The due time the warning was raised against; a recomputed due time voids the warning. */
  deadlineWarningDueAt?: string;
  reason?: string;
  legalBasis?: string;
  /** Informational message in Chinese, e.g. for items that need no application. */
  message?: string;
  documents: DocumentRef[];
  lastError?: string;
  updatedAt: string;
}

/** Deadline warnings in rising order. The sweeper pushes each at most once per item and due time. */
export const DEADLINE_WARNINGS = ['at-risk', 'overdue'] as const;
export type DeadlineWarning = (typeof DEADLINE_WARNINGS)[number];

export interface StoredMaterial {
  sha256: string;
  mediaType: string;
  size: number;
}

export interface CaseMeta {
  caseId: string;
  platformCaseId: string;
  bundle: string;
  status: CaseStatus;
  version: number;
  createdAt: string;
  submittedAt: string;
  itemKeys: string[];
  materials: Record<string, StoredMaterial>;
  /** Facts for veterans affairs, e.g. late check-in; no personal data. */
  flags: string[];
  promiseDueAt?: string;
  promiseDueProvisional?: boolean;
  /** The 202 response body, returned again for a repeated request. */
  answer: string;
  requestHash: string;
  updatedAt: string;
}

export interface TrailEvent {
  at: string;
  type: string;
  itemKey?: string;
  from?: string;
  to?: string;
  detail?: string;
}

export interface PushItem {
  itemKey: string;
  itemName: string;
  status: ItemState;
  department: string;
  receiptNo?: string;
  dueAt?: string;
  dueProvisional?: boolean;
  /** Time left out of the due time, in Chinese from the bundle, e.g. 制证和邮寄时间. */
  dueExcludes?: string;
  /** Present while the item is not finished and its current due time is at risk or past. */
  deadlineWarning?: DeadlineWarning;
  reason?: string;
  legalBasis?: string;
  message?: string;
  documents: Array<DocumentRef & { downloadPath: string }>;
}

export interface StatusPush {
  sequence: number;
  caseId: string;
  platformCaseId: string;
  caseStatus: CaseStatus;
  changedAt: string;
  items: PushItem[];
  /** Present on a push that reports a recomputed promise due time of the whole case. */
  promiseDueAt?: string;
  promiseDueProvisional?: boolean;
}
