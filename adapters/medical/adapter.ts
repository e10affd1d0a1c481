/**
 * Adapter for the medical insurance (医疗保障部门) service: items go out as signed JSON
 * envelopes to one transaction endpoint, and results come back as signed envelopes.
 */
import {
  BusinessRefusalError,
  DepartmentHttpClient,
  PermanentDepartmentError,
  TransientDepartmentError,
  ensureSuccessStatus,
  headerValue,
  type AdapterOptions,
  type DepartmentAdapter,
  type HttpResponse,
  type SubmissionReceipt,
  type SubmissionRequest,
} from '../../src/adapters-kit/index.ts';
import { parseMedicalCallback } from './callback.ts';
import { buildRequestEnvelope } from './payload.ts';
import { CALL_SERVICE_PATH, INFCODE, infTimeToIso } from './protocol.ts';

const ACKNOWLEDGEMENT = JSON.stringify({ infcode: INFCODE.success, err_msg: 'success' });

/** Field paths from the department that are safe to put in a log line. */
const SAFE_FIELD = /^[\w.[\]-]{1,100}$/;

export function createMedicalAdapter(options: AdapterOptions): DepartmentAdapter {
  const client = new DepartmentHttpClient('medical', options.timeouts);
  const serviceUrl = `${options.baseUrl.replace(/\/+$/, '')}${CALL_SERVICE_PATH}`;

  return {
    department: 'medical',
    resultMode: 'callback',

    async submit(request: SubmissionRequest): Promise<SubmissionReceipt> {
      const envelope = buildRequestEnvelope(request, options.secret);
      const response = await client.send(serviceUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json;charset=utf-8' },
        body: JSON.stringify(envelope),
      });
      return readReceipt(response, envelope.infno);
    },

    parseCallback: (raw) => parseMedicalCallback(options.secret, raw),

    acknowledgeCallback: () => ({ contentType: 'application/json', body: ACKNOWLEDGEMENT }),
  };
}

/** Classifies the response to a submit request and returns the receipt of a successful one. */
function readReceipt(response: HttpResponse, infno: string): SubmissionReceipt {
  const transaction = `medical transaction ${infno}`;
  ensureSuccessStatus('medical', response, transaction);

  // Proxies and maintenance pages in front of the department respond with 200 and HTML.
  // The service is not reachable behind them, so a later attempt may succeed.
  if (isHtml(response)) {
    throw new TransientDepartmentError(
      'medical',
      `${transaction} returned an HTML page with HTTP ${response.status}`,
    );
  }

  const envelope = parseJson(response.body);
  if (!isObject(envelope) || !Number.isInteger(envelope.infcode)) {
    throw new PermanentDepartmentError(
      'medical',
      `${transaction} returned no JSON envelope with an integer infcode`,
    );
  }
  const output = isObject(envelope.output) ? envelope.output : {};
  switch (envelope.infcode) {
    case INFCODE.success:
      return readSuccessOutput(output, transaction);
    case INFCODE.systemError:
      throw new TransientDepartmentError(
        'medical',
        `${transaction} failed with a department system error (infcode -1)`,
      );
    case INFCODE.refused:
      throw readRefusal(envelope, output, transaction);
    default:
      throw new PermanentDepartmentError(
        'medical',
        `${transaction} was rejected with ${describeRejection(envelope, output)}`,
      );
  }
}

/** Names the infcode and the invalid field, never err_msg, in which the department may echo input values. */
function describeRejection(envelope: Record<string, unknown>, output: Record<string, unknown>): string {
  const infcode = `infcode ${String(envelope.infcode)}`;
  const field = output.field;
  return typeof field === 'string' && SAFE_FIELD.test(field) ? `${infcode} (field ${field})` : infcode;
}

function readSuccessOutput(output: Record<string, unknown>, transaction: string): SubmissionReceipt {
  const { receipt_no: receiptNo, received_at: receivedAt } = output;
  if (typeof receiptNo !== 'string' || receiptNo === '' || typeof receivedAt !== 'string') {
    throw new PermanentDepartmentError(
      'medical',
      `${transaction} succeeded without output.receipt_no and output.received_at`,
    );
  }
  const receivedAtIso = infTimeToIso(receivedAt);
  if (receivedAtIso === undefined) {
    throw new PermanentDepartmentError(
      'medical',
      `${transaction} returned an output.received_at that is not yyyy-MM-dd HH:mm:ss`,
    );
  }
  return { receiptNo, receivedAt: receivedAtIso };
}

function readRefusal(
  envelope: Record<string, unknown>,
  output: Record<string, unknown>,
  transaction: string,
): Error {
  const reason = envelope.err_msg;
  if (typeof reason !== 'string' || reason === '') {
    return new PermanentDepartmentError(
      'medical',
      `${transaction} returned infcode 1 (refusal) without the err_msg reason`,
    );
  }
  const legalBasis = typeof output.legal_basis === 'string' ? output.legal_basis : '';
  const code = typeof output.refusal_code === 'string' ? output.refusal_code : String(INFCODE.refused);
  return new BusinessRefusalError('medical', reason, legalBasis, code);
}

function isHtml(response: HttpResponse): boolean {
  const contentType = headerValue(response.headers, 'content-type') ?? '';
  if (contentType.toLowerCase().includes('text/html')) return true;
  return response.body.toString('utf8', 0, 256).trimStart().startsWith('<');
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
