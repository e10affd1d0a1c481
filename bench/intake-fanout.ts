/**
 * Benchmark: case intake and fan-out through the whole gateway, next to the bare cost of
 * fastify and BullMQ on the same machine in the same run. Everything runs on 127.0.0.1
 * against a private redis-server. Usage: `npm run bench [-- <cases>]` (default 60).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Queue, Worker } from 'bullmq';
import Fastify from 'fastify';
import { request } from 'undici';
import { sha256Hex } from '../src/adapters-kit/signing.ts';
import { signPlatformRequest } from '../src/api/auth.ts';
import { getSigned, startEnvironment, type Environment } from '../src/demo/environment.ts';
import { makeTypicalMaterials } from '../src/demo/materials.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startPrivateRedis } from '../src/support/private-redis.ts';

const CASES = Number(process.argv[2] ?? 60);
const CONCURRENCY = 4;

interface Timing {
  totalMs: number;
  latenciesMs: number[];
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

function describe(label: string, timing: Timing, count: number): string {
  const perSecond = (count / timing.totalMs) * 1000;
  const rate = `${label.padEnd(50)} ${perSecond.toFixed(1).padStart(8)}/s`;
  if (timing.latenciesMs.length === 0) return rate;
  const p50 = percentile(timing.latenciesMs, 0.5).toFixed(1);
  const p95 = percentile(timing.latenciesMs, 0.95).toFixed(1);
  return `${rate}   p50 ${p50} ms   p95 ${p95} ms`;
}

/** Runs `count` calls of `task`, at most CONCURRENCY at a time, timing each. */
async function runConcurrent(count: number, task: (index: number) => Promise<void>): Promise<Timing> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  const lanes = Array.from({ length: CONCURRENCY }, async () => {
    for (let index = next++; index < count; index = next++) {
      const before = performance.now();
      await task(index);
      latenciesMs.push(performance.now() - before);
    }
  });
  await Promise.all(lanes);
  return { totalMs: performance.now() - started, latenciesMs };
}

async function bareFastify(body: string): Promise<Timing> {
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  app.post('/echo', async (req) => ({ size: JSON.stringify(req.body).length }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    return await runConcurrent(CASES, async () => {
      const response = await request(`${url}/echo`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      await response.body.dump();
    });
  } finally {
    await app.close();
  }
}

async function bareBullmq(redisUrl: string, jobs: number): Promise<Timing> {
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const name = `bench-${randomBytes(3).toString('hex')}`;
  const queue = new Queue(name, { connection });
  let done = 0;
  const started = performance.now();
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker(name, async () => undefined, { connection, concurrency: CONCURRENCY });
    worker.on('completed', () => {
      done += 1;
      if (done === jobs) void worker.close().then(resolve);
    });
  });
  await queue.addBulk(Array.from({ length: jobs }, (_, index) => ({ name: 'noop', data: { index } })));
  await finished;
  await queue.obliterate({ force: true });
  await queue.close();
  return { totalMs: performance.now() - started, latenciesMs: [] };
}

async function gatewayIntake(
  env: Environment,
  bodies: string[],
): Promise<{ timing: Timing; caseIds: string[] }> {
  const caseIds: string[] = [];
  const timing = await runConcurrent(bodies.length, async (index) => {
    const body = bodies[index] as string;
    const headers = {
      'content-type': 'application/json',
      ...signPlatformRequest({
        appId: env.appId,
        secret: env.callerSecret,
        method: 'POST',
        path: '/v1/cases',
        contentDigest: sha256Hex(body),
      }),
    };
    const response = await request(`${env.gatewayUrl}/v1/cases`, { method: 'POST', headers, body });
    const answer = (await response.body.json()) as { caseId?: string };
    if (response.statusCode !== 202 || !answer.caseId)
      throw new Error(`intake returned HTTP ${response.statusCode}`);
    caseIds.push(answer.caseId);
  });
  return { timing, caseIds };
}

async function waitForAll(env: Environment, caseIds: string[]): Promise<number> {
  const started = performance.now();
  const pending = new Set(caseIds);
  while (pending.size > 0) {
    for (const caseId of [...pending]) {
      const { body } = await getSigned(env, `/v1/cases/${caseId}`);
      if ((body as { status: string }).status !== 'in_progress') pending.delete(caseId);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return performance.now() - started;
}

async function main(): Promise<void> {
  const redis = await startPrivateRedis();
  const env = await startEnvironment({
    redisUrl: redis.url,
    processingDelayMs: 0,
    policePollIntervalMs: 50,
    logger: createLogger({ level: 'silent' }),
  });
  try {
    const template = JSON.parse(
      readFileSync(new URL('../examples/case-typical.json', import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    const materials = await makeTypicalMaterials();
    const encoded = Object.fromEntries(
      Object.entries(materials).map(([key, material]) => [
        key,
        { mediaType: material.mediaType, dataBase64: material.content.toString('base64') },
      ]),
    );
    const bodies = Array.from({ length: CASES }, (_, index) =>
      JSON.stringify({
        ...template,
        platformCaseId: `YKB-500106-20250929-${String(100000 + index)}`,
        materials: encoded,
      }),
    );
    const rssBefore = process.memoryUsage().rss;

    const fastify = await bareFastify(bodies[0] as string);
    const bullmq = await bareBullmq(redis.url, CASES * 9);
    const intake = await gatewayIntake(env, bodies);
    const fanOutMs = await waitForAll(env, intake.caseIds);
    const rssAfter = process.memoryUsage().rss;

    console.log(
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    );
    console.log(
      `cases: ${CASES} (JSON with base64 materials, ${(Buffer.byteLength(bodies[0] as string) / 1024).toFixed(0)} KiB each), concurrency ${CONCURRENCY}\n`,
    );
    console.log(describe('bare fastify POST of the same body', fastify, CASES));
    console.log(describe(`bare BullMQ add + no-op process (${CASES * 9} jobs)`, bullmq, CASES * 9));
    console.log(describe('gateway intake (validate, encrypt, store, plan)', intake.timing, CASES));
    console.log(
      `${'gateway fan-out to completion of every case'.padEnd(50)} ${((CASES / (fanOutMs + intake.timing.totalMs)) * 1000).toFixed(1).padStart(8)}/s   all ${CASES} cases done ${(fanOutMs / 1000).toFixed(1)} s after the last intake`,
    );
    console.log(
      `\nresident memory of the benchmark process (gateway, simulators, client): ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(rssAfter / 2 ** 20).toFixed(0)} MiB after`,
    );
  } finally {
    await env.close();
    await redis.stop();
  }
}

await main();
