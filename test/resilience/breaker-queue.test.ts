/**
 * The breaker on the whole system. When veterans affairs keeps failing, its breaker
 * opens and the department queue pauses without spending the job's attempts. Operators
 * see the state in the admin API and the metrics. The item completes once a probe
 * succeeds, although the department failed more calls than the job has attempts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import type { DepartmentBreakerReport } from '../../src/operations/breaker-status.ts';
import { waitForCase, type CaseAnswer } from '../support/gateway-env.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import {
  callAdmin,
  readMetrics,
  startResilienceEnvironment,
  submitTypicalCase,
  type ResilienceEnvironment,
} from './resilience-env.ts';

const ATTEMPTS = 3;
const FAILURES = 4;
const RESET_TIMEOUT_MS = 1_500;

async function veteransBreaker(env: ResilienceEnvironment): Promise<DepartmentBreakerReport | undefined> {
  const { body } = await callAdmin(env, 'GET', '/v1/admin/breakers');
  return (body as { breakers: DepartmentBreakerReport[] }).breakers.find(
    (entry) => entry.department === 'veterans',
  );
}

describe('breaker open on the whole system', () => {
  let redis: TestRedis;
  let env: ResilienceEnvironment;
  let whileOpen: DepartmentBreakerReport | undefined;
  let metricsWhileOpen = '';
  let answer: CaseAnswer;

  beforeAll(async () => {
    redis = await startTestRedis();
    env = await startResilienceEnvironment({
      redisUrl: redis.url,
      logger: createLogger({ level: 'silent' }),
      env: {
        LIANBAN_DEPARTMENT_ATTEMPTS: String(ATTEMPTS),
        LIANBAN_RETRY_BASE_DELAY_MS: '20',
        LIANBAN_RETRY_MAX_DELAY_MS: '40',
        LIANBAN_BREAKER_VOLUME_THRESHOLD: '2',
        LIANBAN_BREAKER_RESET_TIMEOUT_MS: String(RESET_TIMEOUT_MS),
      },
    });
    env.departments.veterans.injectFault('server-error', FAILURES);
    const caseId = await submitTypicalCase(env);

    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const report = await veteransBreaker(env);
      if (report?.state === 'open' && report.queuePausedMs > 0) {
        whileOpen = report;
        metricsWhileOpen = await readMetrics(env);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    answer = await waitForCase(env, caseId, 60_000);
  });

  afterAll(async () => {
    await env?.close();
    await redis?.stop();
  });

  it('shows the open breaker and the paused queue', () => {
    expect(whileOpen?.state).toBe('open');
    expect(whileOpen?.shared.state).toBe('open');
    expect(whileOpen?.local?.state).toBe('open');
    expect(whileOpen?.queuePausedMs).toBeGreaterThan(0);
    expect(whileOpen?.queuePausedMs).toBeLessThanOrEqual(RESET_TIMEOUT_MS);
  });

  it('exports the open state as a metric', () => {
    expect(metricsWhileOpen).toContain('lianban_breaker_state{department="veterans"} 2');
    expect(metricsWhileOpen).toContain(
      'lianban_breaker_transitions_total{department="veterans",state="open"}',
    );
  });

  it('completes the item after more failures than attempts', async () => {
    const metrics = await readMetrics(env);
    const failedCalls =
      /lianban_department_call_duration_seconds_count\{department="veterans",outcome="transient"\} (\d+)/.exec(
        metrics,
      );

    expect(answer.status).toBe('completed');
    expect(FAILURES).toBeGreaterThan(ATTEMPTS);
    expect(Number(failedCalls?.[1])).toBe(FAILURES);
  });

  it('closes the breaker after the successful probe', async () => {
    const report = await veteransBreaker(env);
    const metrics = await readMetrics(env);

    expect(report?.state).toBe('closed');
    expect(report?.shared.state).toBe('closed');
    expect(metrics).toContain('lianban_breaker_state{department="veterans"} 0');
  });

  it('left no dead letter', async () => {
    expect(await env.gateway.deadLetters.count('veterans')).toBe(0);
  });
});
