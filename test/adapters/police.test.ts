import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPoliceAdapter } from '../../adapters/police/adapter.ts';
import { ALL_SECTIONS, POLICE_ITEMS } from '../../adapters/police/fields.ts';
import {
  buildEnvelope,
  POLICE_NAMESPACE,
  POLICE_OPERATIONS,
  POLICE_SERVICE_PATH,
  SIGNATURE_HEADER,
} from '../../adapters/police/soap.ts';
import {
  SIMULATED_REFUSAL,
  startPoliceSimulator,
  type PoliceSimulator,
} from '../../adapters/police/simulator.ts';
import {
  BusinessRefusalError,
  PermanentDepartmentError,
  sha256Hex,
  signBody,
  TransientDepartmentError,
  type DepartmentAdapter,
  type ItemOutcome,
  type SubmissionRequest,
} from '../../src/adapters-kit/index.ts';
import type { SimulatedDecision } from '../../src/adapters-kit/simulator.ts';
import {
  bundleBusinessCodes,
  FICTIONAL_ID_NUMBER,
  FICTIONAL_NAME,
  formWithApplicantName,
  makeSubmission,
} from './fixtures-police-hrss.ts';

const SECRET = 'test-police-secret';
const PROCESSING_DELAY_MS = 600;

/** Items the simulator's `decide` rejects, keyed by reference. */
const rejections = new Map<string, SimulatedDecision>();

let simulator: PoliceSimulator;
let adapter: DepartmentAdapter;

beforeAll(async () => {
  simulator = await startPoliceSimulator({
    secret: SECRET,
    processingDelayMs: PROCESSING_DELAY_MS,
    decide: (submission) => rejections.get(submission.reference) ?? { status: 'completed' },
  });
  adapter = createPoliceAdapter({ baseUrl: simulator.url, secret: SECRET });
});

afterAll(async () => {
  await simulator?.close();
});

async function captureError(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

function expectNoPersonalData(error: Error): void {
  expect(error.message).not.toContain(FICTIONAL_NAME);
  expect(error.message).not.toContain(FICTIONAL_ID_NUMBER);
}

async function pollUntilFinal(
  request: SubmissionRequest,
  receiptNo: string,
): Promise<Array<ItemOutcome | null>> {
  const seen: Array<ItemOutcome | null> = [];
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const outcome = await adapter.queryStatus!({
      reference: request.reference,
      receiptNo,
      idempotencyKey: request.idempotencyKey,
    });
    seen.push(outcome);
    if (outcome && outcome.status !== 'accepted') return seen;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('item did not reach a final state in 10 s');
}

/** Starts a server on 127.0.0.1 that replies to every request with one fixed reply. */
async function startStub(reply: { status: number; contentType: string; body: string }): Promise<{
  url: string;
  close: () => Promise<void>;
}> {
  const server: Server = createServer((incoming, outgoing) => {
    incoming.resume();
    incoming.on('end', () => {
      outgoing.writeHead(reply.status, { 'content-type': reply.contentType });
      outgoing.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function postSoap(body: string, soapAction: string): Promise<{ status: number; text: string }> {
  const response = await request(`${simulator.url}${POLICE_SERVICE_PATH}`, {
    method: 'POST',
    headers: {
      'content-type': 'text/xml; charset=utf-8',
      soapaction: `"${soapAction}"`,
      [SIGNATURE_HEADER]: signBody(SECRET, body),
    },
    body,
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  return { status: response.statusCode, text: await response.body.text() };
}

describe('police WSDL contract', () => {
  const wsdl = readFileSync(new URL('../../contracts/police/police-service.wsdl', import.meta.url), 'utf8');
  const parsed = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (name) =>
      [
        'wsdl:operation',
        'wsdl:message',
        'wsdl:part',
        'xsd:element',
        'xsd:complexType',
        'soap:header',
      ].includes(name),
  }).parse(wsdl);
  const definitions = parsed['wsdl:definitions'];
  const schema = definitions['wsdl:types']['xsd:schema'];

  function sequenceOf(complexType: { 'xsd:sequence': { 'xsd:element': Array<{ name: string }> } }): string[] {
    return complexType['xsd:sequence']['xsd:element'].map((element) => element.name);
  }

  function globalElement(name: string) {
    return schema['xsd:element'].find((element: { name: string }) => element.name === name);
  }

  it('declares the target namespace the adapter uses', () => {
    expect(definitions.targetNamespace).toBe(POLICE_NAMESPACE);
    expect(schema.targetNamespace).toBe(POLICE_NAMESPACE);
  });

  it('declares both operations with their SOAPAction values', () => {
    const bindingOperations = definitions['wsdl:binding']['wsdl:operation'] as Array<{
      name: string;
      'soap:operation': { soapAction: string };
      'wsdl:input': { 'soap:header': Array<{ part: string }> };
    }>;
    const portTypeOperations = definitions['wsdl:portType']['wsdl:operation'] as Array<{ name: string }>;

    for (const [name, operation] of Object.entries(POLICE_OPERATIONS)) {
      expect(portTypeOperations.map((entry) => entry.name)).toContain(name);
      const binding = bindingOperations.find((entry) => entry.name === name);
      expect(binding?.['soap:operation'].soapAction).toBe(operation.soapAction);
      expect(binding?.['wsdl:input']['soap:header'].map((header) => header.part)).toEqual([
        'RequestId',
        'ReferenceNo',
      ]);
    }
  });

  it('binds SOAP 1.1 document/literal over HTTP', () => {
    const binding = definitions['wsdl:binding']['soap:binding'];
    expect(definitions['xmlns:soap']).toBe('http://schemas.xmlsoap.org/wsdl/soap/');
    expect(binding.style).toBe('document');
    expect(binding.transport).toBe('http://schemas.xmlsoap.org/soap/http');
  });

  it('declares the request, response and header elements', () => {
    for (const operation of Object.values(POLICE_OPERATIONS)) {
      expect(globalElement(operation.requestElement)).toBeDefined();
      expect(globalElement(operation.responseElement)).toBeDefined();
    }
    for (const name of ['RequestId', 'ReferenceNo', 'BusinessRefusal', 'ServiceError']) {
      expect(globalElement(name)).toBeDefined();
    }
  });

  it('declares each form section with the adapter fields in order', () => {
    const request = globalElement('SubmitApplicationRequest')['xsd:complexType'][0];
    const requestChildren = request['xsd:sequence']['xsd:element'] as Array<{ name: string; type: string }>;
    const sectionNames = ALL_SECTIONS.map((section) => section.element);
    expect(requestChildren.map((element) => element.name)).toEqual([
      'BusinessCode',
      'ReferenceNo',
      ...sectionNames,
      'Attachments',
    ]);

    for (const section of ALL_SECTIONS) {
      const child = requestChildren.find((element) => element.name === section.element);
      expect(child?.type).toBe(`tns:${section.schemaType}`);
      const complexType = schema['xsd:complexType'].find(
        (type: { name: string }) => type.name === section.schemaType,
      );
      expect(sequenceOf(complexType)).toEqual(section.fields.map((field) => field.element));
    }
  });

  it('lists exactly the bundle police business codes', () => {
    const simpleTypes = schema['xsd:simpleType'] as Array<{
      name: string;
      'xsd:restriction': { 'xsd:enumeration': Array<{ value: string }> };
    }>;
    const codes = simpleTypes.find((type) => type.name === 'BusinessCodeType')?.['xsd:restriction'][
      'xsd:enumeration'
    ];

    expect(codes?.map((code) => code.value).sort()).toEqual(bundleBusinessCodes('police').sort());
    expect(Object.keys(POLICE_ITEMS).sort()).toEqual(bundleBusinessCodes('police').sort());
  });

  it('is served by the simulator with its own address', async () => {
    const response = await request(`${simulator.url}${POLICE_SERVICE_PATH}?wsdl`, {
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    const text = await response.body.text();

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/xml');
    expect(text).toContain(`location="${simulator.url}${POLICE_SERVICE_PATH}"`);
    expect(text).toContain('SubmitApplication');
  });
});

describe('police submit', () => {
  it('returns a receipt', async () => {
    const receipt = await adapter.submit(makeSubmission('household-settlement'));

    expect(receipt.receiptNo).toMatch(/^GA\d{8}$/);
    expect(receipt.receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
  });

  it('dedupes a repeated RequestId', async () => {
    const submission = makeSubmission('id-card-renewal');
    const before = simulator.submissions.length;
    const requestsBefore = simulator.submitRequestCount;

    const first = await adapter.submit(submission);
    const second = await adapter.submit(submission);

    expect(second.receiptNo).toBe(first.receiptNo);
    expect(simulator.submissions.length).toBe(before + 1);
    expect(simulator.submitRequestCount).toBe(requestsBefore + 2);
  });

  it('sends the settlement section for settlement', async () => {
    const submission = makeSubmission('household-settlement');
    await adapter.submit(submission);
    const recorded = simulator.submissions.find((entry) => entry.reference === submission.reference);

    expect(recorded?.itemKey).toBe('household-settlement');
    expect(recorded?.businessCode).toBe('GA-HJ-TYLH');
    expect(recorded?.form).toMatchObject({
      applicant: { name: FICTIONAL_NAME, idNumber: FICTIONAL_ID_NUMBER, birthDate: '2000-03-15' },
      settlement: {
        unitLocation: { province: '西藏自治区' },
        type: 'with-parents',
        enlistedOutsideChongqing: false,
        householdHead: { relation: '20' },
        kinshipProofPaperPending: true,
      },
    });
    expect(recorded?.form).not.toHaveProperty('idCardMailing');
    expect(recorded?.materialKinds).toEqual(['photo', 'householdReferralLetter', 'kinshipProof']);
  });

  it('sends loss and mailing details for replacement', async () => {
    const submission = makeSubmission('id-card-replacement');
    await adapter.submit(submission);
    const recorded = simulator.submissions.find((entry) => entry.reference === submission.reference);

    expect(recorded?.form).toMatchObject({
      idCardReplacement: { lossPlace: '重庆市沙坪坝区测试路', lossDate: '2025-09-01' },
      delivery: { method: 'mail' },
      idCardMailing: { recipient: FICTIONAL_NAME, phone: '13800000000' },
    });
    expect(recorded?.form).not.toHaveProperty('settlement');
  });

  it('leaves out the mailing address for pickup', async () => {
    const form = formWithApplicantName(FICTIONAL_NAME);
    form['delivery'] = { method: 'pickup' };
    const submission = makeSubmission('id-card-renewal', { form });
    await adapter.submit(submission);
    const recorded = simulator.submissions.find((entry) => entry.reference === submission.reference);

    expect(recorded?.form).toMatchObject({ delivery: { method: 'pickup' } });
    expect(recorded?.form).not.toHaveProperty('idCardMailing');
  });

  it('rejects a missing field without its value', async () => {
    const form = formWithApplicantName(FICTIONAL_NAME);
    delete (form['settlement'] as Record<string, unknown>)['detailAddress'];
    const error = await captureError(adapter.submit(makeSubmission('household-settlement', { form })));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('/settlement/detailAddress');
    expectNoPersonalData(error);
  });

  it('rejects a material that does not match its hash', async () => {
    const submission = makeSubmission('id-card-renewal');
    const [front] = submission.materials;
    submission.materials = [{ ...front!, content: Buffer.from('changed') }];
    const error = await captureError(adapter.submit(submission));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('idCardFront');
  });

  it('rejects a business code of another department', async () => {
    const submission = { ...makeSubmission('id-card-renewal'), businessCode: 'SB0101' };
    const error = await captureError(adapter.submit(submission));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
  });
});

describe('police polling', () => {
  it('goes from null through accepted to completed with ⑧', async () => {
    const submission = makeSubmission('id-card-renewal');
    const receipt = await adapter.submit(submission);
    const seen = await pollUntilFinal(submission, receipt.receiptNo);

    expect(seen[0]).toBeNull();
    expect(seen.some((outcome) => outcome?.status === 'accepted')).toBe(true);
    const final = seen[seen.length - 1];
    expect(final?.status).toBe('completed');
    expect(final?.reference).toBe(submission.reference);
    expect(final?.receiptNo).toBe(receipt.receiptNo);
    expect(final?.occurredAt).toMatch(/\+08:00$/);

    const [document] = final?.documents ?? [];
    expect(final?.documents).toHaveLength(1);
    expect(document?.kind).toBe('electronicIdMaterial');
    expect(document?.name).toBe('身份证电子化材料.pdf');
    expect(document?.mediaType).toBe('application/pdf');
    expect(document?.content.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const produced = simulator.produced.find((entry) => entry.reference === submission.reference);
    expect(produced?.kind).toBe('electronicIdMaterial');
    expect(sha256Hex(document!.content)).toBe(produced?.sha256);
  });

  it('keeps eventId stable for the same state', async () => {
    const submission = makeSubmission('household-settlement');
    const receipt = await adapter.submit(submission);
    const seen = await pollUntilFinal(submission, receipt.receiptNo);
    const again = await adapter.queryStatus!({
      reference: submission.reference,
      receiptNo: receipt.receiptNo,
      idempotencyKey: submission.idempotencyKey,
    });
    const accepted = seen.filter((outcome) => outcome?.status === 'accepted');

    expect(again?.eventId).toBe(seen[seen.length - 1]?.eventId);
    expect(new Set(accepted.map((outcome) => outcome?.eventId)).size).toBe(1);
    expect(accepted[0]?.eventId).not.toBe(again?.eventId);
    expect(simulator.produced.filter((entry) => entry.reference === submission.reference)).toHaveLength(1);
  });

  it('reports a rejection with reason and legal basis', async () => {
    const submission = makeSubmission('id-card-replacement');
    rejections.set(submission.reference, {
      status: 'rejected',
      reason: '测试：遗失地点与户籍信息不符，不予受理。',
      legalBasis: '《中华人民共和国居民身份证法》第十一条（测试）',
      code: 'GA-TEST-01',
    });
    const receipt = await adapter.submit(submission);
    const seen = await pollUntilFinal(submission, receipt.receiptNo);
    const final = seen[seen.length - 1];

    expect(final?.status).toBe('rejected');
    expect(final?.reason).toBe('测试：遗失地点与户籍信息不符，不予受理。');
    expect(final?.legalBasis).toBe('《中华人民共和国居民身份证法》第十一条（测试）');
    expect(final?.documents).toEqual([]);
  });

  it('fails permanently for an unknown receipt', async () => {
    const submission = makeSubmission('id-card-renewal');
    const error = await captureError(
      adapter.queryStatus!({
        reference: submission.reference,
        receiptNo: 'GA99999999',
        idempotencyKey: submission.idempotencyKey,
      }),
    );

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('RECEIPT-NOT-FOUND');
  });
});

describe('police failures', () => {
  it('treats a Server fault with HTTP 500 as transient', async () => {
    simulator.injectFault('server-fault');
    const error = await captureError(adapter.submit(makeSubmission('id-card-renewal')));

    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(error.message).toContain('soapenv:Server');
  });

  it('treats a soap:Server fault with HTTP 200 as transient', async () => {
    const fault =
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>' +
      '<faultcode>soap:Server</faultcode><faultstring>busy</faultstring></soap:Fault></soap:Body></soap:Envelope>';
    const stub = await startStub({ status: 200, contentType: 'text/xml; charset=utf-8', body: fault });
    try {
      const stubAdapter = createPoliceAdapter({ baseUrl: stub.url, secret: SECRET });
      const error = await captureError(stubAdapter.submit(makeSubmission('id-card-renewal')));

      expect(error).toBeInstanceOf(TransientDepartmentError);
    } finally {
      await stub.close();
    }
  });

  it('turns a Client refusal into BusinessRefusalError', async () => {
    simulator.injectFault('business-refusal');
    const error = await captureError(adapter.submit(makeSubmission('id-card-replacement')));

    expect(error).toBeInstanceOf(BusinessRefusalError);
    const refusal = error as BusinessRefusalError;
    expect(refusal.reason).toBe(SIMULATED_REFUSAL.reason);
    expect(refusal.legalBasis).toBe(SIMULATED_REFUSAL.legalBasis);
    expect(refusal.departmentCode).toBe(SIMULATED_REFUSAL.refusalCode);
  });

  it('treats a Client fault without refusal as permanent', async () => {
    const wrongSecret = createPoliceAdapter({ baseUrl: simulator.url, secret: 'not-the-police-secret' });
    const error = await captureError(wrongSecret.submit(makeSubmission('id-card-renewal')));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('SIGNATURE-INVALID');
  });

  it('treats an HTML page with HTTP 200 as transient', async () => {
    simulator.injectFault('html-page');
    const error = await captureError(adapter.submit(makeSubmission('id-card-renewal')));

    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(error.message).toContain('HTML');
  });

  it('treats a DOCTYPE in the reply as permanent', async () => {
    simulator.injectFault('doctype-reply');
    const error = await captureError(adapter.submit(makeSubmission('id-card-renewal')));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('DOCTYPE');
  });

  it('retries a cut-off reply to the same receipt', async () => {
    const submission = makeSubmission('household-settlement');
    const before = simulator.submissions.length;
    simulator.injectFault('truncated-reply');

    const error = await captureError(adapter.submit(submission));
    const receipt = await adapter.submit(submission);

    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(error.message).toContain('cut off');
    expect(simulator.submissions.length).toBe(before + 1);
    expect(simulator.submissions.find((entry) => entry.reference === submission.reference)?.receiptNo).toBe(
      receipt.receiptNo,
    );
  });

  it('treats a cut-off status reply as transient', async () => {
    const submission = makeSubmission('id-card-renewal');
    const receipt = await adapter.submit(submission);
    simulator.injectFault('truncated-reply');
    const error = await captureError(
      adapter.queryStatus!({
        reference: submission.reference,
        receiptNo: receipt.receiptNo,
        idempotencyKey: submission.idempotencyKey,
      }),
    );

    expect(error).toBeInstanceOf(TransientDepartmentError);
  });

  it('treats a plain 503 as transient and a plain 404 as permanent', async () => {
    const unavailable = await startStub({ status: 503, contentType: 'text/plain', body: 'unavailable' });
    const missing = await startStub({ status: 404, contentType: 'text/plain', body: 'not found' });
    try {
      const unavailableError = await captureError(
        createPoliceAdapter({ baseUrl: unavailable.url, secret: SECRET }).submit(
          makeSubmission('id-card-renewal'),
        ),
      );
      const missingError = await captureError(
        createPoliceAdapter({ baseUrl: missing.url, secret: SECRET }).submit(
          makeSubmission('id-card-renewal'),
        ),
      );

      expect(unavailableError).toBeInstanceOf(TransientDepartmentError);
      expect(missingError).toBeInstanceOf(PermanentDepartmentError);
    } finally {
      await unavailable.close();
      await missing.close();
    }
  });

  it('rejects a SOAP 1.2 envelope as permanent', async () => {
    const soap12 =
      '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>' +
      '<SubmitApplicationResponse xmlns="urn:lianban:police:v1"/></env:Body></env:Envelope>';
    const stub = await startStub({ status: 200, contentType: 'application/soap+xml', body: soap12 });
    try {
      const error = await captureError(
        createPoliceAdapter({ baseUrl: stub.url, secret: SECRET }).submit(makeSubmission('id-card-renewal')),
      );

      expect(error).toBeInstanceOf(PermanentDepartmentError);
      expect(error.message).toContain('SOAP 1.1');
    } finally {
      await stub.close();
    }
  });
});

describe('police simulator', () => {
  const queryPayload = { ReceiptNo: 'GA00000001', ReferenceNo: 'case-x.id-card-renewal' };
  const header = { RequestId: 'case-x:id-card-renewal:v1', ReferenceNo: 'case-x.id-card-renewal' };

  it('answers a DOCTYPE request with a Client fault', async () => {
    const body =
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]>' +
      buildEnvelope(header, 'QueryStatusRequest', queryPayload).replace(/^<\?xml[^>]*\?>/, '');
    const reply = await postSoap(body, POLICE_OPERATIONS.QueryStatus.soapAction);

    expect(reply.status).toBe(500);
    expect(reply.text).toContain('soapenv:Client');
    expect(reply.text).toContain('MALFORMED-ENVELOPE');
  });

  it('answers an unknown operation with a Client fault', async () => {
    const body = buildEnvelope(header, 'CancelApplicationRequest', queryPayload);
    const reply = await postSoap(body, `${POLICE_NAMESPACE}/CancelApplication`);

    expect(reply.status).toBe(500);
    expect(reply.text).toContain('soapenv:Client');
    expect(reply.text).toContain('UNKNOWN-OPERATION');
  });

  it('answers a bad envelope with a Client fault', async () => {
    const reply = await postSoap('<notSoap><x/></notSoap>', POLICE_OPERATIONS.QueryStatus.soapAction);

    expect(reply.status).toBe(500);
    expect(reply.text).toContain('soapenv:Client');
    expect(reply.text).toContain('MALFORMED-ENVELOPE');
  });

  it('answers a missing RequestId with a Client fault', async () => {
    const body = buildEnvelope(undefined, 'QueryStatusRequest', queryPayload);
    const reply = await postSoap(body, POLICE_OPERATIONS.QueryStatus.soapAction);

    expect(reply.status).toBe(500);
    expect(reply.text).toContain('MISSING-HEADER');
  });
});
