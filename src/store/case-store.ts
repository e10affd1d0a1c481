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

/**
 * Writes a new case once: the meta hash, every item hash, the first trail event and the
 * first push. It does nothing when the meta hash exists, so a request that took over a
 * stale claim cannot overwrite what the first writer stored meanwhile.
 * KEYS: meta, trail, outbox, item… ARGV: meta fields, trail event, push, item fields…
 */
const WRITE_CASE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local function write(key, encoded)
  for name, value in pairs(cjson.decode(encoded)) do redis.call('HSET', key, name, value) end
end
write(KEYS[1], ARGV[1])
for index = 4, #KEYS do write(KEYS[index], ARGV[index]) end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[3])
return 1
`;

/** Deletes the platform claim only if it still names this case id. */
const RELEASE_CLAIM_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
if raw and string.find(raw, ARGV[1], 1, true) then return redis.call('DEL', KEYS[1]) end
return 0
`;

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
  /** SHA-256 of each part of the request (top-level fields, materials), kept in the claim. */
  fingerprint?: Record<string, string>;
  answer: string;
}

export type CreateResult =
  | { outcome: 'created'; meta: CaseMeta }
  | { outcome: 'duplicate'; meta: CaseMeta }
  /** An identical request claimed the platform case id and is still storing the case. */
  | { outcome: 'in_flight'; caseId: string; answer: string }
  | { outcome: 'conflict'; existingCaseId: string; fingerprint: Record<string, string> };

/** The value stored under a platform case id while and after its case is written. */
interface PlatformClaim {
  caseId: string;
  requestHash: string;
  /** The 202 response body, returned as well to an identical request sent meanwhile. */
  answer: string;
  claimedAtMs: number;
  /** SHA-256 of each part of the request, to name the parts a conflicting request changed. */
  fingerprint: Record<string, string>;
}

/**
 * How long a claim may stay without its case before an identical request takes it over.
 * Writing a case takes milliseconds, and the write is a no-op when the case exists, so a
 * takeover never writes a case twice.
 */
const STALE_CLAIM_MS = 15_000;
/** How long an identical request waits for the first one to finish writing the case. */
const CLAIM_WAIT_MS = 2_000;
const CLAIM_POLL_MS = 50;

function parseClaim(raw: string | null): PlatformClaim | null {
  if (raw === null) return null;
  if (!raw.startsWith('{')) {
    // Claims of the first format held only `caseId|requestHash`, without the response body.
    const [caseId = '', requestHash = ''] = raw.split('|');
    return { caseId, requestHash, answer: '', claimedAtMs: 0, fingerprint: {} };
  }
  return JSON.parse(raw) as PlatformClaim;
}

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
    redis.defineCommand('lianbanReleaseClaim', { numberOfKeys: 1, lua: RELEASE_CLAIM_SCRIPT });
  }

  /**
   * Stores a new case, or finds the one already stored under the platform case id.
   * The platform index is claimed first with SET NX, and the claim keeps the request hash
   * and the 202 response body. An identical request that finds the claim waits up to
   * CLAIM_WAIT_MS for the case. When the case is still missing it returns `in_flight`,
   * which intake turns into a 503, so a 202 is never sent for a case not yet stored. If
   * the process dies between the claim and the write, an identical request after
   * STALE_CLAIM_MS writes the case under the claimed id.
   */
  async createCase(input: NewCase): Promise<CreateResult> {
    const key = this.keys.platformCase(input.platformCaseId);
    const claim: PlatformClaim = {
      caseId: input.caseId,
      requestHash: input.requestHash,
      answer: input.answer,
      claimedAtMs: Date.now(),
      fingerprint: input.fingerprint ?? {},
    };
    if ((await this.redis.set(key, JSON.stringify(claim), 'NX')) === 'OK') {
      try {
        return await this.storeCase(input);
      } catch (error) {
        // Without its case the claim would turn every retry of this request into "in
        // progress"; releasing it lets the platform's retry store the case.
        await this.releaseClaim(key, input.caseId);
        throw error;
      }
    }

    const existing = parseClaim(await this.redis.get(key));
    if (!existing)
      throw new Error(`platform case ${input.platformCaseId} lost its claim while being created`);
    if (existing.requestHash !== input.requestHash) {
      return { outcome: 'conflict', existingCaseId: existing.caseId, fingerprint: existing.fingerprint };
    }

    const meta = await this.waitForCase(existing.caseId, CLAIM_WAIT_MS);
    if (meta) return { outcome: 'duplicate', meta };
    const answer = existing.answer || input.answer.replaceAll(input.caseId, existing.caseId);
    if (Date.now() - existing.claimedAtMs < STALE_CLAIM_MS) {
      return { outcome: 'in_flight', caseId: existing.caseId, answer };
    }
    return this.takeOverClaim(key, input, { ...existing, answer });
  }

  /**
   * Writes the case of a claim whose first writer died. A short lock lets one request
   * take over, and the others get `in_flight`. A first writer that is only slow cannot
   * overwrite the result, because the case write does nothing once the case exists.
   */
  private async takeOverClaim(key: string, input: NewCase, existing: PlatformClaim): Promise<CreateResult> {
    const locked = await this.redis.set(`${key}:takeover`, input.caseId, 'PX', STALE_CLAIM_MS, 'NX');
    if (locked !== 'OK') return { outcome: 'in_flight', caseId: existing.caseId, answer: existing.answer };

    await this.redis.set(key, JSON.stringify({ ...existing, claimedAtMs: Date.now() }));
    return this.storeCase({ ...input, caseId: existing.caseId, answer: existing.answer });
  }

  private async releaseClaim(key: string, caseId: string): Promise<void> {
    try {
      await (
        this.redis as Redis & { lianbanReleaseClaim(key: string, caseId: string): Promise<number> }
      ).lianbanReleaseClaim(key, JSON.stringify(caseId));
    } catch {
      // Redis is unreachable; the claim turns stale and the next identical request takes it over.
    }
  }

  private async storeCase(input: NewCase): Promise<CreateResult> {
    await this.writeCase(input);
    const meta = await this.getCase(input.caseId);
    if (!meta) throw new Error(`case ${input.caseId} was written but cannot be read back`);
    return { outcome: 'created', meta };
  }

  private async waitForCase(caseId: string, timeoutMs: number): Promise<CaseMeta | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const meta = await this.getCase(caseId);
      if (meta || Date.now() >= deadline) return meta;
      await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
    }
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

    const keys = [
      this.keys.caseMeta(input.caseId),
      this.keys.trail(input.caseId),
      this.keys.outbox(input.caseId),
      ...items.map((item) => this.keys.item(input.caseId, item.itemKey)),
    ];
    const args = [
      JSON.stringify(encodeFields(meta)),
      JSON.stringify(event),
      JSON.stringify({ sequence: 1, ...firstPush }),
      ...items.map((item) => JSON.stringify(encodeFields(item))),
    ];
    await this.redis.eval(WRITE_CASE_SCRIPT, keys.length, ...keys, ...args);
    // The active set is a key of its own (another Cluster slot), so it is added after the script.
    await this.redis.sadd(this.keys.activeCases(), input.caseId);
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

  /**
   * Reads what a deadline scan needs of many cases and all their items, in two pipelines.
   * The encrypted form is not read. Case ids without a case are left out.
   */
  async readDeadlineViews(caseIds: readonly string[]): Promise<CaseDeadlineView[]> {
    const metaPipeline = this.redis.pipeline();
    for (const caseId of caseIds) metaPipeline.hmget(this.keys.caseMeta(caseId), ...DEADLINE_META_FIELDS);
    const metas: CaseDeadlineView['meta'][] = [];
    for (const [error, reply] of (await metaPipeline.exec()) ?? []) {
      if (error) throw error;
      const raw = zipFields(DEADLINE_META_FIELDS, reply as Array<string | null>);
      if (raw.caseId) metas.push(decodeFields<CaseDeadlineView['meta']>(raw, JSON_META_FIELDS));
    }

    const itemPipeline = this.redis.pipeline();
    for (const meta of metas) {
      for (const itemKey of meta.itemKeys) itemPipeline.hgetall(this.keys.item(meta.caseId, itemKey));
    }
    const itemReplies = (await itemPipeline.exec()) ?? [];
    let next = 0;
    return metas.map((meta) => {
      const items: ItemRecord[] = [];
      for (const [error, raw] of itemReplies.slice(next, next + meta.itemKeys.length)) {
        if (error) throw error;
        const fields = raw as Record<string, string>;
        if (fields.itemKey) items.push(decodeFields<ItemRecord>(fields, JSON_ITEM_FIELDS));
      }
      next += meta.itemKeys.length;
      return { meta, items };
    });
  }

  /**
   * Changes fields of an item without a state change, appends a trail event and queues a
   * push of the item, in one run of the transition script. `decide` receives the current
   * record and returns the change, or null when there is nothing to do. After a lost race
   * it runs again on the fresh record, so what it checked still holds when the write lands.
   * Returns the updated record, or null when the item is missing or `decide` declined.
   */
  async updateItemAndPush(
    caseId: string,
    itemKey: string,
    decide: (current: ItemRecord) => ItemFieldChange | null,
  ): Promise<ItemRecord | null> {
    for (let attempt = 0; attempt < MAX_TRANSITION_TRIES; attempt += 1) {
      const current = await this.getItem(caseId, itemKey);
      const change = current ? decide(current) : null;
      if (!current || !change) return null;

      const now = new Date().toISOString();
      const next: ItemRecord = { ...current, ...change.fields, version: current.version + 1, updatedAt: now };
      const event: TrailEvent = { at: now, type: change.eventType, itemKey, detail: change.detail };
      const result = await (this.redis as TransitionRunner).lianbanTransition(
        this.keys.item(caseId, itemKey),
        this.keys.caseMeta(caseId),
        this.keys.trail(caseId),
        this.keys.outbox(caseId),
        String(current.version),
        JSON.stringify(encodeFields({ ...change.fields, updatedAt: now })),
        JSON.stringify(event),
        await this.buildPush(caseId, [next], now),
      );
      if (result >= 0) return next;
    }
    throw new Error(`item ${caseId}.${itemKey} kept changing during ${MAX_TRANSITION_TRIES} update attempts`);
  }

  /**
   * Replaces the case's promised due time, appends a trail event and queues a push that
   * carries the new promise, in one run of the transition script. `decide` works as in
   * updateItemAndPush. Returns the new promise, or null when nothing changed.
   */
  async updatePromiseAndPush(
    caseId: string,
    decide: (meta: CaseMeta) => PromiseChange | null,
  ): Promise<PromiseChange | null> {
    for (let attempt = 0; attempt < MAX_TRANSITION_TRIES; attempt += 1) {
      const meta = await this.getCase(caseId);
      const change = meta ? decide(meta) : null;
      if (!meta || !change) return null;

      const now = new Date().toISOString();
      const { promiseDueAt, promiseDueProvisional, detail } = change;
      const event: TrailEvent = { at: now, type: 'case.promise-recomputed', detail };
      const push = JSON.stringify({
        caseId,
        platformCaseId: meta.platformCaseId,
        caseStatus: meta.status,
        changedAt: now,
        items: [],
        promiseDueAt,
        promiseDueProvisional,
      } satisfies Omit<StatusPush, 'sequence'>);
      const result = await (this.redis as TransitionRunner).lianbanTransition(
        this.keys.caseMeta(caseId),
        this.keys.caseMeta(caseId),
        this.keys.trail(caseId),
        this.keys.outbox(caseId),
        String(meta.version),
        JSON.stringify(encodeFields({ promiseDueAt, promiseDueProvisional, updatedAt: now })),
        JSON.stringify(event),
        push,
      );
      if (result >= 0) return change;
    }
    throw new Error(`case ${caseId} kept changing during ${MAX_TRANSITION_TRIES} update attempts`);
  }

  /** Tells whether a department event was applied to the case (see markEventApplied). */
  async isEventApplied(caseId: string, eventKey: string): Promise<boolean> {
    return (await this.redis.sismember(this.keys.appliedEvents(caseId), eventKey)) === 1;
  }

  /**
   * Counts one more re-dispatch of an item by the reconciler and returns the new count.
   * The counter lives beside the case's keys, under the case's hash tag.
   */
  async countRedispatch(caseId: string, itemKey: string): Promise<number> {
    return this.redis.hincrby(`${this.keys.prefix}:case:{${caseId}}:redispatches`, itemKey, 1);
  }

  /**
   * Yields the ids of cases whose outbox holds undelivered pushes, finished cases
   * included. Redis deletes a list when its last element is popped, so an outbox key
   * exists exactly while a push waits. Walks the key space with SCAN, in O(keys) per walk.
   */
  async *casesWithPendingPushes(): AsyncGenerator<string> {
    const outboxKey = this.keys.outbox('*');
    // The prefix is matched literally: SCAN MATCH would read * ? [ ] \\ in it as a pattern.
    const literalPrefix = outboxKey.slice(0, outboxKey.indexOf('{') + 1).replace(/[*?[\]\\]/g, '\\$&');
    const pattern = `${literalPrefix}*}:outbox`;
    for await (const keys of this.redis.scanStream({ match: pattern, count: 500 }) as AsyncIterable<
      string[]
    >) {
      for (const key of keys) {
        const caseId = key.slice(key.indexOf('{') + 1, key.lastIndexOf('}'));
        if (caseId !== '') yield caseId;
      }
    }
  }
}

/** Case fields a deadline scan reads; never the encrypted form. */
const DEADLINE_META_FIELDS = [
  'caseId',
  'platformCaseId',
  'status',
  'createdAt',
  'itemKeys',
  'promiseDueAt',
  'promiseDueProvisional',
] as const;

export interface CaseDeadlineView {
  meta: Pick<CaseMeta, (typeof DEADLINE_META_FIELDS)[number]>;
  items: ItemRecord[];
}

/** A field change made by updateItemAndPush, with the trail event that records it. */
export interface ItemFieldChange {
  fields: Partial<Omit<ItemRecord, 'caseId' | 'itemKey' | 'state' | 'version' | 'updatedAt'>>;
  eventType: string;
  detail: string;
}

export interface PromiseChange {
  promiseDueAt: string;
  promiseDueProvisional: boolean;
  /** Trail detail, e.g. the old and the new due time. */
  detail: string;
}

function zipFields(names: readonly string[], values: Array<string | null>): Record<string, string> {
  const fields: Record<string, string> = {};
  names.forEach((name, index) => {
    const value = values[index];
    if (value !== null && value !== undefined) fields[name] = value;
  });
  return fields;
}
