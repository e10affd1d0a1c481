/**
 * Platform request signatures. A caller signs
 * `METHOD \n PATH \n TIMESTAMP \n NONCE \n CONTENT-DIGEST` with HMAC-SHA256 and its
 * shared secret. For a JSON request the content digest is the SHA-256 of the raw body.
 * For multipart it is the SHA-256 of the `case` part (line breaks as LF) followed by one
 * line `<part name>=<sha256 of the file>` per file, sorted, so proxies that re-chunk a
 * multipart body do not break the signature. Timestamps more than five minutes away and
 * nonces seen before are rejected.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { hexDigestsEqual, hmacSha256Hex, sha256Hex } from '../adapters-kit/signing.ts';
import { GatewayError } from './errors.ts';

export const REPLAY_WINDOW_SECONDS = 300;

export const HEADERS = {
  appId: 'x-lianban-app-id',
  timestamp: 'x-lianban-timestamp',
  nonce: 'x-lianban-nonce',
  signature: 'x-lianban-signature',
} as const;

export function multipartDigest(caseJson: string, files: Record<string, Buffer>): string {
  // Browsers' and undici's FormData turn every line break of a text field into CRLF, so
  // the digest is taken over the text with line breaks as LF.
  const caseText = caseJson.replace(/\r\n?/g, '\n');
  const lines = Object.entries(files)
    .map(([name, content]) => `${name}=${sha256Hex(content)}`)
    .sort();
  return sha256Hex([caseText, ...lines].join('\n'));
}

function signingString(
  method: string,
  path: string,
  timestamp: string,
  nonce: string,
  digest: string,
): string {
  return [method.toUpperCase(), path, timestamp, nonce, digest].join('\n');
}

/** Builds the signature headers for a platform request. */
export function signPlatformRequest(input: {
  appId: string;
  secret: string;
  method: string;
  path: string;
  contentDigest: string;
  unixSeconds?: number;
}): Record<string, string> {
  const timestamp = String(input.unixSeconds ?? Math.floor(Date.now() / 1000));
  const nonce = randomBytes(12).toString('hex');
  const signature = hmacSha256Hex(
    input.secret,
    signingString(input.method, input.path, timestamp, nonce, input.contentDigest),
  );
  return {
    [HEADERS.appId]: input.appId,
    [HEADERS.timestamp]: timestamp,
    [HEADERS.nonce]: nonce,
    [HEADERS.signature]: signature,
  };
}

export class PlatformAuthenticator {
  constructor(
    private readonly callers: ReadonlyMap<string, string>,
    private readonly redis: Redis,
    private readonly nonceKeyPrefix: string,
  ) {}

  /** Throws a 401 GatewayError unless the request is signed by a known caller and is fresh. */
  async verify(
    headers: Record<string, string | string[] | undefined>,
    method: string,
    path: string,
    contentDigest: string,
  ): Promise<string> {
    const read = (name: string): string | undefined => {
      const value = headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const appId = read(HEADERS.appId);
    const timestamp = read(HEADERS.timestamp);
    const nonce = read(HEADERS.nonce);
    const signature = read(HEADERS.signature);
    const missing = Object.values(HEADERS).filter((name) => !read(name));
    if (!appId || !timestamp || !nonce || !signature) {
      throw new GatewayError('LB_ERR_AUTH_MISSING', [
        { code: 'LB_ERR_AUTH_MISSING', pointer: '', message: `缺少请求头：${missing.join('、')}。` },
      ]);
    }

    const secret = this.callers.get(appId);
    const age = Math.abs(Math.floor(Date.now() / 1000) - Number(timestamp));
    const expected = secret
      ? hmacSha256Hex(secret, signingString(method, path, timestamp, nonce, contentDigest))
      : '';
    // Each failure names its cause, so clock skew is not mistaken for a wrong secret.
    if (!secret) throw authInvalid(`未知的调用方 ${appId}，请检查 ${HEADERS.appId}。`);
    if (!Number.isFinite(age) || age > REPLAY_WINDOW_SECONDS) {
      throw authInvalid(`时间戳与网关时间相差超过 ${REPLAY_WINDOW_SECONDS} 秒，请校准时钟后重新签名。`);
    }
    if (!hexDigestsEqual(expected, signature)) {
      throw authInvalid('签名不匹配，请检查密钥、签名串（方法、路径、时间戳、随机数、内容摘要）后重新签名。');
    }

    // The nonce is stored with a token of this request: when a reconnecting Redis client
    // re-sends this SET after it was applied, the stored token is ours, not a replay.
    const nonceKey = `${this.nonceKeyPrefix}:${appId}:${nonce}`;
    const token = randomBytes(8).toString('hex');
    const fresh = await this.redis.set(nonceKey, token, 'EX', REPLAY_WINDOW_SECONDS * 2, 'NX');
    if (fresh !== 'OK' && (await this.redis.get(nonceKey)) !== token) {
      throw new GatewayError('LB_ERR_AUTH_REPLAYED');
    }
    return appId;
  }
}

function authInvalid(message: string): GatewayError {
  return new GatewayError('LB_ERR_AUTH_INVALID', [{ code: 'LB_ERR_AUTH_INVALID', pointer: '', message }]);
}
