/**
 * The operators' view of the department circuit breakers: the state shared in Redis,
 * this process's own breaker when it runs department workers, and how long each
 * department queue stays paused. Any process can report it, the `api` role included.
 */
import type { Redis } from 'ioredis';
import type { GatewayQueues } from '../orchestration/queues.ts';
import {
  BREAKER_STATE_VALUES,
  SharedBreakerState,
  type BreakerSettings,
  type BreakerState,
  type DepartmentBreakers,
  type LocalBreakerStatus,
} from '../orchestration/breakers.ts';

export interface DepartmentBreakerReport {
  department: string;
  /** The state calls meet: the more restrictive of the shared record and this process's breaker. */
  state: BreakerState;
  shared: { state: BreakerState; openedAt?: string; openUntil?: string; openedBy?: string };
  /** This process's breaker; absent in a process without department workers. */
  local?: LocalBreakerStatus;
  /** Remaining pause of the department's queue in milliseconds; 0 while it runs. */
  queuePausedMs: number;
}

export interface BreakerStatusDeps {
  redis: Redis;
  keyPrefix: string;
  queues: GatewayQueues;
  settings: BreakerSettings;
  /** Jobs per second the department workers take (their BullMQ limiter), to tell a pause from normal pacing. */
  rateLimitMax: number;
  /** This process's breakers, when it runs department workers. */
  local?: DepartmentBreakers;
}

export class BreakerStatusService {
  private readonly shared = new Map<string, SharedBreakerState>();

  constructor(private readonly deps: BreakerStatusDeps) {
    for (const department of deps.queues.departments.keys()) {
      this.shared.set(
        department,
        new SharedBreakerState(deps.redis, deps.keyPrefix, department, deps.settings),
      );
    }
  }

  async report(): Promise<DepartmentBreakerReport[]> {
    const reports: DepartmentBreakerReport[] = [];
    for (const department of this.shared.keys()) reports.push(await this.reportOne(department));
    return reports;
  }

  /** Returns each department's state as the `lianban_breaker_state` gauge value. */
  async stateValues(): Promise<Record<string, number>> {
    const values: Record<string, number> = {};
    for (const report of await this.report()) values[report.department] = BREAKER_STATE_VALUES[report.state];
    return values;
  }

  private async reportOne(department: string): Promise<DepartmentBreakerReport> {
    const view = await (this.shared.get(department) as SharedBreakerState).read();
    const shared: DepartmentBreakerReport['shared'] =
      view.state === 'closed'
        ? { state: 'closed' }
        : {
            state: view.state,
            openedAt: view.record.openedAt,
            openUntil: new Date(view.record.openUntilMs).toISOString(),
            openedBy: view.record.openedBy,
          };
    const local = this.deps.local?.departments().includes(department)
      ? this.deps.local.get(department).localStatus()
      : undefined;
    const pttl = await this.deps.queues.departmentQueue(department).getRateLimitTtl(this.deps.rateLimitMax);
    return {
      department,
      state: moreRestrictive(shared.state, local?.state ?? 'closed'),
      shared,
      local,
      queuePausedMs: Math.max(0, pttl),
    };
  }
}

function moreRestrictive(left: BreakerState, right: BreakerState): BreakerState {
  return BREAKER_STATE_VALUES[left] >= BREAKER_STATE_VALUES[right] ? left : right;
}
