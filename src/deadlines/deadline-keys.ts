/**
 * Redis keys of the deadline sweeper, under the gateway's key prefix:
 *
 *   <prefix>:deadlines:counts             string, JSON of the last sweep's counts (DeadlineCounts)
 *   <prefix>:deadlines:provisional-noted  set of `<caseId>.<itemKey>` (or `<caseId>.promise`)
 *                                         whose provisional due time was logged and counted
 */
import type { Redis } from 'ioredis';
import type { DeadlineCounts } from '../observability/metrics.ts';

export function deadlineCountsKey(prefix: string): string {
  return `${prefix}:deadlines:counts`;
}

export function provisionalNotedKey(prefix: string): string {
  return `${prefix}:deadlines:provisional-noted`;
}

export async function writeDeadlineCounts(
  redis: Redis,
  prefix: string,
  counts: DeadlineCounts,
): Promise<void> {
  await redis.set(deadlineCountsKey(prefix), JSON.stringify(counts));
}

/** Reads the last sweep's counts; null before the first sweep or when the value is unreadable. */
export async function readDeadlineCounts(redis: Redis, prefix: string): Promise<DeadlineCounts | null> {
  const stored = await redis.get(deadlineCountsKey(prefix));
  if (stored === null) return null;
  try {
    return JSON.parse(stored) as DeadlineCounts;
  } catch {
    return null;
  }
}
