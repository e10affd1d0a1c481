/**
 * Dead letters of the support queues: callback applications, police status polls and
 * platform pushes. Their workers keep a job in BullMQ's failed set once its attempts
 * run out, so the failed set is the dead-letter list. An operator lists those jobs and
 * retries one, several or all of a queue's, with a reason recorded in the case trail.
 * A retried job gets its full attempts again.
 *
 *   new FailedJobService(deps: FailedJobDeps)
 *   list(queue: SupportQueue, page?: { offset?: number; limit?: number }): Promise<FailedJob[]>
 *   count(queue: SupportQueue): Promise<number>
 *   counts(): Promise<Record<SupportQueue, number>>
 *   retry(request: RetryJobsRequest): Promise<RetryJobsReport>   request.dryRun: preview only
 */
import type { Job, Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import type { GatewayQueues } from '../orchestration/queues.ts';
import type { CaseStore } from '../store/case-store.ts';
import { ReplayRequestError, ReplayThrottle, validateReplayBasics } from './replay-support.ts';

export const SUPPORT_QUEUES = ['callbacks', 'polls', 'pushes'] as const;
export type SupportQueue = (typeof SUPPORT_QUEUES)[number];

export interface FailedJob {
  queue: SupportQueue;
  jobId: string;
  name: string;
  caseId?: string;
  itemKey?: string;
  department?: string;
  /** BullMQ's failedReason: the last error message. */
  failedReason: string;
  attemptsMade: number;
  failedAt?: string;
}

export interface RetryJobsRequest {
  queue: SupportQueue;
  reason: string;
  operator: string;
  /** Job ids; every failed job of the queue when absent. */
  jobIds?: string[];
  dryRun?: boolean;
  limit?: number;
}

export interface RetryJobsReport {
  queue: SupportQueue;
  dryRun: boolean;
  operator: string;
  /** Jobs moved back to waiting, or in a dry run the jobs that would be. */
  retried: FailedJob[];
  skipped: Array<{ jobId: string; reason: 'job-not-found' | 'job-not-failed'; state?: string }>;
  /** Failed jobs of the queue after this request. */
  remaining: number;
}

export interface FailedJobDeps {
  queues: GatewayQueues;
  store: CaseStore;
  logger: Logger;
  metrics?: Metrics;
  replaysPerSecond: number;
}

/** Maximum number of failed jobs one list or bulk retry reads. */
const MAX_LISTED_JOBS = 1_000;

export class FailedJobService {
  private readonly throttle: ReplayThrottle;

  constructor(private readonly deps: FailedJobDeps) {
    this.throttle = new ReplayThrottle(
      deps.store.redis,
      `${deps.store.keys.prefix}:replay-rate`,
      deps.replaysPerSecond,
    );
  }

  /** Returns a queue's failed jobs, most recently failed first. */
  async list(queue: SupportQueue, page: { offset?: number; limit?: number } = {}): Promise<FailedJob[]> {
    const offset = page.offset ?? 0;
    const limit = Math.min(page.limit ?? MAX_LISTED_JOBS, MAX_LISTED_JOBS);
    const jobs = await this.queue(queue).getFailed(offset, offset + limit - 1);
    return jobs.filter((job): job is Job => job !== undefined).map((job) => describeJob(queue, job));
  }

  async count(queue: SupportQueue): Promise<number> {
    return this.queue(queue).getFailedCount();
  }

  async counts(): Promise<Record<SupportQueue, number>> {
    const counts = {} as Record<SupportQueue, number>;
    for (const queue of SUPPORT_QUEUES) counts[queue] = await this.count(queue);
    return counts;
  }

  async retry(request: RetryJobsRequest): Promise<RetryJobsReport> {
    this.validate(request);
    const dryRun = request.dryRun === true;
    const jobIds = request.jobIds ?? (await this.list(request.queue)).map((job) => job.jobId);
    const selected = request.limit === undefined ? jobIds : jobIds.slice(0, request.limit);
    const report: RetryJobsReport = {
      queue: request.queue,
      dryRun,
      operator: request.operator,
      retried: [],
      skipped: [],
      remaining: 0,
    };

    for (const jobId of [...new Set(selected)]) {
      if (!dryRun) await this.throttle.take();
      const outcome = await this.retryOne(request, jobId, dryRun);
      if ('skipped' in outcome) report.skipped.push(outcome.skipped);
      else report.retried.push(outcome.retried);
      if (!dryRun) {
        const result = 'skipped' in outcome ? 'skipped' : 'replayed';
        this.deps.metrics?.deadLetterReplays.inc({ queue: request.queue, outcome: result });
      }
    }

    report.remaining = await this.count(request.queue);
    return report;
  }

  private async retryOne(
    request: RetryJobsRequest,
    jobId: string,
    dryRun: boolean,
  ): Promise<{ retried: FailedJob } | { skipped: RetryJobsReport['skipped'][number] }> {
    const job = await this.queue(request.queue).getJob(jobId);
    if (!job) return { skipped: { jobId, reason: 'job-not-found' } };
    const state = await job.getState();
    if (state !== 'failed') return { skipped: { jobId, reason: 'job-not-failed', state } };

    const described = describeJob(request.queue, job);
    if (dryRun) return { retried: described };

    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    await this.recordInTrail(request, described);
    this.deps.logger.info(
      { queue: request.queue, jobId, caseId: described.caseId, operator: request.operator },
      'failed job retried by operator',
    );
    return { retried: described };
  }

  private async recordInTrail(request: RetryJobsRequest, job: FailedJob): Promise<void> {
    if (!job.caseId || !(await this.deps.store.getCase(job.caseId))) return;
    await this.deps.store.appendTrail(job.caseId, {
      at: new Date().toISOString(),
      type: 'operator.job-retry',
      itemKey: job.itemKey,
      detail: `${request.queue} job ${job.jobId} retried by operator ${request.operator}: ${request.reason.trim()}`,
    });
  }

  private validate(request: RetryJobsRequest): void {
    if (!SUPPORT_QUEUES.includes(request.queue)) {
      throw new ReplayRequestError(
        'queue',
        `queue "${String(request.queue)}" is unknown; expected one of ${SUPPORT_QUEUES.join(', ')}`,
      );
    }
    validateReplayBasics(request);
  }

  private queue(name: SupportQueue): Queue {
    const { callbacks, polls, pushes } = this.deps.queues;
    const queues: Record<SupportQueue, Queue> = { callbacks, polls, pushes } as Record<SupportQueue, Queue>;
    return queues[name];
  }
}

/** Describes a job by the references in its data, which never holds personal data. */
function describeJob(queue: SupportQueue, job: Job): FailedJob {
  const data = (job.data ?? {}) as { caseId?: unknown; itemKey?: unknown; department?: unknown };
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return {
    queue,
    jobId: job.id ?? '',
    name: job.name,
    caseId: text(data.caseId),
    itemKey: text(data.itemKey),
    department: text(data.department),
    failedReason: job.failedReason ?? '',
    attemptsMade: job.attemptsMade,
    failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
  };
}
