/**
 * Idempotency of intake on the platform case id: the same request again returns the first
 * answer, also while the first is still being stored, and stores one case; a different
 * body under the same id is a 409 that names what changed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../src/bundle/bundle.ts';
import { loadConfig } from '../../src/config.ts';
import { makeRegistrationPhoto } from '../../src/demo/materials.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createItemPresenter } from '../../src/orchestration/presenter.ts';
import { CaseStore, type NewCase } from '../../src/store/case-store.ts';
import { DataCipher } from '../../src/store/crypto.ts';
import { KeySpace } from '../../src/store/keys.ts';
import { freePort } from '../../src/support/ports.ts';
import { makeDraft, makeMaterialSet, type MaterialSet } from '../intake/case-drafts.ts';
import { postJsonCase, type ErrorBody, type SignedCaller } from '../intake/http-harness.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

describe('intake idempotency over HTTP', () => {
  let redis: TestRedis;
  let gateway: Gateway;
  let documentsDir: string;
  let caller: SignedCaller;
  let materials: MaterialSet;

  beforeAll(async () => {
    redis = await startTestRedis();
    documentsDir = await mkdtemp(join(tmpdir(), 'lianban-idempotency-documents-'));
    const callerSecret = randomBytes(24).toString('hex');
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      REDIS_URL: redis.url,
      LIANBAN_KEY_PREFIX: `lb-${randomBytes(4).toString('hex')}`,
      LIANBAN_DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      LIANBAN_DOCUMENTS_DIR: documentsDir,
      LIANBAN_PLATFORM_CALLERS: `ykb-test:${callerSecret}`,
    });
    gateway = await startGateway(config, 'api', { logger: createLogger({ level: 'silent' }) });
    caller = { gatewayUrl: gateway.url ?? '', appId: 'ykb-test', callerSecret };
    materials = await makeMaterialSet();
  });

  afterAll(async () => {
    await gateway?.close();
    await redis?.stop();
    await rm(documentsDir, { recursive: true, force: true });
  });

  function typicalWithId(platformCaseId: string): {
    form: Record<string, unknown>;
    uploads: Record<string, Buffer>;
  } {
    const draft = makeDraft('typical', materials);
    draft.set('/platformCaseId', platformCaseId);
    return { form: draft.form, uploads: draft.uploads };
  }

  async function caseMetaKeys(): Promise<string[]> {
    return gateway.store.redis.keys(`${gateway.store.keys.prefix}:case:*:meta`);
  }

  it('stores one case for identical requests sent at once', async () => {
    const { form, uploads } = typicalWithId('YKB-500106-20250929-000901');
    const answers = await Promise.all(Array.from({ length: 4 }, () => postJsonCase(caller, form, uploads)));

    for (const answer of answers) expect(answer.status).toBe(202);
    for (const answer of answers.slice(1)) expect(answer.body).toEqual(answers[0]?.body);
    expect(await caseMetaKeys()).toHaveLength(1);
    const caseId = (answers[0]?.body as { caseId: string }).caseId;
    expect(await caseMetaKeys()).toEqual([gateway.store.keys.caseMeta(caseId)]);
  });

  it('repeats the first answer later', async () => {
    const { form, uploads } = typicalWithId('YKB-500106-20250929-000902');
    const first = await postJsonCase(caller, form, uploads);
    const again = await postJsonCase(caller, form, uploads);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
  });

  it('names the changed parts of a conflicting request', async () => {
    const { form, uploads } = typicalWithId('YKB-500106-20250929-000903');
    const first = await postJsonCase(caller, form, uploads);
    expect(first.status).toBe(202);

    const changed = { ...form, channel: 'pc' };
    const conflict = await postJsonCase(caller, changed, { ...uploads, photo: makeRegistrationPhoto(2) });
    expect(conflict.status).toBe(409);
    const body = conflict.body as ErrorBody;
    expect(body.code).toBe('LB_ERR_CASE_CONFLICT');
    expect(body.details.map((detail) => detail.pointer)).toEqual([
      '/platformCaseId',
      '/channel',
      '/materials/photo',
    ]);
    expect(body.details[0]?.message).toContain((first.body as { caseId: string }).caseId);
  });
});

describe('case store claims', () => {
  let redis: TestRedis;
  let client: Redis;
  let store: CaseStore;
  const keys = new KeySpace(`lb-${randomBytes(4).toString('hex')}`);

  beforeAll(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    const cipher = new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1');
    store = new CaseStore(client, keys, cipher, createItemPresenter(loadBundle()));
  });

  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  function newCase(caseId: string, platformCaseId: string): NewCase {
    return {
      caseId,
      platformCaseId,
      bundle: 'veteran-service',
      submittedAt: '2025-09-29T09:42:10+08:00',
      form: { fictional: true },
      materials: {},
      flags: [],
      items: [],
      requestHash: 'hash-1',
      fingerprint: { '/channel': 'a' },
      answer: JSON.stringify({ caseId, platformCaseId }),
    };
  }

  it('answers an identical request while the first is storing', async () => {
    const platformCaseId = 'YKB-CLAIM-1';
    const claim = {
      caseId: 'LB-FIRST',
      requestHash: 'hash-1',
      answer: '{"caseId":"LB-FIRST"}',
      claimedAtMs: Date.now(),
      fingerprint: {},
    };
    await client.set(keys.platformCase(platformCaseId), JSON.stringify(claim));

    const result = await store.createCase(newCase('LB-SECOND', platformCaseId));
    expect(result).toEqual({ outcome: 'in_flight', caseId: 'LB-FIRST', answer: '{"caseId":"LB-FIRST"}' });
    expect(await store.getCase('LB-FIRST')).toBeNull();
    expect(await store.getCase('LB-SECOND')).toBeNull();
  });

  it('finishes a claim whose first writer died', async () => {
    const platformCaseId = 'YKB-CLAIM-2';
    const claim = {
      caseId: 'LB-DEAD',
      requestHash: 'hash-1',
      answer: '{"caseId":"LB-DEAD"}',
      claimedAtMs: Date.now() - 10 * 60_000,
      fingerprint: {},
    };
    await client.set(keys.platformCase(platformCaseId), JSON.stringify(claim));

    const result = await store.createCase(newCase('LB-RETRY', platformCaseId));
    expect(result.outcome).toBe('created');
    expect((await store.getCase('LB-DEAD'))?.answer).toBe('{"caseId":"LB-DEAD"}');
    expect(await store.getCase('LB-RETRY')).toBeNull();
  });

  it('reports a conflict with the first fingerprint', async () => {
    const platformCaseId = 'YKB-CLAIM-3';
    expect((await store.createCase(newCase('LB-A', platformCaseId))).outcome).toBe('created');
    const result = await store.createCase({ ...newCase('LB-B', platformCaseId), requestHash: 'hash-2' });
    expect(result).toEqual({ outcome: 'conflict', existingCaseId: 'LB-A', fingerprint: { '/channel': 'a' } });
  });

  it('writes one case for concurrent identical creates', async () => {
    const platformCaseId = 'YKB-CLAIM-4';
    const results = await Promise.all(
      ['LB-C1', 'LB-C2', 'LB-C3'].map((caseId) => store.createCase(newCase(caseId, platformCaseId))),
    );
    expect(results.filter((result) => result.outcome === 'created')).toHaveLength(1);
    const stored = await Promise.all(['LB-C1', 'LB-C2', 'LB-C3'].map((caseId) => store.getCase(caseId)));
    expect(stored.filter((meta) => meta !== null)).toHaveLength(1);
  });
});
