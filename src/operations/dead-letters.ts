/**
 * Dead letters of department items, and their replay by an operator.
 *
 * When a department call fails permanently, or transiently on its last attempt, the
 * department worker moves the item to `failed` and records a dead letter in the Redis
 * hash `<prefix>:dead-letters:<department>`, field `<caseId>.<itemKey>`, value JSON
 * (`DeadLetter` without `reference`). An operator lists the dead letters, previews a
 * replay (`dryRun`) and replays one, several or all of a department's items.
 *
 * Replaying an item:
 *   1. takes a per-item lock, so two operators cannot replay the same item at once;
 *   2. frees the item's BullMQ job id: the failed job under `<caseId>.<itemKey>` is
 *      removed, because BullMQ ignores an add whose id is still held;
 *   3. moves the item failed → ready, with the operator's name and reason in the
 *      case trail (one atomic transition);
 *   4. dispatches it (`Orchestrator.dispatch`): a fresh job with the same job id, and the
 *      item's original idempotency key, so a department that did receive an earlier
 *      attempt recognises the repeat;
 *   5. deletes the dead letter.
 * Replays across all processes are throttled to `replaysPerSecond`.
 *
 * API (kept stable; the admin API, the CLI and the fault suite call it). A running
 * gateway exposes its instance as `Gateway.deadLetters`.
 *
 *   new DeadLetterService(deps: DeadLetterDeps)
 *   record(entry: NewDeadLetter): Promise<void>
 *   list(department: string, page?: { offset?: number; limit?: number }): Promise<DeadLetter[]>
 *   count(department: string): Promise<number>
 *   counts(): Promise<Record<string, number>>             every configured department
 *   replay(request: ReplayRequest): Promise<ReplayReport> request.dryRun: preview only
 *   preview(request: Omit<ReplayRequest, 'dryRun'>): Promise<ReplayReport>
 *
 *   ReplayRequest = { department, reason, operator, items?: ['<caseId>.<itemKey>', …],
 *                     dryRun?: boolean, limit?: number }
 *   Without `items`, every dead letter of the department is replayed, oldest first, up
 *   to `limit`. A request that cannot be used throws `ReplayRequestError` (field, message).
 */
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import type { Orchestrator } from '../orchestration/orchestrator.ts';
import type { GatewayQueues } from '../orchestration/queues.ts';
import type { CaseStore } from '../store/case-store.ts';
import type { ItemState } from '../store/records.ts';
import { ReplayThrottle, validateReplayBasics, ReplayRequestError } from './replay-support.ts';

export { ReplayRequestError } from './replay-support.ts';

export interface DeadLetter {
  /** `<caseId>.<itemKey>`, the form `items` of a replay request takes. */
  reference: string;
  caseId: string;
  itemKey: string;
  department: string;
  /** Summary of the last error (`<name>: <message>`); adapters keep personal data out of it. */
  lastError: string;
  /** Classification of the last error; `permanent` errors are dead-lettered at once. */
  errorKind: 'permanent' | 'transient' | 'unknown';
  /** Attempts made, the last one included. */
  attempts: number;
  failedAt: string;
  jobId?: string;
}

export type NewDeadLetter = Omit<DeadLetter, 'reference'>;

export interface ReplayRequest {
  department: string;
  /** Required; recorded in the case trail with the operator's name. */
  reason: string;
  /** Operator name, from the admin API's token. */
  operator: string;
  /** `<caseId>.<itemKey>` references; all of the department's dead letters when absent. */
  items?: string[];
  /** List what would be replayed, change nothing. */
  dryRun?: boolean;
  /** Replay at most this many (oldest first). */
  limit?: number;
}

export type ReplaySkipReason =
  'item-not-found' | 'item-not-failed' | 'case-not-in-progress' | 'replay-in-progress' | 'job-active';

export interface ReplayedEntry extends DeadLetter {
  /** The item's original idempotency key, sent again unchanged. */
  idempotencyKey: string;
}

export interface ReplayReport {
  department: string;
  dryRun: boolean;
  operator: string;
  /** Items replayed, or in a dry run the items that would be. */
  replayed: ReplayedEntry[];
  skipped: Array<{ reference: string; reason: ReplaySkipReason; state?: ItemState }>;
  /** Dead letters of the department after this request. */
  remaining: number;
}

export interface DeadLetterDeps {
  store: CaseStore;
  queues: GatewayQueues;
  orchestrator: Orchestrator;
  logger: Logger;
  metrics?: Metrics;
  /** Maximum replays per second, across every gateway process sharing the Redis. */
  replaysPerSecond: number;
}

/** How long an item's replay lock lives if the process dies holding it. */
const REPLAY_LOCK_MS = 60_000;

type Eligibility =
  { eligible: true; entry: ReplayedEntry } | { eligible: false; reason: ReplaySkipReason; state?: ItemState };

export class DeadLetterService {
  private readonly throttle: ReplayThrottle;

  constructor(private readonly deps: DeadLetterDeps) {
    this.throttle = new ReplayThrottle(
      deps.store.redis,
      `${deps.store.keys.prefix}:replay-rate`,
      deps.replaysPerSecond,
    );
  }

  async record(entry: NewDeadLetter): Promise<void> {
    const reference = referenceOf(entry.caseId, entry.itemKey);
    await this.deps.store.redis.hset(this.key(entry.department), reference, JSON.stringify(entry));
  }

  /** Returns a department's dead letters, oldest first. */
  async list(department: string, page: { offset?: number; limit?: number } = {}): Promise<DeadLetter[]> {
    this.checkDepartment(department);
    // NOTE: reads the whole hash; with tens of thousands of entries, page with HSCAN instead.
    const raw = await this.deps.store.redis.hgetall(this.key(department));
    const entries = Object.entries(raw).map(([reference, value]) => parseEntry(reference, value, department));
    entries.sort((left, right) => left.failedAt.localeCompare(right.failedAt));
    const offset = page.offset ?? 0;
    return entries.slice(offset, page.limit === undefined ? undefined : offset + page.limit);
  }

  async count(department: string): Promise<number> {
    this.checkDepartment(department);
    return this.deps.store.redis.hlen(this.key(department));
  }

  async counts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const department of this.departments()) counts[department] = await this.count(department);
    return counts;
  }

  preview(request: Omit<ReplayRequest, 'dryRun'>): Promise<ReplayReport> {
    return this.replay({ ...request, dryRun: true });
  }

  async replay(request: ReplayRequest): Promise<ReplayReport> {
    this.validate(request);
    const dryRun = request.dryRun === true;
    const references = await this.selectReferences(request);
    const report: ReplayReport = {
      department: request.department,
      dryRun,
      operator: request.operator,
      replayed: [],
      skipped: [],
      remaining: 0,
    };

    for (const reference of references) {
      if (!dryRun) await this.throttle.take();
      const outcome = dryRun
        ? await this.checkEligibility(request.department, reference, { removeStale: false })
        : await this.replayOne(request, reference);
      if (outcome.eligible) report.replayed.push(outcome.entry);
      else report.skipped.push({ reference, reason: outcome.reason, state: outcome.state });
      if (!dryRun)
        this.deps.metrics?.deadLetterReplays.inc({
          queue: request.department,
          outcome: outcome.eligible ? 'replayed' : 'skipped',
        });
    }

    report.remaining = await this.count(request.department);
    return report;
  }

  private async replayOne(request: ReplayRequest, reference: string): Promise<Eligibility> {
    const lockKey = `${this.key(request.department)}:replay-lock:${reference}`;
    const redis = this.deps.store.redis;
    if ((await redis.set(lockKey, request.operator, 'PX', REPLAY_LOCK_MS, 'NX')) !== 'OK') {
      return { eligible: false, reason: 'replay-in-progress' };
    }
    try {
      return await this.replayLocked(request, reference);
    } finally {
      await redis.del(lockKey);
    }
  }

  private async replayLocked(request: ReplayRequest, reference: string): Promise<Eligibility> {
    const { department, operator, reason } = request;
    const checked = await this.checkEligibility(department, reference, { removeStale: true });
    if (!checked.eligible) return checked;
    const { entry } = checked;

    const jobSlot = await this.deps.queues.clearFinishedItemJob(department, entry.caseId, entry.itemKey);
    if (jobSlot === 'active') return { eligible: false, reason: 'job-active' };

    const detail = `dead-letter replay by operator ${operator}: ${reason.trim()}`;
    const ready = await this.deps.orchestrator.moveItem(
      entry.caseId,
      entry.itemKey,
      ['failed'],
      { state: 'ready' },
      detail,
    );
    if (!ready) {
      const item = await this.deps.store.getItem(entry.caseId, entry.itemKey);
      return { eligible: false, reason: 'item-not-failed', state: item?.state };
    }
    await this.deps.orchestrator.dispatch(entry.caseId, ready);
    await this.deps.store.redis.hdel(this.key(department), reference);

    this.deps.logger.info(
      { caseId: entry.caseId, itemKey: entry.itemKey, department, operator },
      'dead letter replayed',
    );
    return { eligible: true, entry };
  }

  /**
   * Decides whether an item can be replayed now. The item's state decides, not the
   * dead-letter entry: an entry whose item left `failed` is stale and is removed, and a
   * failed item without an entry (its entry write was lost) is still replayable.
   */
  private async checkEligibility(
    department: string,
    reference: string,
    options: { removeStale: boolean },
  ): Promise<Eligibility> {
    const { caseId, itemKey } = splitReference(reference);
    const item = await this.deps.store.getItem(caseId, itemKey);
    if (!item || item.department !== department) return { eligible: false, reason: 'item-not-found' };

    const raw = await this.deps.store.redis.hget(this.key(department), reference);
    if (item.state !== 'failed') {
      if (raw && options.removeStale) await this.deps.store.redis.hdel(this.key(department), reference);
      return { eligible: false, reason: 'item-not-failed', state: item.state };
    }
    // A withdrawn case keeps its failed items, but they must not reach a department again.
    const meta = await this.deps.store.getCase(caseId);
    if (meta?.status !== 'in_progress') {
      return { eligible: false, reason: 'case-not-in-progress', state: item.state };
    }

    const entry: DeadLetter = raw
      ? parseEntry(reference, raw, department)
      : {
          reference,
          caseId,
          itemKey,
          department,
          lastError: item.lastError ?? '',
          errorKind: 'unknown',
          attempts: 0,
          failedAt: item.updatedAt,
        };
    return { eligible: true, entry: { ...entry, idempotencyKey: item.idempotencyKey } };
  }

  private async selectReferences(request: ReplayRequest): Promise<string[]> {
    const references = request.items ?? (await this.list(request.department)).map((entry) => entry.reference);
    const unique = [...new Set(references)];
    return request.limit === undefined ? unique : unique.slice(0, request.limit);
  }

  private validate(request: ReplayRequest): void {
    this.checkDepartment(request.department);
    validateReplayBasics(request);
    for (const reference of request.items ?? []) {
      if (!REFERENCE_PATTERN.test(reference)) {
        throw new ReplayRequestError('items', `item "${reference}" is not of the form <caseId>.<itemKey>`);
      }
    }
  }

  private checkDepartment(department: string): void {
    if (!this.deps.queues.departments.has(department)) {
      throw new ReplayRequestError(
        'department',
        `department "${department}" is unknown; expected one of ${this.departments().join(', ')}`,
      );
    }
  }

  private departments(): string[] {
    return [...this.deps.queues.departments.keys()];
  }

  private key(department: string): string {
    return this.deps.store.keys.deadLetters(department);
  }
}

/** Case ids contain no dot, item keys are kebab-case. */
const REFERENCE_PATTERN = /^[^.\s]+\.[a-z0-9-]+$/;

function referenceOf(caseId: string, itemKey: string): string {
  return `${caseId}.${itemKey}`;
}

function splitReference(reference: string): { caseId: string; itemKey: string } {
  const separator = reference.indexOf('.');
  return { caseId: reference.slice(0, separator), itemKey: reference.slice(separator + 1) };
}

/** Reads a stored entry; fields an older writer left out get neutral values. */
function parseEntry(reference: string, value: string, department: string): DeadLetter {
  const stored = JSON.parse(value) as Partial<NewDeadLetter> & { at?: string };
  const { caseId, itemKey } = splitReference(reference);
  return {
    reference,
    caseId: stored.caseId ?? caseId,
    itemKey: stored.itemKey ?? itemKey,
    department: stored.department ?? department,
    lastError: stored.lastError ?? '',
    errorKind: stored.errorKind ?? 'unknown',
    attempts: stored.attempts ?? 0,
    failedAt: stored.failedAt ?? stored.at ?? '',
    jobId: stored.jobId,
  };
}
