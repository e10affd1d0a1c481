/** Helpers shared by tests that run the whole system. */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { getSigned, type Environment } from '../../src/demo/environment.ts';

export const TYPICAL_CASE_JSON = readFileSync(
  new URL('../../examples/case-typical.json', import.meta.url),
  'utf8',
);

export function typicalCase(): Record<string, unknown> {
  return JSON.parse(TYPICAL_CASE_JSON) as Record<string, unknown>;
}

export interface CaseAnswer {
  caseId: string;
  status: string;
  items: Array<{ itemKey: string; status: string; department: string; dueAt?: string; documents: unknown[] }>;
}

/** Polls the case until it leaves `in_progress`, or fails after `timeoutMs`. */
export async function waitForCase(env: Environment, caseId: string, timeoutMs = 60_000): Promise<CaseAnswer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await getSigned(env, `/v1/cases/${caseId}`);
    const view = body as CaseAnswer;
    if (view.status !== 'in_progress') return view;
    if (Date.now() > deadline)
      throw new Error(
        `case ${caseId} still in progress after ${timeoutMs} ms: ${JSON.stringify(view.items.map((i) => [i.itemKey, i.status]))}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until a condition holds, polling every 50 ms. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every string value stored in Redis, whatever the key type, for searching plaintext. */
export async function dumpRedisValues(redis: Redis): Promise<string[]> {
  const values: string[] = [];
  for await (const keys of redis.scanStream({ count: 500 }) as AsyncIterable<string[]>) {
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') values.push((await redis.get(key)) ?? '');
      else if (type === 'hash') values.push(...Object.entries(await redis.hgetall(key)).flat());
      else if (type === 'list') values.push(...(await redis.lrange(key, 0, -1)));
      else if (type === 'set') values.push(...(await redis.smembers(key)));
      else if (type === 'zset') values.push(...(await redis.zrange(key, 0, -1)));
      else if (type === 'stream') values.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      values.push(key);
    }
  }
  return values;
}
