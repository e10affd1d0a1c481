/** Prometheus metrics of one gateway process (prom-client), served at `/metrics`. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
    help: 'Failed department calls by department and failure kind (transient, permanent).',
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

  readonly breakerState = new Gauge({
    name: 'lianban_breaker_state',
    help: 'Circuit breaker state per department: 0 closed, 1 half-open, 2 open.',
    labelNames: ['department'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'lianban_' });
  }
}
