/**
 * Delivers status pushes to the platform, in order per case. Pushes wait in the case's
 * outbox, written in the same Redis script as the change they report. A drain holds a
 * per-case lock, sends the head, and removes it only after the platform acknowledged it.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { request } from 'undici';
import { signBody } from '../adapters-kit/signing.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { CaseStore } from '../store/case-store.ts';

const LOCK_TTL_MS = 60_000;
const PUSH_TIMEOUT_MS = 10_000;

const RELEASE_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Another drain of the same case is running; the job is retried after a backoff. */
export class PushLockedError extends Error {
  override name = 'PushLockedError';
}

export class PlatformNotifier {
  constructor(
    private readonly store: CaseStore,
    private readonly statusUrl: string,
    private readonly secret: string,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  /** Sends every queued push of the case; returns how many were delivered. */
  async drain(caseId: string): Promise<number> {
    const lockKey = this.store.keys.pushLock(caseId);
    const token = randomBytes(12).toString('hex');
    const locked = await this.store.redis.set(lockKey, token, 'PX', LOCK_TTL_MS, 'NX');
    if (locked !== 'OK')
      throw new PushLockedError(`pushes of case ${caseId} are being sent by another worker`);

    let delivered = 0;
    try {
      for (let push = await this.store.peekOutbox(caseId); push; push = await this.store.peekOutbox(caseId)) {
        await this.send(push);
        await this.store.removeOutboxHead(caseId, push.sequence);
        delivered += 1;
        this.logger.info(
          { caseId, sequence: push.sequence, caseStatus: push.caseStatus },
          'status pushed to platform',
        );
      }
    } finally {
      await this.store.redis.eval(RELEASE_LOCK_SCRIPT, 1, lockKey, token);
    }
    return delivered;
  }

  private async send(push: object & { caseId: string; sequence: number }): Promise<void> {
    const body = JSON.stringify(push);
    try {
      const response = await request(this.statusUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-lianban-signature': signBody(this.secret, body) },
        body,
        headersTimeout: PUSH_TIMEOUT_MS,
        bodyTimeout: PUSH_TIMEOUT_MS,
        signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
      });
      await response.body.dump();
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw new Error(`platform returned HTTP ${response.statusCode}`);
      }
      this.metrics.platformPushes.inc({ outcome: 'delivered' });
    } catch (error) {
      this.metrics.platformPushes.inc({ outcome: 'failed' });
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn(
        { caseId: push.caseId, sequence: push.sequence, err: { message } },
        'status push failed; will retry',
      );
      throw error;
    }
  }
}
