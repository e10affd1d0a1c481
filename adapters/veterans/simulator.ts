/**
 * Simulated veterans affairs (退役军人事务部门) system: receives signed applications,
 * dedupes them on the `Idempotency-Key` header, responds with a receipt, and later posts
 * signed `accepted` and `completed` or `rejected` webhooks with the result documents.
 * Faults (latency, errors, timeouts, resets, malformed bodies, downtime, duplicate and
 * early webhooks) follow the shared fault model. It never logs or echoes form content.
 */
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
import { headerValue, signBody, verifyBodySignature } from '../../src/adapters-kit/index.ts';
import {
  SubmissionLedger,
  deliverCallback,
  makePdf,
  startSimulatorServer,
  type SimulatedSubmission,
  type SimulatorReply,
} from '../../src/adapters-kit/simulator.ts';
import {
  APPLICATIONS_PATH,
  BUSINESS_CODES,
  IDEMPOTENCY_HEADER,
  SIGNATURE_HEADER,
  type ApplicationBody,
  type CallbackBody,
  type CallbackDocument,
  type ErrorBody,
} from './protocol.ts';
import { checkApplication, invalidRequest } from './simulator-rules.ts';

const DEFAULT_PROCESSING_DELAY_MS = 50;

const SERVICE_UNAVAILABLE: ErrorBody = {
  error: { code: 'service_unavailable', message: 'the service is temporarily unavailable' },
};

interface DocumentTemplate {
  kind: string;
  name: string;
  title: string;
  englishTitle: string;
}

/** Documents each business produces; the lump-sum grant produces none. */
const DOCUMENT_TEMPLATES: Record<string, DocumentTemplate> = {
  [BUSINESS_CODES.checkIn]: {
    kind: 'householdReferralLetter',
    name: '户口登记介绍信.pdf',
    title: '户口登记介绍信',
    englishTitle: 'Household registration referral letter',
  },
  [BUSINESS_CODES.trainingEligibility]: {
    kind: 'trainingEligibilityForm',
    name: '自主就业退役士兵职业技能培训参训人员资格审核表.pdf',
    title: '自主就业退役士兵职业技能培训参训人员资格审核表',
    englishTitle: 'Vocational training eligibility review form',
  },
};

/** One-shot faults that `injectFault` queues for the next application requests. */
export type VeteransFault =
  /** HTTP 503 before the request is processed. */
  | 'server-error'
  /** HTTP 200 with an HTML page, as a proxy or maintenance page would send, before processing. */
  | 'html-page'
  /** The application is received and processed, but the response is HTTP 503, as if it were lost. */
  | 'reply-lost';

const VETERANS_FAULTS: readonly VeteransFault[] = ['server-error', 'html-page', 'reply-lost'];

export type VeteransSimulator = FaultInjectingSimulator<VeteransFault>;

export async function startVeteransSimulator(options: FaultSimulatorOptions): Promise<VeteransSimulator> {
  const simulation = new VeteransSystemSimulation(options);
  if (options.faults) simulation.faults.configure(options.faults);
  const server = await startSimulatorServer((request, body) => simulation.handle(request, body), options);
  return {
    department: 'veterans',
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

class VeteransSystemSimulation {
  readonly ledger = new SubmissionLedger('VA');
  readonly faults = new FaultInjector<VeteransFault>(VETERANS_FAULTS);
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
    const route = checkRoute(request);
    if (route !== undefined) return route;

    const fault = this.faults.takeQueued();
    if (fault === 'server-error') return errorReply(503, SERVICE_UNAVAILABLE);
    if (fault === 'html-page') return MAINTENANCE_PAGE;
    if (fault === 'reply-lost') {
      await this.receive(request, body);
      return errorReply(503, SERVICE_UNAVAILABLE);
    }

    return runWithFaults(this.faults, request, {
      operation: 'submit',
      transientReply: () => errorReply(503, SERVICE_UNAVAILABLE),
      process: () => this.receive(request, body),
    });
  }

  private async receive(request: IncomingMessage, body: Buffer): Promise<SimulatorReply> {
    if (!verifyBodySignature(this.options.secret, body, headerValue(request.headers, SIGNATURE_HEADER))) {
      return errorReply(401, {
        error: { code: 'invalid_signature', message: 'request signature does not verify' },
      });
    }
    const idempotencyKey = headerValue(request.headers, IDEMPOTENCY_HEADER);
    if (!idempotencyKey) return errorReply(400, invalidRequest('Idempotency-Key').body);

    const parsed = parseJson(body);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return errorReply(400, {
        error: { code: 'invalid_json', message: 'request body is not a JSON object' },
      });
    }
    const violation = checkApplication(parsed);
    if (violation !== undefined) return errorReply(violation.status, violation.body);
    const application = parsed as ApplicationBody;
    const callbackUrl = application.callback_url || this.options.callbackUrl;
    if (!callbackUrl) return errorReply(400, invalidRequest('callback_url').body);

    const { fresh, submission } = this.ledger.record(describeSubmission(application, idempotencyKey));
    if (fresh) {
      this.effects.record(idempotencyKey);
      // An early result reaches the gateway before the receipt does, as a fast department's webhook may.
      if (this.faults.drawEarlyResult()) await this.reportResults(submission, callbackUrl);
      else this.schedule(submission, callbackUrl);
    }
    const receipt = { receipt_no: submission.receiptNo, received_at: toShanghaiIso(submission.receivedAtMs) };
    // A replayed key gets the first receipt again, with 200 instead of 201.
    return jsonReply(fresh ? 201 : 200, receipt, fresh ? {} : { 'idempotent-replayed': 'true' });
  }

  private schedule(submission: SimulatedSubmission, callbackUrl: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.reportResults(submission, callbackUrl);
    }, this.options.processingDelayMs ?? DEFAULT_PROCESSING_DELAY_MS);
    this.timers.add(timer);
  }

  /** Processes a submission and turns a failure into a process warning, because no caller awaits the results. */
  private async reportResults(submission: SimulatedSubmission, callbackUrl: string): Promise<void> {
    try {
      await this.processSubmission(submission, callbackUrl);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      process.emitWarning(
        `veterans simulator: processing of receipt ${submission.receiptNo} failed: ${reason}`,
      );
    }
  }

  /** Sends `accepted`, then the decided result; `completed` carries the documents the business produces. */
  private async processSubmission(submission: SimulatedSubmission, callbackUrl: string): Promise<void> {
    await this.sendEvent(callbackUrl, makeEvent(submission, 'accepted', submission.receivedAtMs));

    const decision = this.options.decide?.(submission) ?? { status: 'completed' };
    if (decision.status === 'rejected') {
      const event = makeEvent(submission, 'rejected', Date.now());
      await this.sendEvent(callbackUrl, {
        ...event,
        reason: decision.reason,
        legal_basis: decision.legalBasis,
      });
      return;
    }

    const documents = await produceDocuments(submission);
    for (const document of documents) {
      const content = Buffer.from(document.content_base64, 'base64');
      this.ledger.recordProduced(submission.reference, document.kind, content);
    }
    await this.sendEvent(callbackUrl, { ...makeEvent(submission, 'completed', Date.now()), documents });
  }

  private async sendEvent(callbackUrl: string, event: CallbackBody): Promise<void> {
    if (this.stopped) return;
    const text = JSON.stringify(event);
    const headers = {
      'content-type': 'application/json',
      [SIGNATURE_HEADER]: signBody(this.options.secret, text),
    };
    const delivered = await sendCallbackCopies(this.faults, () =>
      deliverCallback(callbackUrl, text, headers),
    );
    if (!delivered) {
      process.emitWarning(`veterans simulator: callback ${event.event_id} was not acknowledged`);
    }
  }
}

function checkRoute(request: IncomingMessage): SimulatorReply | undefined {
  const path = new URL(request.url ?? '/', 'http://simulator.invalid').pathname;
  if (path !== APPLICATIONS_PATH) {
    return errorReply(404, { error: { code: 'not_found', message: `no endpoint at ${path}` } });
  }
  if (request.method !== 'POST') {
    return errorReply(405, { error: { code: 'method_not_allowed', message: 'use POST' } });
  }
  return undefined;
}

/** Describes an application for the ledger, whose `form` is the snake_case sections as received. */
function describeSubmission(
  application: ApplicationBody,
  idempotencyKey: string,
): Omit<SimulatedSubmission, 'receiptNo' | 'receivedAtMs'> {
  const separator = application.reference.lastIndexOf('.');
  const { applicant, service, bank_account, employment } = application;
  return {
    caseId: separator > 0 ? application.reference.slice(0, separator) : application.reference,
    itemKey: separator > 0 ? application.reference.slice(separator + 1) : '',
    businessCode: application.business_code,
    idempotencyKey,
    reference: application.reference,
    form: { applicant, service, bank_account, employment },
    materialKinds: application.materials.map((material) => material.material),
  };
}

function makeEvent(
  submission: SimulatedSubmission,
  status: CallbackBody['status'],
  atMs: number,
): CallbackBody {
  return {
    event_id: `${submission.receiptNo}-${status}`,
    reference: submission.reference,
    receipt_no: submission.receiptNo,
    status,
    occurred_at: toShanghaiIso(atMs),
    documents: [],
  };
}

async function produceDocuments(submission: SimulatedSubmission): Promise<CallbackDocument[]> {
  const template = DOCUMENT_TEMPLATES[submission.businessCode];
  if (template === undefined) return [];
  const pdf = await makePdf(template.title, [
    template.englishTitle,
    `Receipt number: ${submission.receiptNo}`,
    `Gateway reference: ${toPrintableAscii(submission.reference)}`,
    `Issued: ${toShanghaiIso(Date.now()).slice(0, 10)}`,
    'Issued by the simulated veterans affairs system',
  ]);
  return [
    {
      kind: template.kind,
      name: template.name,
      media_type: 'application/pdf',
      content_base64: pdf.toString('base64'),
    },
  ];
}

/** Replaces characters outside printable ASCII with `?`, because the standard PDF fonts encode only WinAnsi. */
function toPrintableAscii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** Formats epoch milliseconds as ISO 8601 in China Standard Time, which has no daylight saving. */
function toShanghaiIso(epochMs: number): string {
  const shifted = new Date(epochMs + 8 * 60 * 60 * 1000).toISOString();
  return `${shifted.slice(0, 19)}+08:00`;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function errorReply(status: number, body: ErrorBody): SimulatorReply {
  return jsonReply(status, body);
}

function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): SimulatorReply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}
