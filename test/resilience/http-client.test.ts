/**
 * Every department call has connect, header, body and total timeouts, follows no
 * redirect and caps the response size. Each limit is tested against a real server on
 * 127.0.0.1 that misbehaves in exactly one way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyFailure } from '../../src/adapters-kit/classify.ts';
import { PermanentDepartmentError, TransientDepartmentError } from '../../src/adapters-kit/errors.ts';
import { DepartmentHttpClient, ensureSuccessStatus } from '../../src/adapters-kit/http.ts';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function client(timeouts: ConstructorParameters<typeof DepartmentHttpClient>[1]): DepartmentHttpClient {
  const created = new DepartmentHttpClient('veterans', timeouts);
  cleanups.push(() => created.close());
  return created;
}

async function listen(server: HttpServer | TcpServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

async function captureError(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the call succeeded, but a failure was expected');
}

function causeCode(error: Error): string | undefined {
  return (error.cause as { code?: string } | undefined)?.code;
}

/**
 * Starts a listener whose accept queue is full, so the kernel drops a new connection's
 * SYN. The listening process is a child that is stopped (SIGSTOP) before anyone
 * connects, so it never accepts. The kernel completes handshakes only until the backlog
 * is full. Returns undefined where the kernel completes further handshakes anyway.
 */
async function startUnansweredListener(): Promise<string | undefined> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      "const s=require('node:net').createServer();" +
        "s.listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port));",
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('error', reject);
  });
  child.kill('SIGSTOP');

  for (let filler = 0; filler < 16; filler += 1) {
    const socket: Socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    cleanups.push(() => {
      socket.destroy();
    });
    const connected = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      setTimeout(() => resolve(false), 300);
    });
    if (!connected) return `http://127.0.0.1:${port}`;
  }
  return undefined;
}

describe('department HTTP timeouts', () => {
  it('connect timeout fires when nobody answers the handshake', async (context) => {
    const url = await startUnansweredListener();
    if (!url) {
      context.skip('this kernel completes handshakes beyond the backlog; no unanswered connect to test');
      return;
    }
    const started = Date.now();

    const error = await captureError(client({ connectTimeoutMs: 250, totalTimeoutMs: 10_000 }).send(url));

    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(causeCode(error)).toBe('UND_ERR_CONNECT_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(classifyFailure(error).action).toBe('retry');
  });

  it('headers timeout fires when the server accepts but never answers', async () => {
    const accepted: Socket[] = [];
    const server = createTcpServer((socket) => {
      accepted.push(socket);
      socket.resume();
    });
    cleanups.push(() => accepted.forEach((socket) => socket.destroy()));
    const url = await listen(server);
    const started = Date.now();

    const error = await captureError(client({ headersTimeoutMs: 300, totalTimeoutMs: 10_000 }).send(url));

    expect(accepted).toHaveLength(1);
    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(causeCode(error)).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(classifyFailure(error).action).toBe('retry');
  });

  it('body timeout fires when the body stalls after the headers', async () => {
    const server = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"receipt_no":');
    });
    const url = await listen(server);
    const started = Date.now();

    const error = await captureError(client({ bodyTimeoutMs: 300, totalTimeoutMs: 10_000 }).send(url));

    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(causeCode(error)).toBe('UND_ERR_BODY_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(classifyFailure(error).action).toBe('retry');
  });

  it('total timeout ends a body that trickles', async () => {
    const timers: NodeJS.Timeout[] = [];
    cleanups.push(() => timers.forEach((timer) => clearInterval(timer)));
    const server = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      // Each byte arrives well within the body timeout, so only the total timeout can end the call.
      timers.push(setInterval(() => response.write(' '), 50));
    });
    const url = await listen(server);
    const started = Date.now();

    const error = await captureError(client({ bodyTimeoutMs: 1_000, totalTimeoutMs: 600 }).send(url));

    expect(error).toBeInstanceOf(TransientDepartmentError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(classifyFailure(error).action).toBe('retry');
  });
});

describe('department HTTP responses', () => {
  it('does not follow a 302 redirect', async () => {
    let targetRequests = 0;
    const target = createHttpServer((_request, response) => {
      targetRequests += 1;
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end('{"receipt_no":"VA1","received_at":"2025-09-29T09:42:11+08:00"}');
    });
    const targetUrl = await listen(target);
    const redirecting = createHttpServer((_request, response) => {
      response.writeHead(302, { location: `${targetUrl}/applications` });
      response.end();
    });
    const url = await listen(redirecting);

    const response = await client({}).send(url);
    const error = await captureError(
      Promise.resolve().then(() => ensureSuccessStatus('veterans', response, 'submit')),
    );

    expect(response.status).toBe(302);
    expect(targetRequests).toBe(0);
    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(classifyFailure(error).action).toBe('dead-letter');
  });

  it('caps a response with a declared length', async () => {
    const server = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '4096' });
      response.end(Buffer.alloc(4096, 0x41));
    });
    const url = await listen(server);

    const error = await captureError(client({ maxResponseBytes: 1024 }).send(url));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(error.message).toContain('exceeds 1024 bytes');
    expect(classifyFailure(error).action).toBe('dead-letter');
  });

  it('caps a streamed response without reading it all', async () => {
    let written = 0;
    const server = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(16 * 1024, 0x42);
      const writeMore = (): void => {
        // Stops after 64 MiB in case the client kept reading, which would fail the test below.
        while (written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!response.write(chunk)) {
            response.once('drain', writeMore);
            return;
          }
        }
        response.end();
      };
      response.on('close', () => response.removeAllListeners('drain'));
      writeMore();
    });
    const url = await listen(server);

    const error = await captureError(client({ maxResponseBytes: 256 * 1024 }).send(url));

    expect(error).toBeInstanceOf(PermanentDepartmentError);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('accepts a response of exactly the cap', async () => {
    const server = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(Buffer.alloc(1024, 0x43));
    });
    const url = await listen(server);

    const response = await client({ maxResponseBytes: 1024 }).send(url);

    expect(response.body.length).toBe(1024);
  });
});
