/**
 * Idempotency end to end: each department receives and processes a submit, but its reply
 * is lost (veterans, medical: HTTP 503 after processing) or cut off (police, hrss: half
 * the body). The gateway retries the job with the item's idempotency key in the
 * department's form (Idempotency-Key header, SOAP RequestId, hrss seqNo, medical msgid),
 * and the department records one effect per key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DepartmentKey } from '../../src/adapters-kit/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { ItemRecord } from '../../src/store/records.ts';
import { waitForCase, type CaseAnswer } from '../support/gateway-env.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import {
  startResilienceEnvironment,
  submitTypicalCase,
  type ResilienceEnvironment,
} from './resilience-env.ts';

const DEPARTMENTS: DepartmentKey[] = ['veterans', 'police', 'hrss', 'medical'];

describe('lost replies and retries', () => {
  let redis: TestRedis;
  let env: ResilienceEnvironment;
  let answer: CaseAnswer;
  let items: ItemRecord[];
  const requestsBefore = {} as Record<DepartmentKey, number>;

  beforeAll(async () => {
    redis = await startTestRedis();
    env = await startResilienceEnvironment({
      redisUrl: redis.url,
      logger: createLogger({ level: 'silent' }),
    });
    for (const department of DEPARTMENTS)
      requestsBefore[department] = env.departments[department].submitRequestCount;
    env.departments.veterans.injectFault('reply-lost');
    env.departments.police.injectFault('truncated-reply');
    env.departments.hrss.injectFault('truncated-reply');
    env.departments.medical.injectFault('reply-lost');

    const caseId = await submitTypicalCase(env);
    answer = await waitForCase(env, caseId, 90_000);
    items = await env.gateway.store.getItems(caseId);
  });

  afterAll(async () => {
    await env?.close();
    await redis?.stop();
  });

  it('completes the case', () => {
    expect(answer.status).toBe('completed');
  });

  it.each(DEPARTMENTS)('%s received a repeated submit', (department) => {
    const simulator = env.departments[department];
    const requests = simulator.submitRequestCount - requestsBefore[department];

    expect(requests).toBeGreaterThan(simulator.submissions.length);
  });

  it.each(DEPARTMENTS)('%s recorded one submission per idempotency key', (department) => {
    const submissions = env.departments[department].submissions;
    const keys = submissions.map((submission) => submission.idempotencyKey);
    const references = submissions.map((submission) => submission.reference);

    expect(new Set(keys).size).toBe(submissions.length);
    expect(new Set(references).size).toBe(submissions.length);
  });

  it.each(DEPARTMENTS)('%s items carry the receipt of the first receipt', (department) => {
    const simulator = env.departments[department];
    const sent = items.filter(
      (candidate) => candidate.department === department && candidate.state !== 'not_required',
    );
    expect(sent.length).toBeGreaterThan(0);
    for (const item of sent) {
      const submission = simulator.submissions.find((entry) => entry.itemKey === item.itemKey);
      expect(submission, item.itemKey).toBeDefined();
      expect(item.receiptNo, item.itemKey).toBe(submission?.receiptNo);
    }
  });

  it('produced each result document once', () => {
    for (const department of DEPARTMENTS) {
      const produced = env.departments[department].produced.map(
        (entry) => `${entry.reference}/${entry.kind}`,
      );
      expect(new Set(produced).size, department).toBe(produced.length);
    }
  });
});
