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

/** Exponential backoff with full jitter, capped; `attemptsMade` starts at 1. */
export function backoffDelayMs(attemptsMade: number, baseMs = 1_000, capMs = 60_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
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
