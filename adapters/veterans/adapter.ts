/**
 * Adapter for the veterans affairs (退役军人事务部门) system: items go out as signed REST
 * JSON requests, and results come back as signed webhook callbacks.
 */
import {
  BusinessRefusalError,
  DepartmentHttpClient,
  PermanentDepartmentError,
  TransientDepartmentError,
  ensureSuccessStatus,
  headerValue,
  signBody,
  type AdapterOptions,
  type DepartmentAdapter,
  type HttpResponse,
  type SubmissionReceipt,
  type SubmissionRequest,
} from '../../src/adapters-kit/index.ts';
import { parseVeteransCallback } from './callback.ts';
import { buildApplicationBody } from './payload.ts';
import { APPLICATIONS_PATH, IDEMPOTENCY_HEADER, REFUSAL_CODE_PREFIX, SIGNATURE_HEADER } from './protocol.ts';

const ACKNOWLEDGEMENT = JSON.stringify({ received: true });

/** Error codes and field paths from the department that are safe to put in a log line. */
const SAFE_TOKEN = /^[\w.[\]-]{1,100}$/;

export function createVeteransAdapter(options: AdapterOptions): DepartmentAdapter {
  const client = new DepartmentHttpClient('veterans', options.timeouts);
  const applicationsUrl = `${options.baseUrl.replace(/\/+$/, '')}${APPLICATIONS_PATH}`;

  return {
    department: 'veterans',
    resultMode: 'callback',

    async submit(request: SubmissionRequest): Promise<SubmissionReceipt> {
      const body = JSON.stringify(buildApplicationBody(request));
      const response = await client.send(applicationsUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [IDEMPOTENCY_HEADER]: request.idempotencyKey,
          [SIGNATURE_HEADER]: signBody(options.secret, body),
        },
        body,
      });
      return readReceipt(response);
    },

    parseCallback: (raw) => parseVeteransCallback(options.secret, raw),

    acknowledgeCallback: () => ({ contentType: 'application/json', body: ACKNOWLEDGEMENT }),
  };
}

/** Classifies the response to a submit request and returns the receipt of a successful one. */
function readReceipt(response: HttpResponse): SubmissionReceipt {
  if (response.status === 422) throw classifyUnprocessable(response);
  if (response.status >= 400 && response.status < 500) throw classifyClientError(response);
  ensureSuccessStatus('veterans', response, 'veterans submit');

  // Proxies and maintenance pages in front of the department respond with 200 and HTML.
  // The department's API is not reachable behind them, so a later attempt may succeed.
  if (isHtml(response)) {
    throw new TransientDepartmentError(
      'veterans',
      `veterans submit returned an HTML page with HTTP ${response.status} instead of JSON`,
    );
  }

  const parsed = parseJson(response.body);
  const receiptNo = isObject(parsed) ? parsed.receipt_no : undefined;
  const receivedAt = isObject(parsed) ? parsed.received_at : undefined;
  if (typeof receiptNo !== 'string' || receiptNo === '' || typeof receivedAt !== 'string') {
    throw new PermanentDepartmentError(
      'veterans',
      `veterans submit returned HTTP ${response.status} without receipt_no and received_at in a JSON body`,
    );
  }
  if (Number.isNaN(Date.parse(receivedAt))) {
    throw new PermanentDepartmentError(
      'veterans',
      'veterans submit returned a received_at that is not an ISO 8601 time',
    );
  }
  return { receiptNo, receivedAt };
}

/** Classifies a 422: a `refused_` code is a refusal (不予受理), and any other code a contract error. */
function classifyUnprocessable(response: HttpResponse): Error {
  const error = readErrorBody(response);
  const code = typeof error?.code === 'string' ? error.code : undefined;
  const message = typeof error?.message === 'string' ? error.message : '';
  if (code?.startsWith(REFUSAL_CODE_PREFIX) && message !== '') {
    const legalBasis = typeof error?.legal_basis === 'string' ? error.legal_basis : '';
    return new BusinessRefusalError('veterans', message, legalBasis, code);
  }
  return classifyClientError(response);
}

/** Classifies a 4xx. 408 and 429 may pass on a later attempt, but any other 4xx means the request is wrong. */
function classifyClientError(response: HttpResponse): Error {
  const summary = `veterans submit returned HTTP ${response.status}${describeError(response)}`;
  if (response.status === 408 || response.status === 429)
    return new TransientDepartmentError('veterans', summary);
  return new PermanentDepartmentError('veterans', summary);
}

/** Names the department's error code and field, never its message, which may echo personal data. */
function describeError(response: HttpResponse): string {
  const error = readErrorBody(response);
  const code = safeToken(error?.code);
  const field = safeToken(error?.field);
  if (code === undefined) return '';
  return field === undefined ? ` (${code})` : ` (${code}, field ${field})`;
}

function safeToken(value: unknown): string | undefined {
  return typeof value === 'string' && SAFE_TOKEN.test(value) ? value : undefined;
}

function readErrorBody(response: HttpResponse): Record<string, unknown> | undefined {
  const parsed = parseJson(response.body);
  if (!isObject(parsed) || !isObject(parsed.error)) return undefined;
  return parsed.error;
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
