/**
 * Intake over HTTP: bad requests get a clear 4xx and store nothing; a valid case sent
 * as JSON with base64 materials is accepted; repeats are idempotent.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/adapters-kit/signing.ts';
import { signPlatformRequest } from '../../src/api/auth.ts';
import { startEnvironment, submitMultipart, type Environment } from '../../src/demo/environment.ts';
import { makeTypicalMaterials, type DemoMaterial } from '../../src/demo/materials.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { typicalCase } from '../support/gateway-env.ts';

interface ErrorBody {
  code: string;
  message: string;
  details: Array<{ code: string; pointer: string; message: string }>;
}

describe('case intake', () => {
  let redis: TestRedis;
  let env: Environment;
  let materials: Record<string, DemoMaterial>;

  beforeAll(async () => {
    redis = await startTestRedis();
    env = await startEnvironment({ redisUrl: redis.url, logger: createLogger({ level: 'silent' }) });
    materials = await makeTypicalMaterials();
  });

  afterAll(async () => {
    await env?.close();
    await redis?.stop();
  });

  async function post(
    body: string | Buffer,
    contentType: string,
    signed = true,
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (signed) {
      Object.assign(
        headers,
        signPlatformRequest({
          appId: env.appId,
          secret: env.callerSecret,
          method: 'POST',
          path: '/v1/cases',
          contentDigest: sha256Hex(body),
        }),
      );
    }
    const response = await request(`${env.gatewayUrl}/v1/cases`, {
      method: 'POST',
      headers,
      body,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: text ? JSON.parse(text) : null };
  }

  function jsonCase(form: Record<string, unknown>, chosen: Record<string, DemoMaterial> = materials): string {
    const encoded = Object.fromEntries(
      Object.entries(chosen).map(([key, material]) => [
        key,
        { mediaType: material.mediaType, dataBase64: material.content.toString('base64') },
      ]),
    );
    return JSON.stringify({ ...form, materials: encoded });
  }

  async function storedCaseCount(): Promise<number> {
    const keys = await env.gateway.store.redis.keys(`${env.gateway.store.keys.prefix}:case:*`);
    return keys.length;
  }

  async function queuedJobCount(): Promise<number> {
    let total = 0;
    for (const queue of env.gateway.queues.departments.values()) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      total += Object.values(counts).reduce((sum, count) => sum + count, 0);
    }
    return total;
  }

  it('rejects invalid JSON with 400', async () => {
    const answer = await post('{"platformCaseId": ', 'application/json');
    expect(answer.status).toBe(400);
    expect((answer.body as ErrorBody).code).toBe('LB_ERR_REQUEST_INVALID_JSON');
    expect(await storedCaseCount()).toBe(0);
  });

  it('rejects a wrong content type with 415', async () => {
    const answer = await post('platformCaseId=1', 'text/plain');
    expect(answer.status).toBe(415);
    expect((answer.body as ErrorBody).code).toBe('LB_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE');
    expect(await storedCaseCount()).toBe(0);
  });

  it('rejects an unsigned request with 401', async () => {
    const answer = await post(jsonCase(typicalCase()), 'application/json', false);
    expect(answer.status).toBe(401);
    expect((answer.body as ErrorBody).code).toBe('LB_ERR_AUTH_MISSING');
    expect(await storedCaseCount()).toBe(0);
  });

  it('lists every schema and material problem at once', async () => {
    const form = typicalCase();
    (form.applicant as Record<string, unknown>).sex = '5';
    (form.applicant as Record<string, unknown>).nickname = 'x';
    delete (form.service as Record<string, unknown>).dischargeDate;
    const { photo: _photo, ...withoutPhoto } = materials;

    const answer = await post(jsonCase(form, withoutPhoto), 'application/json');
    expect(answer.status).toBe(422);
    const body = answer.body as ErrorBody;
    expect(body.code).toBe('LB_ERR_CASE_INVALID');
    const pointers = body.details.map((detail) => detail.pointer);
    expect(pointers).toContain('/applicant/sex');
    expect(pointers).toContain('/applicant/nickname');
    expect(pointers).toContain('/service/dischargeDate');
    expect(pointers).toContain('/materials/photo');
    expect(body.details.find((detail) => detail.pointer === '/materials/photo')?.code).toBe(
      'LB_ERR_MATERIAL_MISSING',
    );
    for (const detail of body.details) expect(detail.message).toMatch(/[\u4e00-\u9fff]/);
    expect(await storedCaseCount()).toBe(0);
    expect(await queuedJobCount()).toBe(0);
  });

  it('refuses a photo that is not 358×441 by its content', async () => {
    const form = typicalCase();
    form.platformCaseId = 'YKB-500106-20250929-000901';
    const answer = await post(
      jsonCase(form, { ...materials, photo: materials.idCardFront as DemoMaterial }),
      'application/json',
    );
    expect(answer.status).toBe(422);
    const codes = (answer.body as ErrorBody).details.map((detail) => detail.code);
    expect(codes).toContain('LB_ERR_PHOTO_DIMENSIONS');
    expect(await storedCaseCount()).toBe(0);
  });

  it('refuses a text file declared as JPEG', async () => {
    const form = typicalCase();
    const fake: DemoMaterial = { mediaType: 'image/jpeg', content: Buffer.from('not an image, only text') };
    const answer = await post(
      jsonCase(form, { ...materials, dischargeCertificate: fake }),
      'application/json',
    );
    expect(answer.status).toBe(422);
    const detail = (answer.body as ErrorBody).details.find(
      (entry) => entry.pointer === '/materials/dischargeCertificate',
    );
    expect(detail?.code).toBe('LB_ERR_MATERIAL_TYPE');
  });

  it('answers multipart without a boundary with 400', async () => {
    const answer = await post('--x\r\n', 'multipart/form-data');
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(await storedCaseCount()).toBe(0);
  });

  it('accepts a JSON case and repeats the first answer', async () => {
    const form = typicalCase();
    form.platformCaseId = 'YKB-500106-20250929-000777';
    const body = jsonCase(form);
    const first = await post(body, 'application/json');
    expect(first.status).toBe(202);
    const again = await post(body, 'application/json');
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    const firstAnswer = first.body as { caseId: string; items: Array<{ itemKey: string }> };
    expect(firstAnswer.items.map((item) => item.itemKey).sort()).toEqual(
      [...(form.items as string[])].sort(),
    );

    const changed = { ...form, channel: 'pc' };
    const conflict = await post(jsonCase(changed), 'application/json');
    expect(conflict.status).toBe(409);
    expect((conflict.body as ErrorBody).code).toBe('LB_ERR_CASE_CONFLICT');
    expect((conflict.body as ErrorBody).details[0]?.pointer).toBe('/platformCaseId');
  });

  it('accepts the same case as multipart', async () => {
    const form = typicalCase();
    form.platformCaseId = 'YKB-500106-20250929-000778';
    const answer = await submitMultipart(env, JSON.stringify(form), materials);
    expect(answer.status).toBe(202);
    expect((answer.body as { status: string }).status).toBe('in_progress');
  });
});
