/**
 * The main job end to end: the fictional typical case goes through the real gateway,
 * a real Redis and the four department simulators over HTTP, and back to the platform
 * simulator. Expected values come from the bundle's rules: which department handles
 * each item, and which item must finish before another starts.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTypicalMaterials } from '../../src/demo/materials.ts';
import { startEnvironment, submitMultipart, type Environment } from '../../src/demo/environment.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import {
  TYPICAL_CASE_JSON,
  dumpRedisValues,
  typicalCase,
  waitForCase,
  type CaseAnswer,
} from '../support/gateway-env.ts';

const PROCESSING_DELAY_MS = 150;

// Which department handles each selected item, from the service table of the bundle.
const EXPECTED_BY_DEPARTMENT: Record<string, string[]> = {
  veterans: ['veteran-check-in', 'lump-sum-grant', 'training-eligibility'],
  police: ['household-settlement', 'id-card-renewal'],
  hrss: ['employee-pension-enrollment', 'social-security-card-application'],
  medical: ['employee-medical-enrollment', 'medical-insurance-transfer'],
};

// [earlier, later]: the later item may reach its department only after the earlier one finished.
const ORDER_CONSTRAINTS: Array<[string, string]> = [
  ...[
    'lump-sum-grant',
    'training-eligibility',
    'household-settlement',
    'id-card-renewal',
    'employee-pension-enrollment',
    'social-security-card-application',
    'employee-medical-enrollment',
    'medical-insurance-transfer',
  ].map((item): [string, string] => ['veteran-check-in', item]),
  // Settlement needs the referral letter ⑤ from check-in (covered above).
  // ⑧ comes from the ID card renewal, selected in this case.
  ['id-card-renewal', 'training-eligibility'],
  ['id-card-renewal', 'employee-pension-enrollment'],
  ['id-card-renewal', 'social-security-card-application'],
  ['id-card-renewal', 'employee-medical-enrollment'],
  // The card uses the pension enrollment data.
  ['employee-pension-enrollment', 'social-security-card-application'],
  // Not previously insured in Chongqing: the transfer follows employee medical enrollment.
  ['employee-medical-enrollment', 'medical-insurance-transfer'],
  // Medical enrollment uses the settlement data from police.
  ['household-settlement', 'employee-medical-enrollment'],
];

const PERSONAL_VALUES = [
  '测试退役甲',
  '500106200003151233',
  '测试户主乙',
  '500103197206082342',
  '6217000000000000004',
  '13800000000',
];

describe('typical case end to end', () => {
  let redis: TestRedis;
  let env: Environment;
  let logDir: string;
  let answer: CaseAnswer;
  let caseId: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    logDir = await mkdtemp(join(tmpdir(), 'lianban-e2e-log-'));
    env = await startEnvironment({
      redisUrl: redis.url,
      processingDelayMs: PROCESSING_DELAY_MS,
      policePollIntervalMs: 100,
      logger: createLogger({ file: join(logDir, 'gateway.log'), level: 'debug' }),
    });
    const submitted = await submitMultipart(env, TYPICAL_CASE_JSON, await makeTypicalMaterials());
    expect(submitted.status).toBe(202);
    caseId = (submitted.body as { caseId: string }).caseId;
    answer = await waitForCase(env, caseId);
    await env.platform.settled();
  });

  afterAll(async () => {
    await env?.close();
    await redis?.stop();
    await rm(logDir, { recursive: true, force: true });
  });

  it('completes every selected item', () => {
    expect(answer.status).toBe('completed');
    const states = Object.fromEntries(answer.items.map((item) => [item.itemKey, item.status]));
    for (const itemKey of typicalCase().items as string[]) {
      const expected = itemKey === 'military-pension-transfer' ? 'not_required' : 'completed';
      expect(states[itemKey], itemKey).toBe(expected);
    }
  });

  it('sends each department exactly its items', () => {
    for (const [department, expected] of Object.entries(EXPECTED_BY_DEPARTMENT)) {
      const simulator = env.departments[department as keyof Environment['departments']];
      const received = simulator.submissions.map((submission) => submission.itemKey).sort();
      expect(received, department).toEqual([...expected].sort());
      expect(new Set(simulator.submissions.map((s) => s.caseId)), department).toEqual(new Set([caseId]));
    }
  });

  it('respects the order of dependent items', () => {
    const receivedAt = new Map<string, number>();
    for (const simulator of Object.values(env.departments)) {
      for (const submission of simulator.submissions)
        receivedAt.set(submission.itemKey, submission.receivedAtMs);
    }
    for (const [earlier, later] of ORDER_CONSTRAINTS) {
      const first = receivedAt.get(earlier);
      const second = receivedAt.get(later);
      expect(first, earlier).toBeDefined();
      expect(second, later).toBeDefined();
      // The earlier item's result comes at least one processing delay after its receipt.
      expect(second as number, `${later} after ${earlier}`).toBeGreaterThanOrEqual(
        (first as number) + PROCESSING_DELAY_MS,
      );
    }
  });

  it('pushes every final state to the platform in order', () => {
    const states = env.platform.itemStates(caseId);
    for (const item of answer.items) expect(states.get(item.itemKey)?.status, item.itemKey).toBe(item.status);
    expect(env.platform.caseStatus(caseId)).toBe('completed');
    const sequences = env.platform.pushes
      .filter((push) => push.caseId === caseId)
      .map((push) => push.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(env.platform.rejectedSignatures).toBe(0);
  });

  it('delivers byte-identical result documents', () => {
    const produced = Object.values(env.departments).flatMap((simulator) => simulator.produced);
    const kinds = env.platform.documents.map((document) => document.kind).sort();
    expect(kinds).toEqual(['householdReferralLetter', 'medicalTransferLetter', 'trainingEligibilityForm']);
    for (const document of env.platform.documents) {
      const source = produced.find((entry) => entry.kind === document.kind);
      expect(source, document.kind).toBeDefined();
      expect(document.sha256, document.kind).toBe(source?.sha256);
      expect(document.size, document.kind).toBe(source?.size);
    }
  });

  it('keeps personal data out of Redis in clear', async () => {
    const client = new Redis(redis.url);
    try {
      const values = await dumpRedisValues(client);
      expect(values.length).toBeGreaterThan(0);
      for (const secret of PERSONAL_VALUES) {
        expect(
          values.filter((value) => value.includes(secret)),
          secret,
        ).toEqual([]);
      }
    } finally {
      client.disconnect();
    }
  });

  it('keeps personal data out of the log', async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const log = readFileSync(join(logDir, 'gateway.log'), 'utf8');
    expect(log).toContain(caseId);
    for (const secret of PERSONAL_VALUES) expect(log.includes(secret), secret).toBe(false);
  });
});
