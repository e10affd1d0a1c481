/**
 * Operator routes for dead letters, failed jobs and circuit breakers. They are
 * registered in the admin scope of the API, behind the operator bearer token, and every
 * replay records the operator's name from that token in the case trail.
 *
 *   GET  /v1/admin/breakers
 *   GET  /v1/admin/dead-letters                      counts per department and support queue
 *   GET  /v1/admin/dead-letters?department=&offset=&limit=
 *   POST /v1/admin/dead-letters/replay               { department, reason, items?, dryRun?, limit? }
 *   GET  /v1/admin/failed-jobs?queue=&offset=&limit=
 *   POST /v1/admin/failed-jobs/retry                 { queue, reason, jobIds?, dryRun?, limit? }
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BreakerStatusService } from '../operations/breaker-status.ts';
import type { DeadLetterService } from '../operations/dead-letters.ts';
import { SUPPORT_QUEUES, type FailedJobService, type SupportQueue } from '../operations/failed-jobs.ts';
import { MIN_REASON_LENGTH, ReplayRequestError } from '../operations/replay-support.ts';
import { GatewayError } from './errors.ts';
import { operatorOf } from './operator-auth.ts';

export interface AdminServices {
  deadLetters: DeadLetterService;
  failedJobs: FailedJobService;
  breakerStatus: BreakerStatusService;
}

/** Chinese messages for request fields an operator got wrong, by field name. */
const FIELD_MESSAGES: Record<string, string> = {
  department: '未知的部门。',
  queue: `未知的队列，请使用 ${SUPPORT_QUEUES.join('、')}。`,
  reason: `请填写原因（至少 ${MIN_REASON_LENGTH} 个字符，最多 500 个字符）。`,
  items: '事项引用须为 <caseId>.<itemKey> 组成的数组。',
  jobIds: '任务编号须为字符串数组。',
  dryRun: 'dryRun 须为 true 或 false。',
  limit: 'limit 须为正整数。',
  offset: 'offset 须为非负整数。',
  body: '请求体须为 JSON 对象。',
};

/** Returns the admin route module for `ApiDeps.adminRoutes`. */
export function createAdminRoutes(services: AdminServices) {
  return (app: FastifyInstance): void => {
    registerBreakerRoutes(app, services);
    registerDeadLetterRoutes(app, services);
    registerFailedJobRoutes(app, services);
  };
}

function registerBreakerRoutes(app: FastifyInstance, services: AdminServices): void {
  app.get('/v1/admin/breakers', async () => ({ breakers: await services.breakerStatus.report() }));
}

function registerDeadLetterRoutes(app: FastifyInstance, services: AdminServices): void {
  app.get<{ Querystring: Record<string, string | undefined> }>('/v1/admin/dead-letters', async (request) => {
    const { department } = request.query;
    if (department === undefined) {
      return {
        departments: await services.deadLetters.counts(),
        queues: await services.failedJobs.counts(),
      };
    }
    const page = readPage(request.query);
    return runChecked(async () => ({
      department,
      count: await services.deadLetters.count(department),
      items: await services.deadLetters.list(department, page),
    }));
  });

  app.post('/v1/admin/dead-letters/replay', async (request) => {
    const body = readBody(request);
    return runChecked(() =>
      services.deadLetters.replay({
        department: requireString(body, 'department'),
        reason: requireString(body, 'reason'),
        operator: operatorOf(request),
        items: optionalStrings(body, 'items'),
        dryRun: optionalBoolean(body, 'dryRun'),
        limit: optionalInteger(body, 'limit'),
      }),
    );
  });
}

function registerFailedJobRoutes(app: FastifyInstance, services: AdminServices): void {
  app.get<{ Querystring: Record<string, string | undefined> }>('/v1/admin/failed-jobs', async (request) => {
    const queue = readQueue(request.query.queue);
    const page = readPage(request.query);
    return {
      queue,
      count: await services.failedJobs.count(queue),
      jobs: await services.failedJobs.list(queue, page),
    };
  });

  app.post('/v1/admin/failed-jobs/retry', async (request) => {
    const body = readBody(request);
    return runChecked(() =>
      services.failedJobs.retry({
        queue: readQueue(body.queue),
        reason: requireString(body, 'reason'),
        operator: operatorOf(request),
        jobIds: optionalStrings(body, 'jobIds'),
        dryRun: optionalBoolean(body, 'dryRun'),
        limit: optionalInteger(body, 'limit'),
      }),
    );
  });
}

/** Runs a service call and turns a `ReplayRequestError` into a 400 response naming the field. */
async function runChecked<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ReplayRequestError) throw invalidField(error.field);
    throw error;
  }
}

function invalidField(field: string): GatewayError {
  const detail = {
    code: 'LB_ERR_FIELD_SCHEMA',
    pointer: `/${field}`,
    message: FIELD_MESSAGES[field] ?? '字段不符合规范',
  };
  return new GatewayError('LB_ERR_ADMIN_REQUEST_INVALID', [detail]);
}

function readBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw invalidField('body');
  return body as Record<string, unknown>;
}

function readQueue(value: unknown): SupportQueue {
  if (typeof value !== 'string' || !(SUPPORT_QUEUES as readonly string[]).includes(value)) {
    throw invalidField('queue');
  }
  return value as SupportQueue;
}

function readPage(query: Record<string, string | undefined>): { offset?: number; limit?: number } {
  const parse = (field: 'offset' | 'limit', minimum: number): number | undefined => {
    const raw = query[field];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < minimum) throw invalidField(field);
    return value;
  };
  return { offset: parse('offset', 0), limit: parse('limit', 1) };
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string') throw invalidField(field);
  return value;
}

function optionalStrings(body: Record<string, unknown>, field: string): string[] | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) throw invalidField(field);
  return value as string[];
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalidField(field);
  return value;
}

function optionalInteger(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidField(field);
  return value;
}
