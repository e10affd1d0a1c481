/**
 * The gateway's BullMQ queues: one per department (so each legacy system gets its own
 * concurrency and rate limit), one for applying callbacks, one for polling, one for
 * platform pushes. Job data holds references only, because BullMQ stores it in clear.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { KeySpace } from '../store/keys.ts';

export interface DepartmentJobData {
  caseId: string;
  itemKey: string;
}

export interface CallbackJobData {
  caseId: string;
  department: string;
  /** Key under which the parsed outcome is stored. */
  outcomeKey: string;
}

export interface PollJobData {
  caseId: string;
  itemKey: string;
}

export interface PushJobData {
  caseId: string;
}

export const CALLBACK_QUEUE = 'callbacks';
export const POLL_QUEUE = 'police-poll';
export const PUSH_QUEUE = 'platform-push';

export function departmentQueueName(department: string): string {
  return `department-${department}`;
}

/** BullMQ rejects `:` in custom job ids, so ids join their parts with dots. */
export function itemJobId(caseId: string, itemKey: string): string {
  return `${caseId}.${itemKey}`;
}

/**
 * How often and how patiently a job is retried. The delay before retry `n` (n ≥ 1) is
 * drawn uniformly from [c/2, c] with c = min(maxDelayMs, baseDelayMs × 2^(n−1)):
 * exponential backoff with "equal jitter". Full jitter (0 to c) would also spread the
 * retries, but it can retry at once, which hits a struggling department hardest.
 */
export interface RetryPolicy {
  /** Attempts in total, the first call included; after the last one the job is dead-lettered. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Department calls: 8 attempts over roughly one to two minutes when every attempt fails. */
export const DEFAULT_DEPARTMENT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 1_000, maxDelayMs: 60_000 };

/** Returns the delay before the next attempt; `attemptsMade` counts failed attempts and starts at 1. */
export function backoffDelayMs(attemptsMade: number, baseMs = 1_000, capMs = 60_000): number {
  const ceiling = backoffCeilingMs(attemptsMade, baseMs, capMs);
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** Returns the largest delay `backoffDelayMs` can draw before the next attempt. */
export function backoffCeilingMs(attemptsMade: number, baseMs = 1_000, capMs = 60_000): number {
  // The exponent is bounded so a large attempt count cannot overflow to Infinity.
  const exponent = Math.min(Math.max(0, attemptsMade - 1), 40);
  return Math.min(capMs, baseMs * 2 ** exponent);
}

/** Returns the shortest and longest total wait between the first and the last attempt. */
export function retryWindowMs(policy: RetryPolicy): { minMs: number; maxMs: number } {
  let maxMs = 0;
  for (let failed = 1; failed < policy.attempts; failed += 1) {
    maxMs += backoffCeilingMs(failed, policy.baseDelayMs, policy.maxDelayMs);
  }
  return { minMs: maxMs / 2, maxMs };
}

/** Checks a policy read from configuration; returns the problem, or undefined when it is usable. */
export function retryPolicyProblem(policy: RetryPolicy): string | undefined {
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1)
    return 'attempts must be an integer of at least 1';
  if (!(policy.baseDelayMs >= 1)) return 'baseDelayMs must be at least 1';
  if (!(policy.maxDelayMs >= policy.baseDelayMs)) return 'maxDelayMs must be at least baseDelayMs';
  return undefined;
}

export class GatewayQueues {
  readonly departments = new Map<string, Queue<DepartmentJobData>>();
  readonly callbacks: Queue<CallbackJobData>;
  readonly polls: Queue<PollJobData>;
  readonly pushes: Queue<PushJobData>;

  constructor(
    connection: ConnectionOptions,
    keys: KeySpace,
    departments: readonly string[],
    private readonly departmentAttempts: number,
  ) {
    const prefix = keys.queuePrefix();
    for (const department of departments) {
      this.departments.set(department, new Queue(departmentQueueName(department), { connection, prefix }));
    }
    this.callbacks = new Queue(CALLBACK_QUEUE, { connection, prefix });
    this.polls = new Queue(POLL_QUEUE, { connection, prefix });
    this.pushes = new Queue(PUSH_QUEUE, { connection, prefix });
  }

  /**
   * Sends connection errors of every queue to one handler. Without a listener they reach
   * the console as raw multi-line errors while Redis is down.
   */
  onError(handler: (queue: string, error: Error) => void): void {
    for (const queue of this.all()) queue.on('error', (error: Error) => handler(queue.name, error));
  }

  departmentQueue(department: string): Queue<DepartmentJobData> {
    const queue = this.departments.get(department);
    if (!queue) throw new Error(`no queue for department "${department}"`);
    return queue;
  }

  /** Adds an item's department job; a second add with the same id is a no-op in BullMQ. */
  async dispatchItem(department: string, data: DepartmentJobData): Promise<void> {
    const options: JobsOptions = {
      jobId: itemJobId(data.caseId, data.itemKey),
      attempts: this.departmentAttempts,
      backoff: { type: 'capped-jitter' },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: false,
    };
    await this.departmentQueue(department).add('submit', data, options);
  }

  /**
   * Frees the item's job id for a new dispatch. BullMQ ignores an add whose id is held by
   * any job, a failed or completed one included, so a finished job under the id is
   * removed. Returns `free` when no job holds the id any more, `pending` when a waiting
   * or delayed job holds it (that job will take the item), and `active` when a worker is
   * running it.
   */
  async clearFinishedItemJob(
    department: string,
    caseId: string,
    itemKey: string,
  ): Promise<'free' | 'pending' | 'active'> {
    const queue = this.departmentQueue(department);
    const jobId = itemJobId(caseId, itemKey);
    const job = await queue.getJob(jobId);
    if (!job) return 'free';

    const state = await job.getState();
    if (state === 'active') return 'active';
    if (state !== 'failed' && state !== 'completed' && state !== 'unknown') return 'pending';
    // remove returns 0 when the job is locked, i.e. a worker took it meanwhile.
    return (await queue.remove(jobId)) === 1 ? 'free' : 'active';
  }

  async schedulePoll(data: PollJobData, delayMs: number): Promise<void> {
    await this.polls.add('poll', data, {
      jobId: `${itemJobId(data.caseId, data.itemKey)}.poll`,
      delay: delayMs,
      attempts: 1_000,
      backoff: { type: 'capped-jitter' },
      removeOnComplete: true,
      removeOnFail: false,
    });
  }

  async enqueueCallback(data: CallbackJobData, jobId: string): Promise<void> {
    await this.callbacks.add('apply', data, {
      jobId,
      attempts: 30,
      backoff: { type: 'capped-jitter' },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: false,
    });
  }

  /**
   * Asks for the case's outbox to be drained. Each request is a new job: a request that
   * shared the id of a job already running would be dropped and its push left behind.
   */
  async requestPush(caseId: string): Promise<void> {
    await this.pushes.add(
      'push',
      { caseId },
      {
        attempts: 50,
        backoff: { type: 'capped-jitter' },
        removeOnComplete: true,
        removeOnFail: false,
      },
    );
  }

  all(): Queue[] {
    return [...this.departments.values(), this.callbacks, this.polls, this.pushes] as Queue[];
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
  }
}

/** Time a worker may take to finish its active jobs at shutdown before they are abandoned. */
export const WORKER_CLOSE_TIMEOUT_MS = 10_000;

/**
 * Closes a BullMQ worker, letting active jobs finish for up to `timeoutMs`, then closes
 * it without waiting. An abandoned job keeps its lock until the lock expires; BullMQ's
 * stalled-job check then moves it back to waiting for another worker.
 */
export async function closeWorker(
  worker: { close(force?: boolean): Promise<void> },
  timeoutMs = WORKER_CLOSE_TIMEOUT_MS,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const graceful = worker.close().then(() => 'closed' as const);
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([graceful, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') await worker.close(true);
}
