/**
 * A stand-in for the 渝快办 platform's receiver: it verifies the gateway's signed status
 * pushes, keeps them in order per case, drops stale ones by sequence number, and
 * downloads every result document a push links to.
 */
import { request } from 'undici';
import { sha256Hex, verifyBodySignature } from '../../src/adapters-kit/signing.ts';
import { startSimulatorServer } from '../../src/adapters-kit/simulator.ts';
import { signPlatformRequest } from '../../src/api/auth.ts';
import type { PushItem, StatusPush } from '../../src/store/records.ts';

export interface ReceivedDocument {
  caseId: string;
  itemKey: string;
  kind: string;
  name: string;
  declaredSha256: string;
  /** SHA-256 of the bytes actually downloaded. */
  sha256: string;
  size: number;
}

export interface PlatformSimulatorOptions {
  /** Secret the gateway signs pushes with. */
  pushSecret: string;
  /** The gateway's base URL and the platform's caller credentials, for downloads. */
  gatewayUrl: () => string;
  appId: string;
  callerSecret: string;
}

export interface PlatformSimulator {
  readonly url: string;
  readonly statusUrl: string;
  /** Every push accepted, in order of arrival, stale ones included. */
  readonly pushes: StatusPush[];
  readonly stalePushes: StatusPush[];
  readonly documents: ReceivedDocument[];
  readonly rejectedSignatures: number;
  /** Documents whose download failed after every retry. */
  readonly failedDownloads: number;
  /** The latest state of each item of a case, from pushes applied in sequence order. */
  itemStates(caseId: string): Map<string, PushItem>;
  caseStatus(caseId: string): string | undefined;
  /** Resolves once every download started so far has finished. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const DOWNLOAD_TIMEOUT_MS = 10_000;
const DOWNLOAD_ATTEMPTS = 12;

export async function startPlatformSimulator(options: PlatformSimulatorOptions): Promise<PlatformSimulator> {
  const pushes: StatusPush[] = [];
  const stalePushes: StatusPush[] = [];
  const documents: ReceivedDocument[] = [];
  const lastSequence = new Map<string, number>();
  const states = new Map<string, Map<string, PushItem>>();
  const caseStatuses = new Map<string, string>();
  const downloads = new Set<Promise<void>>();
  const downloaded = new Set<string>();
  let rejectedSignatures = 0;
  let failedDownloads = 0;
  let closed = false;

  async function download(
    caseId: string,
    item: PushItem,
    document: PushItem['documents'][number],
  ): Promise<void> {
    const headers = signPlatformRequest({
      appId: options.appId,
      secret: options.callerSecret,
      method: 'GET',
      path: document.downloadPath,
      contentDigest: sha256Hex(''),
    });
    const response = await request(`${options.gatewayUrl()}${document.downloadPath}`, {
      headers,
      headersTimeout: DOWNLOAD_TIMEOUT_MS,
      bodyTimeout: DOWNLOAD_TIMEOUT_MS,
      signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS),
    });
    const content = Buffer.from(await response.body.arrayBuffer());
    if (response.statusCode !== 200)
      throw new Error(`document download returned HTTP ${response.statusCode}`);
    documents.push({
      caseId,
      itemKey: item.itemKey,
      kind: document.kind,
      name: document.name,
      declaredSha256: document.sha256,
      sha256: sha256Hex(content),
      size: content.length,
    });
  }

  /**
   * Downloads a document, retrying with a growing delay: the gateway may be restarting or
   * its Redis briefly down, and a push that was acknowledged is not sent again.
   */
  async function downloadWithRetries(
    caseId: string,
    item: PushItem,
    document: PushItem['documents'][number],
  ): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await download(caseId, item, document);
        return;
      } catch (error) {
        if (closed || attempt >= DOWNLOAD_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(200 * 2 ** attempt, 5_000)));
      }
    }
  }

  function startDownloads(push: StatusPush): void {
    for (const item of push.items) {
      for (const document of item.documents) {
        const key = `${push.caseId}:${item.itemKey}:${document.sha256}`;
        if (downloaded.has(key)) continue;
        downloaded.add(key);
        const task = downloadWithRetries(push.caseId, item, document)
          .catch(() => {
            failedDownloads += 1;
            downloaded.delete(key);
          })
          .then(() => undefined)
          .finally(() => downloads.delete(task));
        downloads.add(task);
      }
    }
  }

  function accept(push: StatusPush): void {
    pushes.push(push);
    if (push.sequence <= (lastSequence.get(push.caseId) ?? 0)) {
      stalePushes.push(push);
      return;
    }
    lastSequence.set(push.caseId, push.sequence);
    caseStatuses.set(push.caseId, push.caseStatus);
    const caseItems = states.get(push.caseId) ?? new Map<string, PushItem>();
    for (const item of push.items) caseItems.set(item.itemKey, item);
    states.set(push.caseId, caseItems);
    startDownloads(push);
  }

  const server = await startSimulatorServer(async (incoming, body) => {
    if (incoming.method !== 'POST' || incoming.url !== '/status') return { status: 404, body: 'not found' };
    const signature = incoming.headers['x-lianban-signature'];
    if (!verifyBodySignature(options.pushSecret, body, Array.isArray(signature) ? signature[0] : signature)) {
      rejectedSignatures += 1;
      return {
        status: 401,
        body: '{"error":"invalid signature"}',
        headers: { 'content-type': 'application/json' },
      };
    }
    accept(JSON.parse(body.toString('utf8')) as StatusPush);
    return { status: 200, body: '{"received":true}', headers: { 'content-type': 'application/json' } };
  });

  return {
    url: server.url,
    statusUrl: `${server.url}/status`,
    pushes,
    stalePushes,
    documents,
    get rejectedSignatures() {
      return rejectedSignatures;
    },
    itemStates: (caseId) => states.get(caseId) ?? new Map(),
    caseStatus: (caseId) => caseStatuses.get(caseId),
    async settled() {
      while (downloads.size > 0) await Promise.all([...downloads]);
    },
    get failedDownloads() {
      return failedDownloads;
    },
    async close() {
      closed = true;
      await server.close();
    },
  };
}
