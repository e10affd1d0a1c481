/**
 * Finds a Redis for the demo: the one at REDIS_URL if it responds, otherwise a private
 * redis-server in a temporary directory when the binary is on the PATH.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';

export interface RedisHandle {
  url: string;
  /** True when this process started the server and will stop it. */
  private: boolean;
  stop(): Promise<void>;
}

export async function redisAnswers(url: string, timeoutMs = 1_500): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function redisServerOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

export async function startPrivateRedis(): Promise<RedisHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'lianban-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
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
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  for (let waited = 0; waited < 10_000; waited += 100) {
    if (await redisAnswers(url, 500)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    private: true,
    async stop() {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function findOrStartRedis(url: string): Promise<RedisHandle> {
  if (await redisAnswers(url)) return { url, private: false, stop: async () => undefined };
  if (redisServerOnPath()) return startPrivateRedis();
  throw new RedisUnavailableError(
    `no Redis responds at ${url} and no redis-server binary is on the PATH. ` +
      'Start one (for example `apt-get install -y redis-server && redis-server --port 6379`) ' +
      'or set REDIS_URL to a running Redis, then run the command again.',
  );
}
