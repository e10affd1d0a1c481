/**
 * Processes department jobs: loads the item, builds the department's submission from the
 * encrypted form and stored documents, calls the adapter through the department's circuit
 * breaker, and records the receipt and due time.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import { BusinessRefusalError, DepartmentError } from '../adapters-kit/errors.ts';
import type {
  DepartmentAdapter,
  OutboundDocument,
  SubmissionReceipt,
  SubmissionRequest,
} from '../adapters-kit/types.ts';
import { conditionHolds, type Bundle } from '../bundle/bundle.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { CaseStore } from '../store/case-store.ts';
import type { DocumentStore } from '../store/documents.ts';
import type { ItemRecord } from '../store/records.ts';
import type { KeySpace } from '../store/keys.ts';
import type { Orchestrator } from './orchestrator.ts';
import { itemReference } from './outcomes.ts';
import { backoffDelayMs, departmentQueueName, type DepartmentJobData, type GatewayQueues } from './queues.ts';

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
}

export const BREAKER_RESET_TIMEOUT_MS = 30_000;

function createBreaker(adapter: DepartmentAdapter): CircuitBreaker<[SubmissionRequest], SubmissionReceipt> {
  return new CircuitBreaker((request: SubmissionRequest) => adapter.submit(request), {
    // The HTTP client enforces its own timeouts; a second timer here would race it.
    timeout: false,
    errorThresholdPercentage: 50,
    volumeThreshold: 5,
    rollingCountTimeout: 60_000,
    resetTimeout: BREAKER_RESET_TIMEOUT_MS,
    // A refusal is a correct answer from a healthy system, not a sign of failure.
    errorFilter: (error: unknown) => error instanceof BusinessRefusalError,
    name: adapter.department,
  });
}

export class DepartmentWorkers {
  readonly breakers = new Map<string, CircuitBreaker<[SubmissionRequest], SubmissionReceipt>>();
  private readonly workers: Worker[] = [];

  constructor(private readonly deps: DepartmentWorkerDeps) {
    for (const adapter of deps.adapters.values())
      this.breakers.set(adapter.department, createBreaker(adapter));
  }

  start(): void {
    for (const department of this.deps.adapters.keys()) {
      const worker = new Worker<DepartmentJobData>(
        departmentQueueName(department),
        (job) => this.process(department, job),
        {
          connection: this.deps.connection,
          prefix: this.deps.keys.queuePrefix(),
          concurrency: this.deps.concurrency ?? 4,
          settings: { backoffStrategy: (attemptsMade: number) => backoffDelayMs(attemptsMade) },
        },
      );
      worker.on('error', (error) =>
        this.deps.logger.error({ department, err: error }, 'department worker error'),
      );
      this.workers.push(worker);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    for (const breaker of this.breakers.values()) breaker.shutdown();
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
    let item = await this.deps.store.getItem(caseId, itemKey);
    if (item?.state === 'ready') {
      // The dispatcher marks the item dispatched right after queueing it and may win this race.
      const moved = await this.deps.orchestrator.moveItem(caseId, itemKey, ['ready'], {
        state: 'dispatched',
      });
      item = moved ?? (await this.deps.store.getItem(caseId, itemKey));
    }
    if (!item || item.state !== 'dispatched') {
      log.info({ state: item?.state }, 'department job skipped: item is not waiting to be sent');
      return 'skipped';
    }

    const request = await this.buildSubmission(item);
    const adapter = this.deps.adapters.get(department) as DepartmentAdapter;
    const breaker = this.breakers.get(department) as CircuitBreaker<[SubmissionRequest], SubmissionReceipt>;
    const stopTimer = this.deps.metrics.departmentCallSeconds.startTimer({ department });
    let receipt: SubmissionReceipt;
    try {
      receipt = await breaker.fire(request);
      stopTimer({ outcome: 'success' });
    } catch (error) {
      stopTimer({ outcome: error instanceof DepartmentError ? error.kind : 'breaker' });
      return this.handleFailure(job, item, error, log);
    }

    await this.recordReceipt(item, receipt);
    if (adapter.resultMode === 'poll') {
      await this.deps.queues.schedulePoll({ caseId, itemKey }, this.deps.policePollIntervalMs);
    }
    log.info({ receiptNo: receipt.receiptNo }, 'item submitted to department');
    return 'submitted';
  }

  private async recordReceipt(item: ItemRecord, receipt: SubmissionReceipt): Promise<void> {
    const definition = this.deps.bundle.item(item.itemKey);
    // The medical transfer counts from receipt of the transfer voucher, which travels with
    // the item, so for every item the clock starts when the department receives it.
    const due = definition.deadline
      ? this.deps.calendar.dueAt(new Date(receipt.receivedAt), definition.deadline.workingDays)
      : undefined;
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
    const { caseId, itemKey, department } = item;
    if (error instanceof BusinessRefusalError) {
      log.info({ departmentCode: error.departmentCode }, 'department refused the item');
      await this.deps.orchestrator.markRejected(caseId, itemKey, error.reason, error.legalBasis);
      return 'rejected';
    }

    const message = error instanceof Error ? error.message : String(error);
    const breaker = this.breakers.get(department);
    if (breaker?.opened) {
      // While the breaker is open, the queue waits without spending the job's attempts.
      log.warn('department circuit breaker is open; queue paused');
      await this.deps.queues.departmentQueue(department).rateLimit(BREAKER_RESET_TIMEOUT_MS);
      throw Worker.RateLimitError();
    }

    const permanent = error instanceof DepartmentError && error.kind === 'permanent';
    const attempts = job.opts.attempts ?? 1;
    const lastAttempt = permanent || job.attemptsMade + 1 >= attempts;
    log.warn({ err: { name: (error as Error).name, message }, lastAttempt }, 'department call failed');
    this.deps.metrics.departmentRetries.inc({ department, kind: permanent ? 'permanent' : 'transient' });
    if (!lastAttempt) throw error;

    await this.deps.orchestrator.moveItem(caseId, itemKey, ['dispatched'], {
      state: 'failed',
      lastError: message,
    });
    await this.deps.store.redis.hset(
      this.deps.keys.deadLetters(department),
      `${caseId}.${itemKey}`,
      JSON.stringify({
        caseId,
        itemKey,
        lastError: message,
        at: new Date().toISOString(),
        attempts: job.attemptsMade + 1,
      }),
    );
    this.deps.metrics.deadLetters.inc({ department });
    log.error({ err: { name: (error as Error).name, message } }, 'item moved to dead letters');
    throw new UnrecoverableError(message);
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
