/**
 * The suite's replay step, as an operator would run it once a department is back:
 * every department's dead letters through the dead-letter service, then every failed
 * job of the callback, poll and push queues through the failed-job service.
 */
import { DEPARTMENTS } from '../../../src/adapters-kit/types.ts';
import type { Gateway } from '../../../src/gateway.ts';
import { SUPPORT_QUEUES } from '../../../src/operations/failed-jobs.ts';

const OPERATOR = 'fault-suite';
const REASON = 'fault suite: the department is back after its downtime';

export interface ReplayTally {
  /** Department items moved from dead letters back to their queues, by department. */
  items: Record<string, number>;
  /** Failed support-queue jobs moved back to waiting, by queue. */
  jobs: Record<string, number>;
}

export function emptyTally(): ReplayTally {
  return { items: {}, jobs: {} };
}

/** Replays whatever is dead-lettered now and adds the counts to `tally`. */
export async function replayDeadLetters(gateway: Gateway, tally: ReplayTally): Promise<void> {
  for (const department of DEPARTMENTS) {
    if ((await gateway.deadLetters.count(department)) === 0) continue;
    const report = await gateway.deadLetters.replay({ department, reason: REASON, operator: OPERATOR });
    tally.items[department] = (tally.items[department] ?? 0) + report.replayed.length;
  }
  for (const queue of SUPPORT_QUEUES) {
    if ((await gateway.failedJobs.count(queue)) === 0) continue;
    const report = await gateway.failedJobs.retry({ queue, reason: REASON, operator: OPERATOR });
    tally.jobs[queue] = (tally.jobs[queue] ?? 0) + report.retried.length;
  }
}

/** Dead letters and failed support jobs left, by department or queue; empty when none is left. */
export async function remainingDeadLetters(gateway: Gateway): Promise<Record<string, number>> {
  const remaining: Record<string, number> = {};
  for (const [name, count] of Object.entries(await gateway.deadLetters.counts())) {
    if (count > 0) remaining[name] = count;
  }
  for (const [name, count] of Object.entries(await gateway.failedJobs.counts())) {
    if (count > 0) remaining[`queue ${name}`] = count;
  }
  return remaining;
}
