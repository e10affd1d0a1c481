/**
 * Helpers for intake tests over HTTP: signed requests as the platform, and counts of what
 * a request left behind (case keys, platform claims, queued jobs, document files).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FormData, request } from 'undici';
import { sha256Hex } from '../../src/adapters-kit/signing.ts';
import { multipartDigest, signPlatformRequest } from '../../src/api/auth.ts';
import type { Gateway } from '../../src/gateway.ts';

export interface SignedCaller {
  gatewayUrl: string;
  appId: string;
  callerSecret: string;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

export interface ErrorBody {
  code: string;
  message: string;
  details: Array<{ code: string; pointer: string; message: string }>;
}

const TIMEOUT_MS = 30_000;

/** Posts raw bytes to /v1/cases, signed over their SHA-256 unless `signed` is false. */
export async function postCase(
  caller: SignedCaller,
  body: string | Buffer,
  contentType: string,
  signed = true,
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (signed) Object.assign(headers, signature(caller, sha256Hex(body)));
  const response = await request(`${caller.gatewayUrl}/v1/cases`, {
    method: 'POST',
    headers,
    body,
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: text ? (JSON.parse(text) as unknown) : null };
}

/** Posts a case as JSON with its materials in base64. */
export function postJsonCase(
  caller: SignedCaller,
  form: Record<string, unknown>,
  uploads: Record<string, Buffer>,
): Promise<HttpAnswer> {
  const materials = Object.fromEntries(
    Object.entries(uploads).map(([key, content]) => [
      key,
      { mediaType: 'application/octet-stream', dataBase64: content.toString('base64') },
    ]),
  );
  return postCase(caller, JSON.stringify({ ...form, materials }), 'application/json');
}

/** Posts a case as multipart: the `case` part and one file part per material. */
export async function postMultipartCase(
  caller: SignedCaller,
  caseJson: string,
  uploads: Record<string, Buffer>,
): Promise<HttpAnswer> {
  const form = new FormData();
  form.append('case', caseJson);
  for (const [key, content] of Object.entries(uploads)) {
    // The file name is deliberately misleading: the gateway must ignore it.
    form.append(key, new Blob([content], { type: 'text/plain' }), `../../${key}.exe`);
  }
  const response = await request(`${caller.gatewayUrl}/v1/cases`, {
    method: 'POST',
    headers: signature(caller, multipartDigest(caseJson, uploads)),
    body: form,
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: text ? (JSON.parse(text) as unknown) : null };
}

function signature(caller: SignedCaller, contentDigest: string): Record<string, string> {
  return signPlatformRequest({
    appId: caller.appId,
    secret: caller.callerSecret,
    method: 'POST',
    path: '/v1/cases',
    contentDigest,
  });
}

/** Keys of stored cases and of platform case id claims. */
export async function storedCaseKeys(gateway: Gateway): Promise<string[]> {
  const { prefix } = gateway.store.keys;
  const cases = await gateway.store.redis.keys(`${prefix}:case:*`);
  const claims = await gateway.store.redis.keys(`${prefix}:platform-case:*`);
  return [...cases, ...claims];
}

export async function queuedJobCount(gateway: Gateway): Promise<number> {
  let total = 0;
  for (const queue of gateway.queues.departments.values()) {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    total += Object.values(counts).reduce((sum, count) => sum + count, 0);
  }
  return total;
}

/** Every file under the documents directory, including temporary ones. */
export async function documentFiles(directory: string): Promise<string[]> {
  try {
    const entries = await readdir(directory, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
