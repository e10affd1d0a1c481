/**
 * Runs the deadline sweeper as BullMQ jobs on its own queue. A job scheduler adds one
 * sweep job per interval for all worker processes together. Extra sweeps are requested
 * after a calendar change. A job that fails after its retries stays in the queue's
 * failed set, which is the sweeper's dead-letter list.
 */
import { Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { DeadlineSweeper, SweepReport } from './sweeper.ts';
import { closeWorker } from '../orchestration/queues.ts';

export const DEADLINE_SWEEP_QUEUE = 'deadline-sweep';
export const DEADLINE_SWEEP_SCHEDULER_ID = 'deadline-sweep';

export interface SweepJobData {
  /** Why the sweep runs: `schedule` or what requested it, e.g. a calendar change. */
  reason: string;
}

export interface DeadlineSweepWorkerDeps {
  sweeper: DeadlineSweeper;
  connection: ConnectionOptions;
  /** BullMQ key prefix of the gateway's queues. */
  queuePrefix: string;
  /** Interval of the schedule; 0 leaves only requested sweeps. */
  intervalMs: number;
  metrics: Metrics;
  logger: Logger;
  /** Attempts per sweep job and the first retry delay (doubling); 3 and 2000 ms when absent. */
  retry?: { attempts: number; backoffMs: number };
}

function sweepJobOptions(retry: DeadlineSweepWorkerDeps['retry']): JobsOptions {
  return {
    attempts: retry?.attempts ?? 3,
    backoff: { type: 'exponential', delay: retry?.backoffMs ?? 2_000 },
    removeOnComplete: { age: 3_600 },
    // Failed sweeps are kept for inspection, but capped: a sweep failing every minute for
    // days must not fill a Redis that runs with noeviction.
    removeOnFail: { count: 500 },
  };
}

export class DeadlineSweepWorker {
  readonly queue: Queue<SweepJobData>;
  private worker: Worker<SweepJobData, SweepReport> | undefined;

  constructor(private readonly deps: DeadlineSweepWorkerDeps) {
    this.queue = new Queue<SweepJobData>(DEADLINE_SWEEP_QUEUE, {
      connection: deps.connection,
      prefix: deps.queuePrefix,
    });
  }

  async start(): Promise<void> {
    // Every worker process upserts the same scheduler id, so the schedule exists once. The
    // interval of the process that started last wins, and 0 there removes the schedule.
    if (this.deps.intervalMs > 0) {
      await this.queue.upsertJobScheduler(
        DEADLINE_SWEEP_SCHEDULER_ID,
        { every: this.deps.intervalMs },
        { name: 'sweep', data: { reason: 'schedule' }, opts: sweepJobOptions(this.deps.retry) },
      );
    } else {
      await this.queue.removeJobScheduler(DEADLINE_SWEEP_SCHEDULER_ID);
    }

    const worker = new Worker<SweepJobData, SweepReport>(
      DEADLINE_SWEEP_QUEUE,
      () => this.deps.sweeper.sweep(),
      { connection: this.deps.connection, prefix: this.deps.queuePrefix, concurrency: 1 },
    );
    worker.on('error', (error) =>
      this.deps.logger.error({ queue: DEADLINE_SWEEP_QUEUE, err: error }, 'deadline sweep worker error'),
    );
    worker.on('completed', () => this.deps.metrics.deadlineSweeps.inc({ outcome: 'completed' }));
    worker.on('failed', (job, error) => this.recordFailure(job, error));
    this.worker = worker;
  }

  /**
   * Adds a sweep now. Requests with the same `requestId` while an earlier one is kept in
   * the queue add nothing, so several processes noticing one calendar change sweep once.
   */
  async requestSweep(reason: string, requestId: string): Promise<void> {
    await this.queue.add('sweep', { reason }, { ...sweepJobOptions(this.deps.retry), jobId: requestId });
  }

  async close(): Promise<void> {
    if (this.worker) await closeWorker(this.worker);
    await this.queue.close();
  }

  private recordFailure(job: Job<SweepJobData> | undefined, error: Error): void {
    const final = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
    const fields = {
      queue: DEADLINE_SWEEP_QUEUE,
      jobId: job?.id,
      attempt: job?.attemptsMade,
      err: { name: error.name, message: error.message },
    };
    this.deps.metrics.deadlineSweeps.inc({ outcome: final ? 'failed' : 'retrying' });
    if (final) this.deps.logger.error(fields, 'deadline sweep failed for good; kept in the failed set');
    else this.deps.logger.info(fields, 'deadline sweep failed; retrying');
  }
}
