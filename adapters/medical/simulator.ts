/**
 * Simulated medical insurance (医疗保障部门) service: receives signed envelopes, dedupes
 * them on `msgid`, responds with a receipt, and later posts signed result envelopes,
 * `accepted` and then `completed` or `rejected`. Faults follow the shared fault model,
 * with `infcode -1` as the transient error. It never logs or echoes form content.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  EffectCounter,
  FaultInjector,
  MAINTENANCE_PAGE,
  handleFaultControl,
  runWithFaults,
  sendCallbackCopies,
  type FaultInjectingSimulator,
  type FaultSimulatorOptions,
} from '../../src/adapters-kit/faults.ts';
import {
  SubmissionLedger,
  deliverCallback,
  makePdf,
  startSimulatorServer,
  type SimulatedSubmission,
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
  type ResponseEnvelope,
} from './protocol.ts';
import { checkRequestEnvelope, invalidMessage, type Verdict } from './simulator-rules.ts';

const DEFAULT_PROCESSING_DELAY_MS = 50;

const SYSTEM_BUSY: Verdict = { infcode: INFCODE.systemError, errMsg: '系统繁忙，请稍后再试', output: null };

const SERVICE_UNAVAILABLE: SimulatorReply = {
  status: 503,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: 'service temporarily unavailable',
};

const TRANSFER_LETTER = {
  kind: 'medicalTransferLetter',
  name: '基本医疗保险关系转移接续联系函.pdf',
  title: '基本医疗保险关系转移接续联系函',
  englishTitle: 'Basic medical insurance transfer contact letter',
};

/** Request data kept until the results are sent, without the materials. */
interface PendingResult {
  submission: SimulatedSubmission;
  callbackUrl: string;
  requestMsgid: string;
  areaCode: string;
  movesMilitaryAccount: boolean;
}

/** One-shot faults that `injectFault` queues for the next requests. */
export type MedicalFault =
  /** `infcode -1` before the request is processed, as when the core system is busy. */
  | 'system-error'
  /** HTTP 503 before the request is processed. */
  | 'server-error'
  /** HTTP 200 with an HTML page, as a proxy or maintenance page would send, before processing. */
  | 'html-page'
  /** The request is received and processed, but the response is HTTP 503, as if it were lost. */
  | 'reply-lost';

const MEDICAL_FAULTS: readonly MedicalFault[] = ['system-error', 'server-error', 'html-page', 'reply-lost'];

export type MedicalSimulator = FaultInjectingSimulator<MedicalFault>;

export async function startMedicalSimulator(options: FaultSimulatorOptions): Promise<MedicalSimulator> {
  const simulation = new MedicalServiceSimulation(options);
  if (options.faults) simulation.faults.configure(options.faults);
  const server = await startSimulatorServer((request, body) => simulation.handle(request, body), options);
  return {
    department: 'medical',
    url: server.url,
    get submissions() {
      return simulation.ledger.submissions;
    },
    get submitRequestCount() {
      return simulation.ledger.submitRequestCount;
    },
    get produced() {
      return simulation.ledger.produced;
    },
    injectFault: (fault, times = 1) => simulation.faults.enqueue(fault, times),
    setFaults: (settings) => simulation.faults.configure(settings),
    clearFaults: () => simulation.faults.clear(),
    get faultCounts() {
      return simulation.faults.counts;
    },
    get effectsByKey() {
      return simulation.effects.byKey;
    },
    async close() {
      simulation.stop();
      await server.close();
    },
  };
}

class MedicalServiceSimulation {
  readonly ledger = new SubmissionLedger('YB');
  readonly faults = new FaultInjector<MedicalFault>(MEDICAL_FAULTS);
  readonly effects = new EffectCounter();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly options: FaultSimulatorOptions) {}

  /** Drops scheduled results that have not started and releases held responses. */
  stop(): void {
    // NOTE: a callback already being delivered keeps retrying after stop.
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.faults.stop();
  }

  async handle(request: IncomingMessage, body: Buffer): Promise<SimulatorReply> {
    const control = handleFaultControl(request, body, this.faults);
    if (control !== undefined) return control;
    const path = new URL(request.url ?? '/', 'http://simulator.invalid').pathname;
    if (path !== CALL_SERVICE_PATH || request.method !== 'POST') {
      return {
        status: 404,
        headers: { 'content-type': 'text/plain' },
        body: `no endpoint at ${request.method} ${path}`,
      };
    }

    const fault = this.faults.takeQueued();
    if (fault === 'system-error') return respond(SYSTEM_BUSY);
    if (fault === 'server-error') return SERVICE_UNAVAILABLE;
    if (fault === 'html-page') return MAINTENANCE_PAGE;
    if (fault === 'reply-lost') {
      await this.receive(body);
      return SERVICE_UNAVAILABLE;
    }

    return runWithFaults(this.faults, request, {
      operation: 'submit',
      transientReply: () => respond(SYSTEM_BUSY),
      process: () => this.receive(body),
    });
  }

  private async receive(body: Buffer): Promise<SimulatorReply> {
    const envelope = parseJson(body);
    const verdict = checkRequestEnvelope(this.options.secret, envelope);
    if (verdict !== undefined) return respond(verdict);
    const { input, msgid, insuplc_admdvs: areaCode } = envelope as RequestEnvelope;
    const callbackUrl = input.data.callback_url || this.options.callbackUrl;
    if (!callbackUrl) return respond(invalidMessage('input.data.callback_url'));

    // msgid is the department's dedupe key: a repeat gets the first receipt and no second result.
    const { fresh, submission } = this.ledger.record(describeSubmission(envelope as RequestEnvelope));
    if (fresh) {
      this.effects.record(msgid);
      const movesMilitaryAccount = input.data.mil_acct_trans_flag === '1';
      const pending = { submission, callbackUrl, requestMsgid: msgid, areaCode, movesMilitaryAccount };
      // An early result reaches the gateway before the receipt does.
      if (this.faults.drawEarlyResult()) await this.reportResults(pending);
      else this.schedule(pending);
    }
    return respond({
      infcode: INFCODE.success,
      errMsg: 'success',
      output: { receipt_no: submission.receiptNo, received_at: formatInfTime(submission.receivedAtMs) },
    });
  }

  private schedule(pending: PendingResult): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.reportResults(pending);
    }, this.options.processingDelayMs ?? DEFAULT_PROCESSING_DELAY_MS);
    this.timers.add(timer);
  }

  /** Processes a submission and turns a failure into a process warning, because no caller awaits the results. */
  private async reportResults(pending: PendingResult): Promise<void> {
    try {
      await this.processSubmission(pending);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const { receiptNo } = pending.submission;
      process.emitWarning(`medical simulator: processing of receipt ${receiptNo} failed: ${reason}`);
    }
  }

  /** Sends `accepted`, then the decided result; a completed transfer may carry the transfer letter. */
  private async processSubmission(pending: PendingResult): Promise<void> {
    const { submission } = pending;
    await this.sendEvent(pending, makeOutput(submission, 'accepted', submission.receivedAtMs));

    const decision = this.options.decide?.(submission) ?? { status: 'completed' };
    if (decision.status === 'rejected') {
      const output = makeOutput(submission, 'rejected', Date.now());
      await this.sendEvent(pending, { ...output, reason: decision.reason, legal_basis: decision.legalBasis });
      return;
    }

    const documents = await produceDocuments(pending);
    for (const document of documents) {
      const content = Buffer.from(document.content_base64, 'base64');
      this.ledger.recordProduced(submission.reference, document.kind, content);
    }
    await this.sendEvent(pending, { ...makeOutput(submission, 'completed', Date.now()), documents });
  }

  private async sendEvent(pending: PendingResult, output: CallbackOutput): Promise<void> {
    if (this.stopped) return;
    const envelope = makeCallbackEnvelope(this.options.secret, pending, output);
    const headers = { 'content-type': 'application/json;charset=utf-8' };
    const text = JSON.stringify(envelope);
    const delivered = await sendCallbackCopies(this.faults, () =>
      deliverCallback(pending.callbackUrl, text, headers),
    );
    if (!delivered) {
      process.emitWarning(`medical simulator: callback ${output.event_id} was not acknowledged`);
    }
  }
}

/** Describes a request for the ledger: `idempotencyKey` is the msgid, and `form` is `input.data` without the materials. */
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

/** Produces the transfer letter, which exists only when the military personal account has to move. */
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

/** Replaces characters outside printable ASCII with `?`, because the standard PDF fonts encode only WinAnsi. */
function toPrintableAscii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** Builds an HTTP 200 response envelope, as on the national platform, where `infcode` carries the result. */
function respond(verdict: Verdict): SimulatorReply {
  const now = formatInfTime(Date.now());
  const body: ResponseEnvelope = {
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
