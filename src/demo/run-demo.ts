/**
 * `lianban demo`: runs the main job end to end on the fictional typical case and shows
 * each item's progress live, then a summary of what the platform received.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../observability/logger.ts';
import { TERMINAL_ITEM_STATES, type ItemState } from '../store/records.ts';
import { findOrStartRedis } from '../support/private-redis.ts';
import { getSigned, startEnvironment, submitMultipart, type Environment } from './environment.ts';
import { makeTypicalMaterials } from './materials.ts';

const EXAMPLE_CASE = new URL('../../examples/case-typical.json', import.meta.url);
const DEMO_TIMEOUT_MS = 120_000;
const REFRESH_MS = 250;

interface CaseView {
  status: string;
  promiseDueAt?: string;
  items: Array<{
    itemKey: string;
    itemName: string;
    department: string;
    status: ItemState;
    dueAt?: string;
    dueProvisional?: boolean;
    reason?: string;
  }>;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function render(view: CaseView, startedAt: number, finishedAt: Map<string, number>): string[] {
  const lines = [`  ${'item'.padEnd(34)} ${'department'.padEnd(10)} ${'state'.padEnd(12)} elapsed`];
  for (const item of view.items) {
    const end = finishedAt.get(item.itemKey) ?? Date.now();
    lines.push(
      `  ${item.itemKey.padEnd(34)} ${item.department.padEnd(10)} ${item.status.padEnd(12)} ${seconds(end - startedAt)}`,
    );
  }
  lines.push(`  case: ${view.status}`);
  return lines;
}

async function watch(env: Environment, caseId: string, startedAt: number): Promise<CaseView> {
  const finishedAt = new Map<string, number>();
  const interactive = process.stdout.isTTY;
  let drawn = 0;
  const lastStates = new Map<string, string>();
  const deadline = Date.now() + DEMO_TIMEOUT_MS;

  for (;;) {
    const { body } = await getSigned(env, `/v1/cases/${caseId}`);
    const view = body as CaseView;
    for (const item of view.items) {
      if (TERMINAL_ITEM_STATES.has(item.status) && !finishedAt.has(item.itemKey))
        finishedAt.set(item.itemKey, Date.now());
    }
    const lines = render(view, startedAt, finishedAt);
    if (interactive) {
      if (drawn > 0) process.stdout.write(`\x1b[${drawn}A`);
      process.stdout.write(lines.map((line) => `\x1b[2K${line}`).join('\n') + '\n');
      drawn = lines.length;
    } else {
      // Without a terminal to redraw, each change is one line: item, department, state, elapsed.
      for (const item of view.items) {
        if (lastStates.get(item.itemKey) === item.status) continue;
        const change = `${lastStates.get(item.itemKey) ?? 'planned'} → ${item.status}`;
        console.log(
          `  [${seconds(Date.now() - startedAt).padStart(6)}] ${item.itemKey} (${item.department}): ${change}`,
        );
        lastStates.set(item.itemKey, item.status);
      }
    }
    if (view.status !== 'in_progress' || Date.now() > deadline) {
      if (!interactive) lines.forEach((line) => console.log(line));
      return view;
    }
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
  }
}

function printSummary(env: Environment, view: CaseView): boolean {
  console.log('\nSummary');
  console.log(
    `  case status: ${view.status}; promised by ${view.promiseDueAt ?? 'unknown'} (9 working days)`,
  );
  for (const item of view.items) {
    const due = item.dueAt
      ? `due ${item.dueAt}${item.dueProvisional ? ' (provisional)' : ''}`
      : 'no department deadline';
    const reason = item.reason ? `; reason: ${item.reason}` : '';
    console.log(`  ${item.status.padEnd(12)} ${item.itemName} [${item.department}], ${due}${reason}`);
  }

  console.log('\nDocuments the platform received');
  for (const document of env.platform.documents) {
    const intact = document.sha256 === document.declaredSha256 ? 'SHA-256 verified' : 'SHA-256 MISMATCH';
    console.log(`  ${document.name} (${document.kind}, ${document.size} bytes, ${intact})`);
  }

  const finished = view.items.every((item) => item.status === 'completed' || item.status === 'not_required');
  const completed = view.items.filter((item) => item.status === 'completed').length;
  const informational = view.items.filter((item) => item.status === 'not_required').length;
  console.log(
    `\n${completed + informational} of ${view.items.length} items finished: ${completed} completed by departments, ` +
      `${informational} resolved without an application.`,
  );
  return finished && env.platform.documents.every((document) => document.sha256 === document.declaredSha256);
}

export async function runDemo(): Promise<number> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = await findOrStartRedis(redisUrl);
  if (redis.private)
    console.log(
      `No Redis responded at ${redisUrl}, so the demo started a private redis-server at ${redis.url}.`,
    );
  else console.log(`Using Redis at ${redis.url} (keys under a fresh prefix, removed at the end).`);

  const logFile = join(tmpdir(), `lianban-demo-${process.pid}.log`);
  const keyPrefix = `lb-demo-${randomBytes(4).toString('hex')}`;
  const env = await startEnvironment({
    redisUrl: redis.url,
    keyPrefix,
    processingDelayMs: 400,
    logger: createLogger({ file: logFile }),
  });
  console.log(
    `Gateway at ${env.gatewayUrl}; department and platform simulators started; gateway log: ${logFile}`,
  );

  try {
    const caseJson = readFileSync(EXAMPLE_CASE, 'utf8');
    const materials = await makeTypicalMaterials();
    console.log(`Submitting the fictional typical case with ${Object.keys(materials).length} materials…\n`);
    const startedAt = Date.now();
    const answer = await submitMultipart(env, caseJson, materials);
    if (answer.status !== 202) {
      console.error(
        `The gateway refused the case with HTTP ${answer.status}: ${JSON.stringify(answer.body, null, 2)}`,
      );
      return 1;
    }
    const { caseId } = answer.body as { caseId: string };
    const view = await watch(env, caseId, startedAt);
    await env.platform.settled();
    return printSummary(env, view) ? 0 : 1;
  } finally {
    await env.close();
    await removeKeys(redis.url, keyPrefix);
    await redis.stop();
  }
}

async function removeKeys(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const stream = client.scanStream({ match: `${prefix}:*`, count: 500 });
    for await (const keys of stream as AsyncIterable<string[]>)
      if (keys.length > 0) await client.unlink(...keys);
  } finally {
    client.disconnect();
  }
}
