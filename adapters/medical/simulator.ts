/**
 * Simulated medical insurance (医疗保障部门) service: receives signed envelopes, dedupes
 * them on `msgid`, answers with a receipt, and later posts signed result envelopes,
 * `accepted` and then `completed` or `rejected`. It never logs or echoes form content.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  SubmissionLedger,
  deliverCallback,
  makePdf,
  startSimulatorServer,
  type DepartmentSimulator,
  type SimulatedSubmission,
  type SimulatorOptions,
  type SimulatorReply,
} from '../../src/adapters-kit/simulator.ts';
import { signEnvelope } from './envelope.ts';
import {
  CALL_SERVICE_PATH,
  INFCODE,
  INFNO,
  INTERFACE_VERSION,
  deriveMsgid,
  formatInfTime,
  type CallbackDocument,
  type CallbackEnvelope,
  type CallbackOutput,
  type EnvelopeHead,
  type RequestEnvelope,
} from './protocol.ts';
import { checkRequestEnvelope, invalidMessage, type Verdict } from './simulator-rules.ts';

const DEFAULT_PROCESSING_DELAY_MS = 50;

const TRANSFER_LETTER = {
  kind: 'medicalTransferLetter',
  name: '基本医疗保险关系转移接续联系函.pdf',
  title: '基本医疗保险关系转移接续联系函',
  englishTitle: 'Basic medical insurance transfer contact letter',
};

/** What the simulator keeps of a request to answer it later: never the materials. */
interface PendingResult {
  submission: SimulatedSubmission;
  callbackUrl: string;
  requestMsgid: string;
  areaCode: string;
  movesMilitaryAccount: boolean;
}

export async function startMedicalSimulator(options: SimulatorOptions): Promise<DepartmentSimulator> {
  const ledger = new SubmissionLedger('YB');
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const sendEvent = async (pending: PendingResult, output: CallbackOutput): Promise<void> => {
    if (closed) return;
    const envelope = makeCallbackEnvelope(options.secret, pending, output);
    const delivered = await deliverCallback(pending.callbackUrl, JSON.stringify(envelope), {
      'content-type': 'application/json;charset=utf-8',
    });
    if (!delivered)
      process.emitWarning(`medical simulator: callback ${output.event_id} was not acknowledged`);
  };

  const processSubmission = async (pending: PendingResult): Promise<void> => {
    const { submission } = pending;
    await sendEvent(pending, makeOutput(submission, 'accepted', submission.receivedAtMs));

    const decision = options.decide?.(submission) ?? { status: 'completed' };
    if (decision.status === 'rejected') {
      const output = makeOutput(submission, 'rejected', Date.now());
      await sendEvent(pending, { ...output, reason: decision.reason, legal_basis: decision.legalBasis });
      return;
    }

    const documents = await produceDocuments(pending);
    for (const document of documents) {
      ledger.recordProduced(
        submission.reference,
        document.kind,
        Buffer.from(document.content_base64, 'base64'),
      );
    }
    await sendEvent(pending, { ...makeOutput(submission, 'completed', Date.now()), documents });
  };

  const schedule = (pending: PendingResult): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      processSubmission(pending).catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        process.emitWarning(
          `medical simulator: processing of receipt ${pending.submission.receiptNo} failed: ${reason}`,
        );
      });
    }, options.processingDelayMs ?? DEFAULT_PROCESSING_DELAY_MS);
    timers.add(timer);
  };

  const handler = async (request: IncomingMessage, body: Buffer): Promise<SimulatorReply> => {
    const path = new URL(request.url ?? '/', 'http://simulator.invalid').pathname;
    if (path !== CALL_SERVICE_PATH || request.method !== 'POST') {
      return {
        status: 404,
        headers: { 'content-type': 'text/plain' },
        body: `no endpoint at ${request.method} ${path}`,
      };
    }

    const envelope = parseJson(body);
    const verdict = checkRequestEnvelope(options.secret, envelope);
    if (verdict !== undefined) return answer(verdict);
    const { input, msgid, insuplc_admdvs: areaCode } = envelope as RequestEnvelope;
    const callbackUrl = input.data.callback_url || options.callbackUrl;
    if (!callbackUrl) return answer(invalidMessage('input.data.callback_url'));

    // msgid is the department's dedupe key: a repeat gets the first receipt and no second result.
    const { fresh, submission } = ledger.record(describeSubmission(envelope as RequestEnvelope));
    if (fresh) {
      const movesMilitaryAccount = input.data.mil_acct_trans_flag === '1';
      schedule({ submission, callbackUrl, requestMsgid: msgid, areaCode, movesMilitaryAccount });
    }
    return answer({
      infcode: INFCODE.success,
      errMsg: 'success',
      output: { receipt_no: submission.receiptNo, received_at: formatInfTime(submission.receivedAtMs) },
    });
  };

  const server = await startSimulatorServer(handler, options);
  return {
    department: 'medical',
    url: server.url,
    get submissions() {
      return ledger.submissions;
    },
    get submitRequestCount() {
      return ledger.submitRequestCount;
    },
    get produced() {
      return ledger.produced;
    },
    async close() {
      // NOTE: a callback already being delivered keeps retrying after close; only
      // scheduled work that has not started is dropped.
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await server.close();
    },
  };
}

/** The ledger keeps the input data as the department received it, without the materials. */
function describeSubmission(
  envelope: RequestEnvelope,
): Omit<SimulatedSubmission, 'receiptNo' | 'receivedAtMs'> {
  const { materials, ...data } = envelope.input.data;
  const separator = data.reference.lastIndexOf('.');
  return {
    caseId: separator > 0 ? data.reference.slice(0, separator) : data.reference,
    itemKey: separator > 0 ? data.reference.slice(separator + 1) : '',
    businessCode: envelope.infno,
    idempotencyKey: envelope.msgid,
    reference: data.reference,
    form: data,
    materialKinds: materials.map((material) => material.material),
  };
}

function makeOutput(
  submission: SimulatedSubmission,
  status: CallbackOutput['status'],
  atMs: number,
): CallbackOutput {
  return {
    event_id: `${submission.receiptNo}-${status}`,
    reference: submission.reference,
    receipt_no: submission.receiptNo,
    status,
    occurred_at: formatInfTime(atMs),
    documents: [],
  };
}

function makeCallbackEnvelope(
  secret: string,
  pending: PendingResult,
  output: CallbackOutput,
): CallbackEnvelope {
  const head: EnvelopeHead = {
    infno: pending.submission.businessCode,
    msgid: deriveMsgid(`callback:${output.event_id}`),
    mdtrtarea_admvs: pending.areaCode,
    insuplc_admdvs: pending.areaCode,
    recer_sys_code: 'LIANBAN',
    infver: INTERFACE_VERSION,
    opter_type: '2',
    opter: 'CQYB',
    opter_name: '医保经办系统（模拟）',
    inf_time: formatInfTime(Date.now()),
    fixmedins_code: 'CQYB00000001',
    fixmedins_name: '重庆市医疗保障经办系统（模拟）',
    sign_no: '',
  };
  return signEnvelope(secret, { ...head, inf_refmsgid: pending.requestMsgid, output });
}

/** The transfer letter exists only when the military personal account has to move. */
async function produceDocuments(pending: PendingResult): Promise<CallbackDocument[]> {
  const { submission } = pending;
  if (submission.businessCode !== INFNO.transfer || !pending.movesMilitaryAccount) return [];
  const pdf = await makePdf(TRANSFER_LETTER.title, [
    TRANSFER_LETTER.englishTitle,
    `Receipt number: ${submission.receiptNo}`,
    `Gateway reference: ${toPrintableAscii(submission.reference)}`,
    `Issued: ${formatInfTime(Date.now()).slice(0, 10)}`,
    'Issued by the simulated medical insurance service',
  ]);
  return [
    {
      kind: TRANSFER_LETTER.kind,
      name: TRANSFER_LETTER.name,
      media_type: 'application/pdf',
      content_base64: pdf.toString('base64'),
    },
  ];
}

/** The standard PDF fonts encode only WinAnsi characters, so anything else becomes `?`. */
function toPrintableAscii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** Answers are HTTP 200 envelopes, as on the national platform; `infcode` carries the result. */
function answer(verdict: Verdict): SimulatorReply {
  const now = formatInfTime(Date.now());
  const body = {
    infcode: verdict.infcode,
    err_msg: verdict.errMsg,
    inf_refmsgid: deriveMsgid(randomUUID()),
    refmsg_time: now,
    respond_time: now,
    output: verdict.output,
  };
  return {
    status: 200,
    headers: { 'content-type': 'application/json;charset=utf-8' },
    body: JSON.stringify(body),
  };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
