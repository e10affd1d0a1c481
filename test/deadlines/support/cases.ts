/**
 * Writes cases straight into a private Redis through the store's API, with receipt and
 * due times chosen by the test, because the department simulators stamp receipts with
 * the real clock. The form is fictional and never read.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { loadBundle, type Bundle } from '../../../src/bundle/bundle.ts';
import { createItemPresenter } from '../../../src/orchestration/presenter.ts';
import { CaseStore } from '../../../src/store/case-store.ts';
import { DataCipher } from '../../../src/store/crypto.ts';
import { KeySpace } from '../../../src/store/keys.ts';
import type { StatusPush, TrailEvent } from '../../../src/store/records.ts';

export const bundle: Bundle = loadBundle();

export function createStore(redis: Redis, keyPrefix: string): CaseStore {
  const cipher = new DataCipher(new Map([['test', randomBytes(32)]]), 'test');
  return new CaseStore(redis, new KeySpace(keyPrefix), cipher, createItemPresenter(bundle));
}

export interface TestItem {
  itemKey: string;
  /** Left out for an item not yet received by its department. */
  receivedAt?: string;
  dueAt?: string;
  dueProvisional?: boolean;
  /** `submitted` when absent. */
  state?: 'submitted' | 'accepted' | 'completed';
}

export interface TestCase {
  items: TestItem[];
  promiseDueAt?: string;
  promiseDueProvisional?: boolean;
  /** When the gateway stored the case, which the case promise counts from. */
  createdAt?: string;
}

/** Stores a case whose items are already with their departments; returns its id. */
export async function storeCase(store: CaseStore, testCase: TestCase): Promise<string> {
  const caseId = `LBTEST-${randomUUID().slice(0, 8)}`;
  await store.createCase({
    caseId,
    platformCaseId: `YKB-TEST-${caseId}`,
    bundle: bundle.key,
    submittedAt: '2025-09-30T09:00:00+08:00',
    form: { applicant: { name: '测试退役甲' } },
    materials: {},
    flags: [],
    items: testCase.items.map((item) => ({
      itemKey: item.itemKey,
      department: bundle.item(item.itemKey).department,
      state: 'waiting',
      waitsFor: [],
      takes: [],
      idempotencyKey: randomUUID(),
    })),
    promiseDueAt: testCase.promiseDueAt,
    promiseDueProvisional: testCase.promiseDueProvisional,
    requestHash: randomUUID(),
    answer: '{}',
  });
  if (testCase.createdAt)
    await store.redis.hset(store.keys.caseMeta(caseId), 'createdAt', testCase.createdAt);

  for (const item of testCase.items) await moveToDepartment(store, caseId, item);
  return caseId;
}

async function moveToDepartment(store: CaseStore, caseId: string, item: TestItem): Promise<void> {
  if (!item.receivedAt) return;
  await store.transitionItem(caseId, item.itemKey, ['waiting'], {
    state: 'submitted',
    receiptNo: `RCPT-${item.itemKey}`,
    receivedAt: item.receivedAt,
    dueAt: item.dueAt,
    dueProvisional: item.dueProvisional ?? false,
  });
  const later: Array<'accepted' | 'completed'> =
    item.state === 'completed' ? ['accepted', 'completed'] : item.state === 'accepted' ? ['accepted'] : [];
  let from: 'submitted' | 'accepted' = 'submitted';
  for (const state of later) {
    await store.transitionItem(caseId, item.itemKey, [from], { state });
    from = 'accepted';
  }
}

export async function outbox(store: CaseStore, caseId: string): Promise<StatusPush[]> {
  const entries = await store.redis.lrange(store.keys.outbox(caseId), 0, -1);
  return entries.map((entry) => JSON.parse(entry) as StatusPush);
}

export async function trailOf(store: CaseStore, caseId: string, type: string): Promise<TrailEvent[]> {
  return (await store.getTrail(caseId)).filter((event) => event.type === type);
}

/** Creates a pino logger that writes each parsed line into `lines`. */
export function capturingLogger(lines: Array<Record<string, unknown>>): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return pino({ level: 'debug' }, sink);
}
