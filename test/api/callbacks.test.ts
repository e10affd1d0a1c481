/**
 * The callback route as a department uses it: a callback must verify as its department,
 * may only touch that department's items, and a duplicate or stale report changes
 * nothing. Runs a real gateway, Redis and simulators.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../src/adapters-kit/signing.ts';
import { startEnvironment, submitMultipart, type Environment } from '../../src/demo/environment.ts';
import { makeTypicalMaterials } from '../../src/demo/materials.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { TYPICAL_CASE_JSON, waitForCase } from '../support/gateway-env.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

describe('department callbacks', () => {
  let redis: TestRedis;
  let env: Environment;
  let caseId: string;
  let veteransSecret: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    env = await startEnvironment({
      redisUrl: redis.url,
      processingDelayMs: 50,
      logger: createLogger({ level: 'silent' }),
    });
    veteransSecret = env.gatewayEnv?.LIANBAN_VETERANS_SECRET ?? '';
    const submitted = await submitMultipart(env, TYPICAL_CASE_JSON, await makeTypicalMaterials());
    caseId = (submitted.body as { caseId: string }).caseId;
    await waitForCase(env, caseId);
  });

  afterAll(async () => {
    await env?.close();
    await redis?.stop();
  });

  /** Posts a veterans-style webhook event, signed with the given secret. */
  async function postVeterans(
    event: Record<string, unknown>,
    secret = veteransSecret,
    department = 'veterans',
  ): Promise<{ status: number; code?: string }> {
    const body = JSON.stringify({ occurred_at: new Date().toISOString(), documents: [], ...event });
    const response = await request(`${env.gatewayUrl}/v1/callbacks/${department}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-veterans-signature': signBody(secret, body) },
      body,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const text = await response.body.text();
    const parsed = text.startsWith('{') ? (JSON.parse(text) as { code?: string }) : {};
    return { status: response.statusCode, code: parsed.code };
  }

  async function trailLength(): Promise<number> {
    return (await env.gateway.store.getTrail(caseId)).length;
  }

  it('refuses a callback with a wrong signature', async () => {
    const before = await trailLength();
    const answer = await postVeterans(
      {
        event_id: 'fictional-bad-signature',
        reference: `${caseId}.lump-sum-grant`,
        receipt_no: 'R1',
        status: 'rejected',
        reason: '测试',
        legal_basis: '测试',
      },
      'not-the-veterans-secret',
    );
    expect(answer.status).toBe(401);
    expect(answer.code).toBe('LB_ERR_CALLBACK_UNAUTHORIZED');
    expect(await trailLength()).toBe(before);
  });

  it('refuses a report about another department’s item', async () => {
    const before = await env.gateway.store.getItem(caseId, 'household-settlement');
    const answer = await postVeterans({
      event_id: 'fictional-foreign',
      reference: `${caseId}.household-settlement`,
      receipt_no: 'R2',
      status: 'rejected',
      reason: '测试',
      legal_basis: '测试',
    });
    expect(answer.status).toBe(403);
    expect(answer.code).toBe('LB_ERR_CALLBACK_FORBIDDEN');
    const after = await env.gateway.store.getItem(caseId, 'household-settlement');
    expect(after?.state).toBe('completed');
    expect(after?.version).toBe(before?.version);
  });

  it('answers an unknown department with 404', async () => {
    const answer = await postVeterans(
      { event_id: 'x', reference: `${caseId}.lump-sum-grant`, receipt_no: 'R', status: 'accepted' },
      veteransSecret,
      'tax',
    );
    expect(answer.status).toBe(404);
    expect(answer.code).toBe('LB_ERR_CALLBACK_DEPARTMENT_UNKNOWN');
  });

  it('ignores a stale report on a completed item', async () => {
    const item = await env.gateway.store.getItem(caseId, 'lump-sum-grant');
    const pushesBefore = env.platform.pushes.length;
    const answer = await postVeterans({
      event_id: 'fictional-stale-rejection',
      reference: `${caseId}.lump-sum-grant`,
      receipt_no: item?.receiptNo ?? 'R3',
      status: 'rejected',
      reason: '测试理由',
      legal_basis: '测试依据',
    });
    expect(answer.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await env.gateway.store.getItem(caseId, 'lump-sum-grant');
    expect(after?.state).toBe('completed');
    expect(after?.reason).toBeUndefined();
    expect(after?.version).toBe(item?.version);
    expect(env.platform.pushes.length).toBe(pushesBefore);
  });
});
