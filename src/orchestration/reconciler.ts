/**
 * Makes the case store and the queues agree after a crash, a lost write or a job that
 * ran out of attempts while its item was not ready for it. A worker process runs one
 * pass at start and then one every `intervalMs`. A Redis lock lets one pass run at a
 * time across all processes. Every repair is idempotent, because jobs keep their
 * deterministic ids and departments dedupe on the item's idempotency key.
 *
 * One pass:
 *   1. Items of active cases that are `ready` or `dispatched` without a waiting, delayed
 *      or active department job are dispatched again under the same job id. A failed or
 *      completed job holding the id is removed first, because BullMQ ignores an add
 *      whose id is taken. After `maxRedispatches` such repairs of one item, the item is
 *      moved to `failed` and dead-lettered, so a job that kills its worker cannot loop.
 *   2. Items `submitted` or `accepted` at a polled department without a live poll job
 *      get one.
 *   3. Cases with a waiting item whose needs are settled, or with every item final but
 *      the case still open, are advanced.
 *   4. Stored callback outcomes (`<prefix>:outcome:<department>:<digest>`) whose apply
 *      job is missing or failed, and which are not yet applied to a live item, are
 *      queued again under their job id `callback.<department>.<digest>`.
 *   5. Cases whose outbox still contains a push older than the grace period get a push
 *      request, finished cases included.
 *
 * Steps 1 to 3 leave alone anything changed within `graceMs`, so a pass never races the
 * normal flow of a healthy worker.
 */
import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { DepartmentAdapter } from '../adapters-kit/types.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { NewDeadLetter } from '../operations/dead-letters.ts';
import type { CaseStore } from '../store/case-store.ts';
import { TERMINAL_ITEM_STATES, type ItemRecord, type ItemState } from '../store/records.ts';
import type { Orchestrator } from './orchestrator.ts';
import { parseReference, type StoredOutcome } from './outcomes.ts';
import { itemJobId, type GatewayQueues } from './queues.ts';

export const DEFAULT_RECONCILE_INTERVAL_MS = 30_000;
export const DEFAULT_RECONCILE_GRACE_MS = 10_000;
export const DEFAULT_MAX_REDISPATCHES = 3;

export type RepairKind = 'dispatch' | 'poll' | 'advance' | 'callback' | 'push' | 'dead-letter';

export interface ReconcileReport {
  /** False when another process held the reconciler lock, so this pass did nothing. */
  ran: boolean;
  casesChecked: number;
  repairs: Record<RepairKind, number>;
}

export interface ReconcilerDeps {
  store: CaseStore;
  queues: GatewayQueues;
  orchestrator: Orchestrator;
  /** The configured adapters; a `poll` result mode marks a polled department. */
  adapters: ReadonlyMap<string, DepartmentAdapter>;
  logger: Logger;
  metrics?: Metrics;
  /** Dead-letter list that records an item moved to `failed` after too many re-dispatches. */
  deadLetters: { record(entry: NewDeadLetter): Promise<void> };
}

export interface ReconcilerOptions {
  /** Time between passes; 0 runs only the pass at start. */
  intervalMs?: number;
  /** Items, cases and pushes changed more recently than this are left to the normal flow. */
  graceMs?: number;
  /** Re-dispatches of one item before it is dead-lettered instead. */
  maxRedispatches?: number;
}

/** BullMQ states of a job that will still run. */
const LIVE_JOB_STATES = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);
const BLOCKING_STATES: ReadonlySet<ItemState> = new Set(['rejected', 'cancelled', 'withdrawn']);
/** Same settings as GatewayQueues.requestPush, under a fixed id per case so repeated passes add one job. */
const PUSH_JOB_OPTIONS = {
  attempts: 50,
  backoff: { type: 'capped-jitter' },
  removeOnComplete: true,
  removeOnFail: false,
} as const;
const RELEASE_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type JobSlot = 'missing' | 'live' | 'failed' | 'completed';

export class Reconciler {
  private readonly intervalMs: number;
  private readonly graceMs: number;
  private readonly maxRedispatches: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: ReconcilerDeps,
    options: ReconcilerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS;
    this.graceMs = options.graceMs ?? DEFAULT_RECONCILE_GRACE_MS;
    this.maxRedispatches = options.maxRedispatches ?? DEFAULT_MAX_REDISPATCHES;
  }

  /** Runs a pass now and then every `intervalMs` until `stop`. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the schedule and waits for a running pass to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((error: unknown) => {
          this.deps.logger.error({ err: error }, 'reconciler pass failed; the next pass retries');
        })
        .finally(() => {
          this.running = undefined;
          if (this.intervalMs > 0) this.schedule(this.intervalMs);
        });
    }, delayMs);
  }

  /** Runs one pass, unless another process is running one. */
  async runOnce(): Promise<ReconcileReport> {
    const report: ReconcileReport = { ran: false, casesChecked: 0, repairs: emptyRepairs() };
    const lockKey = `${this.deps.store.keys.prefix}:reconciler:lock`;
    const token = randomBytes(12).toString('hex');
    const lockMs = Math.max(this.intervalMs, 60_000);
    if ((await this.deps.store.redis.set(lockKey, token, 'PX', lockMs, 'NX')) !== 'OK') return report;

    const stopTimer = this.deps.metrics?.reconcilerPassSeconds.startTimer();
    try {
      report.ran = true;
      await this.reconcileActiveCases(report);
      await this.reconcileOutcomes(report);
      await this.reconcilePushes(report);
    } finally {
      await this.deps.store.redis.eval(RELEASE_LOCK_SCRIPT, 1, lockKey, token);
      stopTimer?.();
    }

    const total = Object.values(report.repairs).reduce((sum, count) => sum + count, 0);
    const fields = { casesChecked: report.casesChecked, repairs: report.repairs };
    if (total > 0) this.deps.logger.info(fields, 'reconciler pass repaired store and queues');
    else this.deps.logger.debug(fields, 'reconciler pass found nothing to repair');
    return report;
  }

  private async reconcileActiveCases(report: ReconcileReport): Promise<void> {
    for (const caseId of await this.deps.store.activeCaseIds()) {
      if (this.stopped) return;
      report.casesChecked += 1;
      const items = await this.deps.store.getItems(caseId);
      for (const item of items) {
        if (this.isRecent(item.updatedAt)) continue;
        if (item.state === 'ready' || item.state === 'dispatched') await this.reconcileDispatch(item, report);
        else if (item.state === 'submitted' || item.state === 'accepted')
          await this.reconcilePoll(item, report);
      }
      await this.reconcileProgress(caseId, report);
    }
  }

  /** Dispatches an item again when no live job has its id. */
  private async reconcileDispatch(item: ItemRecord, report: ReconcileReport): Promise<void> {
    const { caseId, itemKey, department } = item;
    const slot = await this.deps.queues.clearFinishedItemJob(department, caseId, itemKey);
    if (slot !== 'free') return;
    // Re-read after freeing the id: a worker may have moved the item meanwhile.
    const current = await this.deps.store.getItem(caseId, itemKey);
    if (current?.state !== 'ready' && current?.state !== 'dispatched') return;

    const count = await this.deps.store.countRedispatch(caseId, itemKey);
    if (count > this.maxRedispatches) {
      await this.deadLetter(current, count, report);
      return;
    }
    if (current.state === 'ready') await this.deps.orchestrator.dispatch(caseId, current);
    else await this.deps.queues.dispatchItem(department, { caseId, itemKey });
    this.count(report, 'dispatch');
    this.deps.logger.warn(
      {
        caseId,
        itemKey,
        department,
        jobId: itemJobId(caseId, itemKey),
        state: current.state,
        redispatches: count,
      },
      'reconciler re-dispatched an item that had no live job',
    );
  }

  /** Ends the re-dispatch loop of an item whose job keeps dying: failed, with a dead letter for an operator. */
  private async deadLetter(item: ItemRecord, redispatches: number, report: ReconcileReport): Promise<void> {
    const { caseId, itemKey, department } = item;
    const lastError = `reconciler: the item lost its job ${redispatches} times, so it is not dispatched again`;
    const failed = await this.deps.orchestrator.moveItem(caseId, itemKey, ['ready', 'dispatched'], {
      state: 'failed',
      lastError,
    });
    if (!failed) return;

    await this.deps.deadLetters.record({
      caseId,
      itemKey,
      department,
      lastError,
      errorKind: 'unknown',
      attempts: redispatches,
      failedAt: failed.updatedAt,
      jobId: itemJobId(caseId, itemKey),
    });
    this.count(report, 'dead-letter');
    this.deps.logger.error(
      { caseId, itemKey, department, redispatches },
      'reconciler moved an item to dead letters after repeated re-dispatches',
    );
  }

  /** Gives an item at a polled department a poll job when none will run. */
  private async reconcilePoll(item: ItemRecord, report: ReconcileReport): Promise<void> {
    if (this.deps.adapters.get(item.department)?.resultMode !== 'poll') return;
    const { caseId, itemKey } = item;
    // The id GatewayQueues.schedulePoll gives the item's poll job.
    const jobId = `${itemJobId(caseId, itemKey)}.poll`;
    const slot = await jobSlot(this.deps.queues.polls, jobId);
    if (slot === 'live') return;
    if (slot !== 'missing' && (await this.deps.queues.polls.remove(jobId)) !== 1) return;

    await this.deps.queues.schedulePoll({ caseId, itemKey }, 0);
    this.count(report, 'poll');
    this.deps.logger.warn(
      { caseId, itemKey, department: item.department, jobId, previousJob: slot },
      'reconciler scheduled a poll for an item that had no live poll job',
    );
  }

  /**
   * Advances a case that the orchestrator left behind: a waiting item whose needs all
   * settled, or every item final while the case is still open.
   */
  private async reconcileProgress(caseId: string, report: ReconcileReport): Promise<void> {
    const items = await this.deps.store.getItems(caseId);
    if (items.length === 0 || items.some((item) => this.isRecent(item.updatedAt))) return;
    if (!needsAdvance(items)) return;

    await this.deps.orchestrator.advance(caseId);
    this.count(report, 'advance');
    this.deps.logger.warn({ caseId }, 'reconciler advanced a case that had stopped moving');
  }

  /**
   * Queues again the stored callback outcomes whose apply job is gone or failed. SCAN
   * walks the whole key space, so a pass costs O(keys); outcomes expire after 30 days.
   */
  private async reconcileOutcomes(report: ReconcileReport): Promise<void> {
    const prefix = `${this.deps.store.keys.prefix}:outcome:`;
    const stream = this.deps.store.redis.scanStream({ match: `${escapeGlob(prefix)}*`, count: 500 });
    for await (const keys of stream as AsyncIterable<string[]>) {
      for (const key of keys) {
        if (this.stopped) return;
        await this.reconcileOutcome(key, key.slice(prefix.length), report);
      }
    }
  }

  private async reconcileOutcome(outcomeKey: string, suffix: string, report: ReconcileReport): Promise<void> {
    const separator = suffix.indexOf(':');
    if (separator <= 0) return;
    const department = suffix.slice(0, separator);
    // The id the callback route gives the outcome's apply job.
    const jobId = `callback.${department}.${suffix.slice(separator + 1)}`;
    const slot = await jobSlot(this.deps.queues.callbacks, jobId);
    if (slot === 'live' || slot === 'completed') return;

    const raw = await this.deps.store.redis.get(outcomeKey);
    const outcome = raw ? (JSON.parse(raw) as StoredOutcome) : undefined;
    const target = outcome ? parseReference(outcome.reference) : null;
    if (!outcome || !target) return;
    if (!(await this.outcomeStillApplies(department, outcome, target))) return;
    if (slot === 'failed' && (await this.deps.queues.callbacks.remove(jobId)) !== 1) return;

    await this.deps.queues.enqueueCallback({ caseId: target.caseId, department, outcomeKey }, jobId);
    this.count(report, 'callback');
    this.deps.logger.warn(
      { caseId: target.caseId, itemKey: target.itemKey, department, jobId, eventId: outcome.eventId },
      'reconciler queued a stored callback outcome that was never applied',
    );
  }

  /** An outcome still matters while its event is unapplied and its item can still move. */
  private async outcomeStillApplies(
    department: string,
    outcome: StoredOutcome,
    target: { caseId: string; itemKey: string },
  ): Promise<boolean> {
    const { store } = this.deps;
    if (await store.isEventApplied(target.caseId, `${department}:${outcome.eventId}`)) return false;
    const item = await store.getItem(target.caseId, target.itemKey);
    return item !== null && item.department === department && !TERMINAL_ITEM_STATES.has(item.state);
  }

  /** Requests a push for every case whose oldest undelivered push is older than the grace period. */
  private async reconcilePushes(report: ReconcileReport): Promise<void> {
    for await (const caseId of this.deps.store.casesWithPendingPushes()) {
      if (this.stopped) return;
      const head = await this.deps.store.peekOutbox(caseId);
      if (!head || this.isRecent(head.changedAt)) continue;

      const jobId = `reconcile-push.${caseId}`;
      const slot = await jobSlot(this.deps.queues.pushes, jobId);
      if (slot === 'live') continue;
      if (slot !== 'missing' && (await this.deps.queues.pushes.remove(jobId)) !== 1) continue;

      await this.deps.queues.pushes.add('push', { caseId }, { ...PUSH_JOB_OPTIONS, jobId });
      this.count(report, 'push');
      this.deps.logger.warn(
        { caseId, jobId, sequence: head.sequence },
        'reconciler requested delivery of a push left in the outbox',
      );
    }
  }

  private isRecent(isoTime: string): boolean {
    const changedAtMs = Date.parse(isoTime);
    return Number.isNaN(changedAtMs) || Date.now() - changedAtMs < this.graceMs;
  }

  private count(report: ReconcileReport, kind: RepairKind): void {
    report.repairs[kind] += 1;
    this.deps.metrics?.reconcilerRepairs.inc({ kind });
  }
}

function emptyRepairs(): Record<RepairKind, number> {
  return { dispatch: 0, poll: 0, advance: 0, callback: 0, push: 0, 'dead-letter': 0 };
}

/** Tells whether `Orchestrator.advance` would change something: release, cancel or close. */
function needsAdvance(items: ItemRecord[]): boolean {
  if (items.every((item) => TERMINAL_ITEM_STATES.has(item.state))) return true;
  const byKey = new Map(items.map((item) => [item.itemKey, item]));
  return items.some((item) => {
    if (item.state !== 'waiting') return false;
    const needs = item.waitsFor.map((key) => byKey.get(key)?.state);
    const blocked = needs.some((state) => state !== undefined && BLOCKING_STATES.has(state));
    return blocked || needs.every((state) => state === 'completed');
  });
}

async function jobSlot(queue: Queue, jobId: string): Promise<JobSlot> {
  const job = await queue.getJob(jobId);
  if (!job) return 'missing';
  const state = await job.getState();
  if (state === 'failed' || state === 'completed') return state;
  if (LIVE_JOB_STATES.has(state)) return 'live';
  return 'missing';
}

/** Escapes the characters SCAN MATCH reads as a pattern, so a key prefix matches literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
