/**
 * Signatures of medical envelopes. The signature sits inside the JSON it signs, so both
 * sides sign a canonical form instead of the raw bytes. That form is the envelope without
 * `cainfo`, with object keys sorted by UTF-16 code units at every level and no whitespace.
 * Strings and numbers are written as `JSON.stringify` writes them.
 */
import { SIGNATURE_TOLERANCE_SECONDS, hexDigestsEqual, hmacSha256Hex } from '../../src/adapters-kit/index.ts';
import { SIGN_TYPE, infTimeToIso, type SignatureFields } from './protocol.ts';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((entry) => canonicalJson(entry)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const members = Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`);
    return `{${members.join(',')}}`;
  }
  // JSON.stringify returns undefined for undefined and functions, which JSON arrays write as null.
  return JSON.stringify(value) ?? 'null';
}

/** Adds `signtype` and `cainfo` to an envelope. */
export function signEnvelope<T extends object>(secret: string, envelope: T): T & SignatureFields {
  const unsigned = { ...envelope, signtype: SIGN_TYPE };
  return { ...unsigned, cainfo: computeCainfo(secret, unsigned) };
}

/**
 * Checks the signature fields of a parsed envelope and returns what is wrong, or
 * undefined when it verifies. `inf_time` must lie within 300 s of now, so a captured
 * envelope cannot be replayed later.
 */
export function findSignatureProblem(
  secret: string,
  envelope: object,
  nowMs = Date.now(),
): string | undefined {
  const fields = envelope as Record<string, unknown>;
  const { cainfo, signtype, inf_time: infTime } = fields;
  if (signtype !== SIGN_TYPE) return `signtype is missing or not ${SIGN_TYPE}`;
  if (typeof cainfo !== 'string' || cainfo === '') return 'cainfo is missing';

  const sentIso = typeof infTime === 'string' ? infTimeToIso(infTime) : undefined;
  if (sentIso === undefined) return 'inf_time is missing or not yyyy-MM-dd HH:mm:ss';
  if (Math.abs(nowMs - Date.parse(sentIso)) > SIGNATURE_TOLERANCE_SECONDS * 1000) {
    return `inf_time is more than ${SIGNATURE_TOLERANCE_SECONDS} s away from now`;
  }

  const { cainfo: _ignored, ...signed } = fields;
  if (!hexDigestsEqual(computeCainfo(secret, signed), cainfo)) return 'cainfo does not verify';
  return undefined;
}

function computeCainfo(secret: string, unsignedEnvelope: object): string {
  return hmacSha256Hex(secret, canonicalJson(unsignedEnvelope));
}
