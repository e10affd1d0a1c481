/**
 * Shared parts of the department simulators: an HTTP server on 127.0.0.1, a ledger
 * that remembers idempotency keys, a callback sender and a PDF maker. Simulators stand
 * in for department systems in the demo, the tests and the benchmarks.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { request } from 'undici';
import { sha256Hex } from './signing.ts';
import type { DepartmentKey } from './types.ts';

export interface SimulatedSubmission {
  caseId: string;
  itemKey: string;
  businessCode: string;
  idempotencyKey: string;
  reference: string;
  receiptNo: string;
  /** Epoch milliseconds when the simulator first received the item. */
  receivedAtMs: number;
  form: Record<string, unknown>;
  materialKinds: string[];
}

export type SimulatedDecision =
  { status: 'completed' } | { status: 'rejected'; reason: string; legalBasis: string; code?: string };

export interface SimulatorOptions {
  host?: string;
  port?: number;
  /** Shared secret with the gateway for this department. */
  secret: string;
  /** The gateway's callback URL for this department; unused by polled departments. */
  callbackUrl?: string;
  /** Delay between receipt and result in milliseconds (default 50). */
  processingDelayMs?: number;
  /** Decides each item's result; every item completes when absent. */
  decide?: (submission: SimulatedSubmission) => SimulatedDecision;
}

export interface ProducedDocument {
  reference: string;
  kind: string;
  sha256: string;
  size: number;
}

export interface DepartmentSimulator {
  readonly department: DepartmentKey;
  readonly url: string;
  /** One entry per distinct idempotency key, in order of first receipt. */
  readonly submissions: readonly SimulatedSubmission[];
  /** Submit requests received, duplicates included. */
  readonly submitRequestCount: number;
  readonly produced: readonly ProducedDocument[];
  close(): Promise<void>;
}

export interface SimulatorReply {
  status: number;
  headers?: Record<string, string>;
  body: Buffer | string;
}

export type SimulatorHandler = (request: IncomingMessage, body: Buffer) => Promise<SimulatorReply>;

const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/** Starts an HTTP server for a simulator; resolves with its base URL. */
export async function startSimulatorServer(
  handler: SimulatorHandler,
  options: { host?: string; port?: number } = {},
): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer((incoming, outgoing) => {
    readRequestBody(incoming)
      .then((body) => handler(incoming, body))
      .then((reply) => {
        outgoing.writeHead(reply.status, reply.headers ?? {});
        outgoing.end(reply.body);
      })
      .catch((error: unknown) => {
        outgoing.writeHead(500, { 'content-type': 'text/plain' });
        outgoing.end(`simulator error: ${error instanceof Error ? error.message : String(error)}`);
      });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;

  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { server, url: `http://${host}:${port}`, close };
}

async function readRequestBody(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_REQUEST_BYTES) throw new Error(`request body exceeds ${MAX_REQUEST_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Remembers submissions by idempotency key, so a repeated submit has no second effect. */
export class SubmissionLedger {
  readonly submissions: SimulatedSubmission[] = [];
  readonly produced: ProducedDocument[] = [];
  submitRequestCount = 0;
  private readonly byKey = new Map<string, SimulatedSubmission>();
  private sequence = 0;

  constructor(private readonly receiptPrefix: string) {}

  /** Records a submit request; `fresh` is false when the key was seen before. */
  record(fields: Omit<SimulatedSubmission, 'receiptNo' | 'receivedAtMs'>): {
    fresh: boolean;
    submission: SimulatedSubmission;
  } {
    this.submitRequestCount += 1;
    const known = this.byKey.get(fields.idempotencyKey);
    if (known) return { fresh: false, submission: known };

    this.sequence += 1;
    const submission: SimulatedSubmission = {
      ...fields,
      receiptNo: `${this.receiptPrefix}${String(this.sequence).padStart(8, '0')}`,
      receivedAtMs: Date.now(),
    };
    this.byKey.set(fields.idempotencyKey, submission);
    this.submissions.push(submission);
    return { fresh: true, submission };
  }

  findByReference(reference: string): SimulatedSubmission | undefined {
    return this.submissions.find((submission) => submission.reference === reference);
  }

  recordProduced(reference: string, kind: string, content: Buffer): void {
    this.produced.push({ reference, kind, sha256: sha256Hex(content), size: content.length });
  }
}

/**
 * Posts a callback to the gateway, retrying with a growing delay until it is
 * acknowledged with 2xx or the attempts run out. Each attempt times out after 5 s.
 */
export async function deliverCallback(
  url: string,
  body: Buffer | string,
  headers: Record<string, string>,
  attempts = 8,
): Promise<boolean> {
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
        signal: AbortSignal.timeout(5_000),
      });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) return true;
      if (response.statusCode >= 400 && response.statusCode < 500 && response.statusCode !== 429)
        return false;
    } catch {
      // The gateway may be restarting; the next attempt follows the delay below.
    }
    await delay(Math.min(100 * 2 ** attempt, 5_000));
  }
  return false;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Makes a small one-page PDF. The standard PDF fonts cannot draw Chinese, so the page
 * text is ASCII and the Chinese document title goes into the PDF metadata.
 */
export async function makePdf(chineseTitle: string, lines: string[]): Promise<Buffer> {
  const document = await PDFDocument.create();
  document.setTitle(chineseTitle);
  document.setProducer('Lianban department simulator (fictional test document)');
  const font = await document.embedFont(StandardFonts.Helvetica);
  const page = document.addPage([595, 842]);
  let y = 780;
  for (const line of ['FICTIONAL TEST DOCUMENT', ...lines]) {
    page.drawText(line, { x: 56, y, size: 12, font });
    y -= 20;
  }
  return Buffer.from(await document.save());
}
