/**
 * `lianban deadletters …` and `lianban breakers`: operator commands that call the admin
 * API of a running gateway, so every replay is authenticated and recorded under the
 * operator's name like one made through the API itself.
 *
 * The gateway is found at LIANBAN_ADMIN_URL (default `http://$HOST:$PORT`, i.e.
 * http://127.0.0.1:8080) and the operator token is read from LIANBAN_OPERATOR_TOKEN,
 * never from the command line, where other users of the machine could read it.
 * Exit codes: 0 done, 1 the gateway refused or failed, 2 bad arguments.
 */
import { parseArgs } from 'node:util';
import { request } from 'undici';

export interface OperatorCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** Replays are throttled on the gateway, so a large one takes minutes. */
const REPLAY_TIMEOUT_MS = 15 * 60_000;
const QUERY_TIMEOUT_MS = 30_000;

export const DEAD_LETTERS_USAGE = [
  'usage: lianban deadletters list [--department <department>] [--offset <n>] [--limit <n>] [--json]',
  '       lianban deadletters replay --department <department> --reason <text>',
  '                                  [--item <caseId.itemKey>]... [--limit <n>] [--dry-run] [--json]',
  '       lianban deadletters jobs --queue <callbacks|polls|pushes> [--offset <n>] [--limit <n>] [--json]',
  '       lianban deadletters retry-jobs --queue <callbacks|polls|pushes> --reason <text>',
  '                                  [--job <jobId>]... [--limit <n>] [--dry-run] [--json]',
  'Without --item, replay takes every dead letter of the department, oldest first.',
  'Environment: LIANBAN_OPERATOR_TOKEN (required), LIANBAN_ADMIN_URL (default http://$HOST:$PORT).',
];

export const BREAKERS_USAGE = [
  'usage: lianban breakers [--json]',
  'Environment: LIANBAN_OPERATOR_TOKEN (required), LIANBAN_ADMIN_URL (default http://$HOST:$PORT).',
];

class UsageError extends Error {}

class CommandFailure extends Error {}

export async function runDeadLettersCommand(args: string[], io: OperatorCommandIo): Promise<number> {
  return runGuarded(io, DEAD_LETTERS_USAGE, async () => {
    const [subcommand, ...rest] = args;
    switch (subcommand) {
      case 'list':
        return listDeadLetters(rest, io);
      case 'replay':
        return replayDeadLetters(rest, io);
      case 'jobs':
        return listFailedJobs(rest, io);
      case 'retry-jobs':
        return retryFailedJobs(rest, io);
      default:
        throw new UsageError(subcommand ? `unknown subcommand "${subcommand}"` : 'a subcommand is required');
    }
  });
}

export async function runBreakersCommand(args: string[], io: OperatorCommandIo): Promise<number> {
  return runGuarded(io, BREAKERS_USAGE, async () => {
    const { values } = parse(args, { json: { type: 'boolean' } });
    const answer = (await callAdmin(io, 'GET', '/v1/admin/breakers')) as { breakers: BreakerRow[] };
    if (values.json) return printJson(io, answer);
    io.out(formatRow(['DEPARTMENT', 'STATE', 'QUEUE PAUSED', 'OPEN UNTIL', 'OPENED BY']));
    for (const breaker of answer.breakers) {
      io.out(
        formatRow([
          breaker.department,
          breaker.state,
          `${breaker.queuePausedMs} ms`,
          breaker.shared.openUntil ?? '-',
          breaker.shared.openedBy ?? '-',
        ]),
      );
    }
    return EXIT_OK;
  });
}

interface BreakerRow {
  department: string;
  state: string;
  queuePausedMs: number;
  shared: { openUntil?: string; openedBy?: string };
}

interface DeadLetterRow {
  reference: string;
  attempts: number;
  failedAt: string;
  errorKind: string;
  lastError: string;
  idempotencyKey?: string;
}

interface ReportShape {
  dryRun: boolean;
  replayed?: DeadLetterRow[];
  retried?: Array<{ jobId: string; caseId?: string; failedReason: string }>;
  skipped: Array<{ reference?: string; jobId?: string; reason: string; state?: string }>;
  remaining: number;
}

async function listDeadLetters(args: string[], io: OperatorCommandIo): Promise<number> {
  const { values } = parse(args, {
    department: { type: 'string' },
    offset: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!values.department) {
    const counts = await callAdmin(io, 'GET', '/v1/admin/dead-letters');
    if (values.json) return printJson(io, counts);
    const { departments, queues } = counts as {
      departments: Record<string, number>;
      queues: Record<string, number>;
    };
    io.out(formatRow(['DEPARTMENT OR QUEUE', 'DEAD LETTERS']));
    for (const [name, count] of [...Object.entries(departments), ...Object.entries(queues)]) {
      io.out(formatRow([name, String(count)]));
    }
    return EXIT_OK;
  }

  const query = pageQuery({ department: values.department, offset: values.offset, limit: values.limit });
  const answer = (await callAdmin(io, 'GET', `/v1/admin/dead-letters?${query}`)) as {
    count: number;
    items: DeadLetterRow[];
  };
  if (values.json) return printJson(io, answer);
  io.out(`${values.department}: ${answer.count} dead letters`);
  printDeadLetters(io, answer.items);
  return EXIT_OK;
}

async function replayDeadLetters(args: string[], io: OperatorCommandIo): Promise<number> {
  const { values } = parse(args, {
    department: { type: 'string' },
    reason: { type: 'string' },
    item: { type: 'string', multiple: true },
    limit: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (!values.department) throw new UsageError('--department is required');
  if (!values.reason) throw new UsageError('--reason is required: say why the items are replayed');

  const body = {
    department: values.department,
    reason: values.reason,
    items: values.item,
    dryRun: values['dry-run'] === true,
    limit: parseCount(values.limit, '--limit'),
  };
  const report = (await callAdmin(io, 'POST', '/v1/admin/dead-letters/replay', body)) as ReportShape;
  if (values.json) return printJson(io, report);
  const replayed = report.replayed ?? [];
  io.out(
    report.dryRun
      ? `dry run: ${replayed.length} items would be replayed; nothing was changed`
      : `replayed ${replayed.length} items`,
  );
  printDeadLetters(io, replayed);
  printSkipped(io, report);
  io.out(`dead letters left in ${values.department}: ${report.remaining}`);
  return EXIT_OK;
}

async function listFailedJobs(args: string[], io: OperatorCommandIo): Promise<number> {
  const { values } = parse(args, {
    queue: { type: 'string' },
    offset: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!values.queue) throw new UsageError('--queue is required');
  const query = pageQuery({ queue: values.queue, offset: values.offset, limit: values.limit });
  const answer = (await callAdmin(io, 'GET', `/v1/admin/failed-jobs?${query}`)) as {
    count: number;
    jobs: Array<{
      jobId: string;
      caseId?: string;
      attemptsMade: number;
      failedAt?: string;
      failedReason: string;
    }>;
  };
  if (values.json) return printJson(io, answer);
  io.out(`${values.queue}: ${answer.count} failed jobs`);
  io.out(formatRow(['JOB ID', 'CASE', 'ATTEMPTS', 'FAILED AT', 'REASON']));
  for (const job of answer.jobs) {
    io.out(
      formatRow([
        job.jobId,
        job.caseId ?? '-',
        String(job.attemptsMade),
        job.failedAt ?? '-',
        job.failedReason,
      ]),
    );
  }
  return EXIT_OK;
}

async function retryFailedJobs(args: string[], io: OperatorCommandIo): Promise<number> {
  const { values } = parse(args, {
    queue: { type: 'string' },
    reason: { type: 'string' },
    job: { type: 'string', multiple: true },
    limit: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (!values.queue) throw new UsageError('--queue is required');
  if (!values.reason) throw new UsageError('--reason is required: say why the jobs are retried');

  const body = {
    queue: values.queue,
    reason: values.reason,
    jobIds: values.job,
    dryRun: values['dry-run'] === true,
    limit: parseCount(values.limit, '--limit'),
  };
  const report = (await callAdmin(io, 'POST', '/v1/admin/failed-jobs/retry', body)) as ReportShape;
  if (values.json) return printJson(io, report);
  const retried = report.retried ?? [];
  io.out(
    report.dryRun ? `dry run: ${retried.length} jobs would be retried` : `retried ${retried.length} jobs`,
  );
  for (const job of retried) io.out(formatRow([job.jobId, job.caseId ?? '-', job.failedReason]));
  printSkipped(io, report);
  io.out(`failed jobs left in ${values.queue}: ${report.remaining}`);
  return EXIT_OK;
}

function printDeadLetters(io: OperatorCommandIo, rows: DeadLetterRow[]): void {
  if (rows.length === 0) return;
  io.out(formatRow(['REFERENCE', 'ATTEMPTS', 'FAILED AT', 'KIND', 'LAST ERROR']));
  for (const row of rows) {
    io.out(formatRow([row.reference, String(row.attempts), row.failedAt, row.errorKind, row.lastError]));
  }
}

function printSkipped(io: OperatorCommandIo, report: ReportShape): void {
  for (const skipped of report.skipped) {
    const state = skipped.state ? ` (state ${skipped.state})` : '';
    io.out(`skipped ${skipped.reference ?? skipped.jobId ?? '?'}: ${skipped.reason}${state}`);
  }
}

async function runGuarded(
  io: OperatorCommandIo,
  usage: string[],
  run: () => Promise<number>,
): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(error.message);
      usage.forEach((line) => io.err(line));
      return EXIT_USAGE;
    }
    if (error instanceof CommandFailure) {
      io.err(error.message);
      return EXIT_FAILED;
    }
    throw error;
  }
}

function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parseCount(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`${flag} must be a positive integer, got "${raw}"`);
  return value;
}

function pageQuery(fields: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) query.set(name, value);
  return query.toString();
}

function adminUrl(env: OperatorCommandIo['env']): string {
  const configured = env.LIANBAN_ADMIN_URL;
  if (configured) return configured.replace(/\/+$/, '');
  return `http://${env.HOST ?? '127.0.0.1'}:${env.PORT ?? '8080'}`;
}

async function callAdmin(
  io: OperatorCommandIo,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const token = io.env.LIANBAN_OPERATOR_TOKEN;
  if (!token) throw new UsageError('LIANBAN_OPERATOR_TOKEN is not set; export the operator token first');

  const url = `${adminUrl(io.env)}${path}`;
  const timeoutMs = method === 'POST' ? REPLAY_TIMEOUT_MS : QUERY_TIMEOUT_MS;
  let response;
  try {
    response = await request(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new CommandFailure(
      `request to ${url} failed: ${(error as Error).message}; is the gateway running there?`,
    );
  }

  const text = await response.body.text();
  if (response.statusCode >= 200 && response.statusCode < 300) return JSON.parse(text) as unknown;
  throw new CommandFailure(
    `${method} ${path} returned HTTP ${response.statusCode}: ${describeErrorBody(text)}`,
  );
}

function describeErrorBody(text: string): string {
  try {
    const body = JSON.parse(text) as {
      code?: string;
      message?: string;
      details?: Array<{ pointer: string; message: string }>;
    };
    const details = (body.details ?? []).map((detail) => ` ${detail.pointer}: ${detail.message}`).join(';');
    return `${body.code ?? 'error'} ${body.message ?? ''}${details}`;
  } catch {
    return text.slice(0, 200);
  }
}

function printJson(io: OperatorCommandIo, value: unknown): number {
  io.out(JSON.stringify(value, null, 2));
  return EXIT_OK;
}

function formatRow(cells: string[]): string {
  return cells.join('\t');
}
