import { Agent, errors as undiciErrors, request } from 'undici';
import { PermanentDepartmentError, TransientDepartmentError } from './errors.ts';
import type { DepartmentKey, HttpTimeouts } from './types.ts';

export const DEFAULT_TIMEOUTS: HttpTimeouts = {
  connectTimeoutMs: 3_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  totalTimeoutMs: 20_000,
  maxResponseBytes: 8 * 1024 * 1024,
};

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface HttpRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/**
 * An HTTP client for one department: every call has connect, header, body and total
 * timeouts, redirects are not followed (undici's `request` never follows them), and the
 * response body is capped. Network failures become `TransientDepartmentError`.
 */
export class DepartmentHttpClient {
  private readonly timeouts: HttpTimeouts;
  private readonly agent: Agent;

  constructor(
    readonly department: DepartmentKey,
    timeouts: Partial<HttpTimeouts> = {},
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...timeouts };
    this.agent = new Agent({
      connect: { timeout: this.timeouts.connectTimeoutMs },
      headersTimeout: this.timeouts.headersTimeoutMs,
      bodyTimeout: this.timeouts.bodyTimeoutMs,
    });
  }

  async send(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
    try {
      const response = await request(url, {
        method: options.method ?? 'POST',
        headers: options.headers,
        body: options.body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.timeouts.totalTimeoutMs),
      });
      const body = await this.readCapped(response.body);
      return { status: response.statusCode, headers: response.headers, body };
    } catch (error) {
      throw this.classifyNetworkError(url, error);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async readCapped(
    stream: AsyncIterable<Buffer> & { destroy(error?: Error): void },
  ): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of stream) {
      total += chunk.length;
      if (total > this.timeouts.maxResponseBytes) {
        stream.destroy();
        throw new PermanentDepartmentError(
          this.department,
          `response body exceeds ${this.timeouts.maxResponseBytes} bytes`,
        );
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  private classifyNetworkError(url: string, error: unknown): Error {
    if (error instanceof PermanentDepartmentError || error instanceof TransientDepartmentError) return error;
    if (error instanceof undiciErrors.InvalidArgumentError) {
      return new PermanentDepartmentError(this.department, `invalid request to ${url}`, { cause: error });
    }
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new TransientDepartmentError(this.department, `request to ${url} failed: ${reason}`, {
      cause: error,
    });
  }
}

/**
 * Throws the classified error for an HTTP status that is not a success. 408, 429 and
 * 5xx are transient. Any other 4xx means the department does not accept what the
 * gateway sent, so retrying cannot fix it.
 */
export function ensureSuccessStatus(department: DepartmentKey, response: HttpResponse, what: string): void {
  const { status } = response;
  if (status >= 200 && status < 300) return;
  if (status === 408 || status === 429 || status >= 500) {
    throw new TransientDepartmentError(department, `${what} returned HTTP ${status}`);
  }
  throw new PermanentDepartmentError(department, `${what} returned HTTP ${status}`);
}

/** Returns a header's first value, lower-cased name lookup. */
export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
