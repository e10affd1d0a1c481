/**
 * Workers besides the department ones: the callback applier, the police poller and the
 * platform notifier. Each runs on its own BullMQ queue with retries and keeps failed
 * jobs, which are its dead-letter list.
 */
import { DelayedError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { DepartmentAdapter } from '../adapters-kit/types.ts';
import type { PlatformNotifier } from '../notifier/platform-notifier.ts';
import type { CaseStore } from '../store/case-store.ts';
import type { KeySpace } from '../store/keys.ts';
import { itemReference, type OutcomeApplier, type StoredOutcome } from './outcomes.ts';
import {
  CALLBACK_QUEUE,
  POLL_QUEUE,
  PUSH_QUEUE,
  backoffDelayMs,
  closeWorker,
  type CallbackJobData,
  type PollJobData,
  type PushJobData,
} from './queues.ts';

export interface SupportWorkerDeps {
  store: CaseStore;
  keys: KeySpace;
  applier: OutcomeApplier;
  notifier: PlatformNotifier;
  adapters: Map<string, DepartmentAdapter>;
  connection: ConnectionOptions;
  logger: Logger;
  policePollIntervalMs: number;
}

export class SupportWorkers {
  private readonly workers: Worker[] = [];

  constructor(private readonly deps: SupportWorkerDeps) {}

  start(): void {
    this.workers.push(
      this.createWorker<CallbackJobData>(CALLBACK_QUEUE, (job) => this.applyCallback(job), 8),
      this.createWorker<PollJobData>(POLL_QUEUE, (job, token) => this.poll(job, token), 4),
      this.createWorker<PushJobData>(PUSH_QUEUE, (job) => this.deps.notifier.drain(job.data.caseId), 8),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => closeWorker(worker)));
  }

  private createWorker<T>(
    queue: string,
    processor: (job: Job<T>, token?: string) => Promise<unknown>,
    concurrency: number,
  ): Worker<T> {
    const worker = new Worker<T>(queue, processor, {
      connection: this.deps.connection,
      prefix: this.deps.keys.queuePrefix(),
      concurrency,
      settings: { backoffStrategy: (attemptsMade: number) => backoffDelayMs(attemptsMade, 200, 10_000) },
    });
    worker.on('error', (error) => this.deps.logger.error({ queue, err: error }, 'worker error'));
    worker.on('failed', (job, error) => {
      const final = job && job.attemptsMade >= (job.opts.attempts ?? 1);
      const fields = {
        queue,
        jobId: job?.id,
        attempt: job?.attemptsMade,
        err: { name: error.name, message: error.message },
      };
      if (final) this.deps.logger.error(fields, 'job failed after its last attempt; kept in the failed set');
      // Lock contention between push drains is expected, and the push failure itself was logged.
      else if (queue === PUSH_QUEUE) this.deps.logger.debug(fields, 'push job failed; retrying');
      else this.deps.logger.info(fields, 'job failed; retrying');
    });
    return worker;
  }

  private async applyCallback(job: Job<CallbackJobData>): Promise<string> {
    const raw = await this.deps.store.redis.get(job.data.outcomeKey);
    if (!raw) throw new Error(`stored callback outcome ${job.data.outcomeKey} not found`);
    return this.deps.applier.apply(job.data.department, JSON.parse(raw) as StoredOutcome);
  }

  /**
   * Asks the police system for the item's status. While it is still processing, the job
   * moves itself back to the delayed set, so one job follows the item to its end.
   */
  private async poll(job: Job<PollJobData>, token: string | undefined): Promise<string> {
    const { caseId, itemKey } = job.data;
    const item = await this.deps.store.getItem(caseId, itemKey);
    if (!item || (item.state !== 'submitted' && item.state !== 'accepted')) return 'finished';

    const adapter = this.deps.adapters.get(item.department);
    if (!adapter?.queryStatus) throw new Error(`department ${item.department} cannot be polled`);
    const outcome = await adapter.queryStatus({
      reference: itemReference(caseId, itemKey),
      receiptNo: item.receiptNo ?? '',
      idempotencyKey: item.idempotencyKey,
    });
    if (outcome) {
      const documents = await this.deps.applier.storeDocuments(outcome.documents);
      await this.deps.applier.apply(item.department, { ...outcome, documents });
      if (outcome.status !== 'accepted') return 'finished';
    }

    await this.deps.store.redis.hset(
      this.deps.keys.item(caseId, itemKey),
      'lastPolledAt',
      new Date().toISOString(),
    );
    await job.moveToDelayed(Date.now() + this.deps.policePollIntervalMs, token);
    throw new DelayedError();
  }
}
