import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmacSha256Hex(secret: string, data: Buffer | string): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/** Compares two hex digests in constant time; false when lengths differ. */
export function hexDigestsEqual(expected: string, actual: string): boolean {
  const left = Buffer.from(expected, 'hex');
  const right = Buffer.from(actual, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

export const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * Builds a webhook signature header `t=<unix seconds>,v1=<hex>` where the digest is
 * HMAC-SHA256 over `<t>.<body>`, so a captured body cannot be replayed with a new time.
 */
export function signBody(
  secret: string,
  body: Buffer | string,
  unixSeconds = Math.floor(Date.now() / 1000),
): string {
  const payload = Buffer.concat([Buffer.from(`${unixSeconds}.`), Buffer.from(body)]);
  return `t=${unixSeconds},v1=${hmacSha256Hex(secret, payload)}`;
}

/** Verifies a header made by `signBody`; false when it is missing, malformed, stale or wrong. */
export function verifyBodySignature(
  secret: string,
  body: Buffer,
  header: string | undefined,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  if (!header) return false;
  const fields = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const timestamp = Number(fields.get('t'));
  const digest = fields.get('v1');
  if (!Number.isInteger(timestamp) || !digest) return false;
  if (Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) return false;

  const payload = Buffer.concat([Buffer.from(`${timestamp}.`), body]);
  return hexDigestsEqual(hmacSha256Hex(secret, payload), digest);
}
