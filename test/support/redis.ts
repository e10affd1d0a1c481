/**
 * Starts a private redis-server for a test file: a free port on 127.0.0.1, a temporary
 * directory, AOF on, and `noeviction`, as production requires. Never the shared 6379.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/support/ports.ts';

export { freePort };

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  /** Stops the server (SIGTERM) and starts it again on the same port and directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function spawnRedis(port: number, dir: string): ChildProcess {
  return spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore' },
  );
}

async function waitUntilReady(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // Not listening yet.
    } finally {
      client.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server at ${url} did not become ready within ${timeoutMs} ms`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function startTestRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'lianban-test-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const handle: TestRedis = {
    url,
    port,
    dir,
    process: spawnRedis(port, dir),
    async restart() {
      await stopProcess(handle.process);
      handle.process = spawnRedis(port, dir);
      await waitUntilReady(url);
    },
    async stop() {
      await stopProcess(handle.process);
      await rm(dir, { recursive: true, force: true });
    },
  };
  await waitUntilReady(url);
  return handle;
}
