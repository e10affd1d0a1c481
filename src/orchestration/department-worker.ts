/**
 * Processes department jobs: loads the item, builds the department's submission from the
 * encrypted form and stored documents, calls the adapter through the department's circuit
 * breaker, and records the receipt and due time. A failure is classified in one place
 * (`classifyFailure`). A refusal rejects the item, and a transient failure is retried
 * with backoff. A permanent failure or the last failed attempt dead-letters the item.
 * An open breaker pauses the department's queue without spending the job's attempt.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { classifyFailure, type FailureDecision } from '../adapters-kit/classify.ts';
import { BreakerOpenError, DepartmentError } from '../adapters-kit/errors.ts';
import type {
  DepartmentAdapter,
  OutboundDocument,
  SubmissionReceipt,
  SubmissionRequest,
} from '../adapters-kit/types.ts';
import { conditionHolds, type Bundle } from '../bundle/bundle.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { DeadLetterService } from '../operations/dead-letters.ts';
import type { CaseStore } from '../store/case-store.ts';
import type { DocumentStore } from '../store/documents.ts';
import type { ItemRecord } from '../store/records.ts';
import type { KeySpace } from '../store/keys.ts';
import type { DepartmentBreakers } from './breakers.ts';
import type { Orchestrator } from './orchestrator.ts';
import { itemReference } from './outcomes.ts';
import {
  DEFAULT_DEPARTMENT_RETRY,
  closeWorker,
  backoffDelayMs,
  departmentQueueName,
  type DepartmentJobData,
  type GatewayQueues,
  type RetryPolicy,
} from './queues.ts';

export interface DueCalculator {
  dueAt(receivedAt: Date, workingDays: number): { dueAt: string; provisional: boolean };
}

export interface DepartmentWorkerDeps {
  bundle: Bundle;
  store: CaseStore;
  documents: DocumentStore;
  orchestrator: Orchestrator;
  queues: GatewayQueues;
  keys: KeySpace;
  calendar: DueCalculator;
  metrics: Metrics;
  logger: Logger;
  adapters: Map<string, DepartmentAdapter>;
  connection: ConnectionOptions;
  publicUrl: string;
  policePollIntervalMs: number;
  concurrency?: number;
  breakers: DepartmentBreakers;
  deadLetters: DeadLetterService;
  /** Backoff between attempts; the attempts themselves are set on the job when it is queued. */
  retry?: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
  /** Jobs each department queue starts per second at most, across all workers. */
  callsPerSecond?: number;
}

const DEFAULT_CALLS_PER_SECOND = 50;

export class DepartmentWorkers {
  readonly breakers: DepartmentBreakers;
  private readonly workers: Worker[] = [];

  constructor(private readonly deps: DepartmentWorkerDeps) {
    this.breakers = deps.breakers;
  }

  start(): void {
    const retry = this.deps.retry ?? DEFAULT_DEPARTMENT_RETRY;
    for (const department of this.deps.adapters.keys()) {
      const worker = new Worker<DepartmentJobData>(
        departmentQueueName(department),
        (job) => this.process(department, job),
        {
          connection: this.deps.connection,
          prefix: this.deps.keys.queuePrefix(),
          concurrency: this.deps.concurrency ?? 4,
          // Without a limiter, BullMQ ignores the queue-wide pause (`Queue.rateLimit`) that
          // an open breaker sets, and only the worker that hit the breaker would wait.
          limiter: { max: this.deps.callsPerSecond ?? DEFAULT_CALLS_PER_SECOND, duration: 1_000 },
          settings: {
            backoffStrategy: (attemptsMade: number) =>
              backoffDelayMs(attemptsMade, retry.baseDelayMs, retry.maxDelayMs),
          },
        },
      );
      worker.on('error', (error) =>
        this.deps.logger.error({ department, err: error }, 'department worker error'),
      );
      this.workers.push(worker);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => closeWorker(worker)));
    this.breakers.shutdown();
  }

  private async process(department: string, job: Job<DepartmentJobData>): Promise<string> {
    const { caseId, itemKey } = job.data;
    const log = this.deps.logger.child({
      caseId,
      itemKey,
      department,
      jobId: job.id,
      attempt: job.attemptsMade + 1,
    });
    const item = await this.claimItem(caseId, itemKey);
    if (!item || item.state !== 'dispatched') {
      log.info({ state: item?.state }, 'department job skipped: item is not waiting to be sent');
      return 'skipped';
    }

    let receipt: SubmissionReceipt;
    try {
      const request = await this.buildSubmission(item);
      receipt = await this.callDepartment(department, request);
    } catch (error) {
      return this.handleFailure(job, item, error, log);
    }

    await this.recordReceipt(item, receipt);
    const adapter = this.deps.adapters.get(department) as DepartmentAdapter;
    if (adapter.resultMode === 'poll') {
      await this.deps.queues.schedulePoll({ caseId, itemKey }, this.deps.policePollIntervalMs);
    }
    log.info({ receiptNo: receipt.receiptNo }, 'item submitted to department');
    return 'submitted';
  }

  /** Loads the item and moves it ready → dispatched if the dispatcher has not yet. */
  private async claimItem(caseId: string, itemKey: string): Promise<ItemRecord | null> {
    const item = await this.deps.store.getItem(caseId, itemKey);
    if (item?.state !== 'ready') return item;
    // The dispatcher marks the item dispatched right after queueing it and may win this race.
    const moved = await this.deps.orchestrator.moveItem(caseId, itemKey, ['ready'], { state: 'dispatched' });
    return moved ?? (await this.deps.store.getItem(caseId, itemKey));
  }

  private async callDepartment(department: string, request: SubmissionRequest): Promise<SubmissionReceipt> {
    const stopTimer = this.deps.metrics.departmentCallSeconds.startTimer({ department });
    try {
      const receipt = await this.breakers.get(department).fire(request);
      stopTimer({ outcome: 'success' });
      return receipt;
    } catch (error) {
      // A call the breaker refused never reached the department, so it has no duration.
      if (!(error instanceof BreakerOpenError)) {
        stopTimer({ outcome: error instanceof DepartmentError ? error.kind : 'error' });
      }
      throw error;
    }
  }

  private async recordReceipt(item: ItemRecord, receipt: SubmissionReceipt): Promise<void> {
    const definition = this.deps.bundle.item(item.itemKey);
    // The medical transfer counts from receipt of the transfer voucher, which travels with
    // the item, so for every item the clock starts when the department receives it.
    const due = definition.deadline
      ? this.deps.calendar.dueAt(new Date(receipt.receivedAt), definition.deadline.workingDays)
      : undefined;
    if (due?.provisional) {
      // The sweeper counts provisional due times once per item; receipt only logs them.
      const { caseId, itemKey, department } = item;
      this.deps.logger.warn(
        { caseId, itemKey, department, dueAt: due.dueAt },
        'due time is provisional: calendar year missing',
      );
    }
    await this.deps.orchestrator.moveItem(item.caseId, item.itemKey, ['dispatched'], {
      state: 'submitted',
      receiptNo: receipt.receiptNo,
      receivedAt: receipt.receivedAt,
      dueAt: due?.dueAt,
      dueProvisional: due?.provisional,
    });
  }

  private async handleFailure(
    job: Job<DepartmentJobData>,
    item: ItemRecord,
    error: unknown,
    log: Logger,
  ): Promise<string> {
    const decision = classifyFailure(error);
    switch (decision.action) {
      case 'reject':
        log.info({ departmentCode: decision.departmentCode }, 'department refused the item');
        await this.deps.orchestrator.markRejected(
          item.caseId,
          item.itemKey,
          decision.reason,
          decision.legalBasis,
        );
        return 'rejected';
      case 'pause':
        return this.pauseQueue(item.department, decision.retryAfterMs, log);
      case 'retry':
        return this.retryOrDeadLetter(job, item, error, decision, log);
      case 'dead-letter':
        this.deps.metrics.departmentRetries.inc({ department: item.department, kind: decision.kind });
        return this.deadLetter(job, item, decision, log);
    }
  }

  private async retryOrDeadLetter(
    job: Job<DepartmentJobData>,
    item: ItemRecord,
    error: unknown,
    decision: Extract<FailureDecision, { action: 'retry' }>,
    log: Logger,
  ): Promise<string> {
    const breaker = this.breakers.get(item.department);
    if (breaker.localState() === 'open') {
      // This failure opened the breaker: the job waits with its queue instead of spending the attempt.
      return this.pauseQueue(item.department, breaker.retryAfterMs(), log);
    }

    this.deps.metrics.departmentRetries.inc({ department: item.department, kind: decision.kind });
    const attempts = job.opts.attempts ?? 1;
    if (job.attemptsMade + 1 < attempts) {
      log.warn(
        { err: errorFields(error), errorKind: decision.kind, attempts },
        'department call failed; retrying',
      );
      throw error;
    }
    return this.deadLetter(job, item, decision, log);
  }

  /**
   * Pauses the department's queue for every worker (BullMQ keeps the pause in Redis) and
   * hands the job back to the queue without counting an attempt.
   */
  private async pauseQueue(department: string, pauseMs: number, log: Logger): Promise<never> {
    log.info({ pauseMs }, 'department call deferred: circuit breaker open; queue paused');
    await this.deps.queues.departmentQueue(department).rateLimit(pauseMs);
    throw Worker.RateLimitError();
  }

  private async deadLetter(
    job: Job<DepartmentJobData>,
    item: ItemRecord,
    decision: Extract<FailureDecision, { action: 'retry' | 'dead-letter' }>,
    log: Logger,
  ): Promise<never> {
    const { caseId, itemKey, department } = item;
    const attempts = job.attemptsMade + 1;
    await this.deps.orchestrator.moveItem(
      caseId,
      itemKey,
      ['dispatched'],
      { state: 'failed', lastError: decision.summary },
      `dead-lettered after attempt ${attempts} (${decision.kind})`,
    );
    await this.deps.deadLetters.record({
      caseId,
      itemKey,
      department,
      lastError: decision.summary,
      errorKind: decision.kind,
      attempts,
      failedAt: new Date().toISOString(),
      jobId: job.id,
    });
    this.deps.metrics.deadLetters.inc({ department });
    log.error({ error: decision.summary, errorKind: decision.kind, attempts }, 'item moved to dead letters');
    throw new UnrecoverableError(decision.summary);
  }

  private async buildSubmission(item: ItemRecord): Promise<SubmissionRequest> {
    const definition = this.deps.bundle.item(item.itemKey);
    const form = await this.deps.store.readForm(item.caseId);
    const materials = await this.collectMaterials(item, form);
    return {
      caseId: item.caseId,
      itemKey: item.itemKey,
      businessCode: definition.businessCode ?? '',
      idempotencyKey: item.idempotencyKey,
      reference: itemReference(item.caseId, item.itemKey),
      callbackUrl: `${this.deps.publicUrl}/v1/callbacks/${item.department}`,
      form,
      materials,
    };
  }

  private async collectMaterials(item: ItemRecord, form: unknown): Promise<OutboundDocument[]> {
    const { bundle, store } = this.deps;
    const meta = await store.getCase(item.caseId);
    if (!meta) throw new UnrecoverableError(`case ${item.caseId} not found`);
    const definition = bundle.item(item.itemKey);

    const uploaded = definition.needs.filter((material) => bundle.material(material)?.source === 'upload');
    if (definition.situationalNeeds) {
      for (const rule of bundle.definition.situationalMaterials) {
        if (conditionHolds(rule.when, form)) uploaded.push(...rule.requires, ...(rule.optional ?? []));
      }
    }

    const outbound: OutboundDocument[] = [];
    for (const material of uploaded) {
      const stored = meta.materials[material];
      if (!stored) continue;
      outbound.push({
        material,
        mediaType: stored.mediaType,
        sha256: stored.sha256,
        content: await this.readDocument(stored.sha256),
      });
    }
    for (const { material, fromItem } of item.takes) {
      const producer = await store.getItem(item.caseId, fromItem);
      const produced = producer?.documents.find((document) => document.kind === material);
      if (!produced) throw new UnrecoverableError(`item ${fromItem} completed without producing ${material}`);
      outbound.push({
        material,
        mediaType: produced.mediaType,
        sha256: produced.sha256,
        content: await this.readDocument(produced.sha256),
      });
    }
    return outbound;
  }

  private async readDocument(sha256: string): Promise<Buffer> {
    const content = await this.deps.documents.get(sha256);
    if (!content) throw new UnrecoverableError(`document ${sha256} is missing from the document store`);
    return content;
  }
}

/** Fields of an error for a log line: name and message, which adapters keep free of personal data. */
function errorFields(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'thrown value', message: String(error) };
}
