import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import iconv from 'iconv-lite';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHrssAdapter } from '../../adapters/hrss/adapter.ts';
import { ALL_SECTIONS, HRSS_ITEMS } from '../../adapters/hrss/fields.ts';
import {
  CALLBACK_TRAN_CODE,
  decodeGbk,
  encodePacket,
  HRSS_CONTENT_TYPE,
  hrssSequenceNumber,
  parsePacket,
  verifyPacketMac,
} from '../../adapters/hrss/packet.ts';
import {
  SIMULATED_HRSS_REFUSAL,
  startHrssSimulator,
  type HrssSimulator,
} from '../../adapters/hrss/simulator.ts';
import {
  BusinessRefusalError,
  CallbackAuthError,
  CallbackFormatError,
  PermanentDepartmentError,
  TransientDepartmentError,
  type DepartmentAdapter,
  type ItemOutcome,
  type RawCallback,
} from '../../src/adapters-kit/index.ts';
import type { SimulatedDecision } from '../../src/adapters-kit/simulator.ts';
import {
  bundleBusinessCodes,
  FICTIONAL_ID_NUMBER,
  FICTIONAL_NAME,
  formWithApplicantName,
  makeSubmission,
} from './fixtures-police-hrss.ts';

const SECRET = 'test-hrss-secret';
const PROCESSING_DELAY_MS = 150;

/** A CJK Extension B ideograph (U+20000): it has no GBK encoding. */
const EXTENSION_B_CHARACTER = '\u{20000}';

interface CallbackReceiver {
  url: string;
  /** Every body posted, accepted or not, in order of arrival. */
  raw: RawCallback[];
  outcomes: ItemOutcome[];
  close(): Promise<void>;
}

/** Items the simulator's `decide` rejects, keyed by reference. */
const rejections = new Map<string, SimulatedDecision>();

let receiver: CallbackReceiver;
let simulator: HrssSimulator;
let adapter: DepartmentAdapter;

/** Starts the gateway's stand-in: it feeds every posted body to `adapter.parseCallback`. */
async function startReceiver(): Promise<CallbackReceiver> {
  const raw: RawCallback[] = [];
  const outcomes: ItemOutcome[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const callback = { headers: incoming.headers as IncomingHttpHeaders, body: Buffer.concat(chunks) };
      raw.push(callback);
      try {
        outcomes.push(...(adapter.parseCallback?.(callback) ?? []));
        const ack = adapter.acknowledgeCallback!();
        outgoing.writeHead(200, { 'content-type': ack.contentType });
        outgoing.end(ack.body);
      } catch (error) {
        outgoing.writeHead(error instanceof CallbackAuthError ? 401 : 400);
        outgoing.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/callbacks/hrss`,
    raw,
    outcomes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Starts a server on 127.0.0.1 that records request bodies and replies with `reply`. */
async function startStub(
  reply: (body: Buffer) => { status: number; contentType: string; body: Buffer | string },
) {
  const received: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ headers: incoming.headers, body });
      const answer = reply(body);
      outgoing.writeHead(answer.status, { 'content-type': answer.contentType });
      outgoing.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  receiver = await startReceiver();
  simulator = await startHrssSimulator({
    secret: SECRET,
    callbackUrl: receiver.url,
    processingDelayMs: PROCESSING_DELAY_MS,
    decide: (submission) => rejections.get(submission.reference) ?? { status: 'completed' },
  });
  adapter = createHrssAdapter({ baseUrl: simulator.url, secret: SECRET });
});

afterAll(async () => {
  await simulator?.close();
  await receiver?.close();
});

async function captureError(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

function captureSyncError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function outcomesFor(reference: string): ItemOutcome[] {
  return receiver.outcomes.filter((outcome) => outcome.reference === reference);
}

/** Returns a genuine, verified result notice body. */
async function genuineCallback(): Promise<Buffer> {
  const submission = makeSubmission('employee-pension-enrollment');
  const receipt = await adapter.submit(submission);
  const eventId = `${receipt.receiptNo}-01`;
  const callback = await waitFor(
    () => receiver.raw.find((entry) => decodeGbk(entry.body).includes(`<eventId>${eventId}</eventId>`)),
    'the accepted notice',
  );
  return callback.body;
}

describe('hrss packet contract', () => {
  const xsd = readFileSync(new URL('../../contracts/hrss/hrss-packet.xsd', import.meta.url), 'utf8');
  const schema = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (name) => ['xsd:element', 'xsd:complexType', 'xsd:enumeration'].includes(name),
  }).parse(xsd)['xsd:schema'];

  function sequenceOf(typeName: string): string[] {
    const type = schema['xsd:complexType'].find((entry: { name: string }) => entry.name === typeName);
    return type['xsd:sequence']['xsd:element'].map((element: { name: string }) => element.name);
  }

  it('declares each body section with the adapter fields in order', () => {
    for (const section of ALL_SECTIONS) {
      expect(sequenceOf(section.schemaType)).toEqual(section.fields.map((field) => field.element));
    }
    expect(sequenceOf('SubmitBodyType')).toEqual(['reference', 'person', 'pension', 'card', 'attachments']);
  });

  it('lists exactly the bundle hrss transaction codes', () => {
    const tranCodeType = schema['xsd:simpleType'].find(
      (type: { name: string }) => type.name === 'TranCodeType',
    );
    const enumeration = tranCodeType['xsd:restriction']['xsd:enumeration'] as Array<{ value: string }>;
    const tranCodes = enumeration.map((entry) => entry.value);

    expect(tranCodes.filter((code) => code !== CALLBACK_TRAN_CODE).sort()).toEqual(
      bundleBusinessCodes('hrss').sort(),
    );
    expect(Object.keys(HRSS_ITEMS).sort()).toEqual(bundleBusinessCodes('hrss').sort());
  });

  it('writes GBK with a verifiable mac', () => {
    const packet = encodePacket(
      { tranCode: 'SB0101', seqNo: 'A'.repeat(32) },
      { name: FICTIONAL_NAME },
      SECRET,
    );

    expect(packet.includes(iconv.encode(FICTIONAL_NAME, 'gbk'))).toBe(true);
    expect(packet.subarray(0, 38).toString('latin1')).toBe('<?xml version="1.0" encoding="GBK"?><p');
    expect(verifyPacketMac(packet, SECRET)).toBe(true);
    expect(verifyPacketMac(packet, 'another-secret')).toBe(false);
    expect(parsePacket(decodeGbk(packet)).body['name']).toBe(FICTIONAL_NAME);
  });

  it('derives a 32-character seqNo from the key', () => {
    const seqNo = hrssSequenceNumber('case-1:employee-pension-enrollment:v1');

    expect(seqNo).toMatch(/^[0-9A-F]{32}$/);
    expect(hrssSequenceNumber('case-1:employee-pension-enrollment:v1')).toBe(seqNo);
    expect(hrssSequenceNumber('case-2:employee-pension-enrollment:v1')).not.toBe(seqNo);
  });
});

describe('hrss submit', () => {
  it('returns a receipt', async () => {
    const receipt = await adapter.submit(makeSubmission('employee-pension-enrollment'));

    expect(receipt.receiptNo).toMatch(/^RS\d{8}$/);
    expect(receipt.receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
  });

  it('dedupes a repeated seqNo', async () => {
    const submission = makeSubmission('social-security-card-application');
    const before = simulator.submissions.length;
    const requestsBefore = simulator.submitRequestCount;

    const first = await adapter.submit(submission);
    const second = await adapter.submit(submission);

    expect(second.receiptNo).toBe(first.receiptNo);
    expect(simulator.submissions.length).toBe(before + 1);
    expect(simulator.submitRequestCount).toBe(requestsBefore + 2);
    const recorded = simulator.submissions.find((entry) => entry.reference === submission.reference);
    expect(recorded?.idempotencyKey).toBe(hrssSequenceNumber(submission.idempotencyKey));
  });

  it('keeps Chinese text through GBK', async () => {
    const submission = makeSubmission('social-security-card-application');
    await adapter.submit(submission);
    const recorded = simulator.submissions.find((entry) => entry.reference === submission.reference);

    expect(recorded?.form).toMatchObject({
      applicant: {
        name: FICTIONAL_NAME,
        idNumber: FICTIONAL_ID_NUMBER,
        contactAddress: '重庆市沙坪坝区测试路1号',
      },
      socialSecurityCard: { issuer: '重庆市沙坪坝区公安分局', activateFinancialOutsideCity: false },
    });
    expect(recorded?.form).not.toHaveProperty('pension');
    expect(recorded?.materialKinds).toEqual(['photo', 'electronicIdMaterial']);
  });

  it('sends the pension section for pension items', async () => {
    const submission = makeSubmission('resident-pension-enrollment');
    await adapter.submit(submission);
    const recorded = simulator.submissions.find((entry) => entry.reference === submission.reference);

    expect(recorded?.businessCode).toBe('SB0201');
    expect(recorded?.form).toMatchObject({
      pension: { district: '500106', township: '测试街道', community: '测试社区' },
    });
    expect(recorded?.form).not.toHaveProperty('socialSecurityCard');
  });

  it('posts GBK bytes with a GBK content type', async () => {
    const stub = await startStub((body) => {
      const request = parsePacket(decodeGbk(body));
      const head = {
        tranCode: request.head['tranCode'] ?? '',
        seqNo: request.head['seqNo'],
        retCode: '0000',
        retMsg: '成功',
      };
      const reply = encodePacket(head, { receiptNo: 'RS12345678', receivedAt: '20250929094210' }, SECRET);
      return { status: 200, contentType: HRSS_CONTENT_TYPE, body: reply };
    });
    try {
      const submission = makeSubmission('employee-pension-enrollment');
      const receipt = await createHrssAdapter({ baseUrl: stub.url, secret: SECRET }).submit(submission);
      const [request] = stub.received;

      expect(receipt).toEqual({ receiptNo: 'RS12345678', receivedAt: '2025-09-29T09:42:10+08:00' });
      expect(request?.headers['content-type']).toBe('text/xml; charset=GBK');
      expect(request?.body.includes(iconv.encode(`<name>${FICTIONAL_NAME}</name>`, 'gbk'))).toBe(true);
      expect(request?.body.includes(Buffer.from(FICTIONAL_NAME, 'utf8'))).toBe(false);
      const head = parsePacket(decodeGbk(request!.body)).head;
      expect(head['tranCode']).toBe('SB0101');
      expect(head['channel']).toBe('LIANBAN');
      expect(head['seqNo']).toBe(hrssSequenceNumber(submission.idempotencyKey));
      expect(verifyPacketMac(request!.body, SECRET)).toBe(true);
    } finally {
      await stub.close();
    }
  });

  it('rejects an Extension B name without its value', async () => {
    const requestsBefore = simulator.submitRequestCount;
    const form = formWithApplicantName(`测试退役${EXTENSION_B_CHARACTER}`);
    const error = await captureError(adapter.submit(makeSubmission('employee-pension-enrollment', { form })));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('/applicant/name');
    expect(error.message).toContain('GBK');
    expect(error.message).not.toContain(EXTENSION_B_CHARACTER);
    expect(error.message).not.toContain('测试退役');
    expect(simulator.submitRequestCount).toBe(requestsBefore);
  });

  it('rejects a missing pension field without its value', async () => {
    const form = formWithApplicantName(FICTIONAL_NAME);
    delete (form['pension'] as Record<string, unknown>)['community'];
    const error = await captureError(adapter.submit(makeSubmission('employee-pension-enrollment', { form })));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('/pension/community');
    expect(error.message).not.toContain(FICTIONAL_NAME);
  });
});

describe('hrss callbacks', () => {
  it('deliver accepted then completed', async () => {
    const submission = makeSubmission('employee-pension-enrollment');
    const receipt = await adapter.submit(submission);
    const outcomes = await waitFor(() => {
      const seen = outcomesFor(submission.reference);
      return seen.length >= 2 ? seen : undefined;
    }, 'two result notices');

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['accepted', 'completed']);
    expect(outcomes.every((outcome) => outcome.receiptNo === receipt.receiptNo)).toBe(true);
    expect(outcomes[0]?.eventId).not.toBe(outcomes[1]?.eventId);
    expect(outcomes[1]?.occurredAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
    expect(outcomes[1]?.documents).toEqual([]);
    expect(simulator.produced).toEqual([]);
  });

  it('deliver a rejection with Chinese reason', async () => {
    const submission = makeSubmission('social-security-card-reissue');
    rejections.set(submission.reference, {
      status: 'rejected',
      reason: '测试：社会保障卡状态为正常，不能补领。',
      legalBasis: '《社会保障卡管理办法》第十条（测试）',
    });
    await adapter.submit(submission);
    const rejected = await waitFor(
      () => outcomesFor(submission.reference).find((outcome) => outcome.status === 'rejected'),
      'the rejection notice',
    );

    expect(rejected.reason).toBe('测试：社会保障卡状态为正常，不能补领。');
    expect(rejected.legalBasis).toBe('《社会保障卡管理办法》第十条（测试）');
  });

  it('acknowledge with a GBK packet', () => {
    const ack = adapter.acknowledgeCallback!();
    const body = Buffer.from(ack.body);
    const packet = parsePacket(decodeGbk(body));

    expect(ack.contentType).toBe('text/xml; charset=GBK');
    expect(packet.head['retCode']).toBe('0000');
    expect(packet.head['retMsg']).toBe('成功');
    expect(body.includes(iconv.encode('成功', 'gbk'))).toBe(true);
    expect(verifyPacketMac(body, SECRET)).toBe(true);
  });

  it('refuse a tampered mac', async () => {
    const body = Buffer.from(await genuineCallback());
    const statusAt = body.indexOf('<status>01</status>');
    body[statusAt + '<status>0'.length] = '2'.charCodeAt(0);
    const error = captureSyncError(() => adapter.parseCallback!({ headers: {}, body }));

    expect(error).toBeInstanceOf(CallbackAuthError);
  });

  it('refuse a callback signed with another secret', () => {
    const body = encodePacket(
      { tranCode: CALLBACK_TRAN_CODE, eventId: 'RS00000001-02' },
      {
        reference: 'case-x.employee-pension-enrollment',
        receiptNo: 'RS00000001',
        status: '02',
        occurredAt: '20250929094210',
      },
      'not-the-hrss-secret',
    );
    const error = captureSyncError(() => adapter.parseCallback!({ headers: {}, body }));

    expect(error).toBeInstanceOf(CallbackAuthError);
  });

  it('refuse a DOCTYPE', async () => {
    const genuine = decodeGbk(await genuineCallback());
    const withDoctype = genuine.replace('?>', '?><!DOCTYPE packet [<!ENTITY x "x">]>');
    const error = captureSyncError(() =>
      adapter.parseCallback!({ headers: {}, body: iconv.encode(withDoctype, 'gbk') }),
    );

    expect(error).toBeInstanceOf(CallbackFormatError);
    expect(error.message).toContain('DOCTYPE');
  });

  it('classify a truncated body as a format error', async () => {
    const body = await genuineCallback();
    const error = captureSyncError(() =>
      adapter.parseCallback!({ headers: {}, body: body.subarray(0, body.length - 40) }),
    );

    expect(error).toBeInstanceOf(CallbackFormatError);
  });

  it('classify a body cut inside a character as a format error', () => {
    const body = encodePacket(
      { tranCode: CALLBACK_TRAN_CODE, eventId: 'RS00000001-03' },
      { reference: 'case-x.employee-pension-enrollment', reason: '测试理由' },
      SECRET,
    );
    const reasonAt = body.indexOf(iconv.encode('测试理由', 'gbk'));
    const error = captureSyncError(() =>
      adapter.parseCallback!({ headers: {}, body: body.subarray(0, reasonAt + 1) }),
    );

    expect(error).toBeInstanceOf(CallbackFormatError);
  });

  it('refuse a rejection without legal basis', () => {
    const body = encodePacket(
      { tranCode: CALLBACK_TRAN_CODE, eventId: 'RS00000001-03' },
      {
        reference: 'case-x.employee-pension-enrollment',
        receiptNo: 'RS00000001',
        status: '03',
        occurredAt: '20250929094210',
        reason: '测试理由',
      },
      SECRET,
    );
    const error = captureSyncError(() => adapter.parseCallback!({ headers: {}, body }));

    expect(error).toBeInstanceOf(CallbackFormatError);
  });

  it('refuse an unknown status or bad time', () => {
    const notice = {
      reference: 'case-x.employee-pension-enrollment',
      receiptNo: 'RS00000001',
      status: '02',
      occurredAt: '20250929094210',
    };
    const badStatus = encodePacket(
      { tranCode: CALLBACK_TRAN_CODE, eventId: 'e1' },
      { ...notice, status: '09' },
      SECRET,
    );
    const badTime = encodePacket(
      { tranCode: CALLBACK_TRAN_CODE, eventId: 'e2' },
      { ...notice, occurredAt: '20250230094210' },
      SECRET,
    );

    expect(captureSyncError(() => adapter.parseCallback!({ headers: {}, body: badStatus }))).toBeInstanceOf(
      CallbackFormatError,
    );
    expect(captureSyncError(() => adapter.parseCallback!({ headers: {}, body: badTime }))).toBeInstanceOf(
      CallbackFormatError,
    );
  });
});

describe('hrss failures', () => {
  it('turns retCode 1xxx into BusinessRefusalError', async () => {
    simulator.injectFault('business-refusal');
    const error = await captureError(adapter.submit(makeSubmission('employee-pension-enrollment')));

    expect(error).toBeInstanceOf(BusinessRefusalError);
    const refusal = error as BusinessRefusalError;
    expect(refusal.reason).toBe(SIMULATED_HRSS_REFUSAL.reason);
    expect(refusal.legalBasis).toBe(SIMULATED_HRSS_REFUSAL.legalBasis);
    expect(refusal.departmentCode).toBe('1001');
  });

  it('treats retCode 9xxx as transient', async () => {
    simulator.injectFault('system-error');
    const error = await captureError(adapter.submit(makeSubmission('employee-pension-enrollment')));

    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(error.message).toContain('9999');
  });

  it('treats other retCodes as permanent', async () => {
    const wrongSecret = createHrssAdapter({ baseUrl: simulator.url, secret: 'not-the-hrss-secret' });
    const error = await captureError(wrongSecret.submit(makeSubmission('employee-pension-enrollment')));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('2002');
  });

  it('treats an HTML page with HTTP 200 as transient', async () => {
    simulator.injectFault('html-page');
    const error = await captureError(adapter.submit(makeSubmission('employee-pension-enrollment')));

    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(error.message).toContain('HTML');
  });

  it('treats a DOCTYPE in the reply as permanent', async () => {
    simulator.injectFault('doctype-reply');
    const error = await captureError(adapter.submit(makeSubmission('employee-pension-enrollment')));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('DOCTYPE');
  });

  it('retries a cut-off reply to the same receipt', async () => {
    const submission = makeSubmission('social-security-card-application');
    const before = simulator.submissions.length;
    simulator.injectFault('truncated-reply');

    const error = await captureError(adapter.submit(submission));
    const receipt = await adapter.submit(submission);

    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(simulator.submissions.length).toBe(before + 1);
    expect(simulator.submissions.find((entry) => entry.reference === submission.reference)?.receiptNo).toBe(
      receipt.receiptNo,
    );
  });

  it('rejects a reply with a forged mac', async () => {
    const stub = await startStub((body) => {
      const request = parsePacket(decodeGbk(body));
      const head = {
        tranCode: request.head['tranCode'] ?? '',
        seqNo: request.head['seqNo'],
        retCode: '0000',
      };
      const reply = encodePacket(head, { receiptNo: 'RS1', receivedAt: '20250929094210' }, 'forger-secret');
      return { status: 200, contentType: HRSS_CONTENT_TYPE, body: reply };
    });
    try {
      const error = await captureError(
        createHrssAdapter({ baseUrl: stub.url, secret: SECRET }).submit(
          makeSubmission('employee-pension-enrollment'),
        ),
      );

      expect(error).toBeInstanceOf(PermanentDepartmentError);
      expect(error.message).toContain('mac');
    } finally {
      await stub.close();
    }
  });

  it('answers a packet with a DOCTYPE with 2001', async () => {
    const packet = Buffer.concat([
      Buffer.from('<?xml version="1.0" encoding="GBK"?><!DOCTYPE packet [<!ENTITY x "x">]>'),
      Buffer.from('<packet><head><tranCode>SB0101</tranCode><mac></mac></head><body>&x;</body></packet>'),
    ]);
    const response = await request(`${simulator.url}/hrss/gateway`, {
      method: 'POST',
      headers: { 'content-type': HRSS_CONTENT_TYPE },
      body: packet,
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    const reply = parsePacket(decodeGbk(Buffer.from(await response.body.arrayBuffer())));

    expect(response.statusCode).toBe(200);
    expect(reply.head['retCode']).toBe('2001');
  });
});
