/**
 * hrss (人力资源和社会保障部门) adapter: GBK XML packets posted to the department's
 * gateway, results by GBK XML callbacks. The packet and its MAC are described in
 * packet.ts and contracts/hrss/hrss-packet.xsd.
 */
import {
  BusinessRefusalError,
  CallbackAuthError,
  CallbackFormatError,
  DepartmentHttpClient,
  ensureSuccessStatus,
  headerValue,
  PermanentDepartmentError,
  sha256Hex,
  TransientDepartmentError,
  type AdapterOptions,
  type DepartmentAdapter,
  type DepartmentError,
  type HttpResponse,
  type ItemOutcome,
  type OutboundDocument,
  type RawCallback,
  type SubmissionReceipt,
  type SubmissionRequest,
} from '../../src/adapters-kit/index.ts';
import { formToElements, FormFieldError, HRSS_ITEMS, isHrssTranCode, type HrssTranCode } from './fields.ts';
import {
  CALLBACK_TRAN_CODE,
  compactTimeToIso,
  decodeGbk,
  encodePacket,
  formatCompactTime,
  HRSS_CHANNEL,
  HRSS_CONTENT_TYPE,
  HRSS_GATEWAY_PATH,
  HRSS_STATUS_CODES,
  hrssSequenceNumber,
  parsePacket,
  RET_CODE_SUCCESS,
  verifyPacketMac,
  type Packet,
  type PacketHead,
} from './packet.ts';
import { requiredText, XmlRejectedError, type XmlNode } from '../../src/adapters-kit/xml.ts';

export function createHrssAdapter(options: AdapterOptions): DepartmentAdapter {
  const http = new DepartmentHttpClient('hrss', options.timeouts);
  const endpoint = `${options.baseUrl.replace(/\/+$/, '')}${HRSS_GATEWAY_PATH}`;
  return {
    department: 'hrss',
    resultMode: 'callback',
    submit: (request) => submit(http, endpoint, options.secret, request),
    parseCallback: (raw) => parseCallback(raw, options.secret),
    acknowledgeCallback: () => ({ contentType: HRSS_CONTENT_TYPE, body: acknowledgement(options.secret) }),
  };
}

async function submit(
  http: DepartmentHttpClient,
  endpoint: string,
  secret: string,
  request: SubmissionRequest,
): Promise<SubmissionReceipt> {
  const tranCode = request.businessCode;
  if (!isHrssTranCode(tranCode)) {
    throw new PermanentDepartmentError('hrss', `business code ${tranCode} is not an hrss transaction code`);
  }

  const seqNo = hrssSequenceNumber(request.idempotencyKey);
  const head = { tranCode, seqNo, sendTime: formatCompactTime(Date.now()), channel: HRSS_CHANNEL };
  const packet = encodeSubmitPacket(head, submitBody(tranCode, request), secret);
  const response = await http.send(endpoint, {
    method: 'POST',
    headers: { 'content-type': HRSS_CONTENT_TYPE, accept: 'text/xml' },
    body: packet,
  });
  return readSubmitReply(response, { tranCode, seqNo }, secret);
}

/** Encodes the packet. The form fields are checked for GBK before, so only the gateway's own values can fail here. */
function encodeSubmitPacket(head: PacketHead, body: XmlNode, secret: string): Buffer {
  try {
    return encodePacket(head, body, secret);
  } catch (error) {
    throw new PermanentDepartmentError('hrss', `${head.tranCode} packet cannot be encoded in GBK`, {
      cause: error,
    });
  }
}

function submitBody(tranCode: HrssTranCode, request: SubmissionRequest): XmlNode {
  let sections: XmlNode;
  try {
    sections = formToElements(request.form, HRSS_ITEMS[tranCode].sections);
  } catch (error) {
    if (!(error instanceof FormFieldError)) throw error;
    throw new PermanentDepartmentError('hrss', `${error.message}, which ${tranCode} needs`);
  }

  return {
    reference: request.reference,
    ...sections,
    attachments: { attachment: request.materials.map(attachmentElement) },
  };
}

function attachmentElement(material: OutboundDocument): XmlNode {
  // A stored document that no longer matches its hash is corrupt; sending it would only
  // move the problem to the department.
  if (sha256Hex(material.content) !== material.sha256) {
    throw new PermanentDepartmentError('hrss', `material ${material.material} does not match its SHA-256`);
  }
  return {
    materialKey: material.material,
    mediaType: material.mediaType,
    sha256: material.sha256,
    content: material.content.toString('base64'),
  };
}

/**
 * Classifies the department's reply by its head retCode: 0000 success, 1xxx business
 * refusal, 9xxx system error, anything else a contract problem. Error messages carry
 * the retCode, not retMsg, which a department may fill with applicant data.
 */
function readSubmitReply(
  response: HttpResponse,
  expected: { tranCode: HrssTranCode; seqNo: string },
  secret: string,
): SubmissionReceipt {
  const { tranCode } = expected;
  const packet = readReplyPacket(response, tranCode);
  const retCode = packet.head['retCode'] ?? '';

  if (/^9\d{3}$/.test(retCode)) {
    throw new TransientDepartmentError('hrss', `${tranCode} returned system error retCode ${retCode}`);
  }
  if (retCode !== RET_CODE_SUCCESS && !/^1\d{3}$/.test(retCode)) {
    ensureSuccessStatus('hrss', response, tranCode);
    throw new PermanentDepartmentError('hrss', `${tranCode} returned retCode ${retCode || '(none)'}`);
  }

  // Only replies the gateway acts on need to be authentic, because the others fail anyway.
  if (!verifyPacketMac(response.body, secret)) {
    throw new PermanentDepartmentError(
      'hrss',
      `${tranCode} reply mac does not verify; check the shared secret`,
    );
  }
  if (packet.head['seqNo'] !== expected.seqNo) {
    throw new PermanentDepartmentError('hrss', `${tranCode} reply echoes another seqNo`);
  }
  if (retCode !== RET_CODE_SUCCESS) throw refusalError(packet, tranCode, retCode);
  return readReceipt(packet.body, tranCode);
}

function readReplyPacket(response: HttpResponse, tranCode: HrssTranCode): Packet {
  if (isHtmlPage(response)) {
    throw new TransientDepartmentError(
      'hrss',
      `${tranCode} returned an HTML page with HTTP ${response.status} instead of a packet, typically from a proxy or a maintenance page`,
    );
  }

  try {
    return parsePacket(decodeGbk(response.body));
  } catch (error) {
    if (!(error instanceof XmlRejectedError)) throw error;
    throw unreadableReplyError(error, response, tranCode);
  }
}

function unreadableReplyError(
  error: XmlRejectedError,
  response: HttpResponse,
  tranCode: HrssTranCode,
): DepartmentError {
  if (error.rejection === 'doctype') {
    return new PermanentDepartmentError(
      'hrss',
      `${tranCode} reply contains a DOCTYPE declaration, which is refused`,
    );
  }
  ensureSuccessStatus('hrss', response, tranCode);
  // The department dedupes on seqNo, so a cut-off reply is retried.
  if (error.rejection === 'malformed') {
    return new TransientDepartmentError(
      'hrss',
      `${tranCode} reply is cut off or malformed: ${error.message}`,
    );
  }
  return new PermanentDepartmentError('hrss', `${tranCode} reply is not an hrss packet: ${error.message}`);
}

function refusalError(packet: Packet, tranCode: HrssTranCode, retCode: string): DepartmentError {
  const reason = packet.head['retMsg'];
  const legalBasis = requiredText(packet.body, 'legalBasis');
  if (!reason || !legalBasis) {
    return new PermanentDepartmentError('hrss', `${tranCode} refusal ${retCode} lacks retMsg or legalBasis`);
  }
  return new BusinessRefusalError('hrss', reason, legalBasis, retCode);
}

function readReceipt(body: XmlNode, tranCode: HrssTranCode): SubmissionReceipt {
  const receiptNo = requiredText(body, 'receiptNo');
  const receivedAt = compactTimeToIso(requiredText(body, 'receivedAt'));
  if (!receiptNo || !receivedAt) {
    throw new PermanentDepartmentError('hrss', `${tranCode} reply lacks receiptNo or a valid receivedAt`);
  }
  return { receiptNo, receivedAt };
}

function isHtmlPage(response: HttpResponse): boolean {
  const contentType = headerValue(response.headers, 'content-type') ?? '';
  if (contentType.toLowerCase().includes('text/html')) return true;
  const start = response.body.subarray(0, 256).toString('latin1').trimStart().toLowerCase();
  return start.startsWith('<!doctype html') || start.startsWith('<html');
}

/**
 * Reads a result notice (CB0001). The XML is checked before the MAC so that a cut-off
 * body is reported as a format problem rather than as a forgery.
 */
function parseCallback(raw: RawCallback, secret: string): ItemOutcome[] {
  let packet: Packet;
  try {
    packet = parsePacket(decodeGbk(raw.body));
  } catch (error) {
    if (!(error instanceof XmlRejectedError)) throw error;
    throw new CallbackFormatError(`hrss callback is unreadable: ${error.message}`);
  }
  if (!verifyPacketMac(raw.body, secret)) throw new CallbackAuthError('hrss callback mac does not verify');

  if (packet.head['tranCode'] !== CALLBACK_TRAN_CODE) {
    throw new CallbackFormatError(
      `hrss callback has tranCode ${packet.head['tranCode'] ?? '(none)'}, expected ${CALLBACK_TRAN_CODE}`,
    );
  }
  return [readResultNotice(packet)];
}

function readResultNotice(packet: Packet): ItemOutcome {
  const { body } = packet;
  const eventId = packet.head['eventId'];
  const reference = requiredText(body, 'reference');
  const receiptNo = requiredText(body, 'receiptNo');
  const statusCode = requiredText(body, 'status') ?? '';
  const occurredAt = compactTimeToIso(requiredText(body, 'occurredAt'));
  if (!eventId || !reference || !receiptNo || !occurredAt) {
    throw new CallbackFormatError('hrss callback lacks eventId, reference, receiptNo or a valid occurredAt');
  }
  if (!Object.hasOwn(HRSS_STATUS_CODES, statusCode)) {
    throw new CallbackFormatError(`hrss callback has unknown status ${statusCode || '(none)'}`);
  }

  const status = HRSS_STATUS_CODES[statusCode as keyof typeof HRSS_STATUS_CODES];
  const outcome: ItemOutcome = { reference, receiptNo, status, eventId, occurredAt, documents: [] };
  if (status === 'rejected') {
    const reason = requiredText(body, 'reason');
    const legalBasis = requiredText(body, 'legalBasis');
    if (!reason || !legalBasis)
      throw new CallbackFormatError('hrss callback rejects without reason or legalBasis');
    Object.assign(outcome, { reason, legalBasis });
  }
  return outcome;
}

function acknowledgement(secret: string): Buffer {
  const head = {
    tranCode: CALLBACK_TRAN_CODE,
    sendTime: formatCompactTime(Date.now()),
    channel: HRSS_CHANNEL,
    retCode: RET_CODE_SUCCESS,
    retMsg: '成功',
  };
  return encodePacket(head, {}, secret);
}
