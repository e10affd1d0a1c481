/**
 * Fictional case data and HTTP helpers for the veterans and medical adapter tests. The
 * person, numbers and addresses are invented test values, never a real applicant.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CallbackAuthError,
  CallbackFormatError,
  sha256Hex,
  type DepartmentAdapter,
  type ItemOutcome,
  type OutboundDocument,
  type RawCallback,
  type SubmissionRequest,
} from '../../src/adapters-kit/index.ts';
import { startSimulatorServer, type SimulatorReply } from '../../src/adapters-kit/simulator.ts';

/** The sections of a valid case that the veterans and medical items read (fictional person). */
export const TEST_FORM = {
  platformCaseId: 'YKB-500106-20250929-000417',
  district: '500106',
  service: {
    category: 'conscript',
    placement: 'self-employment',
    dischargeDate: '2025-09-12',
    reserveRegistration: { completed: true, date: '2025-09-22' },
  },
  applicant: {
    name: '测试退役甲',
    sex: '1',
    idType: '111',
    idNumber: '500106200003151233',
    birthDate: '2000-03-15',
    phone: '13800000000',
    contactAddress: '重庆市沙坪坝区测试路1号',
    bankAccount: { cardNumber: '6217000000000000004', bankName: '测试银行重庆沙坪坝支行' },
  },
  medicalInsurance: {
    startDate: '2025-10-01',
    district: '500106',
    township: '测试街道',
    community: '测试社区',
    transferInDistrict: '500106',
    transferMilitaryAccount: true,
    previouslyInsuredInChongqing: false,
  },
  medicalInsuranceChange: {
    field: 'phone',
    oldValue: '13800000000',
    newValue: '13800000001',
    reason: '测试变更原因：更换手机号码',
  },
  employment: {
    trade: '电工',
    preferredLocation: '500106',
    expectedMonthlySalaryYuan: 6000,
    wantsEntrepreneurshipGuidance: false,
  },
};

/** Returns a deep copy of the test form, so a test may change it without affecting others. */
export function cloneForm(): Record<string, unknown> {
  return structuredClone(TEST_FORM) as Record<string, unknown>;
}

export function makeMaterial(material: string, mediaType = 'application/pdf'): OutboundDocument {
  const content = Buffer.from(`%PDF-1.4\n% fictional test material ${material}\n%%EOF\n`);
  return { material, mediaType, sha256: sha256Hex(content), content };
}

let caseSequence = 0;

/** Builds a submission with a case id of its own, so tests never see each other's callbacks. */
export function makeRequest(fields: {
  itemKey: string;
  businessCode: string;
  callbackUrl: string;
  materials?: OutboundDocument[];
  form?: Record<string, unknown>;
}): SubmissionRequest {
  caseSequence += 1;
  const caseId = `case-test-${process.pid}-${caseSequence}`;
  return {
    caseId,
    itemKey: fields.itemKey,
    businessCode: fields.businessCode,
    idempotencyKey: `${caseId}:${fields.itemKey}`,
    reference: `${caseId}.${fields.itemKey}`,
    callbackUrl: fields.callbackUrl,
    form: fields.form ?? cloneForm(),
    materials: fields.materials ?? [],
  };
}

/** Awaits a promise that must reject and returns the error, so a test can check its fields. */
export async function captureError(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`promise rejected with a non-Error value: ${String(error)}`);
  }
  throw new Error('promise resolved, but a rejection was expected');
}

/** Polls until `read` returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  read: () => T | undefined,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface CallbackReceiver {
  url: string;
  /** Every callback received, in order of arrival. */
  raw: RawCallback[];
  /** Outcomes of the callbacks the adapter accepted, in order of arrival. */
  outcomes: ItemOutcome[];
  /** Callbacks the adapter rejected, with the error class name. */
  failures: string[];
  waitForOutcome(reference: string, status: ItemOutcome['status']): Promise<ItemOutcome>;
  close(): Promise<void>;
}

/**
 * Starts the gateway's side of the callbacks on 127.0.0.1: it hands every body to the
 * adapter and responds with 200 and the adapter's acknowledgement, or with 401 or 400.
 */
export async function startCallbackReceiver(adapter: DepartmentAdapter): Promise<CallbackReceiver> {
  const raw: RawCallback[] = [];
  const outcomes: ItemOutcome[] = [];
  const failures: string[] = [];

  const server = createServer((request, response) => {
    readBody(request)
      .then((body) => {
        const callback: RawCallback = { headers: request.headers, body };
        raw.push(callback);
        outcomes.push(...(adapter.parseCallback?.(callback) ?? []));
        const acknowledgement = adapter.acknowledgeCallback?.() ?? { contentType: 'text/plain', body: 'ok' };
        response.writeHead(200, { 'content-type': acknowledgement.contentType });
        response.end(acknowledgement.body);
      })
      .catch((error: unknown) => {
        failures.push(error instanceof Error ? error.name : 'unknown');
        response.writeHead(statusForCallbackError(error), { 'content-type': 'text/plain' });
        response.end(error instanceof Error ? error.message : 'callback failed');
      });
  });
  const url = await listen(server);

  return {
    url: `${url}/v1/callbacks/${adapter.department}`,
    raw,
    outcomes,
    failures,
    waitForOutcome: (reference, status) =>
      waitFor(
        () => outcomes.find((outcome) => outcome.reference === reference && outcome.status === status),
        5_000,
        `a ${status} callback for ${reference}`,
      ),
    close: () => closeServer(server),
  };
}

function statusForCallbackError(error: unknown): number {
  if (error instanceof CallbackAuthError) return 401;
  if (error instanceof CallbackFormatError) return 400;
  return 500;
}

export interface FakeDepartment {
  url: string;
  /** Bodies of the requests received, in order. */
  requests: { headers: IncomingMessage['headers']; body: Buffer }[];
  close(): Promise<void>;
}

/** Starts a server that responds to every request with a fixed reply, standing in for a broken department front. */
export async function startFakeDepartment(reply: SimulatorReply, replyDelayMs = 0): Promise<FakeDepartment> {
  const requests: FakeDepartment['requests'] = [];
  const server = await startSimulatorServer(async (request, body) => {
    requests.push({ headers: request.headers, body });
    if (replyDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, replyDelayMs));
    return reply;
  });
  return { url: server.url, requests, close: server.close };
}

/** Returns the URL of a port on 127.0.0.1 that was free a moment ago and has no listener now. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await closeServer(server);
  return url;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
