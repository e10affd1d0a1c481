/**
 * A representative part of the intake rule table over HTTP, against a whole running
 * system: each invalid case gets one 422 listing exactly its problems, and leaves no case
 * key, no claim, no queued job and no document file behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnvironment, type Environment } from '../../src/demo/environment.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { makeDraft, makeMaterialSet, type MaterialSet } from '../intake/case-drafts.ts';
import {
  documentFiles,
  postJsonCase,
  postMultipartCase,
  queuedJobCount,
  storedCaseKeys,
  type ErrorBody,
} from '../intake/http-harness.ts';
import { INVALID_ROWS, VALID_ROWS } from '../intake/rule-table.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

const HTTP_ROWS = [
  'check-in not selected',
  'both medical enrollments',
  'transfer without enrollment when new to Chongqing',
  'settlement section missing',
  'placement by job assignment',
  'reserve registration not done',
  'applicant check digit wrong',
  'female sex with male number',
  'head province 00',
  'district outside Chongqing',
  'Liangjiang district before it existed',
  'ethnic group 57',
  'head Chengdu fixed line',
  'birth date 2023-02-29',
  'validity ends before it starts',
  'name null',
  'name of 51 Extension B characters',
  'Extension B name with hrss items',
  'photo below 30 KB',
  'text file as discharge certificate',
  'empty referral letter',
  'five unrelated faults',
  'applicant section full of faults',
  'items, sections and materials at once',
];

describe('intake rules over HTTP', () => {
  let redis: TestRedis;
  let env: Environment;
  let materials: MaterialSet;

  beforeAll(async () => {
    redis = await startTestRedis();
    env = await startEnvironment({ redisUrl: redis.url, logger: createLogger({ level: 'silent' }) });
    materials = await makeMaterialSet();
  });

  afterAll(async () => {
    await env?.close();
    await redis?.stop();
  });

  HTTP_ROWS.forEach((name, index) => {
    const row = INVALID_ROWS.find((candidate) => candidate.name === name);
    const transport = index % 2 === 0 ? 'JSON' : 'multipart';

    it(`rejects ${name} (${transport})`, async () => {
      if (!row) throw new Error(`no rule table row named ${name}`);
      const draft = makeDraft(row.base ?? 'typical', materials);
      row.change(draft, materials);

      const answer =
        transport === 'JSON'
          ? await postJsonCase(env, draft.form, draft.uploads)
          : await postMultipartCase(env, JSON.stringify(draft.form), draft.uploads);

      const expected = typeof row.expected === 'function' ? row.expected(materials) : row.expected;
      expect(answer.status).toBe(422);
      const body = answer.body as ErrorBody;
      expect(body.code).toBe('LB_ERR_CASE_INVALID');
      expect(body.details.map((detail) => `${detail.code} ${detail.pointer}`).sort()).toEqual(
        [...expected].sort(),
      );
      expect(await storedCaseKeys(env.gateway)).toEqual([]);
      expect(await queuedJobCount(env.gateway)).toBe(0);
      expect(await documentFiles(env.gateway.config.documentsDir)).toEqual([]);
    });
  });

  it('accepts the typical case as multipart', async () => {
    const draft = makeDraft('typical', materials);
    draft.set('/platformCaseId', 'YKB-500106-20250929-000801');
    const answer = await postMultipartCase(env, JSON.stringify(draft.form), draft.uploads);
    expect(answer.status).toBe(202);
    expect((answer.body as { warnings: unknown[] }).warnings).toEqual([]);
  });

  it('returns the Luhn warning with the acceptance', async () => {
    const row = VALID_ROWS.find((candidate) => candidate.name === 'bank card failing Luhn');
    const draft = makeDraft('typical', materials);
    row?.change?.(draft, materials);
    draft.set('/platformCaseId', 'YKB-500106-20250929-000802');

    const answer = await postJsonCase(env, draft.form, draft.uploads);
    expect(answer.status).toBe(202);
    const warnings = (answer.body as { warnings: ErrorBody['details'] }).warnings;
    expect(warnings.map((entry) => `${entry.code} ${entry.pointer}`)).toEqual([
      'LB_WARN_BANK_CARD_CHECK_DIGIT /applicant/bankAccount/cardNumber',
    ]);
    expect(warnings[0]?.message).toMatch(/Luhn/);
    expect(JSON.stringify(warnings)).not.toContain('6217000000000000005');
  });
});
