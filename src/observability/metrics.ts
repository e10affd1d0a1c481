/** Prometheus metrics of one gateway process (prom-client), served at `/metrics`. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Counts of the last deadline sweep by department, as stored in Redis by the sweeping worker. */
export interface DeadlineCounts {
  atRisk: Record<string, number>;
  overdue: Record<string, number>;
  /** When the sweep finished, in seconds since the epoch. */
  sweptAtSeconds: number;
}

function fillByDepartment(gauge: Gauge<'department'>, counts: Record<string, number> | undefined): void {
  gauge.reset();
  for (const [department, count] of Object.entries(counts ?? {})) gauge.set({ department }, count);
}

export class Metrics {
  readonly registry = new Registry();

  readonly intakeRequests = new Counter({
    name: 'lianban_intake_requests_total',
    help: 'Case submissions by outcome (accepted, duplicate, invalid, conflict, error).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  readonly intakeSeconds = new Histogram({
    name: 'lianban_intake_duration_seconds',
    help: 'Time to validate and store a case submission, in seconds.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [this.registry],
  });

  readonly departmentCallSeconds = new Histogram({
    name: 'lianban_department_call_duration_seconds',
    help: 'Department submit calls by department and outcome, in seconds.',
    labelNames: ['department', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
    registers: [this.registry],
  });

  readonly departmentRetries = new Counter({
    name: 'lianban_department_failures_total',
    help: 'Failed department calls by department and failure kind (transient, permanent, unknown).',
    labelNames: ['department', 'kind'],
    registers: [this.registry],
  });

  readonly deadLetters = new Counter({
    name: 'lianban_dead_letters_total',
    help: 'Items moved to a dead-letter list after their retries ran out, by department.',
    labelNames: ['department'],
    registers: [this.registry],
  });

  readonly callbacks = new Counter({
    name: 'lianban_callbacks_total',
    help: 'Department callbacks by department and outcome (accepted, unauthorized, invalid, foreign).',
    labelNames: ['department', 'outcome'],
    registers: [this.registry],
  });

  readonly platformPushes = new Counter({
    name: 'lianban_platform_pushes_total',
    help: 'Status pushes to the platform by outcome (delivered, failed).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  readonly queueJobs = new Gauge({
    name: 'lianban_queue_jobs',
    help: 'Jobs per queue and BullMQ state, read when metrics are scraped.',
    labelNames: ['queue', 'state'],
    registers: [this.registry],
  });

  readonly breakerState: Gauge<'department'> = new Gauge({
    name: 'lianban_breaker_state',
    help: 'Circuit breaker state per department: 0 closed, 1 half-open, 2 open.',
    labelNames: ['department'],
    registers: [this.registry],
    collect: async () => {
      const states = await this.readBreakerStates?.();
      for (const [department, value] of Object.entries(states ?? {}))
        this.breakerState.set({ department }, value);
    },
  });

  readonly provisionalDueTimes = new Counter({
    name: 'lianban_provisional_due_times_total',
    help: 'Item due times found provisional (a year they reach has no calendar table), by department.',
    labelNames: ['department'],
    registers: [this.registry],
  });

  readonly dueTimesRecomputed = new Counter({
    name: 'lianban_due_times_recomputed_total',
    help: 'Provisional item due times recomputed after a calendar table was loaded, by department.',
    labelNames: ['department'],
    registers: [this.registry],
  });

  readonly deadlineWarnings = new Counter({
    name: 'lianban_deadline_warnings_total',
    help: 'Deadline warnings pushed to the platform, by department and warning (at-risk, overdue).',
    labelNames: ['department', 'warning'],
    registers: [this.registry],
  });

  readonly deadlineSweeps = new Counter({
    name: 'lianban_deadline_sweeps_total',
    help: 'Deadline sweeper runs by outcome (completed, retrying, failed); failed jobs stay in the failed set.',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  /**
   * Reads the counts of the last sweep for the deadline gauges at scrape time, so any
   * process reports the sweep of whichever worker ran it. Set by the gateway.
   */
  readDeadlineCounts: (() => Promise<DeadlineCounts | null>) | undefined;

  readonly itemsAtRisk: Gauge<'department'> = new Gauge({
    name: 'lianban_items_at_risk',
    help: 'Unfinished items whose due time is at risk, by department, as of the last deadline sweep.',
    labelNames: ['department'],
    registers: [this.registry],
    collect: async () => fillByDepartment(this.itemsAtRisk, (await this.readDeadlineCounts?.())?.atRisk),
  });

  readonly itemsOverdue: Gauge<'department'> = new Gauge({
    name: 'lianban_items_overdue',
    help: 'Unfinished items past their due time, by department, as of the last deadline sweep.',
    labelNames: ['department'],
    registers: [this.registry],
    collect: async () => fillByDepartment(this.itemsOverdue, (await this.readDeadlineCounts?.())?.overdue),
  });

  readonly deadlineLastSweep: Gauge = new Gauge({
    name: 'lianban_deadline_last_sweep_timestamp_seconds',
    help: 'When the last deadline sweep finished, in seconds since the epoch; alert when it falls behind.',
    registers: [this.registry],
    collect: async () => {
      const counts = await this.readDeadlineCounts?.();
      if (counts) this.deadlineLastSweep.set(counts.sweptAtSeconds);
    },
  });

  readonly breakerTransitions = new Counter({
    name: 'lianban_breaker_transitions_total',
    help: 'Circuit breaker state changes in this process, by department and new state (closed, half-open, open).',
    labelNames: ['department', 'state'],
    registers: [this.registry],
  });

  readonly breakerRejections = new Counter({
    name: 'lianban_breaker_rejections_total',
    help: 'Department calls refused by an open or probing circuit breaker without being sent, by department.',
    labelNames: ['department'],
    registers: [this.registry],
  });

  /**
   * Reads each department's breaker state (0 closed, 1 half-open, 2 open) at scrape time,
   * combining this process's breakers with the state shared in Redis. Set by the gateway.
   */
  readBreakerStates: (() => Promise<Record<string, number>>) | undefined;

  readonly deadLetterReplays = new Counter({
    name: 'lianban_dead_letter_replays_total',
    help: 'Operator replays of dead letters and failed jobs, by queue and outcome (replayed, skipped).',
    labelNames: ['queue', 'outcome'],
    registers: [this.registry],
  });

  /** Reads the dead-letter entries waiting per department at scrape time. Set by the gateway. */
  readDeadLetterCounts: (() => Promise<Record<string, number>>) | undefined;

  readonly deadLetterEntries: Gauge<'department'> = new Gauge({
    name: 'lianban_dead_letter_entries',
    help: 'Items waiting in a dead-letter list for an operator replay, by department, read when scraped.',
    labelNames: ['department'],
    registers: [this.registry],
    collect: async () => fillByDepartment(this.deadLetterEntries, await this.readDeadLetterCounts?.()),
  });

  readonly redisConfigSafe = new Gauge({
    name: 'lianban_redis_config_safe',
    help: 'Whether the last Redis settings check passed (AOF on, noeviction): 1 yes, 0 no or not verifiable.',
    registers: [this.registry],
  });

  readonly reconcilerRepairs = new Counter({
    name: 'lianban_reconciler_repairs_total',
    help: 'Store and queue disagreements the reconciler repaired, by kind (dispatch, poll, callback, push, advance, dead-letter).',
    labelNames: ['kind'],
    registers: [this.registry],
  });

  readonly reconcilerPassSeconds = new Histogram({
    name: 'lianban_reconciler_pass_duration_seconds',
    help: 'Duration of one reconciler pass over the active cases, stored callbacks and outboxes, in seconds.',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'lianban_' });
  }
}
