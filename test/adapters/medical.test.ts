import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMedicalAdapter } from '../../adapters/medical/adapter.ts';
import { canonicalJson, findSignatureProblem, signEnvelope } from '../../adapters/medical/envelope.ts';
import { formatInfTime, infTimeToIso, type RequestEnvelope } from '../../adapters/medical/protocol.ts';
import { startMedicalSimulator, type MedicalSimulator } from '../../adapters/medical/simulator.ts';
import {
  BusinessRefusalError,
  CallbackAuthError,
  CallbackFormatError,
  PermanentDepartmentError,
  TransientDepartmentError,
  sha256Hex,
  type DepartmentAdapter,
  type OutboundDocument,
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

const SECRET = 'test-medical-secret';

/** Items the test rejects through the simulator's `decide`, keyed by reference. */
const rejections = new Map<string, SimulatedDecision>();

let simulator: MedicalSimulator;
let adapter: DepartmentAdapter;
let receiver: CallbackReceiver;

beforeAll(async () => {
  simulator = await startMedicalSimulator({
    secret: SECRET,
    processingDelayMs: 20,
    decide: (submission: SimulatedSubmission) =>
      rejections.get(submission.reference) ?? { status: 'completed' },
  });
  adapter = createMedicalAdapter({ baseUrl: simulator.url, secret: SECRET });
  receiver = await startCallbackReceiver(adapter);
});

afterAll(async () => {
  await simulator?.close();
  await receiver?.close();
});

function transferRequest(options: { form?: Record<string, unknown>; materials?: OutboundDocument[] } = {}) {
  return makeRequest({
    itemKey: 'medical-insurance-transfer',
    businessCode: '3201',
    callbackUrl: receiver.url,
    materials: options.materials ?? [makeMaterial('medicalTransferVoucher', 'image/jpeg')],
    ...(options.form ? { form: options.form } : {}),
  });
}

function enrollmentRequest() {
  return makeRequest({
    itemKey: 'employee-medical-enrollment',
    businessCode: '3101',
    callbackUrl: receiver.url,
    materials: [makeMaterial('electronicIdMaterial')],
  });
}

function changeRequest(field = 'phone') {
  const form = cloneForm();
  (form.medicalInsuranceChange as { field: string }).field = field;
  return makeRequest({
    itemKey: 'employee-medical-change',
    businessCode: '3103',
    callbackUrl: receiver.url,
    form,
  });
}

/** Submits through a server that records the request, and returns the envelope sent. */
async function captureEnvelope(request: ReturnType<typeof makeRequest>): Promise<RequestEnvelope> {
  const fake = await startFakeDepartment(successAnswer());
  try {
    await createMedicalAdapter({ baseUrl: fake.url, secret: SECRET }).submit(request);
    return JSON.parse(fake.requests[0]?.body.toString('utf8') ?? '{}') as RequestEnvelope;
  } finally {
    await fake.close();
  }
}

function successAnswer() {
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      infcode: 0,
      err_msg: 'success',
      inf_refmsgid: 'F'.repeat(30),
      output: { receipt_no: 'YB-FAKE-1', received_at: '2025-09-29 09:42:11' },
    }),
  };
}

/** Waits for the next callback that reaches the receiver and returns it. */
async function nextRawCallback(): Promise<RawCallback> {
  const seen = receiver.raw.length;
  await adapter.submit(enrollmentRequest());
  return waitFor(() => receiver.raw[seen], 5_000, 'a callback');
}

describe('medical submit', () => {
  it('returns a receipt', async () => {
    const receipt = await adapter.submit(transferRequest());

    expect(receipt.receiptNo).toMatch(/^YB\d{8}$/);
    expect(receipt.receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
    expect(Math.abs(Date.parse(receipt.receivedAt) - Date.now())).toBeLessThan(60_000);
  });

  it('repeated idempotency key returns first receipt', async () => {
    const request = transferRequest();
    const countBefore = simulator.submitRequestCount;

    const first = await adapter.submit(request);
    const second = await adapter.submit(request);

    expect(second).toEqual(first);
    expect(simulator.submitRequestCount - countBefore).toBe(2);
    expect(simulator.submissions.filter((entry) => entry.reference === request.reference)).toHaveLength(1);
  });

  it('envelope head follows the national style', async () => {
    const request = transferRequest();

    const envelope = await captureEnvelope(request);

    expect(envelope.infno).toBe('3201');
    expect(envelope.msgid).toMatch(/^[0-9A-F]{30}$/);
    expect(envelope.insuplc_admdvs).toBe('500106');
    expect(envelope.mdtrtarea_admvs).toBe('500106');
    expect(envelope.infver).toBe('V1.0');
    expect(envelope.inf_time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(Math.abs(Date.parse(infTimeToIso(envelope.inf_time) ?? '') - Date.now())).toBeLessThan(60_000);
    expect(envelope.signtype).toBe('HMAC-SHA256');
    expect(findSignatureProblem(SECRET, envelope)).toBeUndefined();
    expect(findSignatureProblem('another-secret', envelope)).toBe('cainfo does not verify');
  });

  it('msgid is stable per idempotency key', async () => {
    const request = transferRequest();

    const first = await captureEnvelope(request);
    const retry = await captureEnvelope(request);
    const other = await captureEnvelope(transferRequest());

    expect(retry.msgid).toBe(first.msgid);
    expect(other.msgid).not.toBe(first.msgid);
  });

  it('transfer input carries the voucher and flags', async () => {
    const request = transferRequest();

    const { input } = await captureEnvelope(request);

    expect(input.data.reference).toBe(request.reference);
    expect(input.data.callback_url).toBe(receiver.url);
    expect(input.data.psn_cert_type).toBe('01');
    expect(input.data.certno).toBe(TEST_FORM.applicant.idNumber);
    expect(input.data.psn_name).toBe(TEST_FORM.applicant.name);
    expect(input.data.insutype).toBe('310');
    expect(input.data.trans_in_admdvs).toBe('500106');
    expect(input.data.mil_acct_trans_flag).toBe('1');
    expect(input.data.cq_insu_his_flag).toBe('0');
    expect(input.data.materials).toHaveLength(1);
    expect(input.data.materials[0]?.material).toBe('medicalTransferVoucher');
    expect(input.data.materials[0]?.media_type).toBe('image/jpeg');
    expect(Buffer.from(input.data.materials[0]?.content_base64 ?? '', 'base64')).toEqual(
      request.materials[0]?.content,
    );
  });

  it('change input maps the phone item', async () => {
    const { input } = await captureEnvelope(changeRequest());

    expect(input.data.chg_item).toBe('tel');
    expect(input.data.chg_bef_val).toBe(TEST_FORM.medicalInsuranceChange.oldValue);
    expect(input.data.chg_aft_val).toBe(TEST_FORM.medicalInsuranceChange.newValue);
    expect(input.data.chg_rea).toBe(TEST_FORM.medicalInsuranceChange.reason);
    expect(input.data.begndate).toBeUndefined();
  });

  it('missing form field fails before sending', async () => {
    const form = cloneForm();
    delete (form.medicalInsurance as Record<string, unknown>).transferInDistrict;
    const countBefore = simulator.submitRequestCount;

    const error = await captureError(adapter.submit(transferRequest({ form })));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('medicalInsurance.transferInDistrict');
    expect(simulator.submitRequestCount).toBe(countBefore);
  });
});

describe('medical callbacks', () => {
  it('transfer sends accepted then completed with the letter', async () => {
    const request = transferRequest();
    const receipt = await adapter.submit(request);

    const completed = await receiver.waitForOutcome(request.reference, 'completed');
    const forReference = receiver.outcomes.filter((outcome) => outcome.reference === request.reference);
    expect(forReference.map((outcome) => outcome.status)).toEqual(['accepted', 'completed']);
    expect(completed.receiptNo).toBe(receipt.receiptNo);
    expect(completed.occurredAt).toMatch(/\+08:00$/);

    expect(completed.documents).toHaveLength(1);
    const letter = completed.documents[0];
    expect(letter?.kind).toBe('medicalTransferLetter');
    expect(letter?.name).toBe('基本医疗保险关系转移接续联系函.pdf');
    expect(letter?.mediaType).toBe('application/pdf');
    expect(letter?.content.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const produced = simulator.produced.filter((entry) => entry.reference === request.reference);
    expect(produced).toHaveLength(1);
    expect(sha256Hex(letter?.content ?? Buffer.alloc(0))).toBe(produced[0]?.sha256);
  });

  it('transfer without account move has no letter', async () => {
    const form = cloneForm();
    (form.medicalInsurance as { transferMilitaryAccount: boolean }).transferMilitaryAccount = false;
    const request = transferRequest({ form });
    await adapter.submit(request);

    const completed = await receiver.waitForOutcome(request.reference, 'completed');
    expect(completed.documents).toEqual([]);
    expect(simulator.produced.filter((entry) => entry.reference === request.reference)).toEqual([]);
  });

  it.each([
    ['enrollment', enrollmentRequest],
    ['change', () => changeRequest('address')],
  ])('%s completes without documents', async (_label, build) => {
    const request = build();
    await adapter.submit(request);

    const completed = await receiver.waitForOutcome(request.reference, 'completed');
    expect(completed.documents).toEqual([]);
  });

  it('callback envelope references the request msgid', async () => {
    const request = enrollmentRequest();
    const seen = receiver.raw.length;
    await adapter.submit(request);
    await receiver.waitForOutcome(request.reference, 'completed');

    const submission = simulator.submissions.find((entry) => entry.reference === request.reference);
    const envelopes = receiver.raw.slice(seen).map((raw) => JSON.parse(raw.body.toString('utf8')));
    const forRequest = envelopes.filter((envelope) => envelope.output.reference === request.reference);
    expect(forRequest).toHaveLength(2);
    for (const envelope of forRequest) {
      expect(envelope.inf_refmsgid).toBe(submission?.idempotencyKey);
      expect(envelope.infno).toBe('3101');
      expect(envelope.msgid).toHaveLength(30);
    }
  });

  it('decided rejection carries reason and legal basis', async () => {
    const request = enrollmentRequest();
    rejections.set(request.reference, {
      status: 'rejected',
      reason: '测试拒绝：申请人已在重庆市内有正常参保登记信息。',
      legalBasis: '《重庆市基本医疗保险办法》（测试依据）',
    });
    await adapter.submit(request);

    const rejected = await receiver.waitForOutcome(request.reference, 'rejected');
    expect(rejected.reason).toBe('测试拒绝：申请人已在重庆市内有正常参保登记信息。');
    expect(rejected.legalBasis).toBe('《重庆市基本医疗保险办法》（测试依据）');
    expect(receiver.outcomes.some((o) => o.reference === request.reference && o.status === 'completed')).toBe(
      false,
    );
  });

  it('acknowledgement is the success envelope', () => {
    const acknowledgement = adapter.acknowledgeCallback?.();
    expect(acknowledgement?.contentType).toBe('application/json');
    expect(JSON.parse(String(acknowledgement?.body))).toEqual({ infcode: 0, err_msg: 'success' });
  });
});

describe('medical callback verification', () => {
  it('tampered body fails verification', async () => {
    const callback = await nextRawCallback();
    const envelope = JSON.parse(callback.body.toString('utf8'));
    envelope.output.status = 'completed';
    const tampered = Buffer.from(JSON.stringify(envelope));
    expect(tampered.equals(callback.body)).toBe(false);

    expect(() => adapter.parseCallback?.({ headers: callback.headers, body: tampered })).toThrow(
      CallbackAuthError,
    );
  });

  it('wrong secret fails verification', async () => {
    const callback = await nextRawCallback();
    const otherAdapter = createMedicalAdapter({ baseUrl: simulator.url, secret: 'another-secret' });

    expect(() => otherAdapter.parseCallback?.(callback)).toThrow(CallbackAuthError);
  });

  it.each([
    ['cainfo removed', (envelope: Record<string, unknown>) => delete envelope.cainfo],
    ['signtype changed', (envelope: Record<string, unknown>) => (envelope.signtype = 'SM2')],
    ['stale inf_time', (envelope: Record<string, unknown>) => (envelope.inf_time = '2020-01-01 00:00:00')],
  ])('%s fails verification', (_label, change) => {
    const envelope = signEnvelope(SECRET, validCallbackEnvelope()) as unknown as Record<string, unknown>;
    change(envelope);

    expect(() => parseEnvelope(envelope)).toThrow(CallbackAuthError);
  });

  it('stale envelope with valid cainfo fails', () => {
    const envelope = signEnvelope(SECRET, {
      ...validCallbackEnvelope(),
      inf_time: formatInfTime(Date.now() - 3_600_000),
    });

    expect(() => parseEnvelope(envelope)).toThrow(/inf_time/);
  });

  it.each([
    ['output.event_id', (output: Record<string, unknown>) => delete output.event_id],
    ['output.receipt_no', (output: Record<string, unknown>) => delete output.receipt_no],
    ['output.status', (output: Record<string, unknown>) => (output.status = 'done')],
    ['output.occurred_at', (output: Record<string, unknown>) => (output.occurred_at = '2025-02-30 10:00:00')],
    ['output.documents', (output: Record<string, unknown>) => (output.documents = 'none')],
    [
      'output.documents[0].kind',
      (output: Record<string, unknown>) => (output.documents = [{ name: 'x.pdf' }]),
    ],
    ['output.reason', (output: Record<string, unknown>) => (output.status = 'rejected')],
  ])('invalid %s is a format error', (field, change) => {
    const envelope = validCallbackEnvelope();
    change(envelope.output);

    const error = captureSync(() => parseEnvelope(signEnvelope(SECRET, envelope)));

    expect(error).toBeInstanceOf(CallbackFormatError);
    expect(error.message).toContain(field);
  });

  it('missing output is a format error', () => {
    const { output: _output, ...withoutOutput } = validCallbackEnvelope();

    expect(() => parseEnvelope(signEnvelope(SECRET, withoutOutput))).toThrow(CallbackFormatError);
  });

  it('non-JSON body is a format error', () => {
    const body = Buffer.from('<html>not json</html>');

    expect(() => adapter.parseCallback?.({ headers: {}, body })).toThrow(CallbackFormatError);
  });

  it('valid signed envelope parses', () => {
    const [outcome] = parseEnvelope(signEnvelope(SECRET, validCallbackEnvelope()));

    expect(outcome?.status).toBe('completed');
    expect(outcome?.occurredAt).toBe('2025-09-29T10:00:00+08:00');
    expect(outcome?.documents[0]?.content.toString('utf8')).toBe('fictional');
  });
});

describe('medical submit errors', () => {
  it('transfer without voucher is refused', async () => {
    const error = await captureError(adapter.submit(transferRequest({ materials: [] })));

    expect(error).toBeInstanceOf(BusinessRefusalError);
    const refusal = error as BusinessRefusalError;
    expect(refusal.departmentCode).toBe('transfer_voucher_missing');
    expect(refusal.reason).toContain('转移凭证');
    expect(refusal.legalBasis).not.toBe('');
    expect(refusal.message).not.toContain(TEST_FORM.applicant.idNumber);
  });

  it('change of a key field is refused', async () => {
    const error = await captureError(adapter.submit(changeRequest('name')));

    expect(error).toBeInstanceOf(BusinessRefusalError);
    expect((error as BusinessRefusalError).departmentCode).toBe('change_item_not_allowed');
  });

  it('unknown transaction code is refused', async () => {
    const request = makeRequest({ itemKey: 'unknown-item', businessCode: '3999', callbackUrl: receiver.url });

    const error = await captureError(adapter.submit(request));

    expect(error).toBeInstanceOf(BusinessRefusalError);
    expect((error as BusinessRefusalError).reason).toContain('3999');
  });

  it('wrong request secret is permanent', async () => {
    const wrongAdapter = createMedicalAdapter({ baseUrl: simulator.url, secret: 'another-secret' });

    const error = await captureError(wrongAdapter.submit(transferRequest()));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('infcode 3');
  });

  it('material with wrong hash is permanent', async () => {
    const voucher = makeMaterial('medicalTransferVoucher');
    voucher.sha256 = sha256Hex('something else');

    const error = await captureError(adapter.submit(transferRequest({ materials: [voucher] })));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('input.data.materials[0].sha256');
  });

  it.each([
    [
      'HTML page with 200',
      200,
      'text/html',
      '<!DOCTYPE html><html><body>系统维护</body></html>',
      TransientDepartmentError,
    ],
    ['503', 503, 'text/html', '<html>Service Unavailable</html>', TransientDepartmentError],
    [
      'infcode -1',
      200,
      'application/json',
      '{"infcode":-1,"err_msg":"系统繁忙","output":null}',
      TransientDepartmentError,
    ],
    [
      'envelope without infcode',
      200,
      'application/json',
      '{"err_msg":"success","output":{}}',
      PermanentDepartmentError,
    ],
    [
      'string infcode',
      200,
      'application/json',
      '{"infcode":"0","err_msg":"success"}',
      PermanentDepartmentError,
    ],
    [
      'success without output',
      200,
      'application/json',
      '{"infcode":0,"err_msg":"success"}',
      PermanentDepartmentError,
    ],
    ['invalid JSON', 200, 'application/json', '{"infcode":', PermanentDepartmentError],
    [
      'infcode 2',
      200,
      'application/json',
      '{"infcode":2,"err_msg":"x","output":{"field":"msgid"}}',
      PermanentDepartmentError,
    ],
    [
      'refusal without err_msg',
      200,
      'application/json',
      '{"infcode":1,"output":{}}',
      PermanentDepartmentError,
    ],
    ['400', 400, 'text/plain', 'bad request', PermanentDepartmentError],
  ])('%s is classified', async (_label, status, contentType, body, expected) => {
    const fake = await startFakeDepartment({ status, headers: { 'content-type': contentType }, body });
    try {
      const fakeAdapter = createMedicalAdapter({ baseUrl: fake.url, secret: SECRET });

      const error = await captureError(fakeAdapter.submit(transferRequest()));

      expect(error).toBeInstanceOf(expected);
    } finally {
      await fake.close();
    }
  });

  it('closed port is transient', async () => {
    const closedAdapter = createMedicalAdapter({ baseUrl: await closedPortUrl(), secret: SECRET });

    const error = await captureError(closedAdapter.submit(transferRequest()));

    expect(error).toBeInstanceOf(TransientDepartmentError);
  });
});

describe('medical simulator faults', () => {
  it.each(['system-error', 'server-error', 'html-page'] as const)(
    'injected %s is transient',
    async (fault) => {
      const request = transferRequest();
      simulator.injectFault(fault);

      const error = await captureError(adapter.submit(request));
      const receipt = await adapter.submit(request);

      expect(error).toBeInstanceOf(TransientDepartmentError);
      expect(receipt.receiptNo).not.toBe('');
      expect(simulator.submissions.filter((entry) => entry.reference === request.reference)).toHaveLength(1);
    },
  );

  it('lost reply then retry returns same receipt', async () => {
    const request = transferRequest();
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

describe('medical envelope signing', () => {
  it('canonical JSON sorts keys at every level', () => {
    const text = canonicalJson({ b: 1, a: { d: [2, { f: 'x', e: null }], c: '测试' }, skipped: undefined });

    expect(text).toBe('{"a":{"c":"测试","d":[2,{"e":null,"f":"x"}]},"b":1}');
  });

  it('key order does not change the signature', () => {
    const signed = signEnvelope(SECRET, validCallbackEnvelope());
    const reordered = Object.fromEntries(Object.entries(signed).reverse());

    expect(findSignatureProblem(SECRET, reordered)).toBeUndefined();
  });
});

function validCallbackEnvelope() {
  return {
    infno: '3201',
    msgid: 'A'.repeat(30),
    inf_refmsgid: 'B'.repeat(30),
    mdtrtarea_admvs: '500106',
    insuplc_admdvs: '500106',
    recer_sys_code: 'LIANBAN',
    infver: 'V1.0',
    inf_time: formatInfTime(Date.now()),
    output: {
      event_id: 'YB00000099-completed',
      reference: 'case-test-fixed.medical-insurance-transfer',
      receipt_no: 'YB00000099',
      status: 'completed',
      occurred_at: '2025-09-29 10:00:00',
      documents: [
        {
          kind: 'medicalTransferLetter',
          name: '基本医疗保险关系转移接续联系函.pdf',
          media_type: 'application/pdf',
          content_base64: Buffer.from('fictional').toString('base64'),
        },
      ],
    } as Record<string, unknown>,
  };
}

function parseEnvelope(envelope: object) {
  return adapter.parseCallback?.({ headers: {}, body: Buffer.from(JSON.stringify(envelope)) }) ?? [];
}

function captureSync(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected the action to throw an Error');
}
