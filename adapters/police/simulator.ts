/**
 * Simulator of the police PoliceService: a SOAP 1.1 server that dedupes submissions on
 * the RequestId header and replies to QueryStatus by the time since receipt: RECEIVED,
 * then ACCEPTED after half the processing delay, then COMPLETED or REJECTED after the
 * whole delay. Completed items carry the electronic ID material ⑧. Faults follow the
 * shared fault model; an early result here means an item decided at receipt, so the
 * first status query already finds it COMPLETED or REJECTED. It logs nothing.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import {
  EffectCounter,
  FaultInjector,
  handleFaultControl,
  replyWhileDown,
  runWithFaults,
  truncateReply,
  type FaultInjectingSimulator,
  type FaultSimulatorOptions,
} from '../../src/adapters-kit/faults.ts';
import { headerValue, sha256Hex, verifyBodySignature } from '../../src/adapters-kit/index.ts';
import {
  makePdf,
  startSimulatorServer,
  SubmissionLedger,
  type SimulatedDecision,
  type SimulatedSubmission,
  type SimulatorReply,
} from '../../src/adapters-kit/simulator.ts';
import { elementsToForm, isPoliceBusinessCode, POLICE_ITEMS, sectionsFor } from './fields.ts';
import {
  bodyPayload,
  buildEnvelope,
  buildFault,
  parseEnvelope,
  POLICE_OPERATIONS,
  POLICE_SERVICE_PATH,
  readRequestHeader,
  SIGNATURE_HEADER,
  type PoliceErrorCode,
  type PoliceOperation,
  type PoliceRefusal,
  type PoliceRequestHeader,
} from './soap.ts';
import { formatBeijingTime } from './time.ts';
import {
  childNode,
  childNodes,
  childText,
  requiredText,
  XmlRejectedError,
  type XmlNode,
} from '../../src/adapters-kit/xml.ts';

const WSDL_TEMPLATE = readFileSync(
  new URL('../../contracts/police/police-service.wsdl', import.meta.url),
  'utf8',
);

/** One-shot faults that `injectFault` queues for the next SOAP requests. */
export type PoliceFault =
  /** HTTP 500 with a soapenv:Server fault, before the request is processed. */
  | 'server-fault'
  /** HTTP 500 with a soapenv:Client fault carrying a BusinessRefusal detail. */
  | 'business-refusal'
  /** HTTP 200 with an HTML page, as a proxy or maintenance page would send. */
  | 'html-page'
  /** The request is processed, but the reply is cut off halfway. */
  | 'truncated-reply'
  /** HTTP 200 with an XML reply that declares a DOCTYPE. */
  | 'doctype-reply';

const POLICE_FAULTS: readonly PoliceFault[] = [
  'server-fault',
  'business-refusal',
  'html-page',
  'truncated-reply',
  'doctype-reply',
];

export type PoliceSimulator = FaultInjectingSimulator<PoliceFault>;

/** The refusal the `business-refusal` fault sends (fictional wording for tests and demos). */
export const SIMULATED_REFUSAL: PoliceRefusal = {
  refusalCode: 'GA-BSL-001',
  reason: '申请人居民身份证不是重庆市公安机关5年内签发，无法网上办理，请到户籍所在地派出所窗口办理。',
  legalBasis: '《中华人民共和国居民身份证法》第十一条；重庆市居民身份证网上办理规定（模拟）',
};

const ELECTRONIC_ID_FILE_NAME = '身份证电子化材料.pdf';

interface ItemProgress {
  submission: SimulatedSubmission;
  decision: SimulatedDecision;
  /** Decided at receipt, with no RECEIVED or ACCEPTED phase. */
  early: boolean;
  /** The ⑧ PDF, made once when the item is first seen completed. */
  document?: Promise<Buffer>;
}

type SoapRequest = {
  operation: PoliceOperation;
  header: PoliceRequestHeader;
  payload: XmlNode;
};

export async function startPoliceSimulator(options: FaultSimulatorOptions): Promise<PoliceSimulator> {
  const simulator = new PoliceServiceSimulation(options);
  if (options.faults) simulator.faults.configure(options.faults);
  const server = await startSimulatorServer((request, body) => simulator.handle(request, body), options);
  simulator.url = server.url;

  return {
    department: 'police',
    url: server.url,
    get submissions() {
      return simulator.ledger.submissions;
    },
    get submitRequestCount() {
      return simulator.ledger.submitRequestCount;
    },
    get produced() {
      return simulator.ledger.produced;
    },
    injectFault: (fault, times = 1) => simulator.faults.enqueue(fault, times),
    setFaults: (settings) => simulator.faults.configure(settings),
    clearFaults: () => simulator.faults.clear(),
    get faultCounts() {
      return simulator.faults.counts;
    },
    get effectsByKey() {
      return simulator.effects.byKey;
    },
    async close() {
      simulator.faults.stop();
      await server.close();
    },
  };
}

class PoliceServiceSimulation {
  readonly ledger = new SubmissionLedger('GA');
  readonly faults = new FaultInjector<PoliceFault>(POLICE_FAULTS);
  readonly effects = new EffectCounter();
  url = '';
  private readonly progress = new Map<string, ItemProgress>();
  private readonly processingDelayMs: number;

  constructor(private readonly options: FaultSimulatorOptions) {
    this.processingDelayMs = options.processingDelayMs ?? 50;
  }

  async handle(request: IncomingMessage, body: Buffer): Promise<SimulatorReply> {
    const control = handleFaultControl(request, body, this.faults);
    if (control !== undefined) return control;
    const url = new URL(request.url ?? '/', 'http://simulator.invalid');
    if (url.pathname !== POLICE_SERVICE_PATH) return { status: 404, body: 'not found' };
    if (request.method === 'GET' && url.search.toLowerCase() === '?wsdl') return this.wsdlReply();
    if (request.method !== 'POST')
      return { status: 405, headers: { allow: 'GET, POST' }, body: 'method not allowed' };

    const down = replyWhileDown(this.faults, request, () => faultReply('server-fault'));
    if (down !== undefined) return down;

    const parsed = this.readRequest(request, body);
    if ('reply' in parsed) return parsed.reply;
    return this.dispatch(request, parsed.request);
  }

  private wsdlReply(): SimulatorReply {
    const wsdl = WSDL_TEMPLATE.replace(/location="[^"]*"/, `location="${this.url}${POLICE_SERVICE_PATH}"`);
    return { status: 200, headers: { 'content-type': 'text/xml; charset=utf-8' }, body: wsdl };
  }

  /** Authenticates and parses a SOAP request, or returns the Client fault to reply with. */
  private readRequest(
    incoming: IncomingMessage,
    body: Buffer,
  ): { request: SoapRequest } | { reply: SimulatorReply } {
    const signature = headerValue(incoming.headers, SIGNATURE_HEADER);
    if (!verifyBodySignature(this.options.secret, body, signature)) {
      return { reply: clientFault('SIGNATURE-INVALID', '报文签名校验失败') };
    }
    const contentType = headerValue(incoming.headers, 'content-type') ?? '';
    if (!contentType.toLowerCase().startsWith('text/xml')) {
      return { reply: clientFault('MALFORMED-ENVELOPE', 'SOAP 1.1 报文的 Content-Type 应为 text/xml') };
    }

    let message;
    try {
      message = parseEnvelope(body.toString('utf8'));
    } catch (error) {
      if (!(error instanceof XmlRejectedError)) throw error;
      return { reply: clientFault('MALFORMED-ENVELOPE', `SOAP 报文无法解析：${error.rejection}`) };
    }

    const operation = operationFor(headerValue(incoming.headers, 'soapaction'));
    const payload = bodyPayload(message.body);
    if (!operation || payload?.name !== POLICE_OPERATIONS[operation].requestElement) {
      return { reply: clientFault('UNKNOWN-OPERATION', 'SOAPAction 或报文体不是本服务的操作') };
    }
    const { RequestId, ReferenceNo } = readRequestHeader(message.header);
    if (!RequestId || !ReferenceNo)
      return { reply: clientFault('MISSING-HEADER', '报文头缺少 RequestId 或 ReferenceNo') };

    return { request: { operation, header: { RequestId, ReferenceNo }, payload: payload.node } };
  }

  private async dispatch(incoming: IncomingMessage, request: SoapRequest): Promise<SimulatorReply> {
    const submit = request.operation === 'SubmitApplication';
    const fault = this.faults.takeQueued();
    if (fault === 'truncated-reply') return truncateReply(await this.process(request));
    if (fault !== undefined) {
      // The request reached the department, so it counts, but it was not processed.
      if (submit) this.ledger.submitRequestCount += 1;
      return faultReply(fault);
    }

    return runWithFaults(this.faults, incoming, {
      operation: submit ? 'submit' : 'query',
      transientReply: () => faultReply('server-fault'),
      process: () => this.process(request),
      onUnprocessed: () => {
        if (submit) this.ledger.submitRequestCount += 1;
      },
    });
  }

  private async process(request: SoapRequest): Promise<SimulatorReply> {
    return request.operation === 'SubmitApplication'
      ? this.submitApplication(request)
      : this.queryStatus(request);
  }

  private submitApplication({ header, payload }: SoapRequest): SimulatorReply {
    const businessCode = requiredText(payload, 'BusinessCode') ?? '';
    if (!isPoliceBusinessCode(businessCode))
      return clientFault('INVALID-REQUEST', '业务编码不是公安部门的事项');
    if (requiredText(payload, 'ReferenceNo') !== header.ReferenceNo) {
      return clientFault('INVALID-REQUEST', '报文体的 ReferenceNo 与报文头不一致');
    }
    const deliveryMethod = childText(childNode(payload, 'Delivery'), 'Method');
    const { form, missing } = elementsToForm(payload, sectionsFor(businessCode, deliveryMethod));
    if (missing.length > 0) return clientFault('INVALID-REQUEST', `缺少必填字段：${missing.join('，')}`);
    const materialKinds = readAttachmentKinds(payload);
    if (!materialKinds) return clientFault('INVALID-REQUEST', '附件的 Sha256 与内容不符');

    const reference = header.ReferenceNo;
    const { fresh, submission } = this.ledger.record({
      caseId: reference.slice(0, Math.max(reference.lastIndexOf('.'), 0)),
      itemKey: POLICE_ITEMS[businessCode].itemKey,
      businessCode,
      idempotencyKey: header.RequestId,
      reference,
      form,
      materialKinds,
    });
    if (fresh) {
      this.effects.record(header.RequestId);
      const decision = this.options.decide?.(submission) ?? { status: 'completed' };
      this.progress.set(submission.receiptNo, { submission, decision, early: this.faults.drawEarlyResult() });
    }

    return soapReply(POLICE_OPERATIONS.SubmitApplication.responseElement, {
      ReceiptNo: submission.receiptNo,
      ReferenceNo: submission.reference,
      ReceivedAt: formatBeijingTime(submission.receivedAtMs),
    });
  }

  private async queryStatus({ header, payload }: SoapRequest): Promise<SimulatorReply> {
    const receiptNo = requiredText(payload, 'ReceiptNo') ?? '';
    const item = this.progress.get(receiptNo);
    const { submission } = item ?? {};
    if (!item || !submission || submission.reference !== requiredText(payload, 'ReferenceNo')) {
      return clientFault('RECEIPT-NOT-FOUND', '没有该受理编号的办件');
    }
    if (submission.idempotencyKey !== header.RequestId)
      return clientFault('RECEIPT-NOT-FOUND', '受理编号与 RequestId 不符');

    const status: XmlNode = { ReceiptNo: receiptNo, ReferenceNo: submission.reference };
    Object.assign(status, await this.currentStatus(item));
    return soapReply(POLICE_OPERATIONS.QueryStatus.responseElement, status);
  }

  /** Returns Status, StatusTime and the Refusal or Documents of an item at the current time. */
  private async currentStatus(item: ItemProgress): Promise<XmlNode> {
    const { receivedAtMs } = item.submission;
    const delayMs = item.early ? 0 : this.processingDelayMs;
    const acceptedAtMs = receivedAtMs + Math.floor(delayMs / 2);
    const decidedAtMs = receivedAtMs + delayMs;
    const now = Date.now();

    if (now < acceptedAtMs) return { Status: 'RECEIVED', StatusTime: formatBeijingTime(receivedAtMs) };
    if (now < decidedAtMs) return { Status: 'ACCEPTED', StatusTime: formatBeijingTime(acceptedAtMs) };

    const { decision } = item;
    const StatusTime = formatBeijingTime(decidedAtMs);
    if (decision.status === 'rejected') {
      const refusal = {
        RefusalCode: decision.code ?? 'GA-BYSL',
        Reason: decision.reason,
        LegalBasis: decision.legalBasis,
      };
      return { Status: 'REJECTED', StatusTime, Refusal: refusal };
    }

    const content = await this.electronicIdMaterial(item);
    const document = {
      DocumentCode: 'SFZDZHCL',
      FileName: ELECTRONIC_ID_FILE_NAME,
      MediaType: 'application/pdf',
      Sha256: sha256Hex(content),
      Content: content.toString('base64'),
    };
    return { Status: 'COMPLETED', StatusTime, Documents: { Document: [document] } };
  }

  private electronicIdMaterial(item: ItemProgress): Promise<Buffer> {
    if (!item.document) {
      const { receiptNo, reference, businessCode } = item.submission;
      item.document = makePdf('身份证电子化材料', [
        'Electronic ID material (fictional)',
        `Receipt: ${receiptNo}`,
        `Reference: ${reference}`,
        `Business code: ${businessCode}`,
      ]).then((content) => {
        this.ledger.recordProduced(reference, 'electronicIdMaterial', content);
        return content;
      });
    }
    return item.document;
  }
}

function operationFor(soapAction: string | undefined): PoliceOperation | undefined {
  const action = (soapAction ?? '').trim().replace(/^"(.*)"$/, '$1');
  const entry = Object.entries(POLICE_OPERATIONS).find(([, operation]) => operation.soapAction === action);
  return entry?.[0] as PoliceOperation | undefined;
}

/** Returns the material keys of the attachments, or undefined when one does not match its hash. */
function readAttachmentKinds(payload: XmlNode): string[] | undefined {
  const kinds: string[] = [];
  for (const attachment of childNodes(childNode(payload, 'Attachments'), 'Attachment')) {
    const content = Buffer.from(requiredText(attachment, 'Content') ?? '', 'base64');
    if (sha256Hex(content) !== requiredText(attachment, 'Sha256')) return undefined;
    kinds.push(requiredText(attachment, 'MaterialKey') ?? '');
  }
  return kinds;
}

function soapReply(element: string, payload: XmlNode): SimulatorReply {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body: buildEnvelope(undefined, element, payload),
  };
}

/** SOAP 1.1 over HTTP sends every fault with status 500, Client faults included. */
function clientFault(errorCode: PoliceErrorCode, faultString: string): SimulatorReply {
  const body = buildFault('Client', faultString, { errorCode });
  return { status: 500, headers: { 'content-type': 'text/xml; charset=utf-8' }, body };
}

function faultReply(fault: Exclude<PoliceFault, 'truncated-reply'>): SimulatorReply {
  const xml = { 'content-type': 'text/xml; charset=utf-8' };
  switch (fault) {
    case 'server-fault':
      return {
        status: 500,
        headers: xml,
        body: buildFault('Server', '系统繁忙，请稍后重试', { errorCode: 'SYSTEM-ERROR' }),
      };
    case 'business-refusal':
      return {
        status: 500,
        headers: xml,
        body: buildFault('Client', '不予受理', { refusal: SIMULATED_REFUSAL }),
      };
    case 'html-page':
      return {
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: '<!DOCTYPE html><html><head><title>系统维护</title></head><body><p>系统维护中</p></body></html>',
      };
    case 'doctype-reply':
      return {
        status: 200,
        headers: xml,
        body: '<?xml version="1.0"?><!DOCTYPE Envelope [<!ENTITY probe "probe">]><Envelope>&probe;</Envelope>',
      };
  }
}
