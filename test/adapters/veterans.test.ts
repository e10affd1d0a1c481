import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVeteransAdapter } from '../../adapters/veterans/adapter.ts';
import { startVeteransSimulator, type VeteransSimulator } from '../../adapters/veterans/simulator.ts';
import {
  BusinessRefusalError,
  CallbackAuthError,
  CallbackFormatError,
  PermanentDepartmentError,
  TransientDepartmentError,
  sha256Hex,
  signBody,
  verifyBodySignature,
  type DepartmentAdapter,
  type RawCallback,
} from '../../src/adapters-kit/index.ts';
import type { SimulatedDecision, SimulatedSubmission } from '../../src/adapters-kit/simulator.ts';
import {
  TEST_FORM,
  captureError,
  closedPortUrl,
  cloneForm,
  makeMaterial,
  makeRequest,
  startCallbackReceiver,
  startFakeDepartment,
  waitFor,
  type CallbackReceiver,
} from './fixtures-veterans-medical.ts';

const SECRET = 'test-veterans-secret';
const CHECK_IN_MATERIALS = [
  'photo',
  'dischargeCertificate',
  'dischargeReferralLetter',
  'veteranRegistrationForm',
];

/** Items the test rejects through the simulator's `decide`, keyed by reference. */
const rejections = new Map<string, SimulatedDecision>();

let simulator: VeteransSimulator;
let adapter: DepartmentAdapter;
let receiver: CallbackReceiver;

beforeAll(async () => {
  simulator = await startVeteransSimulator({
    secret: SECRET,
    processingDelayMs: 20,
    decide: (submission: SimulatedSubmission) =>
      rejections.get(submission.reference) ?? { status: 'completed' },
  });
  adapter = createVeteransAdapter({ baseUrl: simulator.url, secret: SECRET });
  receiver = await startCallbackReceiver(adapter);
});

afterAll(async () => {
  await simulator?.close();
  await receiver?.close();
});

function checkInRequest(form?: Record<string, unknown>) {
  return makeRequest({
    itemKey: 'veteran-check-in',
    businessCode: 'VA-CHECKIN',
    callbackUrl: receiver.url,
    materials: CHECK_IN_MATERIALS.map((material) => makeMaterial(material)),
    ...(form ? { form } : {}),
  });
}

/** Waits for the next callback that reaches the receiver and returns it. */
async function nextRawCallback(): Promise<RawCallback> {
  const seen = receiver.raw.length;
  await adapter.submit(checkInRequest());
  return waitFor(() => receiver.raw[seen], 5_000, 'a callback');
}

describe('veterans submit', () => {
  it('returns a receipt', async () => {
    const receipt = await adapter.submit(checkInRequest());

    expect(receipt.receiptNo).toMatch(/^VA\d{8}$/);
    expect(receipt.receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
    expect(Math.abs(Date.parse(receipt.receivedAt) - Date.now())).toBeLessThan(60_000);
  });

  it('repeated idempotency key returns first receipt', async () => {
    const request = checkInRequest();
    const countBefore = simulator.submitRequestCount;

    const first = await adapter.submit(request);
    const second = await adapter.submit(request);

    expect(second).toEqual(first);
    expect(simulator.submitRequestCount - countBefore).toBe(2);
    expect(simulator.submissions.filter((entry) => entry.reference === request.reference)).toHaveLength(1);
  });

  it('sends signed snake_case JSON with the idempotency key', async () => {
    const fake = await startFakeDepartment({
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ receipt_no: 'VA-FAKE-1', received_at: '2025-09-29T09:42:11+08:00' }),
    });
    try {
      const fakeAdapter = createVeteransAdapter({ baseUrl: fake.url, secret: SECRET });
      const request = checkInRequest();
      await fakeAdapter.submit(request);

      const sent = fake.requests[0];
      expect(sent).toBeDefined();
      expect(sent?.headers['idempotency-key']).toBe(request.idempotencyKey);
      expect(sent?.headers['content-type']).toBe('application/json');
      const signature = sent?.headers['x-veterans-signature'];
      expect(verifyBodySignature(SECRET, sent?.body ?? Buffer.alloc(0), String(signature))).toBe(true);

      const body = JSON.parse(sent?.body.toString('utf8') ?? '{}');
      expect(body.business_code).toBe('VA-CHECKIN');
      expect(body.reference).toBe(request.reference);
      expect(body.callback_url).toBe(receiver.url);
      expect(body.applicant).toEqual({
        name: TEST_FORM.applicant.name,
        id_type: '111',
        id_number: TEST_FORM.applicant.idNumber,
        sex: '1',
        birth_date: '2000-03-15',
      });
      expect(body.service).toEqual({
        category: 'conscript',
        placement: 'self-employment',
        discharge_date: '2025-09-12',
        reserve_registration: { completed: true, date: '2025-09-22' },
      });
      expect(body.bank_account).toBeUndefined();
      expect(body.materials).toHaveLength(4);
      expect(body.materials[0].material).toBe('photo');
      expect(Buffer.from(body.materials[0].content_base64, 'base64')).toEqual(request.materials[0]?.content);
    } finally {
      await fake.close();
    }
  });

  it('sends the bank account for the grant', async () => {
    const fake = await startFakeDepartment({
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ receipt_no: 'VA-FAKE-2', received_at: '2025-09-29T09:42:11+08:00' }),
    });
    try {
      const fakeAdapter = createVeteransAdapter({ baseUrl: fake.url, secret: SECRET });
      await fakeAdapter.submit(
        makeRequest({ itemKey: 'lump-sum-grant', businessCode: 'VA-GRANT', callbackUrl: receiver.url }),
      );

      const body = JSON.parse(fake.requests[0]?.body.toString('utf8') ?? '{}');
      expect(body.bank_account).toEqual({
        card_number: TEST_FORM.applicant.bankAccount.cardNumber,
        bank_name: TEST_FORM.applicant.bankAccount.bankName,
      });
      expect(body.service).toBeUndefined();
      expect(body.applicant.birth_date).toBeUndefined();
    } finally {
      await fake.close();
    }
  });

  it('missing form field fails before sending', async () => {
    const form = cloneForm();
    delete (form.applicant as Record<string, unknown>).birthDate;
    const countBefore = simulator.submitRequestCount;

    const error = await captureError(adapter.submit(checkInRequest(form)));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('applicant.birthDate');
    expect(simulator.submitRequestCount).toBe(countBefore);
  });
});

describe('veterans callbacks', () => {
  it('check-in sends accepted then completed with the referral letter', async () => {
    const request = checkInRequest();
    const receipt = await adapter.submit(request);

    const completed = await receiver.waitForOutcome(request.reference, 'completed');
    const forReference = receiver.outcomes.filter((outcome) => outcome.reference === request.reference);
    expect(forReference.map((outcome) => outcome.status)).toEqual(['accepted', 'completed']);
    expect(completed.receiptNo).toBe(receipt.receiptNo);
    expect(completed.eventId).not.toBe(forReference[0]?.eventId);

    expect(completed.documents).toHaveLength(1);
    const letter = completed.documents[0];
    expect(letter?.kind).toBe('householdReferralLetter');
    expect(letter?.name).toBe('户口登记介绍信.pdf');
    expect(letter?.mediaType).toBe('application/pdf');
    expect(letter?.content.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const produced = simulator.produced.filter((entry) => entry.reference === request.reference);
    expect(produced).toHaveLength(1);
    expect(produced[0]?.kind).toBe('householdReferralLetter');
    expect(sha256Hex(letter?.content ?? Buffer.alloc(0))).toBe(produced[0]?.sha256);
  });

  it('training eligibility produces the review form', async () => {
    const request = makeRequest({
      itemKey: 'training-eligibility',
      businessCode: 'VA-TRAINING',
      callbackUrl: receiver.url,
      materials: [makeMaterial('dischargeCertificate'), makeMaterial('electronicIdMaterial')],
    });
    await adapter.submit(request);

    const completed = await receiver.waitForOutcome(request.reference, 'completed');
    const form = completed.documents[0];
    expect(completed.documents).toHaveLength(1);
    expect(form?.kind).toBe('trainingEligibilityForm');
    expect(form?.name).toBe('自主就业退役士兵职业技能培训参训人员资格审核表.pdf');
    const produced = simulator.produced.find((entry) => entry.reference === request.reference);
    expect(sha256Hex(form?.content ?? Buffer.alloc(0))).toBe(produced?.sha256);
  });

  it('lump-sum grant completes without documents', async () => {
    const request = makeRequest({
      itemKey: 'lump-sum-grant',
      businessCode: 'VA-GRANT',
      callbackUrl: receiver.url,
      materials: [makeMaterial('dischargeCertificate')],
    });
    await adapter.submit(request);

    const completed = await receiver.waitForOutcome(request.reference, 'completed');
    expect(completed.documents).toEqual([]);
    expect(simulator.produced.filter((entry) => entry.reference === request.reference)).toEqual([]);
  });

  it('repeated submit sends callbacks once', async () => {
    const request = checkInRequest();
    await adapter.submit(request);
    await adapter.submit(request);

    await receiver.waitForOutcome(request.reference, 'completed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const forReference = receiver.outcomes.filter((outcome) => outcome.reference === request.reference);
    expect(forReference).toHaveLength(2);
  });

  it('decided rejection carries reason and legal basis', async () => {
    const request = checkInRequest();
    rejections.set(request.reference, {
      status: 'rejected',
      reason: '测试拒绝：退出现役证件信息与档案不一致。',
      legalBasis: '《退役军人安置条例》（测试依据）',
    });
    await adapter.submit(request);

    const rejected = await receiver.waitForOutcome(request.reference, 'rejected');
    expect(rejected.reason).toBe('测试拒绝：退出现役证件信息与档案不一致。');
    expect(rejected.legalBasis).toBe('《退役军人安置条例》（测试依据）');
    expect(rejected.documents).toEqual([]);
    expect(receiver.outcomes.some((o) => o.reference === request.reference && o.status === 'completed')).toBe(
      false,
    );
    expect(simulator.produced.filter((entry) => entry.reference === request.reference)).toEqual([]);
  });

  it('acknowledgement is the received JSON', () => {
    const acknowledgement = adapter.acknowledgeCallback?.();
    expect(acknowledgement?.contentType).toBe('application/json');
    expect(JSON.parse(String(acknowledgement?.body))).toEqual({ received: true });
  });
});

describe('veterans callback verification', () => {
  it('tampered body fails verification', async () => {
    const callback = await nextRawCallback();
    const tampered = Buffer.from(callback.body.toString('utf8').replace('"accepted"', '"completed"'));
    expect(tampered.equals(callback.body)).toBe(false);

    expect(() => adapter.parseCallback?.({ headers: callback.headers, body: tampered })).toThrow(
      CallbackAuthError,
    );
  });

  it('wrong secret fails verification', async () => {
    const callback = await nextRawCallback();
    const otherAdapter = createVeteransAdapter({ baseUrl: simulator.url, secret: 'another-secret' });

    expect(() => otherAdapter.parseCallback?.(callback)).toThrow(CallbackAuthError);
  });

  it('missing signature header fails verification', async () => {
    const callback = await nextRawCallback();
    const headers = { ...callback.headers, 'x-veterans-signature': undefined };

    expect(() => adapter.parseCallback?.({ headers, body: callback.body })).toThrow(CallbackAuthError);
  });

  it('stale signature fails verification', () => {
    const body = Buffer.from(JSON.stringify(validCallbackBody()));
    const staleSeconds = Math.floor(Date.now() / 1000) - 3_600;
    const headers = { 'x-veterans-signature': signBody(SECRET, body, staleSeconds) };

    expect(() => adapter.parseCallback?.({ headers, body })).toThrow(CallbackAuthError);
  });

  it.each([
    ['event_id', (body: Record<string, unknown>) => delete body.event_id],
    ['reference', (body: Record<string, unknown>) => delete body.reference],
    ['status', (body: Record<string, unknown>) => (body.status = 'done')],
    ['occurred_at', (body: Record<string, unknown>) => (body.occurred_at = 'yesterday')],
    ['documents', (body: Record<string, unknown>) => delete body.documents],
    ['documents[0].content_base64', (body: Record<string, unknown>) => (body.documents = [badDocument()])],
    [
      'legal_basis',
      (body: Record<string, unknown>) => Object.assign(body, { status: 'rejected', reason: '测试' }),
    ],
  ])('invalid %s is a format error', (field, change) => {
    const body = validCallbackBody();
    change(body);

    const error = captureSync(() => parseSigned(body));

    expect(error).toBeInstanceOf(CallbackFormatError);
    expect(error.message).toContain(field);
  });

  it('non-JSON body is a format error', () => {
    const body = Buffer.from('<html>not json</html>');
    const headers = { 'x-veterans-signature': signBody(SECRET, body) };

    expect(() => adapter.parseCallback?.({ headers, body })).toThrow(CallbackFormatError);
  });

  it('valid signed body parses', () => {
    const [outcome] = parseSigned(validCallbackBody());

    expect(outcome?.eventId).toBe('VA00000099-completed');
    expect(outcome?.documents[0]?.content.toString('utf8')).toBe('fictional');
  });
});

describe('veterans submit errors', () => {
  it('unknown business code is refused', async () => {
    const request = makeRequest({
      itemKey: 'unknown-item',
      businessCode: 'VA-UNKNOWN',
      callbackUrl: receiver.url,
    });

    const error = await captureError(adapter.submit(request));

    expect(error).toBeInstanceOf(BusinessRefusalError);
    const refusal = error as BusinessRefusalError;
    expect(refusal.departmentCode).toBe('refused_unsupported_business');
    expect(refusal.reason).toContain('VA-UNKNOWN');
    expect(refusal.legalBasis).not.toBe('');
    expect(refusal.message).not.toContain(TEST_FORM.applicant.idNumber);
  });

  it('incomplete reserve registration is refused', async () => {
    const form = cloneForm();
    (form.service as { reserveRegistration: unknown }).reserveRegistration = { completed: false };

    const error = await captureError(adapter.submit(checkInRequest(form)));

    expect(error).toBeInstanceOf(BusinessRefusalError);
    expect((error as BusinessRefusalError).reason).toContain('预备役登记');
    expect((error as BusinessRefusalError).legalBasis).toContain('兵役法');
  });

  it('wrong request secret is permanent', async () => {
    const wrongAdapter = createVeteransAdapter({ baseUrl: simulator.url, secret: 'another-secret' });

    const error = await captureError(wrongAdapter.submit(checkInRequest()));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('401');
  });

  it('material with wrong hash is permanent', async () => {
    const request = checkInRequest();
    const [photo] = request.materials;
    if (photo) photo.sha256 = sha256Hex('something else');

    const error = await captureError(adapter.submit(request));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('materials[0].sha256');
  });

  it.each([
    [
      'HTML page with 200',
      200,
      'text/html',
      '<!DOCTYPE html><html><body>维护中</body></html>',
      TransientDepartmentError,
    ],
    [
      'HTML page without type',
      200,
      'text/plain',
      '  <html><body>gateway</body></html>',
      TransientDepartmentError,
    ],
    ['503', 503, 'text/html', '<html>Service Unavailable</html>', TransientDepartmentError],
    [
      '429',
      429,
      'application/json',
      '{"error":{"code":"rate_limited","message":"slow down"}}',
      TransientDepartmentError,
    ],
    [
      'JSON without receipt',
      201,
      'application/json',
      '{"received_at":"2025-09-29T09:42:11+08:00"}',
      PermanentDepartmentError,
    ],
    ['invalid JSON', 200, 'application/json', '{"receipt_no":', PermanentDepartmentError],
    [
      '400 invalid request',
      400,
      'application/json',
      '{"error":{"code":"invalid_request","message":"x"}}',
      PermanentDepartmentError,
    ],
    [
      '422 without refusal code',
      422,
      'application/json',
      '{"error":{"code":"unprocessable","message":"x"}}',
      PermanentDepartmentError,
    ],
    ['404', 404, 'text/plain', 'not found', PermanentDepartmentError],
  ])('%s is classified', async (_label, status, contentType, body, expected) => {
    const fake = await startFakeDepartment({ status, headers: { 'content-type': contentType }, body });
    try {
      const fakeAdapter = createVeteransAdapter({ baseUrl: fake.url, secret: SECRET });

      const error = await captureError(fakeAdapter.submit(checkInRequest()));

      expect(error).toBeInstanceOf(expected);
    } finally {
      await fake.close();
    }
  });

  it('closed port is transient', async () => {
    const closedAdapter = createVeteransAdapter({ baseUrl: await closedPortUrl(), secret: SECRET });

    const error = await captureError(closedAdapter.submit(checkInRequest()));

    expect(error).toBeInstanceOf(TransientDepartmentError);
  });

  it('slow answer times out as transient', async () => {
    const fake = await startFakeDepartment({ status: 201, body: '{}' }, 2_000);
    try {
      const slowAdapter = createVeteransAdapter({
        baseUrl: fake.url,
        secret: SECRET,
        timeouts: { headersTimeoutMs: 200, totalTimeoutMs: 300 },
      });

      const error = await captureError(slowAdapter.submit(checkInRequest()));

      expect(error).toBeInstanceOf(TransientDepartmentError);
    } finally {
      await fake.close();
    }
  });
});

describe('veterans simulator faults', () => {
  it.each(['server-error', 'html-page'] as const)('injected %s is transient', async (fault) => {
    const request = checkInRequest();
    simulator.injectFault(fault);

    const error = await captureError(adapter.submit(request));
    const receipt = await adapter.submit(request);

    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(receipt.receiptNo).not.toBe('');
    expect(simulator.submissions.filter((entry) => entry.reference === request.reference)).toHaveLength(1);
  });

  it('lost reply then retry returns same receipt', async () => {
    const request = checkInRequest();
    simulator.injectFault('reply-lost');

    const error = await captureError(adapter.submit(request));
    const receipt = await adapter.submit(request);

    expect(error).toBeInstanceOf(TransientDepartmentError);
    const entries = simulator.submissions.filter((entry) => entry.reference === request.reference);
    expect(entries).toHaveLength(1);
    expect(receipt.receiptNo).toBe(entries[0]?.receiptNo);
    await receiver.waitForOutcome(request.reference, 'completed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.outcomes.filter((outcome) => outcome.reference === request.reference)).toHaveLength(2);
  });
});

function validCallbackBody(): Record<string, unknown> {
  return {
    event_id: 'VA00000099-completed',
    reference: 'case-test-fixed.veteran-check-in',
    receipt_no: 'VA00000099',
    status: 'completed',
    occurred_at: '2025-09-29T10:00:00+08:00',
    documents: [
      {
        kind: 'householdReferralLetter',
        name: '户口登记介绍信.pdf',
        media_type: 'application/pdf',
        content_base64: Buffer.from('fictional').toString('base64'),
      },
    ],
  };
}

function badDocument(): Record<string, unknown> {
  return {
    kind: 'householdReferralLetter',
    name: 'x.pdf',
    media_type: 'application/pdf',
    content_base64: '@@@',
  };
}

function parseSigned(body: Record<string, unknown>) {
  const text = Buffer.from(JSON.stringify(body));
  return (
    adapter.parseCallback?.({ headers: { 'x-veterans-signature': signBody(SECRET, text) }, body: text }) ?? []
  );
}

function captureSync(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected the action to throw an Error');
}
