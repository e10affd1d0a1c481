/**
 * Police (公安部门) adapter: SOAP 1.1 calls to the PoliceService of
 * contracts/police/police-service.wsdl. Results are polled with QueryStatus; the
 * department never calls back.
 */
import {
  BusinessRefusalError,
  DepartmentHttpClient,
  ensureSuccessStatus,
  headerValue,
  PermanentDepartmentError,
  sha256Hex,
  signBody,
  TransientDepartmentError,
  type AdapterOptions,
  type DepartmentAdapter,
  type DepartmentError,
  type HttpResponse,
  type ItemOutcome,
  type OutboundDocument,
  type ResultDocument,
  type SubmissionReceipt,
  type SubmissionRequest,
} from '../../src/adapters-kit/index.ts';
import { formToElements, FormFieldError, isPoliceBusinessCode, sectionsFor } from './fields.ts';
import {
  buildEnvelope,
  parseEnvelope,
  POLICE_DOCUMENT_KINDS,
  POLICE_OPERATIONS,
  POLICE_SERVICE_PATH,
  readFault,
  SIGNATURE_HEADER,
  type PoliceOperation,
  type PoliceRefusal,
  type PoliceRequestHeader,
  type SoapFault,
  type SoapMessage,
} from './soap.ts';
import { normalizeDateTime } from './time.ts';
import {
  childNode,
  childNodes,
  requiredText,
  XmlRejectedError,
  type XmlNode,
} from '../../src/adapters-kit/xml.ts';

export function createPoliceAdapter(options: AdapterOptions): DepartmentAdapter {
  const client = new PoliceSoapClient(options);
  return {
    department: 'police',
    resultMode: 'poll',
    submit: (request) => submitApplication(client, request),
    queryStatus: (query) => queryStatus(client, query),
  };
}

class PoliceSoapClient {
  private readonly http: DepartmentHttpClient;
  private readonly endpoint: string;

  constructor(private readonly options: AdapterOptions) {
    this.http = new DepartmentHttpClient('police', options.timeouts);
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}${POLICE_SERVICE_PATH}`;
  }

  /** Sends one operation and returns its response element; throws a classified `DepartmentError`. */
  async call(operation: PoliceOperation, header: PoliceRequestHeader, payload: XmlNode): Promise<XmlNode> {
    const { soapAction, requestElement } = POLICE_OPERATIONS[operation];
    const envelope = Buffer.from(buildEnvelope(header, requestElement, payload), 'utf8');
    const response = await this.http.send(this.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'text/xml; charset=utf-8',
        accept: 'text/xml',
        // SOAP 1.1 requires the SOAPAction value to be a quoted URI.
        soapaction: `"${soapAction}"`,
        [SIGNATURE_HEADER]: signBody(this.options.secret, envelope),
      },
      body: envelope,
    });
    return readReply(response, operation);
  }
}

async function submitApplication(
  client: PoliceSoapClient,
  request: SubmissionRequest,
): Promise<SubmissionReceipt> {
  const payload = buildSubmitPayload(request);
  const header = { RequestId: request.idempotencyKey, ReferenceNo: request.reference };
  const reply = await client.call('SubmitApplication', header, payload);
  return readReceipt(reply, request.reference);
}

async function queryStatus(
  client: PoliceSoapClient,
  query: { reference: string; receiptNo: string; idempotencyKey: string },
): Promise<ItemOutcome | null> {
  const header = { RequestId: query.idempotencyKey, ReferenceNo: query.reference };
  const payload = { ReceiptNo: query.receiptNo, ReferenceNo: query.reference };
  const reply = await client.call('QueryStatus', header, payload);
  return readStatus(reply, query);
}

function buildSubmitPayload(request: SubmissionRequest): XmlNode {
  const { businessCode } = request;
  if (!isPoliceBusinessCode(businessCode)) {
    throw new PermanentDepartmentError(
      'police',
      `business code ${businessCode} is not handled by the police`,
    );
  }

  const delivery = request.form['delivery'];
  const deliveryMethod =
    typeof delivery === 'object' && delivery !== null ? Reflect.get(delivery, 'method') : undefined;
  let sections: XmlNode;
  try {
    sections = formToElements(request.form, sectionsFor(businessCode, deliveryMethod));
  } catch (error) {
    if (!(error instanceof FormFieldError)) throw error;
    throw new PermanentDepartmentError('police', `${error.message}, which ${businessCode} needs`);
  }

  return {
    BusinessCode: businessCode,
    ReferenceNo: request.reference,
    ...sections,
    Attachments: { Attachment: request.materials.map(attachmentElement) },
  };
}

function attachmentElement(material: OutboundDocument): XmlNode {
  // A stored document that no longer matches its hash is corrupt; sending it would only
  // move the problem to the department.
  if (sha256Hex(material.content) !== material.sha256) {
    throw new PermanentDepartmentError('police', `material ${material.material} does not match its SHA-256`);
  }
  return {
    MaterialKey: material.material,
    MediaType: material.mediaType,
    Sha256: material.sha256,
    Content: material.content.toString('base64'),
  };
}

function readReceipt(reply: XmlNode, reference: string): SubmissionReceipt {
  const receiptNo = requiredText(reply, 'ReceiptNo');
  const receivedAt = normalizeDateTime(requiredText(reply, 'ReceivedAt') ?? '');
  if (!receiptNo || !receivedAt) {
    throw new PermanentDepartmentError(
      'police',
      'SubmitApplicationResponse lacks ReceiptNo or a valid ReceivedAt',
    );
  }
  if (requiredText(reply, 'ReferenceNo') !== reference) {
    throw new PermanentDepartmentError(
      'police',
      `SubmitApplicationResponse for ${reference} echoes another ReferenceNo`,
    );
  }
  return { receiptNo, receivedAt };
}

const OUTCOME_STATUSES = { ACCEPTED: 'accepted', COMPLETED: 'completed', REJECTED: 'rejected' } as const;

function readStatus(reply: XmlNode, query: { reference: string; receiptNo: string }): ItemOutcome | null {
  const { reference, receiptNo } = query;
  if (requiredText(reply, 'ReceiptNo') !== receiptNo || requiredText(reply, 'ReferenceNo') !== reference) {
    throw new PermanentDepartmentError(
      'police',
      `QueryStatusResponse for ${receiptNo} is about another item`,
    );
  }

  const departmentStatus = requiredText(reply, 'Status') ?? '';
  if (departmentStatus === 'RECEIVED') return null;
  if (!Object.hasOwn(OUTCOME_STATUSES, departmentStatus)) {
    throw new PermanentDepartmentError(
      'police',
      `QueryStatusResponse has unknown Status ${departmentStatus}`,
    );
  }
  const occurredAt = normalizeDateTime(requiredText(reply, 'StatusTime') ?? '');
  if (!occurredAt)
    throw new PermanentDepartmentError('police', 'QueryStatusResponse lacks a valid StatusTime');

  const status = OUTCOME_STATUSES[departmentStatus as keyof typeof OUTCOME_STATUSES];
  // The department reports each state once per receipt, so receipt and state identify
  // the report: polling a finished item again yields the same eventId, which the core drops.
  const outcome: ItemOutcome = {
    reference,
    receiptNo,
    status,
    eventId: `${receiptNo}:${status}`,
    occurredAt,
    documents: [],
  };
  if (status === 'rejected') Object.assign(outcome, readStatusRefusal(reply));
  if (status === 'completed')
    outcome.documents = childNodes(childNode(reply, 'Documents'), 'Document').map(readDocument);
  return outcome;
}

function readStatusRefusal(reply: XmlNode): { reason: string; legalBasis: string } {
  const refusal = childNode(reply, 'Refusal');
  const reason = requiredText(refusal, 'Reason');
  const legalBasis = requiredText(refusal, 'LegalBasis');
  if (!reason || !legalBasis) {
    throw new PermanentDepartmentError(
      'police',
      'QueryStatusResponse is REJECTED without Refusal/Reason and LegalBasis',
    );
  }
  return { reason, legalBasis };
}

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function readDocument(document: XmlNode): ResultDocument {
  const code = requiredText(document, 'DocumentCode') ?? '';
  const kind = Object.hasOwn(POLICE_DOCUMENT_KINDS, code)
    ? POLICE_DOCUMENT_KINDS[code as keyof typeof POLICE_DOCUMENT_KINDS]
    : undefined;
  const name = requiredText(document, 'FileName');
  const mediaType = requiredText(document, 'MediaType');
  const base64 = (requiredText(document, 'Content') ?? '').replace(/\s+/g, '');
  if (!kind || !name || !mediaType || base64 === '' || !BASE64_PATTERN.test(base64)) {
    throw new PermanentDepartmentError(
      'police',
      `result document ${code || '(no DocumentCode)'} is incomplete or unknown`,
    );
  }

  const content = Buffer.from(base64, 'base64');
  if (sha256Hex(content) !== requiredText(document, 'Sha256')) {
    throw new PermanentDepartmentError('police', `result document ${code} does not match its Sha256`);
  }
  return { kind, name, mediaType, content };
}

/**
 * Turns an HTTP response into the operation's response element. SOAP 1.1 over HTTP sends
 * faults with status 500, so a fault is classified by its faultcode, not by the status.
 */
function readReply(response: HttpResponse, operation: PoliceOperation): XmlNode {
  if (isHtmlPage(response)) {
    throw new TransientDepartmentError(
      'police',
      `${operation} returned an HTML page with HTTP ${response.status} instead of SOAP, typically from a proxy or a maintenance page`,
    );
  }

  const message = parseReply(response, operation);
  const fault = readFault(message.body);
  if (fault) throw faultError(fault, operation);
  ensureSuccessStatus('police', response, operation);

  const { responseElement } = POLICE_OPERATIONS[operation];
  const payload = childNode(message.body, responseElement);
  if (!payload) throw new PermanentDepartmentError('police', `${operation} reply has no ${responseElement}`);
  return payload;
}

function parseReply(response: HttpResponse, operation: PoliceOperation): SoapMessage {
  try {
    return parseEnvelope(decodeUtf8(response.body));
  } catch (error) {
    if (!(error instanceof XmlRejectedError)) throw error;
    throw unreadableReplyError(error, response, operation);
  }
}

function unreadableReplyError(
  error: XmlRejectedError,
  response: HttpResponse,
  operation: PoliceOperation,
): DepartmentError {
  if (error.rejection === 'doctype') {
    return new PermanentDepartmentError(
      'police',
      `${operation} reply contains a DOCTYPE declaration, which is refused`,
    );
  }
  ensureSuccessStatus('police', response, operation);
  // RequestId makes a repeated submit safe, so a cut-off reply is retried.
  if (error.rejection === 'malformed') {
    return new TransientDepartmentError(
      'police',
      `${operation} reply is cut off or malformed: ${error.message}`,
    );
  }
  return new PermanentDepartmentError(
    'police',
    `${operation} reply is not a SOAP 1.1 envelope: ${error.message}`,
  );
}

function decodeUtf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new XmlRejectedError('malformed', 'body is not valid UTF-8');
  }
}

function isHtmlPage(response: HttpResponse): boolean {
  const contentType = headerValue(response.headers, 'content-type') ?? '';
  if (contentType.toLowerCase().includes('text/html')) return true;
  const start = response.body.subarray(0, 256).toString('latin1').trimStart().toLowerCase();
  return start.startsWith('<!doctype html') || start.startsWith('<html');
}

function faultError(fault: SoapFault, operation: PoliceOperation): DepartmentError {
  const description = `${operation} returned SOAP fault ${fault.faultCode} (${fault.errorCode ?? 'no ErrorCode'})`;
  if (fault.faultClass === 'Server') return new TransientDepartmentError('police', description);
  if (fault.faultClass === 'Client' && fault.refusal) return refusalError(fault.refusal, operation);
  // Client faults without a refusal, VersionMismatch and MustUnderstand mean the gateway
  // sent what the department does not accept; the same message would fail again.
  return new PermanentDepartmentError('police', description);
}

function refusalError(refusal: Partial<PoliceRefusal>, operation: PoliceOperation): DepartmentError {
  const { reason, legalBasis, refusalCode } = refusal;
  if (!reason || !legalBasis) {
    return new PermanentDepartmentError('police', `${operation} refusal lacks Reason or LegalBasis`);
  }
  return new BusinessRefusalError('police', reason, legalBasis, refusalCode ?? 'UNSPECIFIED');
}
