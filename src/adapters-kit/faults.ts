/**
 * The fault model shared by the department simulators. A simulator owns one
 * `FaultInjector`, which decides the fault of each request, and keeps the department's
 * own wire form for errors (HTTP 503, a SOAP Server fault, hrss retCode 9999, medical
 * infcode -1). Faults are set at run time by a method on the simulator or over HTTP:
 *
 *   POST   /__faults   JSON `FaultSettings` (plus optional `queued`), replaces the settings
 *   GET    /__faults   the settings in force and how many faults were injected
 *   DELETE /__faults   turns every fault off
 *
 * Random faults come from a seeded generator, so a seed gives the same sequence of
 * decisions. Which request receives which decision follows the order of arrival.
 */
import type { IncomingMessage } from 'node:http';
import type { DepartmentSimulator, SimulatorOptions, SimulatorReply } from './simulator.ts';

export const FAULT_CONTROL_PATH = '/__faults';

/**
 * Longer than the adapter kit's default total timeout of 20 s, so a held response
 * reaches no client that keeps the default timeouts.
 */
export const DEFAULT_TIMEOUT_HOLD_MS = 25_000;

/** Behaviour of a down department: `unavailable` returns its transient error, `reset` destroys every connection. */
export type DowntimeMode = 'unavailable' | 'reset';

/** Requests that draw random faults: submissions only (`submit`), or status queries too (`all`). */
export type FaultScope = 'submit' | 'all';

export interface FaultSettings {
  /** Seed of the random source; the default is 1. */
  seed?: number;
  /** Delay added before every response, in milliseconds. */
  latencyMs?: number;
  /** Extra delay drawn uniformly from 0 to this value, in milliseconds. */
  latencyJitterMs?: number;
  /** Share (0 to 1) of requests answered with the department's transient error, before processing. */
  errorRate?: number;
  /** Share of requests processed whose response is held for `timeoutHoldMs`, past the client's timeout. */
  timeoutRate?: number;
  timeoutHoldMs?: number;
  /** Share of requests whose connection is destroyed, half of them before and half after processing. */
  resetRate?: number;
  /** Share of requests answered with a broken body: an HTML page before processing, or a truncated reply after. */
  malformedRate?: number;
  /** Share of new submissions whose results are reported before the submit is answered. */
  earlyResultRate?: number;
  /** Sends every callback twice, the copies at the same time. */
  duplicateCallbacks?: boolean;
  /** The department is down until this time: ISO 8601 or epoch milliseconds. */
  downUntil?: string | number;
  /** The department is down for this long from the moment the settings are applied, in milliseconds. */
  downForMs?: number;
  /** Default `unavailable`. */
  downtimeMode?: DowntimeMode;
  /** Default `submit`. */
  scope?: FaultScope;
}

/** Fault decision for one request. */
export type FaultAction =
  | { kind: 'none' }
  | { kind: 'error' }
  | { kind: 'timeout'; holdMs: number }
  | { kind: 'reset'; afterProcessing: boolean }
  | { kind: 'malformed'; variant: 'html' | 'truncated' };

export type FaultKind =
  'error' | 'timeout' | 'reset' | 'malformed' | 'downtime' | 'early-result' | 'duplicate-callback' | 'queued';

export type FaultCounts = Record<FaultKind, number>;

/** A simulator whose faults can be set at run time. `Queued` names its one-shot faults. */
export interface FaultInjectingSimulator<Queued extends string = string> extends DepartmentSimulator {
  /** Makes the next `times` requests fail with a department-specific `fault`. */
  injectFault(fault: Queued, times?: number): void;
  /** Replaces the random fault settings; `{}` turns them off. */
  setFaults(settings: FaultSettings): void;
  /** Turns off every fault, queued ones included. */
  clearFaults(): void;
  readonly faultCounts: Readonly<FaultCounts>;
  /** How many times each idempotency key's effect was carried out (registration and results). */
  readonly effectsByKey: ReadonlyMap<string, number>;
}

export type FaultSimulatorOptions = SimulatorOptions & { faults?: FaultSettings };

export class FaultSettingsError extends Error {
  override name = 'FaultSettingsError';
}

const RATE_FIELDS = ['errorRate', 'timeoutRate', 'resetRate', 'malformedRate'] as const;
const PROBABILITY_FIELDS = [...RATE_FIELDS, 'earlyResultRate'] as const;
const DURATION_FIELDS = ['latencyMs', 'latencyJitterMs', 'timeoutHoldMs', 'downForMs'] as const;
const KNOWN_FIELDS = new Set<string>([
  ...PROBABILITY_FIELDS,
  ...DURATION_FIELDS,
  'seed',
  'duplicateCallbacks',
  'downUntil',
  'downtimeMode',
  'scope',
]);

/**
 * Returns a generator of numbers in [0, 1) (mulberry32, a 32-bit state generator). The
 * same seed always gives the same sequence.
 */
export function createSeededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Checks settings read from JSON and returns them typed; throws FaultSettingsError naming the first bad field. */
export function parseFaultSettings(value: unknown): FaultSettings {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FaultSettingsError('fault settings must be a JSON object');
  }
  const record = value as Record<string, unknown>;
  const unknownField = Object.keys(record).find((field) => !KNOWN_FIELDS.has(field));
  if (unknownField !== undefined) throw new FaultSettingsError(`unknown fault setting "${unknownField}"`);

  for (const field of PROBABILITY_FIELDS) checkNumber(record, field, 0, 1);
  for (const field of DURATION_FIELDS) checkNumber(record, field, 0, 24 * 3600 * 1000);
  checkNumber(record, 'seed', 0, 2 ** 32 - 1);
  const rateSum = RATE_FIELDS.reduce((sum, field) => sum + ((record[field] as number | undefined) ?? 0), 0);
  if (rateSum > 1) throw new FaultSettingsError(`the fault rates add up to ${rateSum}, more than 1`);

  checkChoice(record, 'downtimeMode', ['unavailable', 'reset']);
  checkChoice(record, 'scope', ['submit', 'all']);
  if (record.duplicateCallbacks !== undefined && typeof record.duplicateCallbacks !== 'boolean') {
    throw new FaultSettingsError('duplicateCallbacks must be true or false');
  }
  if (record.downUntil !== undefined && Number.isNaN(toEpochMs(record.downUntil))) {
    throw new FaultSettingsError('downUntil must be an ISO 8601 time or epoch milliseconds');
  }
  return record as FaultSettings;
}

function checkNumber(record: Record<string, unknown>, field: string, min: number, max: number): void {
  const value = record[field];
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new FaultSettingsError(
      `${field} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
}

function checkChoice(record: Record<string, unknown>, field: string, choices: string[]): void {
  const value = record[field];
  if (value !== undefined && !choices.includes(value as string)) {
    throw new FaultSettingsError(
      `${field} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
}

function toEpochMs(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Date.parse(value);
  return Number.NaN;
}

function emptyCounts(): FaultCounts {
  return {
    error: 0,
    timeout: 0,
    reset: 0,
    malformed: 0,
    downtime: 0,
    'early-result': 0,
    'duplicate-callback': 0,
    queued: 0,
  };
}

/**
 * Decides the faults of one department simulator: one-shot faults queued by name come
 * first, then downtime, then a random draw against the configured rates.
 */
export class FaultInjector<Queued extends string = string> {
  readonly counts: FaultCounts = emptyCounts();
  private settings: FaultSettings = {};
  private downUntilMs = 0;
  private random = createSeededRandom(1);
  private readonly queued: Queued[] = [];
  private readonly holds = new Map<NodeJS.Timeout, () => void>();

  constructor(private readonly queuedFaults: readonly Queued[]) {}

  /** Replaces the settings and restarts the random sequence from the seed. */
  configure(settings: FaultSettings): void {
    this.settings = { ...parseFaultSettings(settings) };
    this.random = createSeededRandom(settings.seed ?? 1);
    if (settings.downForMs !== undefined) this.downUntilMs = Date.now() + settings.downForMs;
    else if (settings.downUntil !== undefined) this.downUntilMs = toEpochMs(settings.downUntil);
    else this.downUntilMs = 0;
  }

  /** Turns every fault off, queued ones included. */
  clear(): void {
    this.configure({});
    this.queued.length = 0;
  }

  isQueuedFault(name: string): name is Queued {
    return (this.queuedFaults as readonly string[]).includes(name);
  }

  enqueue(fault: Queued, times: number): void {
    if (!this.isQueuedFault(fault)) throw new FaultSettingsError(`unknown fault "${fault}"`);
    for (let count = 0; count < times; count += 1) this.queued.push(fault);
  }

  /** Takes the next queued one-shot fault, if any. */
  takeQueued(): Queued | undefined {
    const fault = this.queued.shift();
    if (fault !== undefined) this.counts.queued += 1;
    return fault;
  }

  describe(): object {
    const down = this.downUntilMs > Date.now();
    return {
      settings: this.settings,
      down,
      downUntil: down ? new Date(this.downUntilMs).toISOString() : undefined,
      queued: [...this.queued],
      counts: this.counts,
    };
  }

  /** Returns how the department behaves while down, or undefined while it is up. */
  downtime(): DowntimeMode | undefined {
    if (Date.now() >= this.downUntilMs) return undefined;
    this.counts.downtime += 1;
    return this.settings.downtimeMode ?? 'unavailable';
  }

  /** Draws the random fault for one request; status queries draw only when the scope is `all`. */
  draw(operation: 'submit' | 'query'): FaultAction {
    if (operation === 'query' && this.settings.scope !== 'all') return { kind: 'none' };
    const roll = this.random();
    let threshold = 0;
    for (const field of RATE_FIELDS) {
      threshold += this.settings[field] ?? 0;
      if (roll < threshold) return this.actionFor(field);
    }
    return { kind: 'none' };
  }

  private actionFor(field: (typeof RATE_FIELDS)[number]): FaultAction {
    switch (field) {
      case 'errorRate':
        this.counts.error += 1;
        return { kind: 'error' };
      case 'timeoutRate':
        this.counts.timeout += 1;
        return { kind: 'timeout', holdMs: this.settings.timeoutHoldMs ?? DEFAULT_TIMEOUT_HOLD_MS };
      case 'resetRate':
        this.counts.reset += 1;
        return { kind: 'reset', afterProcessing: this.random() < 0.5 };
      case 'malformedRate':
        this.counts.malformed += 1;
        return { kind: 'malformed', variant: this.random() < 0.5 ? 'html' : 'truncated' };
    }
  }

  /** Draws whether a new submission reports its results before the submit is answered. */
  drawEarlyResult(): boolean {
    const rate = this.settings.earlyResultRate ?? 0;
    if (rate === 0 || this.random() >= rate) return false;
    this.counts['early-result'] += 1;
    return true;
  }

  /** How many copies of each callback to send. */
  callbackCopies(): number {
    if (!this.settings.duplicateCallbacks) return 1;
    this.counts['duplicate-callback'] += 1;
    return 2;
  }

  /** Waits the configured latency, if any. */
  async addLatency(): Promise<void> {
    const base = this.settings.latencyMs ?? 0;
    const jitter = this.settings.latencyJitterMs ?? 0;
    const totalMs = base + (jitter > 0 ? Math.floor(this.random() * jitter) : 0);
    if (totalMs > 0) await this.hold(totalMs);
  }

  /** Waits `ms`, or less when the simulator stops first. */
  hold(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.holds.delete(timer);
        resolve();
      }, ms);
      this.holds.set(timer, resolve);
    });
  }

  /** Releases every held response at once; simulators call it on close, so closing never waits out a hold. */
  stop(): void {
    for (const [timer, resolve] of this.holds) {
      clearTimeout(timer);
      resolve();
    }
    this.holds.clear();
  }
}

/** Department-specific parts of one request, passed to `runWithFaults`. */
export interface FaultedRequest {
  operation: 'submit' | 'query';
  /** The department's transient error reply (HTTP 503, SOAP Server fault, retCode 9999, infcode -1). */
  transientReply: () => SimulatorReply;
  /** Processes the request and returns the normal reply. */
  process: () => Promise<SimulatorReply>;
  /** Called when the request reached the department but a fault kept it from being processed. */
  onUnprocessed?: () => void;
}

export const MAINTENANCE_PAGE: SimulatorReply = {
  status: 200,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body: '<!DOCTYPE html><html><head><title>系统维护</title></head><body><p>系统维护中，请稍后再试。</p></body></html>',
};

/**
 * Runs one request through latency, downtime and the random draw. A reset destroys the
 * socket, and the reply returned after it is never written.
 */
export async function runWithFaults(
  injector: FaultInjector,
  incoming: IncomingMessage,
  request: FaultedRequest,
): Promise<SimulatorReply> {
  await injector.addLatency();
  const action = downtimeAction(injector.downtime()) ?? injector.draw(request.operation);
  const unprocessed = unprocessedReply(action, incoming, request);
  if (unprocessed !== undefined) {
    request.onUnprocessed?.();
    return unprocessed;
  }

  const reply = await request.process();
  if (action.kind === 'timeout') await injector.hold(action.holdMs);
  if (action.kind === 'reset') return resetConnection(incoming);
  if (action.kind === 'malformed') return truncateReply(reply);
  return reply;
}

/**
 * Returns the downtime reply for a request, or undefined while the department is up. A
 * simulator that parses a request before `runWithFaults` calls it first, so a down
 * department reads nothing.
 */
export function replyWhileDown(
  injector: FaultInjector,
  incoming: IncomingMessage,
  transientReply: () => SimulatorReply,
): SimulatorReply | undefined {
  const action = downtimeAction(injector.downtime());
  if (action === undefined) return undefined;
  return action.kind === 'reset' ? resetConnection(incoming) : transientReply();
}

/** Maps a downtime mode to the fault it behaves like: the transient error, or a reset before processing. */
function downtimeAction(mode: DowntimeMode | undefined): FaultAction | undefined {
  if (mode === 'unavailable') return { kind: 'error' };
  if (mode === 'reset') return { kind: 'reset', afterProcessing: false };
  return undefined;
}

/** Returns the reply of a fault that strikes before processing, or undefined when the request goes on. */
function unprocessedReply(
  action: FaultAction,
  incoming: IncomingMessage,
  request: FaultedRequest,
): SimulatorReply | undefined {
  if (action.kind === 'error') return request.transientReply();
  if (action.kind === 'malformed' && action.variant === 'html') return MAINTENANCE_PAGE;
  if (action.kind === 'reset' && !action.afterProcessing) return resetConnection(incoming);
  return undefined;
}

/** Destroys the client's connection, as a crashed proxy or a network fault would. */
export function resetConnection(incoming: IncomingMessage): SimulatorReply {
  incoming.socket.destroy();
  return { status: 500, body: '' };
}

/** Cuts a reply's body in half, as when a connection drops mid-response. */
export function truncateReply(reply: SimulatorReply): SimulatorReply {
  const body = Buffer.from(reply.body);
  return { ...reply, body: body.subarray(0, Math.floor(body.length / 2)) };
}

/**
 * Handles the fault control endpoint, or returns undefined for any other path. The
 * endpoint belongs to the simulator, never to the department's protocol, so it ignores
 * downtime and faults.
 */
export function handleFaultControl<Queued extends string>(
  incoming: IncomingMessage,
  body: Buffer,
  injector: FaultInjector<Queued>,
): SimulatorReply | undefined {
  const path = new URL(incoming.url ?? '/', 'http://simulator.invalid').pathname;
  if (path !== FAULT_CONTROL_PATH) return undefined;

  try {
    if (incoming.method === 'GET') return controlReply(200, injector.describe());
    if (incoming.method === 'DELETE') {
      injector.clear();
      return controlReply(200, injector.describe());
    }
    if (incoming.method === 'POST') {
      applyControlBody(injector, body);
      return controlReply(200, injector.describe());
    }
    return { status: 405, headers: { allow: 'GET, POST, DELETE' }, body: 'method not allowed' };
  } catch (error) {
    if (!(error instanceof FaultSettingsError)) throw error;
    return controlReply(400, { error: error.message });
  }
}

function applyControlBody<Queued extends string>(injector: FaultInjector<Queued>, body: Buffer): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new FaultSettingsError('the request body is not JSON');
  }
  const { queued, ...settings } = (parsed ?? {}) as { queued?: unknown } & Record<string, unknown>;
  const entries = readQueuedEntries(queued);
  const unknown = entries.find((entry) => !injector.isQueuedFault(entry.fault));
  if (unknown !== undefined) throw new FaultSettingsError(`unknown fault "${unknown.fault}"`);

  injector.configure(parseFaultSettings(settings));
  for (const entry of entries) injector.enqueue(entry.fault as Queued, entry.times);
}

function readQueuedEntries(queued: unknown): Array<{ fault: string; times: number }> {
  if (queued === undefined) return [];
  if (!Array.isArray(queued)) throw new FaultSettingsError('queued must be an array of { fault, times }');
  return queued.map((entry: unknown) => {
    const { fault, times = 1 } = (entry ?? {}) as { fault?: unknown; times?: unknown };
    if (typeof fault !== 'string') throw new FaultSettingsError('each queued entry needs a fault name');
    if (typeof times !== 'number' || !Number.isInteger(times) || times < 1 || times > 10_000) {
      throw new FaultSettingsError(`times of queued fault "${fault}" must be an integer from 1 to 10000`);
    }
    return { fault, times };
  });
}

function controlReply(status: number, body: object): SimulatorReply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

/**
 * Sends one callback once, or twice when duplicate callbacks are on; the two copies race
 * each other to the gateway. Returns true when at least one copy was acknowledged.
 */
export async function sendCallbackCopies(
  injector: FaultInjector,
  send: () => Promise<boolean>,
): Promise<boolean> {
  const copies = injector.callbackCopies();
  const results = await Promise.all(Array.from({ length: copies }, () => send()));
  return results.some(Boolean);
}

/** Counts carried-out effects per idempotency key, the measure of exactly-once processing. */
export class EffectCounter {
  readonly byKey = new Map<string, number>();

  record(idempotencyKey: string): void {
    this.byKey.set(idempotencyKey, (this.byKey.get(idempotencyKey) ?? 0) + 1);
  }
}
