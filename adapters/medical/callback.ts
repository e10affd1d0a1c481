/**
 * Verification and parsing of the result envelopes the medical insurance service posts
 * to the gateway.
 */
import {
  CallbackAuthError,
  CallbackFormatError,
  type ItemOutcome,
  type RawCallback,
  type ResultDocument,
} from '../../src/adapters-kit/index.ts';
import { findSignatureProblem } from './envelope.ts';
import { infTimeToIso, type CallbackStatus } from './protocol.ts';

type JsonObject = Record<string, unknown>;

const STATUSES: readonly CallbackStatus[] = ['accepted', 'completed', 'rejected'];
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses the envelope, checks its `signtype`, `cainfo` and `inf_time`, then reads the
 * one event in `output`. Throws `CallbackAuthError` when the signature fields do not
 * verify and `CallbackFormatError` naming the first missing or invalid field.
 */
export function parseMedicalCallback(secret: string, raw: RawCallback): ItemOutcome[] {
  // The signature is inside the JSON, so the body must be parsed before it can be verified.
  const envelope = parseJsonObject(raw.body);
  const problem = findSignatureProblem(secret, envelope);
  if (problem !== undefined)
    throw new CallbackAuthError(`medical callback signature check failed: ${problem}`);

  if (!isObject(envelope.output)) throw invalidField('output', 'an object');
  return [readOutcome(envelope.output)];
}

function parseJsonObject(body: Buffer): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new CallbackFormatError('medical callback body is not valid JSON');
  }
  if (!isObject(parsed)) throw new CallbackFormatError('medical callback body is not a JSON object');
  return parsed;
}

function readOutcome(output: JsonObject): ItemOutcome {
  const status = requireString(output, 'status');
  if (!STATUSES.includes(status as CallbackStatus)) {
    throw invalidField('output.status', `one of ${STATUSES.join(', ')}`);
  }
  const occurredAt = infTimeToIso(requireString(output, 'occurred_at'));
  if (occurredAt === undefined) throw invalidField('output.occurred_at', 'a time as yyyy-MM-dd HH:mm:ss');

  const outcome: ItemOutcome = {
    eventId: requireString(output, 'event_id'),
    reference: requireString(output, 'reference'),
    receiptNo: requireString(output, 'receipt_no'),
    status: status as CallbackStatus,
    occurredAt,
    documents: readDocuments(output.documents),
  };
  if (status === 'rejected') {
    // A refusal must state its reason and legal basis (理由及依据) for the applicant.
    outcome.reason = requireString(output, 'reason');
    outcome.legalBasis = requireString(output, 'legal_basis');
  }
  return outcome;
}

function readDocuments(value: unknown): ResultDocument[] {
  if (!Array.isArray(value)) throw invalidField('output.documents', 'an array');
  return value.map((entry: unknown, index) => {
    const field = `documents[${index}]`;
    if (!isObject(entry)) throw invalidField(`output.${field}`, 'an object');
    const kind = requireString(entry, 'kind', field);
    const name = requireString(entry, 'name', field);
    const mediaType = requireString(entry, 'media_type', field);
    const contentBase64 = requireString(entry, 'content_base64', field);
    if (!BASE64.test(contentBase64)) throw invalidField(`output.${field}.content_base64`, 'base64');
    return { kind, name, mediaType, content: Buffer.from(contentBase64, 'base64') };
  });
}

function requireString(object: JsonObject, key: string, parent?: string): string {
  const value = object[key];
  if (typeof value !== 'string' || value === '') {
    throw invalidField(parent ? `output.${parent}.${key}` : `output.${key}`, 'a non-empty string');
  }
  return value;
}

function invalidField(field: string, expected: string): CallbackFormatError {
  return new CallbackFormatError(`medical callback field ${field} is missing or not ${expected}`);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
