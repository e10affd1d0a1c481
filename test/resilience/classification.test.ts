/**
 * What each kind of department failure means for the item, decided by `classifyFailure`
 * from the errors the real adapters raise against real HTTP servers on 127.0.0.1: the
 * department simulators with injected faults, and small servers that misbehave in one
 * way each. A refusal rejects with reason and legal basis, a transient failure retries,
 * a permanent one dead-letters at once, and an open breaker pauses the queue.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHrssAdapter } from '../../adapters/hrss/adapter.ts';
import {
  SIMULATED_HRSS_REFUSAL,
  startHrssSimulator,
  type HrssSimulator,
} from '../../adapters/hrss/simulator.ts';
import { createMedicalAdapter } from '../../adapters/medical/adapter.ts';
import { startMedicalSimulator, type MedicalSimulator } from '../../adapters/medical/simulator.ts';
import { createPoliceAdapter } from '../../adapters/police/adapter.ts';
import {
  SIMULATED_REFUSAL,
  startPoliceSimulator,
  type PoliceSimulator,
} from '../../adapters/police/simulator.ts';
import { createVeteransAdapter } from '../../adapters/veterans/adapter.ts';
import { startVeteransSimulator, type VeteransSimulator } from '../../adapters/veterans/simulator.ts';
import {
  classifyFailure,
  countsAsBreakerFailure,
  type FailureDecision,
} from '../../src/adapters-kit/classify.ts';
import { BreakerOpenError } from '../../src/adapters-kit/errors.ts';
import type { DepartmentAdapter, SubmissionRequest } from '../../src/adapters-kit/types.ts';
import { makeSubmission } from '../adapters/fixtures-police-hrss.ts';
import { makeMaterial, makeRequest } from '../adapters/fixtures-veterans-medical.ts';

const SECRETS = {
  veterans: 'test-veterans-secret',
  police: 'test-police-secret',
  hrss: 'test-hrss-secret',
  medical: 'test-medical-secret',
};

let sink: { url: string };
let veterans: VeteransSimulator;
let police: PoliceSimulator;
let hrss: HrssSimulator;
let medical: MedicalSimulator;
const servers: Server[] = [];

/** Acknowledges every callback, so simulators can finish their work. */
async function startSink(): Promise<{ url: string }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200).end('{}'));
  });
  return { url: await listen(server) };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Starts a server that responds to every request through `answer`. */
async function startStub(answer: (response: ServerResponse) => void): Promise<string> {
  return listen(
    createServer((request, response) => {
      request.resume();
      request.on('end', () => answer(response));
    }),
  );
}

beforeAll(async () => {
  sink = await startSink();
  veterans = await startVeteransSimulator({ secret: SECRETS.veterans, processingDelayMs: 20 });
  police = await startPoliceSimulator({ secret: SECRETS.police, processingDelayMs: 20 });
  hrss = await startHrssSimulator({ secret: SECRETS.hrss, processingDelayMs: 20, callbackUrl: sink.url });
  medical = await startMedicalSimulator({ secret: SECRETS.medical, processingDelayMs: 20 });
});

afterAll(async () => {
  await Promise.all([veterans?.close(), police?.close(), hrss?.close(), medical?.close()]);
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Submits and returns the decision for the failure; fails the test when the submit succeeds. */
async function decisionFor(adapter: DepartmentAdapter, request: SubmissionRequest): Promise<FailureDecision> {
  try {
    await adapter.submit(request);
  } catch (error) {
    return classifyFailure(error);
  }
  throw new Error('submit succeeded, but a failure was expected');
}

function checkInRequest(): SubmissionRequest {
  const materials = ['photo', 'dischargeCertificate', 'dischargeReferralLetter', 'veteranRegistrationForm'];
  return makeRequest({
    itemKey: 'veteran-check-in',
    businessCode: 'VA-CHECKIN',
    callbackUrl: sink.url,
    materials: materials.map((material) => makeMaterial(material)),
  });
}

function medicalTransferRequest(withVoucher = true): SubmissionRequest {
  return makeRequest({
    itemKey: 'medical-insurance-transfer',
    businessCode: '3201',
    callbackUrl: sink.url,
    materials: withVoucher ? [makeMaterial('medicalTransferVoucher', 'image/jpeg')] : [],
  });
}

const veteransAdapter = (baseUrl?: string): DepartmentAdapter =>
  createVeteransAdapter({ baseUrl: baseUrl ?? veterans.url, secret: SECRETS.veterans });
const policeAdapter = (secret = SECRETS.police): DepartmentAdapter =>
  createPoliceAdapter({ baseUrl: police.url, secret });
const hrssAdapter = (secret = SECRETS.hrss): DepartmentAdapter =>
  createHrssAdapter({ baseUrl: hrss.url, secret });
const medicalAdapter = (): DepartmentAdapter =>
  createMedicalAdapter({ baseUrl: medical.url, secret: SECRETS.medical });

describe('veterans failures', () => {
  it('HTML page with 200 retries', async () => {
    veterans.injectFault('html-page');

    expect((await decisionFor(veteransAdapter(), checkInRequest())).action).toBe('retry');
  });

  it('503 retries', async () => {
    veterans.injectFault('server-error');

    expect((await decisionFor(veteransAdapter(), checkInRequest())).action).toBe('retry');
  });

  it('lost reply retries', async () => {
    veterans.injectFault('reply-lost');

    expect((await decisionFor(veteransAdapter(), checkInRequest())).action).toBe('retry');
  });

  it('refusal rejects with reason and legal basis', async () => {
    const url = await startStub((response) => {
      response.writeHead(422, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          error: {
            code: 'refused_late_check_in',
            message: '测试拒绝理由：超期报到。',
            legal_basis: '测试依据第一条',
          },
        }),
      );
    });

    const decision = await decisionFor(veteransAdapter(url), checkInRequest());

    expect(decision).toMatchObject({
      action: 'reject',
      reason: '测试拒绝理由：超期报到。',
      legalBasis: '测试依据第一条',
      departmentCode: 'refused_late_check_in',
    });
  });

  it('body cut off mid-transfer retries', async () => {
    const url = await startStub((response) => {
      response.writeHead(201, { 'content-type': 'application/json', 'content-length': '200' });
      response.write('{"receipt_no":"VA0');
      response.socket?.destroy();
    });

    const decision = await decisionFor(veteransAdapter(url), checkInRequest());

    expect(decision).toMatchObject({ action: 'retry', kind: 'transient' });
  });

  it('complete reply without a receipt dead-letters', async () => {
    const url = await startStub((response) => {
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end('{"receipt_no":"VA0');
    });

    expect((await decisionFor(veteransAdapter(url), checkInRequest())).action).toBe('dead-letter');
  });

  it('302 redirect dead-letters', async () => {
    const url = await startStub((response) => {
      response.writeHead(302, { location: '/moved-elsewhere' });
      response.end();
    });

    expect((await decisionFor(veteransAdapter(url), checkInRequest())).action).toBe('dead-letter');
  });
});

describe('police failures', () => {
  it('SOAP Server fault retries', async () => {
    police.injectFault('server-fault');

    const decision = await decisionFor(policeAdapter(), makeSubmission('id-card-renewal'));

    expect(decision).toMatchObject({ action: 'retry', kind: 'transient' });
  });

  it('SOAP Client fault with a refusal rejects', async () => {
    police.injectFault('business-refusal');

    const decision = await decisionFor(policeAdapter(), makeSubmission('id-card-replacement'));

    expect(decision).toMatchObject({
      action: 'reject',
      reason: SIMULATED_REFUSAL.reason,
      legalBasis: SIMULATED_REFUSAL.legalBasis,
    });
  });

  it('SOAP Client fault without a refusal dead-letters', async () => {
    const decision = await decisionFor(
      policeAdapter('not-the-police-secret'),
      makeSubmission('id-card-renewal'),
    );

    expect(decision.action).toBe('dead-letter');
  });

  it('HTML page with 200 retries', async () => {
    police.injectFault('html-page');

    expect((await decisionFor(policeAdapter(), makeSubmission('id-card-renewal'))).action).toBe('retry');
  });

  it('truncated XML reply retries', async () => {
    police.injectFault('truncated-reply');

    expect((await decisionFor(policeAdapter(), makeSubmission('id-card-renewal'))).action).toBe('retry');
  });

  it('XML reply with a DOCTYPE dead-letters', async () => {
    police.injectFault('doctype-reply');

    expect((await decisionFor(policeAdapter(), makeSubmission('id-card-renewal'))).action).toBe(
      'dead-letter',
    );
  });
});

describe('hrss failures', () => {
  it('system error retCode retries', async () => {
    hrss.injectFault('system-error');

    expect((await decisionFor(hrssAdapter(), makeSubmission('employee-pension-enrollment'))).action).toBe(
      'retry',
    );
  });

  it('refusal retCode rejects with reason and legal basis', async () => {
    hrss.injectFault('business-refusal');

    const decision = await decisionFor(hrssAdapter(), makeSubmission('employee-pension-enrollment'));

    expect(decision).toMatchObject({
      action: 'reject',
      reason: SIMULATED_HRSS_REFUSAL.reason,
      legalBasis: SIMULATED_HRSS_REFUSAL.legalBasis,
    });
  });

  it('HTML page with 200 retries', async () => {
    hrss.injectFault('html-page');

    expect((await decisionFor(hrssAdapter(), makeSubmission('employee-pension-enrollment'))).action).toBe(
      'retry',
    );
  });

  it('truncated GBK reply retries', async () => {
    hrss.injectFault('truncated-reply');

    expect((await decisionFor(hrssAdapter(), makeSubmission('employee-pension-enrollment'))).action).toBe(
      'retry',
    );
  });

  it('XML reply with a DOCTYPE dead-letters', async () => {
    hrss.injectFault('doctype-reply');

    const decision = await decisionFor(hrssAdapter(), makeSubmission('employee-pension-enrollment'));

    expect(decision.action).toBe('dead-letter');
  });

  it('reply with a forged MAC dead-letters', async () => {
    const decision = await decisionFor(
      hrssAdapter('another-secret'),
      makeSubmission('employee-pension-enrollment'),
    );

    expect(decision.action).toBe('dead-letter');
  });
});

describe('medical failures', () => {
  it('infcode -1 retries', async () => {
    medical.injectFault('system-error');

    expect((await decisionFor(medicalAdapter(), medicalTransferRequest())).action).toBe('retry');
  });

  it('HTML page with 200 retries', async () => {
    medical.injectFault('html-page');

    expect((await decisionFor(medicalAdapter(), medicalTransferRequest())).action).toBe('retry');
  });

  it('lost reply retries', async () => {
    medical.injectFault('reply-lost');

    expect((await decisionFor(medicalAdapter(), medicalTransferRequest())).action).toBe('retry');
  });

  it('refusal rejects with reason and legal basis', async () => {
    const decision = await decisionFor(medicalAdapter(), medicalTransferRequest(false));

    expect(decision.action).toBe('reject');
    if (decision.action !== 'reject') return;
    expect(decision.reason).toContain('转移凭证');
    expect(decision.legalBasis).not.toBe('');
  });
});

describe('failures outside the adapters', () => {
  it('closed port retries', async () => {
    const server = createServer();
    const url = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    servers.splice(servers.indexOf(server), 1);

    expect((await decisionFor(veteransAdapter(url), checkInRequest())).action).toBe('retry');
  });

  it('open breaker pauses without counting', () => {
    const error = new BreakerOpenError('veterans', 2_500, 'open');

    expect(classifyFailure(error)).toMatchObject({ action: 'pause', retryAfterMs: 2_500 });
    expect(countsAsBreakerFailure(error)).toBe(false);
  });

  it('BullMQ unrecoverable error dead-letters', () => {
    const error = new Error('document abc is missing from the document store');
    error.name = 'UnrecoverableError';

    expect(classifyFailure(error).action).toBe('dead-letter');
  });

  it('unknown error retries without counting toward the breaker', () => {
    const error = new TypeError('cannot read properties of undefined');

    expect(classifyFailure(error)).toMatchObject({ action: 'retry', kind: 'unknown' });
    expect(countsAsBreakerFailure(error)).toBe(false);
  });

  it('socket reset retries and counts toward the breaker', () => {
    const error = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

    expect(classifyFailure(error)).toMatchObject({ action: 'retry', kind: 'transient' });
    expect(countsAsBreakerFailure(error)).toBe(true);
  });

  it('summary never exceeds 500 characters', () => {
    const decision = classifyFailure(new Error('x'.repeat(5_000)));

    expect(decision.summary.length).toBeLessThanOrEqual(500);
  });
});
