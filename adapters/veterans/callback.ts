/**
 * Verification and parsing of the webhook callbacks veterans affairs posts to the gateway.
 */
import {
  CallbackAuthError,
  CallbackFormatError,
  headerValue,
  verifyBodySignature,
  type ItemOutcome,
  type RawCallback,
  type ResultDocument,
} from '../../src/adapters-kit/index.ts';
import { SIGNATURE_HEADER, type CallbackStatus } from './protocol.ts';

type JsonObject = Record<string, unknown>;

const STATUSES: readonly CallbackStatus[] = ['accepted', 'completed', 'rejected'];
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Verifies the signature header over the raw body, then reads the one event the body
 * carries. Throws `CallbackAuthError` for a missing, stale or wrong signature and
 * `CallbackFormatError` naming the first missing or invalid field.
 */
export function parseVeteransCallback(secret: string, raw: RawCallback): ItemOutcome[] {
  const signature = headerValue(raw.headers, SIGNATURE_HEADER);
  if (!verifyBodySignature(secret, raw.body, signature)) {
    throw new CallbackAuthError(
      `veterans callback header ${SIGNATURE_HEADER} is missing, stale or does not verify`,
    );
  }
  return [readOutcome(parseJsonObject(raw.body))];
}

function parseJsonObject(body: Buffer): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new CallbackFormatError('veterans callback body is not valid JSON');
  }
  if (!isObject(parsed)) throw new CallbackFormatError('veterans callback body is not a JSON object');
  return parsed;
}

function readOutcome(body: JsonObject): ItemOutcome {
  const status = requireString(body, 'status');
  if (!STATUSES.includes(status as CallbackStatus)) {
    throw invalidField('status', `one of ${STATUSES.join(', ')}`);
  }
  const occurredAt = requireString(body, 'occurred_at');
  if (Number.isNaN(Date.parse(occurredAt))) throw invalidField('occurred_at', 'an ISO 8601 time');

  const outcome: ItemOutcome = {
    eventId: requireString(body, 'event_id'),
    reference: requireString(body, 'reference'),
    receiptNo: requireString(body, 'receipt_no'),
    status: status as CallbackStatus,
    occurredAt,
    documents: readDocuments(body.documents),
  };
  if (status === 'rejected') {
    // A refusal must state its reason and legal basis (理由及依据) for the applicant.
    outcome.reason = requireString(body, 'reason');
    outcome.legalBasis = requireString(body, 'legal_basis');
  }
  return outcome;
}

function readDocuments(value: unknown): ResultDocument[] {
  if (!Array.isArray(value)) throw invalidField('documents', 'an array');
  return value.map((entry: unknown, index) => {
    const field = `documents[${index}]`;
    if (!isObject(entry)) throw invalidField(field, 'an object');
    const kind = requireString(entry, 'kind', field);
    const name = requireString(entry, 'name', field);
    const mediaType = requireString(entry, 'media_type', field);
    const contentBase64 = requireString(entry, 'content_base64', field);
    if (!BASE64.test(contentBase64)) throw invalidField(`${field}.content_base64`, 'base64');
    return { kind, name, mediaType, content: Buffer.from(contentBase64, 'base64') };
  });
}

function requireString(object: JsonObject, key: string, parent?: string): string {
  const value = object[key];
  if (typeof value !== 'string' || value === '') {
    throw invalidField(parent ? `${parent}.${key}` : key, 'a non-empty string');
  }
  return value;
}

function invalidField(field: string, expected: string): CallbackFormatError {
  return new CallbackFormatError(`veterans callback field ${field} is missing or not ${expected}`);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
