/**
 * Deadlines through a running gateway (role `all`) on a private Redis. Readiness reports
 * a missing year. Activating a table with `lianban calendar activate` reaches the running
 * process over pub/sub and recomputes a provisional due time, which the platform then
 * receives. Operators list overdue items through the admin API and the CLI. The clock is
 * injected, and the receipt times are written through the store before the gateway starts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformSimulator, type PlatformSimulator } from '../../adapters/platform/simulator.ts';
import { runCalendarCommand } from '../../src/cli/calendar-command.ts';
import { runDeadlineCommand } from '../../src/cli/deadline-commands.ts';
import { loadConfig } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { eventually } from '../support/gateway-env.ts';
import { freePort, startTestRedis, type TestRedis } from '../support/redis.ts';
import { capturingLogger, createStore, storeCase, trailOf } from './support/cases.ts';

const FICTIONAL_2027_FILE = fileURLToPath(
  new URL('../calendar/fixtures/cn-2027-fictional.json', import.meta.url),
);
const OPERATOR_TOKEN = 'test-operator-token';
const REQUEST_TIMEOUT_MS = 10_000;

// Training eligibility (3 working days) received Wednesday 2026-12-30 10:00. Without a
// 2027 table: 12-31 (1), Friday 2027-01-01 (2), Monday 01-04 (3). With the fictional
// table 01-01 is off: 12-31 (1), 01-04 (2), 01-05 (3).
const TRAINING = {
  itemKey: 'training-eligibility',
  receivedAt: '2026-12-30T10:00:00+08:00',
  dueAt: '2027-01-04T23:59:59+08:00',
  dueProvisional: true,
};

let server: TestRedis;
let redis: Redis;
let platform: PlatformSimulator;
let gateway: Gateway;
let documentsDir: string;
let keyPrefix: string;
let caseId: string;
let now = new Date('2026-12-30T11:00:00+08:00');
const logLines: Array<Record<string, unknown>> = [];

async function getJson(
  path: string,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request(`${gateway.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
}

async function getText(path: string): Promise<string> {
  const response = await request(`${gateway.url}${path}`, {
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  return response.body.text();
}

beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1, connectTimeout: 5_000, commandTimeout: 5_000 });
  keyPrefix = `lb-test-${randomUUID()}`;
  documentsDir = await mkdtemp(join(tmpdir(), 'lianban-deadline-documents-'));
  const pushSecret = randomBytes(24).toString('hex');
  const port = await freePort();
  platform = await startPlatformSimulator({
    pushSecret,
    gatewayUrl: () => `http://127.0.0.1:${port}`,
    appId: 'ykb-test',
    callerSecret: randomBytes(24).toString('hex'),
  });

  caseId = await storeCase(createStore(redis, keyPrefix), { items: [TRAINING] });

  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: String(port),
    REDIS_URL: server.url,
    LIANBAN_KEY_PREFIX: keyPrefix,
    LIANBAN_DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LIANBAN_DOCUMENTS_DIR: documentsDir,
    LIANBAN_PLATFORM_STATUS_URL: platform.statusUrl,
    LIANBAN_PLATFORM_SECRET: pushSecret,
    LIANBAN_OPERATOR_TOKENS: `operator:${OPERATOR_TOKEN}`,
    // One scheduled sweep runs at start, and later sweeps run only when a calendar change
    // requests them. The periodic reload is off, so only the pub/sub message brings the
    // new table in quickly.
    LIANBAN_DEADLINE_SWEEP_INTERVAL_MS: '3600000',
    LIANBAN_CALENDAR_RELOAD_INTERVAL_MS: '0',
  });
  gateway = await startGateway(config, 'all', { logger: capturingLogger(logLines), clock: () => now });
});

afterAll(async () => {
  await gateway?.close();
  await platform?.close();
  redis?.disconnect();
  await server?.stop();
  await rm(documentsDir, { recursive: true, force: true });
});

describe('deadlines in a running gateway', () => {
  it('logs and counts the provisional due time', async () => {
    const message = 'due time is provisional: no calendar table for a year it reaches';
    await eventually(() => logLines.some((line) => line.msg === message && line.caseId === caseId));

    const warning = logLines.find((line) => line.msg === message);
    expect(warning).toMatchObject({ level: 40, itemKey: 'training-eligibility', missingYears: [2027] });
    expect(await getText('/metrics')).toContain(
      'lianban_provisional_due_times_total{department="veterans"} 1',
    );
  });

  it('reports 2027 missing on 2026-12-04 and stays ready', async () => {
    now = new Date('2026-12-04T10:00:00+08:00');

    const { status, body } = await getJson('/health/ready');

    expect(status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.calendar).toEqual({
      loadedYears: [2025, 2026],
      requiredYears: [2026, 2027],
      missingYears: [2027],
    });
    expect(body.warnings).toEqual([
      'no working-day calendar table for 2027: due times reaching 2027 are provisional until its table is activated (lianban calendar activate FILE)',
    ]);
  });

  it('does not require 2027 in November', async () => {
    now = new Date('2026-11-30T23:59:00+08:00');

    const { body } = await getJson('/health/ready');

    expect(body.calendar).toMatchObject({ requiredYears: [2026], missingYears: [] });
    expect(body.warnings).toBeUndefined();
  });

  it('recomputes after calendar activate and pushes the new due time', async () => {
    now = new Date('2026-12-30T11:00:00+08:00');
    const out: string[] = [];
    const err: string[] = [];

    const code = await runCalendarCommand(['activate', FICTIONAL_2027_FILE], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      redisUrl: server.url,
      keyPrefix,
    });
    expect(err).toEqual([]);
    expect(code).toBe(0);

    await eventually(() => platform.itemStates(caseId).get('training-eligibility')?.dueProvisional === false);
    const pushed = platform.itemStates(caseId).get('training-eligibility');
    expect(pushed?.dueAt).toBe('2027-01-05T23:59:59+08:00');
    expect(pushed?.dueExcludes).toBe('培训时间');
    const events = await trailOf(gateway.store, caseId, 'item.due-recomputed');
    expect(events.map((event) => event.detail)).toEqual([
      'due 2027-01-04T23:59:59+08:00 (provisional) -> 2027-01-05T23:59:59+08:00',
    ]);
    expect((await getJson('/health/ready')).body.calendar).toMatchObject({ missingYears: [] });
  });

  it('lists the overdue item for operators', async () => {
    now = new Date('2027-01-06T10:00:00+08:00');

    const denied = await getJson('/v1/admin/deadlines?state=overdue');
    const listed = await getJson('/v1/admin/deadlines?state=overdue', OPERATOR_TOKEN);
    const atRisk = await getJson('/v1/admin/deadlines?state=at-risk', OPERATOR_TOKEN);
    const invalid = await getJson('/v1/admin/deadlines?state=late', OPERATOR_TOKEN);

    expect(denied.status).toBe(401);
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({
      checkedAt: '2027-01-06T10:00:00+08:00',
      atRiskWorkingDays: 1,
      count: 1,
    });
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        caseId,
        itemKey: 'training-eligibility',
        department: 'veterans',
        deadlineState: 'overdue',
        dueAt: '2027-01-05T23:59:59+08:00',
        dueProvisional: false,
        workingDaysLeft: null,
      }),
    ]);
    expect(atRisk.body.count).toBe(0);
    expect(invalid.status).toBe(400);
  });

  it('lists the overdue item on the command line', async () => {
    const out: string[] = [];
    const err: string[] = [];

    const code = await runDeadlineCommand(['list', '--state', 'overdue'], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      redisUrl: server.url,
      keyPrefix,
      now: () => new Date('2027-01-06T10:00:00+08:00'),
    });

    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out).toEqual([
      'checked at 2027-01-06T10:00:00+08:00; at risk means fewer than 1 working day(s) left after the current working day',
      `  overdue  due 2027-01-05T23:59:59+08:00  ${caseId}.training-eligibility  [veterans] submitted, no warning pushed yet`,
      '1 item(s): 0 at risk, 1 overdue',
    ]);
  });
});
