/**
 * The shared fault model in each department simulator, seen through the real adapter.
 * Every fault must reach the gateway's side in the department's own form and be
 * classified as the failure it imitates. No fault may give an idempotency key a second
 * effect.
 */
import { request as httpRequest } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHrssAdapter } from '../../adapters/hrss/adapter.ts';
import { startHrssSimulator } from '../../adapters/hrss/simulator.ts';
import { createMedicalAdapter } from '../../adapters/medical/adapter.ts';
import { startMedicalSimulator } from '../../adapters/medical/simulator.ts';
import { createPoliceAdapter } from '../../adapters/police/adapter.ts';
import { startPoliceSimulator } from '../../adapters/police/simulator.ts';
import { createVeteransAdapter } from '../../adapters/veterans/adapter.ts';
import { startVeteransSimulator } from '../../adapters/veterans/simulator.ts';
import {
  FAULT_CONTROL_PATH,
  FaultInjector,
  FaultSettingsError,
  createSeededRandom,
  parseFaultSettings,
  type FaultInjectingSimulator,
} from '../../src/adapters-kit/faults.ts';
import {
  DepartmentError,
  PermanentDepartmentError,
  TransientDepartmentError,
} from '../../src/adapters-kit/errors.ts';
import type {
  AdapterOptions,
  DepartmentAdapter,
  DepartmentKey,
  SubmissionRequest,
} from '../../src/adapters-kit/types.ts';
import { makeSubmission } from '../adapters/fixtures-police-hrss.ts';
import {
  captureError,
  makeMaterial,
  makeRequest,
  startCallbackReceiver,
  waitFor,
  type CallbackReceiver,
} from '../adapters/fixtures-veterans-medical.ts';

const SECRET = 'fault-test-secret';
/** Long enough that no result arrives during a test unless a fault makes it early. */
const PROCESSING_DELAY_MS = 3_000;
/** Client timeouts short enough that a held response fails the call quickly. */
const SHORT_TIMEOUTS = { headersTimeoutMs: 300, bodyTimeoutMs: 300, totalTimeoutMs: 600 };

interface DepartmentSetup {
  department: DepartmentKey;
  resultMode: 'callback' | 'poll';
  start(callbackUrl: string): Promise<FaultInjectingSimulator>;
  adapter(options: AdapterOptions): DepartmentAdapter;
  request(callbackUrl: string): SubmissionRequest;
}

const SETUPS: DepartmentSetup[] = [
  {
    department: 'veterans',
    resultMode: 'callback',
    start: (callbackUrl) =>
      startVeteransSimulator({ secret: SECRET, callbackUrl, processingDelayMs: PROCESSING_DELAY_MS }),
    adapter: createVeteransAdapter,
    request: (callbackUrl) =>
      makeRequest({ itemKey: 'lump-sum-grant', businessCode: 'VA-GRANT', callbackUrl }),
  },
  {
    department: 'police',
    resultMode: 'poll',
    start: () => startPoliceSimulator({ secret: SECRET, processingDelayMs: PROCESSING_DELAY_MS }),
    adapter: createPoliceAdapter,
    request: () => makeSubmission('id-card-renewal'),
  },
  {
    department: 'hrss',
    resultMode: 'callback',
    start: (callbackUrl) =>
      startHrssSimulator({ secret: SECRET, callbackUrl, processingDelayMs: PROCESSING_DELAY_MS }),
    adapter: createHrssAdapter,
    request: (callbackUrl) => makeSubmission('employee-pension-enrollment', { callbackUrl }),
  },
  {
    department: 'medical',
    resultMode: 'callback',
    start: (callbackUrl) =>
      startMedicalSimulator({ secret: SECRET, callbackUrl, processingDelayMs: PROCESSING_DELAY_MS }),
    adapter: createMedicalAdapter,
    request: (callbackUrl) =>
      makeRequest({
        itemKey: 'employee-medical-enrollment',
        businessCode: '3101',
        callbackUrl,
        materials: [makeMaterial('electronicIdMaterial')],
      }),
  },
];

describe.each(SETUPS)('$department simulator faults', (setup) => {
  let simulator: FaultInjectingSimulator;
  let adapter: DepartmentAdapter;
  let impatientAdapter: DepartmentAdapter;
  let receiver: CallbackReceiver;

  beforeAll(async () => {
    // The receiver parses callbacks with an adapter; parsing needs only the secret.
    receiver = await startCallbackReceiver(setup.adapter({ baseUrl: 'http://127.0.0.1:1', secret: SECRET }));
    simulator = await setup.start(receiver.url);
    adapter = setup.adapter({ baseUrl: simulator.url, secret: SECRET });
    impatientAdapter = setup.adapter({ baseUrl: simulator.url, secret: SECRET, timeouts: SHORT_TIMEOUTS });
  });

  afterEach(() => simulator.clearFaults());

  afterAll(async () => {
    await simulator?.close();
    await receiver?.close();
  });

  function newRequest(): SubmissionRequest {
    return setup.request(receiver.url);
  }

  /** Ledger entries of the request's item; each department derives its own key from the idempotency key. */
  function registered(request: SubmissionRequest): number {
    return simulator.submissions.filter((submission) => submission.reference === request.reference).length;
  }

  function effectsOf(request: SubmissionRequest): number | undefined {
    const submission = simulator.submissions.find((entry) => entry.reference === request.reference);
    return submission ? simulator.effectsByKey.get(submission.idempotencyKey) : undefined;
  }

  it('answers with its transient error at error rate 1', async () => {
    simulator.setFaults({ errorRate: 1 });
    const request = newRequest();

    const error = await captureError(adapter.submit(request));

    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(registered(request)).toBe(0);
    expect(simulator.faultCounts.error).toBeGreaterThan(0);
  });

  it('is unavailable while down and recovers afterwards', async () => {
    simulator.setFaults({ downForMs: 400 });
    const request = newRequest();

    const during = await captureError(adapter.submit(request));
    await new Promise((resolve) => setTimeout(resolve, 450));
    const after = await adapter.submit(request);

    expect(during).toBeInstanceOf(TransientDepartmentError);
    expect(after.receiptNo).not.toBe('');
    expect(registered(request)).toBe(1);
  });

  it('reads nothing while down', async () => {
    const wrongSecret = setup.adapter({ baseUrl: simulator.url, secret: 'not-the-department-secret' });
    const upError = await captureError(wrongSecret.submit(newRequest()));
    simulator.setFaults({ downForMs: 60_000 });

    const downError = await captureError(wrongSecret.submit(newRequest()));

    expect(upError).toBeInstanceOf(PermanentDepartmentError);
    expect(downError).toBeInstanceOf(TransientDepartmentError);
  });

  it('resets connections while down in reset mode', async () => {
    simulator.setFaults({ downForMs: 60_000, downtimeMode: 'reset' });

    const error = await captureError(adapter.submit(newRequest()));

    expect(error).toBeInstanceOf(TransientDepartmentError);
  });

  it('holds a processed answer past the client timeout', async () => {
    simulator.setFaults({ timeoutRate: 1, timeoutHoldMs: 2_000 });
    const request = newRequest();

    const error = await captureError(impatientAdapter.submit(request));
    simulator.clearFaults();
    const repeated = await adapter.submit(request);

    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(registered(request)).toBe(1);
    expect(repeated.receiptNo).toBe(
      simulator.submissions.find((s) => s.reference === request.reference)?.receiptNo,
    );
    expect(effectsOf(request)).toBe(1);
  });

  it('resets connections at reset rate 1, before or after processing', async () => {
    const settings = { resetRate: 1, seed: 7 };
    simulator.setFaults(settings);
    const requests = Array.from({ length: 8 }, () => newRequest());

    const errors: Error[] = [];
    for (const request of requests) errors.push(await captureError(adapter.submit(request)));

    // A second injector with the same seed replays the decisions the simulator made, in order.
    const shadow = new FaultInjector([]);
    shadow.configure(settings);
    const decisions = requests.map(() => shadow.draw('submit'));
    const processedExpected = decisions.map(
      (decision) => decision.kind === 'reset' && decision.afterProcessing,
    );
    for (const error of errors) expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(requests.map((request) => registered(request) === 1)).toEqual(processedExpected);
    expect(processedExpected).toContain(true);
    expect(processedExpected).toContain(false);
  });

  it('breaks the body at malformed rate 1', async () => {
    simulator.setFaults({ malformedRate: 1 });

    const errors = await Promise.all([1, 2, 3].map(() => captureError(adapter.submit(newRequest()))));

    for (const error of errors) expect(error).toBeInstanceOf(DepartmentError);
    expect(simulator.faultCounts.malformed).toBe(3);
  });

  it('gives a repeated key no second effect whatever the faults', async () => {
    simulator.setFaults({ errorRate: 0.3, resetRate: 0.2, malformedRate: 0.2, seed: 11 });
    const request = newRequest();

    for (let attempt = 0; attempt < 12; attempt += 1) await adapter.submit(request).catch(() => undefined);
    simulator.clearFaults();
    await adapter.submit(request);

    expect(registered(request)).toBe(1);
    expect(effectsOf(request)).toBe(1);
  });

  it('adds the configured latency', async () => {
    simulator.setFaults({ latencyMs: 150 });
    const startedAtMs = Date.now();

    await adapter.submit(newRequest());

    expect(Date.now() - startedAtMs).toBeGreaterThanOrEqual(140);
  });

  if (setup.resultMode === 'callback') {
    it('reports results before answering the submit', async () => {
      simulator.setFaults({ earlyResultRate: 1 });
      const request = newRequest();

      await adapter.submit(request);

      const final = receiver.outcomes.find(
        (outcome) => outcome.reference === request.reference && outcome.status === 'completed',
      );
      expect(final).toBeDefined();
      expect(simulator.faultCounts['early-result']).toBe(1);
    });

    it('sends every callback twice', async () => {
      simulator.setFaults({ duplicateCallbacks: true, earlyResultRate: 1 });
      const request = newRequest();

      await adapter.submit(request);

      const copies = receiver.outcomes.filter((outcome) => outcome.reference === request.reference);
      const eventIds = copies.map((outcome) => outcome.eventId);
      expect(eventIds.length).toBe(4);
      expect(new Set(eventIds).size).toBe(2);
    });
  } else {
    it('decides an early item at receipt, so the first query finds it finished', async () => {
      simulator.setFaults({ earlyResultRate: 1 });
      const request = newRequest();

      const receipt = await adapter.submit(request);
      const outcome = await adapter.queryStatus?.({
        reference: request.reference,
        receiptNo: receipt.receiptNo,
        idempotencyKey: request.idempotencyKey,
      });

      expect(outcome?.status).toBe('completed');
    });

    it('answers status queries with faults only when the scope is all', async () => {
      const request = newRequest();
      const receipt = await adapter.submit(request);
      const query = {
        reference: request.reference,
        receiptNo: receipt.receiptNo,
        idempotencyKey: request.idempotencyKey,
      };

      simulator.setFaults({ errorRate: 1 });
      const submitScope = await adapter.queryStatus?.(query);
      simulator.setFaults({ errorRate: 1, scope: 'all' });
      const allScope = await captureError(adapter.queryStatus?.(query) ?? Promise.resolve());

      expect(submitScope === null || submitScope?.status === 'accepted').toBe(true);
      expect(allScope).toBeInstanceOf(TransientDepartmentError);
    });
  }

  describe('control endpoint', () => {
    interface ControlAnswer {
      status: number;
      json: { settings?: unknown; down?: boolean; downUntil?: string; error?: string };
    }

    async function control(method: 'GET' | 'POST' | 'DELETE', body?: object): Promise<ControlAnswer> {
      const response = await httpRequest(`${simulator.url}${FAULT_CONTROL_PATH}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      });
      return { status: response.statusCode, json: (await response.body.json()) as ControlAnswer['json'] };
    }

    it('sets, shows and clears faults', async () => {
      const set = await control('POST', { errorRate: 1, seed: 3 });
      const failed = await captureError(adapter.submit(newRequest()));
      const shown = await control('GET');
      const cleared = await control('DELETE');
      const receipt = await adapter.submit(newRequest());

      expect(set.status).toBe(200);
      expect(failed).toBeInstanceOf(TransientDepartmentError);
      expect(shown.json.settings).toEqual({ errorRate: 1, seed: 3 });
      expect(cleared.json.settings).toEqual({});
      expect(receipt.receiptNo).not.toBe('');
    });

    it('reports a down department with its end time', async () => {
      const until = new Date(Date.now() + 60_000).toISOString();

      const shown = await control('POST', { downUntil: until });

      expect(shown.json.down).toBe(true);
      expect(shown.json.downUntil).toBe(until);
    });

    it('rejects unknown or out-of-range settings', async () => {
      const unknown = await control('POST', { errorRatio: 0.2 });
      const range = await control('POST', { errorRate: 1.5 });
      const sum = await control('POST', { errorRate: 0.7, timeoutRate: 0.5 });
      const queued = await control('POST', { queued: [{ fault: 'no-such-fault' }] });

      expect(unknown.status).toBe(400);
      expect(unknown.json.error).toContain('errorRatio');
      expect(range.status).toBe(400);
      expect(sum.status).toBe(400);
      expect(queued.status).toBe(400);
    });

    it('queues one-shot faults by name', async () => {
      const oneShot =
        setup.department === 'hrss'
          ? 'system-error'
          : setup.department === 'police'
            ? 'server-fault'
            : 'server-error';

      await control('POST', { queued: [{ fault: oneShot, times: 1 }] });
      const first = await captureError(adapter.submit(newRequest()));
      const second = await adapter.submit(newRequest());

      expect(first).toBeInstanceOf(TransientDepartmentError);
      expect(second.receiptNo).not.toBe('');
      expect(simulator.faultCounts.queued).toBeGreaterThanOrEqual(1);
    });
  });
});

describe('fault injector', () => {
  it('draws the same decisions from the same seed', () => {
    const draws = (seed: number): string[] => {
      const injector = new FaultInjector([]);
      injector.configure({ seed, errorRate: 0.2, timeoutRate: 0.1, resetRate: 0.1, malformedRate: 0.1 });
      return Array.from({ length: 200 }, () => injector.draw('submit').kind);
    };

    expect(draws(42)).toEqual(draws(42));
    expect(draws(42)).not.toEqual(draws(43));
  });

  it('injects each fault at about its configured rate', () => {
    const injector = new FaultInjector([]);
    injector.configure({ seed: 5, errorRate: 0.2, timeoutRate: 0.05 });

    for (let count = 0; count < 10_000; count += 1) injector.draw('submit');

    expect(injector.counts.error).toBeGreaterThan(1_800);
    expect(injector.counts.error).toBeLessThan(2_200);
    expect(injector.counts.timeout).toBeGreaterThan(400);
    expect(injector.counts.timeout).toBeLessThan(600);
  });

  it('spreads seeded numbers over [0, 1)', () => {
    const random = createSeededRandom(9);
    const values = Array.from({ length: 1_000 }, random);

    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(values.filter((value) => value < 0.5).length).toBeGreaterThan(450);
  });

  it('rejects settings a typo would silently ignore', () => {
    expect(() => parseFaultSettings({ errorrate: 0.2 })).toThrow(FaultSettingsError);
    expect(() => parseFaultSettings({ downtimeMode: 'refuse' })).toThrow(/downtimeMode/);
    expect(() => parseFaultSettings({ downUntil: 'tomorrow' })).toThrow(/downUntil/);
    expect(() => parseFaultSettings([])).toThrow(/JSON object/);
  });

  it('releases held answers when stopped', async () => {
    const injector = new FaultInjector([]);
    const held = injector.hold(60_000);

    injector.stop();

    await expect(held).resolves.toBeUndefined();
  });

  it('rejects an unknown queued fault name', () => {
    const injector = new FaultInjector(['server-error'] as const);

    expect(() => injector.enqueue('other' as 'server-error', 1)).toThrow(/unknown fault/);
  });

  it('counts down time only while the department is down', async () => {
    const injector = new FaultInjector([]);
    injector.configure({ downForMs: 50 });

    expect(injector.downtime()).toBe('unavailable');
    await waitFor(
      () => (injector.downtime() === undefined ? true : undefined),
      1_000,
      'the end of the downtime',
    );
    expect(injector.counts.downtime).toBeGreaterThanOrEqual(1);
  });
});
