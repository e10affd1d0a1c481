/**
 * Case records in Redis. Every change of an item or case state is one Lua script run.
 * The script checks the record's version (optimistic concurrency), writes the new fields
 * and appends an audit event to the case trail. For a status change it also queues a
 * platform push with the next per-case sequence number.
 */
import type { Redis } from 'ioredis';
import type { DataCipher } from './crypto.ts';
import type { KeySpace } from './keys.ts';
import type {
  CaseMeta,
  CaseStatus,
  ItemRecord,
  ItemState,
  PushItem,
  StatusPush,
  StoredMaterial,
  TrailEvent,
} from './records.ts';

const TRANSITION_SCRIPT = `
local version = redis.call('HGET', KEYS[1], 'version')
if version ~= ARGV[1] then return -1 end
local fields = cjson.decode(ARGV[2])
for name, value in pairs(fields) do redis.call('HSET', KEYS[1], name, value) end
redis.call('HINCRBY', KEYS[1], 'version', 1)
local trailSeq = redis.call('HINCRBY', KEYS[2], 'trailSeq', 1)
redis.call('RPUSH', KEYS[3], '{"seq":' .. trailSeq .. ',' .. string.sub(ARGV[3], 2))
if ARGV[4] == '' then return 0 end
local pushSeq = redis.call('HINCRBY', KEYS[2], 'pushSeq', 1)
redis.call('RPUSH', KEYS[4], '{"sequence":' .. pushSeq .. ',' .. string.sub(ARGV[4], 2))
return pushSeq
`;

const MAX_TRANSITION_TRIES = 8;

export interface NewItem {
  itemKey: string;
  department: string;
  state: ItemState;
  waitsFor: string[];
  takes: Array<{ material: string; fromItem: string }>;
  idempotencyKey: string;
  message?: string;
}

export interface NewCase {
  caseId: string;
  platformCaseId: string;
  bundle: string;
  submittedAt: string;
  form: unknown;
  materials: Record<string, StoredMaterial>;
  flags: string[];
  items: NewItem[];
  promiseDueAt?: string;
  promiseDueProvisional?: boolean;
  requestHash: string;
  answer: string;
}

export type CreateResult =
  | { outcome: 'created'; meta: CaseMeta }
  | { outcome: 'duplicate'; meta: CaseMeta }
  | { outcome: 'conflict'; existingCaseId: string };

export interface ItemPatch {
  state?: ItemState;
  receiptNo?: string;
  receivedAt?: string;
  dueAt?: string;
  dueProvisional?: boolean;
  reason?: string;
  legalBasis?: string;
  message?: string;
  documents?: ItemRecord['documents'];
  lastError?: string;
}

type TransitionRunner = Redis & {
  lianbanTransition(
    target: string,
    meta: string,
    trail: string,
    outbox: string,
    version: string,
    fields: string,
    event: string,
    push: string,
  ): Promise<number>;
};

function encodeFields(record: object): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(record)) {
    if (value === undefined) continue;
    fields[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return fields;
}

const JSON_ITEM_FIELDS = ['waitsFor', 'takes', 'documents', 'dueProvisional', 'version'] as const;
const JSON_META_FIELDS = ['itemKeys', 'materials', 'flags', 'promiseDueProvisional', 'version'] as const;

function decodeFields<T>(raw: Record<string, string>, jsonFields: readonly string[]): T {
  const record: Record<string, unknown> = { ...raw };
  for (const name of jsonFields) {
    const value = raw[name];
    if (value !== undefined) record[name] = JSON.parse(value);
  }
  return record as T;
}

export class CaseStore {
  constructor(
    readonly redis: Redis,
    readonly keys: KeySpace,
    private readonly cipher: DataCipher,
    private readonly formatPushItem: (item: ItemRecord) => PushItem,
  ) {
    redis.defineCommand('lianbanTransition', { numberOfKeys: 4, lua: TRANSITION_SCRIPT });
  }

  /**
   * Stores a new case, or finds the one already stored under the platform case id.
   * The platform index is claimed first with SET NX. If the process dies before the case
   * keys are written, the next identical request finds the claim without a case, so it
   * writes the case under the claimed id.
   */
  async createCase(input: NewCase): Promise<CreateResult> {
    const claim = `${input.caseId}|${input.requestHash}`;
    const claimed = await this.redis.set(this.keys.platformCase(input.platformCaseId), claim, 'NX');
    let caseId = input.caseId;
    if (claimed !== 'OK') {
      const existing = (await this.redis.get(this.keys.platformCase(input.platformCaseId))) ?? '';
      const [existingCaseId = '', existingHash] = existing.split('|');
      if (existingHash !== input.requestHash) return { outcome: 'conflict', existingCaseId };

      const meta = await this.getCase(existingCaseId);
      if (meta) return { outcome: 'duplicate', meta };
      caseId = existingCaseId;
    }

    await this.writeCase({ ...input, caseId, answer: input.answer.replaceAll(input.caseId, caseId) });
    const meta = await this.getCase(caseId);
    if (!meta) throw new Error(`case ${caseId} was written but cannot be read back`);
    return { outcome: 'created', meta };
  }

  private async writeCase(input: NewCase): Promise<void> {
    const now = new Date().toISOString();
    const meta: Omit<CaseMeta, 'version'> & {
      version: number;
      formCipher: string;
      trailSeq: number;
      pushSeq: number;
    } = {
      caseId: input.caseId,
      platformCaseId: input.platformCaseId,
      bundle: input.bundle,
      status: 'in_progress',
      version: 0,
      createdAt: now,
      submittedAt: input.submittedAt,
      itemKeys: input.items.map((item) => item.itemKey),
      materials: input.materials,
      flags: input.flags,
      promiseDueAt: input.promiseDueAt,
      promiseDueProvisional: input.promiseDueProvisional,
      answer: input.answer,
      requestHash: input.requestHash,
      updatedAt: now,
      formCipher: this.cipher.encryptJson(input.form),
      trailSeq: 1,
      pushSeq: 1,
    };
    const items: ItemRecord[] = input.items.map((item) => ({
      caseId: input.caseId,
      itemKey: item.itemKey,
      department: item.department,
      state: item.state,
      version: 0,
      waitsFor: item.waitsFor,
      takes: item.takes,
      idempotencyKey: item.idempotencyKey,
      message: item.message,
      documents: [],
      updatedAt: now,
    }));
    const firstPush: Omit<StatusPush, 'sequence'> = {
      caseId: input.caseId,
      platformCaseId: input.platformCaseId,
      caseStatus: 'in_progress',
      changedAt: now,
      items: items.map((item) => this.formatPushItem(item)),
    };
    const event: TrailEvent & { seq: number } = { seq: 1, at: now, type: 'case.accepted' };

    const transaction = this.redis.multi();
    transaction.hset(this.keys.caseMeta(input.caseId), encodeFields(meta));
    for (const item of items)
      transaction.hset(this.keys.item(input.caseId, item.itemKey), encodeFields(item));
    transaction.rpush(this.keys.trail(input.caseId), JSON.stringify(event));
    transaction.rpush(this.keys.outbox(input.caseId), JSON.stringify({ sequence: 1, ...firstPush }));
    transaction.sadd(this.keys.activeCases(), input.caseId);
    await transaction.exec();
  }

  async getCase(caseId: string): Promise<CaseMeta | null> {
    const raw = await this.redis.hgetall(this.keys.caseMeta(caseId));
    if (!raw.caseId) return null;
    const { formCipher: _formCipher, ...rest } = raw;
    return decodeFields<CaseMeta>(rest, JSON_META_FIELDS);
  }

  /** Decrypts the case form. The result contains personal data, so never log or queue it. */
  async readForm(caseId: string): Promise<Record<string, unknown>> {
    const formCipher = await this.redis.hget(this.keys.caseMeta(caseId), 'formCipher');
    if (!formCipher) throw new Error(`case ${caseId} has no stored form`);
    return this.cipher.decryptJson<Record<string, unknown>>(formCipher);
  }

  async getItem(caseId: string, itemKey: string): Promise<ItemRecord | null> {
    const raw = await this.redis.hgetall(this.keys.item(caseId, itemKey));
    if (!raw.itemKey) return null;
    return decodeFields<ItemRecord>(raw, JSON_ITEM_FIELDS);
  }

  async getItems(caseId: string, itemKeys?: string[]): Promise<ItemRecord[]> {
    const keys = itemKeys ?? (await this.getCase(caseId))?.itemKeys ?? [];
    const pipeline = this.redis.pipeline();
    for (const itemKey of keys) pipeline.hgetall(this.keys.item(caseId, itemKey));
    const results = (await pipeline.exec()) ?? [];
    return results
      .map(([, raw]) => raw as Record<string, string>)
      .filter((raw) => raw.itemKey)
      .map((raw) => decodeFields<ItemRecord>(raw, JSON_ITEM_FIELDS));
  }

  /**
   * Moves an item from one of `from` to the patch's state (or updates fields in place
   * when the patch has no state). Returns the updated record, or null when the item is
   * not in any of `from`: the caller lost a race or the event is stale.
   */
  async transitionItem(
    caseId: string,
    itemKey: string,
    from: readonly ItemState[],
    patch: ItemPatch,
    detail?: string,
  ): Promise<ItemRecord | null> {
    for (let attempt = 0; attempt < MAX_TRANSITION_TRIES; attempt += 1) {
      const current = await this.getItem(caseId, itemKey);
      if (!current || !from.includes(current.state)) return null;

      const now = new Date().toISOString();
      const next: ItemRecord = { ...current, ...patch, version: current.version + 1, updatedAt: now };
      const stateChanges = patch.state !== undefined && patch.state !== current.state;
      const event: TrailEvent = {
        at: now,
        type: stateChanges ? 'item.state' : 'item.update',
        itemKey,
        from: current.state,
        to: next.state,
        detail,
      };
      const push = stateChanges ? await this.buildPush(caseId, [next], now) : '';

      const result = await (this.redis as TransitionRunner).lianbanTransition(
        this.keys.item(caseId, itemKey),
        this.keys.caseMeta(caseId),
        this.keys.trail(caseId),
        this.keys.outbox(caseId),
        String(current.version),
        JSON.stringify(encodeFields({ ...patch, updatedAt: now })),
        JSON.stringify(event),
        push,
      );
      if (result >= 0) return next;
    }
    throw new Error(`item ${caseId}.${itemKey} kept changing during ${MAX_TRANSITION_TRIES} update attempts`);
  }

  /** Moves the case status; returns false when the case is not in `from`. */
  async transitionCase(caseId: string, from: CaseStatus, to: CaseStatus, detail?: string): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_TRANSITION_TRIES; attempt += 1) {
      const meta = await this.getCase(caseId);
      if (!meta || meta.status !== from) return false;

      const now = new Date().toISOString();
      const event: TrailEvent = { at: now, type: 'case.state', from, to, detail };
      const push = JSON.stringify({
        caseId,
        platformCaseId: meta.platformCaseId,
        caseStatus: to,
        changedAt: now,
        items: [],
      } satisfies Omit<StatusPush, 'sequence'>);
      const result = await (this.redis as TransitionRunner).lianbanTransition(
        this.keys.caseMeta(caseId),
        this.keys.caseMeta(caseId),
        this.keys.trail(caseId),
        this.keys.outbox(caseId),
        String(meta.version),
        JSON.stringify({ status: to, updatedAt: now }),
        JSON.stringify(event),
        push,
      );
      if (result >= 0) {
        if (to !== 'in_progress') await this.redis.srem(this.keys.activeCases(), caseId);
        return true;
      }
    }
    throw new Error(`case ${caseId} kept changing during ${MAX_TRANSITION_TRIES} update attempts`);
  }

  private async buildPush(caseId: string, items: ItemRecord[], changedAt: string): Promise<string> {
    const meta = await this.getCase(caseId);
    if (!meta) throw new Error(`case ${caseId} not found`);
    const push: Omit<StatusPush, 'sequence'> = {
      caseId,
      platformCaseId: meta.platformCaseId,
      caseStatus: meta.status,
      changedAt,
      items: items.map((item) => this.formatPushItem(item)),
    };
    return JSON.stringify(push);
  }

  /** Records that a department event was applied; false when it was applied before. */
  async markEventApplied(caseId: string, eventKey: string): Promise<boolean> {
    return (await this.redis.sadd(this.keys.appliedEvents(caseId), eventKey)) === 1;
  }

  async appendTrail(caseId: string, event: TrailEvent): Promise<void> {
    const seq = await this.redis.hincrby(this.keys.caseMeta(caseId), 'trailSeq', 1);
    await this.redis.rpush(this.keys.trail(caseId), JSON.stringify({ seq, ...event }));
  }

  async getTrail(caseId: string): Promise<Array<TrailEvent & { seq: number }>> {
    const entries = await this.redis.lrange(this.keys.trail(caseId), 0, -1);
    return entries.map((entry) => JSON.parse(entry) as TrailEvent & { seq: number });
  }

  async peekOutbox(caseId: string): Promise<StatusPush | null> {
    const head = await this.redis.lindex(this.keys.outbox(caseId), 0);
    return head ? (JSON.parse(head) as StatusPush) : null;
  }

  /** Removes the outbox head only if it is still the push with this sequence number. */
  async removeOutboxHead(caseId: string, sequence: number): Promise<void> {
    const head = await this.peekOutbox(caseId);
    if (head?.sequence === sequence) await this.redis.lpop(this.keys.outbox(caseId));
  }

  async activeCaseIds(): Promise<string[]> {
    return this.redis.smembers(this.keys.activeCases());
  }
}
