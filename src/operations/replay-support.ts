/** Parts shared by dead-letter replays and failed-job retries: request checks and the throttle. */
import type { Redis } from 'ioredis';

/** A replay or retry request that cannot be used; `field` names the request field. */
export class ReplayRequestError extends Error {
  override name = 'ReplayRequestError';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export const MIN_REASON_LENGTH = 4;
export const MAX_REASON_LENGTH = 500;

/** Checks the fields every replay and retry request has. */
export function validateReplayBasics(request: { reason: string; operator: string; limit?: number }): void {
  const reason = typeof request.reason === 'string' ? request.reason.trim() : '';
  if (reason.length < MIN_REASON_LENGTH) {
    throw new ReplayRequestError('reason', `reason is required: at least ${MIN_REASON_LENGTH} characters`);
  }
  if (reason.length > MAX_REASON_LENGTH) {
    throw new ReplayRequestError('reason', `reason is longer than ${MAX_REASON_LENGTH} characters`);
  }
  if (!request.operator) throw new ReplayRequestError('operator', 'operator is required');
  if (request.limit !== undefined && (!Number.isInteger(request.limit) || request.limit < 1)) {
    throw new ReplayRequestError('limit', `limit must be a positive integer, got ${String(request.limit)}`);
  }
}

/**
 * Paces replays to at most `perSecond` per wall-clock second, counted in Redis so that
 * several gateway processes share the budget.
 */
export class ReplayThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly perSecond: number,
  ) {}

  /** Waits until the current second has budget left, then takes one unit of it. */
  async take(): Promise<void> {
    for (;;) {
      const second = Math.floor(Date.now() / 1000);
      const key = `${this.keyPrefix}:${second}`;
      const used = await this.redis.incr(key);
      if (used === 1) await this.redis.expire(key, 5);
      if (used <= this.perSecond) return;
      await new Promise((resolve) => setTimeout(resolve, (second + 1) * 1000 - Date.now() + 1));
    }
  }
}
