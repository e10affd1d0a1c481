/**
 * Checks that Redis keeps what the gateway writes: queues and case records live only
 * there. Redis must persist with AOF (`appendonly yes`, `appendfsync everysec` or
 * `always`) and must never evict keys (`maxmemory-policy noeviction`), because an
 * evicted job or case key is lost work that nothing reports.
 *
 * Production mode refuses to start unless the check passes. Some managed Redis services
 * disable CONFIG; then the settings cannot be read, and the gateway starts only when the
 * operator sets LIANBAN_ALLOW_UNVERIFIED_REDIS=true after confirming the settings with
 * the provider. Readiness (`/health/ready`) reports the same check.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { GatewayError } from '../api/errors.ts';
import type { Metrics } from '../observability/metrics.ts';

export interface RedisSafetyReport {
  /** True when the gateway may run on this Redis in production mode. */
  safe: boolean;
  /** False when CONFIG GET failed, e.g. because the provider disabled it. */
  verified: boolean;
  /** Problems found, one sentence each; empty when safe and verified. */
  problems: string[];
  settings: { maxmemoryPolicy?: string; appendonly?: string; appendfsync?: string };
}

export class RedisSafetyError extends Error {
  override name = 'RedisSafetyError';
}

const SAFE_FSYNC_POLICIES = new Set(['everysec', 'always']);

/** How long readiness reuses the last check, so probes do not each run CONFIG GET. */
const READINESS_CACHE_MS = 5_000;

/** Reads the persistence and eviction settings and reports what is unsafe. */
export async function checkRedisSafety(
  redis: Redis,
  options: { allowUnverified: boolean },
): Promise<RedisSafetyReport> {
  let settings: RedisSafetyReport['settings'];
  try {
    settings = await readSettings(redis);
  } catch (error) {
    const problem =
      `CONFIG GET failed (${(error as Error).message}), so AOF and maxmemory-policy cannot be verified; ` +
      'the provider may have disabled CONFIG. Confirm with the provider that AOF is on and ' +
      'maxmemory-policy is noeviction, then set LIANBAN_ALLOW_UNVERIFIED_REDIS=true.';
    return { safe: options.allowUnverified, verified: false, problems: [problem], settings: {} };
  }

  const problems = settingProblems(settings);
  return { safe: problems.length === 0, verified: true, problems, settings };
}

async function readSettings(redis: Redis): Promise<RedisSafetyReport['settings']> {
  const read = async (name: string): Promise<string | undefined> => {
    const reply = (await redis.config('GET', name)) as string[];
    return reply[1];
  };
  return {
    maxmemoryPolicy: await read('maxmemory-policy'),
    appendonly: await read('appendonly'),
    appendfsync: await read('appendfsync'),
  };
}

function settingProblems(settings: RedisSafetyReport['settings']): string[] {
  const problems: string[] = [];
  if (settings.maxmemoryPolicy !== 'noeviction') {
    problems.push(
      `maxmemory-policy is ${settings.maxmemoryPolicy ?? '(unknown)'}, expected noeviction: ` +
        'Redis could evict queued jobs and case records.',
    );
  }
  if (settings.appendonly !== 'yes') {
    problems.push(
      `appendonly is ${settings.appendonly ?? '(unknown)'}, expected yes: a Redis restart would lose recent writes.`,
    );
  }
  if (settings.appendonly === 'yes' && !SAFE_FSYNC_POLICIES.has(settings.appendfsync ?? '')) {
    problems.push(`appendfsync is ${settings.appendfsync ?? '(unknown)'}, expected everysec or always.`);
  }
  return problems;
}

/**
 * Runs the check at start. In production mode an unsafe Redis stops the start with
 * `RedisSafetyError`; in development mode it is logged and the gateway starts.
 */
export async function enforceRedisSafety(
  redis: Redis,
  options: {
    mode: 'production' | 'development';
    allowUnverified: boolean;
    logger: Logger;
    metrics?: Metrics;
  },
): Promise<RedisSafetyReport> {
  const report = await checkRedisSafety(redis, options);
  options.metrics?.redisConfigSafe.set(report.safe && report.verified ? 1 : 0);
  if (report.safe && report.verified) return report;

  const fields = { mode: options.mode, verified: report.verified, problems: report.problems };
  if (report.safe) {
    options.logger.warn(
      fields,
      'redis settings not verifiable; starting because LIANBAN_ALLOW_UNVERIFIED_REDIS is set',
    );
    return report;
  }
  if (options.mode === 'production') {
    throw new RedisSafetyError(`Redis is not safe for production: ${report.problems.join(' ')}`);
  }
  options.logger.warn(fields, 'redis settings unsafe for production; development mode starts anyway');
  return report;
}

/**
 * Returns an `onRequest` hook that responds to `GET /health/ready` with 503 while Redis is
 * disconnected or, in production mode, while its settings are unsafe. Otherwise the
 * request goes on to the readiness route, which pings Redis.
 */
export function readinessHook(
  redis: Redis,
  options: { mode: 'production' | 'development'; allowUnverified: boolean; metrics?: Metrics },
) {
  let cached: { report: RedisSafetyReport; atMs: number } | undefined;
  const currentReport = async (): Promise<RedisSafetyReport> => {
    if (cached && Date.now() - cached.atMs < READINESS_CACHE_MS) return cached.report;
    const report = await checkRedisSafety(redis, options);
    options.metrics?.redisConfigSafe.set(report.safe && report.verified ? 1 : 0);
    cached = { report, atMs: Date.now() };
    return report;
  };

  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.method !== 'GET' || request.url.split('?')[0] !== '/health/ready') return;
    // With maxRetriesPerRequest null a command waits for the reconnect, so the connection
    // state is read directly to respond to a probe at once.
    if (redis.status !== 'ready') {
      await reply.status(503).send(notReady('redis-connection', [`Redis connection is ${redis.status}`]));
      return;
    }
    if (options.mode !== 'production') return;
    const report = await currentReport();
    if (!report.safe) await reply.status(503).send(notReady('redis-settings', report.problems));
  };
}

/** Builds the 503 body; its details name the problems for the operator, in English. */
function notReady(code: string, problems: string[]): ReturnType<GatewayError['toBody']> {
  const details = problems.map((problem) => ({ code, pointer: '', message: problem }));
  return new GatewayError('LB_ERR_SERVICE_UNAVAILABLE', details).toBody();
}
