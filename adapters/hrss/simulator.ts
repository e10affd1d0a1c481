/**
 * Simulator of the hrss gateway. It reads GBK packets, verifies their MAC, dedupes on
 * seqNo and replies with a receipt. Then it posts result notices (CB0001) to the
 * gateway: accepted at once, completed or rejected after the processing delay. hrss
 * produces no documents, because the social security card is a physical card. Faults
 * follow the shared fault model, with retCode 9999 as the transient error. It logs
 * nothing.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  EffectCounter,
  FaultInjector,
  handleFaultControl,
  replyWhileDown,
  runWithFaults,
  sendCallbackCopies,
  truncateReply,
  type FaultInjectingSimulator,
  type FaultSimulatorOptions,
} from '../../src/adapters-kit/faults.ts';
import { sha256Hex } from '../../src/adapters-kit/signing.ts';
import {
  delay,
  deliverCallback,
  startSimulatorServer,
  SubmissionLedger,
  type SimulatedDecision,
  type SimulatedSubmission,
  type SimulatorReply,
} from '../../src/adapters-kit/simulator.ts';
import { elementsToForm, HRSS_ITEMS, isHrssTranCode, type HrssTranCode } from './fields.ts';
import {
  CALLBACK_TRAN_CODE,
  decodeGbk,
  encodePacket,
  formatCompactTime,
  HRSS_CHANNEL,
  HRSS_CONTENT_TYPE,
  HRSS_GATEWAY_PATH,
  parsePacket,
  RET_CODE_SUCCESS,
  verifyPacketMac,
  type HrssStatusCode,
  type Packet,
  type PacketHead,
} from './packet.ts';
import {
  childNode,
  childNodes,
  requiredText,
  XmlRejectedError,
  type XmlNode,
} from '../../src/adapters-kit/xml.ts';

/** One-shot faults that `injectFault` queues for the next packets. */
export type HrssFault =
  /** retCode 9999, before the packet is processed. */
  | 'system-error'
  /** retCode 1001 with a Chinese retMsg and a legalBasis, before the packet is processed. */
  | 'business-refusal'
  /** HTTP 200 with an HTML page, as a proxy or maintenance page would send. */
  | 'html-page'
  /** The packet is processed, but the reply is cut off halfway. */
  | 'truncated-reply'
  /** HTTP 200 with an XML reply that declares a DOCTYPE. */
  | 'doctype-reply';

const HRSS_FAULTS: readonly HrssFault[] = [
  'system-error',
  'business-refusal',
  'html-page',
  'truncated-reply',
  'doctype-reply',
];

export type HrssSimulator = FaultInjectingSimulator<HrssFault>;

/** The refusal the `business-refusal` fault sends (fictional wording for tests and demos). */
export const SIMULATED_HRSS_REFUSAL = {
  retCode: '1001',
  reason: '申请人已在其他统筹地区参加城镇企业职工基本养老保险，不能重复参保登记。',
  legalBasis: '《中华人民共和国社会保险法》第五十八条（模拟）',
};

/** Return codes the simulator sends. 2xxx mean the gateway sent a bad packet. */
const RET_CODES = {
  malformedPacket: '2001',
  macInvalid: '2002',
  unknownTranCode: '2003',
  systemError: '9999',
} as const;

interface PacketRequest {
  tranCode: HrssTranCode;
  seqNo: string;
  packet: Packet;
}

export async function startHrssSimulator(options: FaultSimulatorOptions): Promise<HrssSimulator> {
  if (!options.callbackUrl)
    throw new Error('the hrss simulator needs callbackUrl: hrss reports results by callback');
  const simulation = new HrssGatewaySimulation(options, options.callbackUrl);
  if (options.faults) simulation.faults.configure(options.faults);
  const server = await startSimulatorServer((request, body) => simulation.handle(request, body), options);

  return {
    department: 'hrss',
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
    close: async () => {
      simulation.closed = true;
      simulation.faults.stop();
      await server.close();
    },
  };
}

class HrssGatewaySimulation {
  readonly ledger = new SubmissionLedger('RS');
  readonly faults = new FaultInjector<HrssFault>(HRSS_FAULTS);
  readonly effects = new EffectCounter();
  /** Set on close: result notices still waiting are not sent. */
  closed = false;
  private readonly processingDelayMs: number;

  constructor(
    private readonly options: FaultSimulatorOptions,
    private readonly callbackUrl: string,
  ) {
    this.processingDelayMs = options.processingDelayMs ?? 50;
  }

  async handle(request: IncomingMessage, body: Buffer): Promise<SimulatorReply> {
    const control = handleFaultControl(request, body, this.faults);
    if (control !== undefined) return control;
    const url = new URL(request.url ?? '/', 'http://simulator.invalid');
    if (url.pathname !== HRSS_GATEWAY_PATH) return { status: 404, body: 'not found' };
    if (request.method !== 'POST')
      return { status: 405, headers: { allow: 'POST' }, body: 'method not allowed' };

    const down = replyWhileDown(this.faults, request, () =>
      this.errorReply(RET_CODES.systemError, '系统繁忙，请稍后重试'),
    );
    if (down !== undefined) return down;

    const read = this.readRequest(body);
    if ('reply' in read) return read.reply;

    const fault = this.faults.takeQueued();
    if (fault === 'truncated-reply') return truncateReply(await this.submit(read.request));
    if (fault !== undefined) {
      // The packet reached the department, so it counts, but it was not processed.
      this.ledger.submitRequestCount += 1;
      return this.faultReply(fault, read.request);
    }

    return runWithFaults(this.faults, request, {
      operation: 'submit',
      transientReply: () => this.faultReply('system-error', read.request),
      process: () => this.submit(read.request),
      onUnprocessed: () => {
        this.ledger.submitRequestCount += 1;
      },
    });
  }

  /** Decodes and authenticates a packet, or returns the 2xxx reply to send. */
  private readRequest(body: Buffer): { request: PacketRequest } | { reply: SimulatorReply } {
    let packet: Packet;
    try {
      packet = parsePacket(decodeGbk(body));
    } catch (error) {
      if (!(error instanceof XmlRejectedError)) throw error;
      return { reply: this.errorReply(RET_CODES.malformedPacket, `报文格式错误：${error.rejection}`) };
    }
    if (!verifyPacketMac(body, this.options.secret)) {
      return { reply: this.errorReply(RET_CODES.macInvalid, 'MAC校验失败', packet.head) };
    }

    const { tranCode = '', seqNo = '', channel } = packet.head;
    if (!isHrssTranCode(tranCode)) {
      return { reply: this.errorReply(RET_CODES.unknownTranCode, '交易码不存在', packet.head) };
    }
    if (!/^[0-9A-F]{32}$/.test(seqNo) || channel !== HRSS_CHANNEL) {
      return {
        reply: this.errorReply(RET_CODES.malformedPacket, '报文头 seqNo 或 channel 不正确', packet.head),
      };
    }
    return { request: { tranCode, seqNo, packet } };
  }

  private async submit({ tranCode, seqNo, packet }: PacketRequest): Promise<SimulatorReply> {
    const { body } = packet;
    const reference = requiredText(body, 'reference') ?? '';
    const { form, missing } = elementsToForm(body, HRSS_ITEMS[tranCode].sections);
    if (reference === '' || missing.length > 0) {
      const fields = reference === '' ? ['reference', ...missing] : missing;
      return this.errorReply(RET_CODES.malformedPacket, `缺少必填字段：${fields.join('，')}`, packet.head);
    }
    const materialKinds = readAttachmentKinds(body);
    if (!materialKinds)
      return this.errorReply(RET_CODES.malformedPacket, '附件的 sha256 与内容不符', packet.head);

    const { fresh, submission } = this.ledger.record({
      caseId: reference.slice(0, Math.max(reference.lastIndexOf('.'), 0)),
      itemKey: HRSS_ITEMS[tranCode].itemKey,
      businessCode: tranCode,
      idempotencyKey: seqNo,
      reference,
      form,
      materialKinds,
    });
    if (fresh) {
      this.effects.record(seqNo);
      const decision = this.options.decide?.(submission) ?? { status: 'completed' };
      // An early result is decided at once and notified before the submit response.
      if (this.faults.drawEarlyResult()) await this.reportResults(submission, decision, 0);
      else void this.reportResults(submission, decision, this.processingDelayMs);
    }

    const receipt = {
      receiptNo: submission.receiptNo,
      receivedAt: formatCompactTime(submission.receivedAtMs),
    };
    return this.reply({ tranCode, seqNo, retCode: RET_CODE_SUCCESS, retMsg: '成功' }, receipt);
  }

  /**
   * Posts the accepted notice, waits out the processing delay, then posts the result. A
   * failure becomes a process warning, because no caller awaits the notices.
   */
  private async reportResults(
    submission: SimulatedSubmission,
    decision: SimulatedDecision,
    processingDelayMs: number,
  ): Promise<void> {
    try {
      await this.sendNotice(submission, '01', submission.receivedAtMs, {});

      const decidedAtMs = submission.receivedAtMs + processingDelayMs;
      await delay(Math.max(decidedAtMs - Date.now(), 0));
      if (decision.status === 'rejected') {
        await this.sendNotice(submission, '03', decidedAtMs, {
          reason: decision.reason,
          legalBasis: decision.legalBasis,
        });
      } else {
        await this.sendNotice(submission, '02', decidedAtMs, {});
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      process.emitWarning(
        `hrss simulator: result notices of receipt ${submission.receiptNo} failed: ${reason}`,
      );
    }
  }

  private async sendNotice(
    submission: SimulatedSubmission,
    status: HrssStatusCode,
    occurredAtMs: number,
    refusal: { reason?: string; legalBasis?: string },
  ): Promise<void> {
    if (this.closed) return;
    const head = {
      tranCode: CALLBACK_TRAN_CODE,
      seqNo: randomUUID().replaceAll('-', '').toUpperCase(),
      sendTime: formatCompactTime(Date.now()),
      channel: HRSS_CHANNEL,
      eventId: `${submission.receiptNo}-${status}`,
    };
    const body = {
      reference: submission.reference,
      receiptNo: submission.receiptNo,
      status,
      occurredAt: formatCompactTime(occurredAtMs),
      ...refusal,
    };
    const packet = encodePacket(head, body, this.options.secret);
    await sendCallbackCopies(this.faults, () =>
      deliverCallback(this.callbackUrl, packet, { 'content-type': HRSS_CONTENT_TYPE }),
    );
  }

  private faultReply(fault: Exclude<HrssFault, 'truncated-reply'>, request: PacketRequest): SimulatorReply {
    const { tranCode, seqNo } = request;
    switch (fault) {
      case 'system-error':
        return this.reply(
          { tranCode, seqNo, retCode: RET_CODES.systemError, retMsg: '系统繁忙，请稍后重试' },
          {},
        );
      case 'business-refusal': {
        const { retCode, reason, legalBasis } = SIMULATED_HRSS_REFUSAL;
        return this.reply({ tranCode, seqNo, retCode, retMsg: reason }, { legalBasis });
      }
      case 'html-page':
        return {
          status: 200,
          headers: { 'content-type': 'text/html; charset=utf-8' },
          body: '<!DOCTYPE html><html><head><title>系统维护</title></head><body><p>系统维护中</p></body></html>',
        };
      case 'doctype-reply':
        return {
          status: 200,
          headers: { 'content-type': HRSS_CONTENT_TYPE },
          body: '<?xml version="1.0" encoding="GBK"?><!DOCTYPE packet [<!ENTITY probe "probe">]><packet>&probe;</packet>',
        };
    }
  }

  private errorReply(
    retCode: string,
    retMsg: string,
    requestHead: Record<string, string> = {},
  ): SimulatorReply {
    const head = { tranCode: requestHead['tranCode'] ?? '', seqNo: requestHead['seqNo'], retCode, retMsg };
    return this.reply(head, {});
  }

  private reply(head: PacketHead, body: XmlNode): SimulatorReply {
    const signedHead = { ...head, sendTime: formatCompactTime(Date.now()), channel: HRSS_CHANNEL };
    return {
      status: 200,
      headers: { 'content-type': HRSS_CONTENT_TYPE },
      body: encodePacket(signedHead, body, this.options.secret),
    };
  }
}

/** Returns the material keys of the attachments, or undefined when one does not match its hash. */
function readAttachmentKinds(body: XmlNode): string[] | undefined {
  const kinds: string[] = [];
  for (const attachment of childNodes(childNode(body, 'attachments'), 'attachment')) {
    const content = Buffer.from(requiredText(attachment, 'content') ?? '', 'base64');
    if (sha256Hex(content) !== requiredText(attachment, 'sha256')) return undefined;
    kinds.push(requiredText(attachment, 'materialKey') ?? '');
  }
  return kinds;
}
