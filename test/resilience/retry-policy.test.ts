/**
 * The retry policy of department calls: exponential backoff with equal jitter and a cap,
 * and the configuration that sets it.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadResilienceConfig } from '../../src/config.ts';
import {
  DEFAULT_DEPARTMENT_RETRY,
  backoffCeilingMs,
  backoffDelayMs,
  retryPolicyProblem,
  retryWindowMs,
} from '../../src/orchestration/queues.ts';

const SAMPLES_PER_ATTEMPT = 2_000;

describe('backoff delay', () => {
  it('stays between half the ceiling and the ceiling', () => {
    for (let attemptsMade = 1; attemptsMade <= 12; attemptsMade += 1) {
      const ceiling = backoffCeilingMs(attemptsMade, 1_000, 60_000);
      for (let sample = 0; sample < SAMPLES_PER_ATTEMPT; sample += 1) {
        const delay = backoffDelayMs(attemptsMade, 1_000, 60_000);
        expect(delay, `attempt ${attemptsMade}`).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(delay, `attempt ${attemptsMade}`).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('doubles the ceiling until the cap', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => backoffCeilingMs(attempt, 1_000, 60_000));

    expect(ceilings).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
  });

  it('never exceeds the cap for huge attempt counts', () => {
    for (const attempt of [50, 1_000, Number.MAX_SAFE_INTEGER]) {
      const delay = backoffDelayMs(attempt, 1_000, 60_000);
      expect(Number.isFinite(delay), String(attempt)).toBe(true);
      expect(delay, String(attempt)).toBeLessThanOrEqual(60_000);
      expect(delay, String(attempt)).toBeGreaterThanOrEqual(30_000);
    }
  });

  it('spreads retries of the same attempt', () => {
    const delays = new Set<number>();
    for (let sample = 0; sample < 200; sample += 1) delays.add(backoffDelayMs(4, 1_000, 60_000));

    // Equal jitter draws from 4 000 to 8 000 ms; 200 draws give far more than 50 values.
    expect(delays.size).toBeGreaterThan(50);
  });

  it('treats attempt 0 like the first retry', () => {
    expect(backoffCeilingMs(0, 500, 10_000)).toBe(500);
  });
});

describe('retry window', () => {
  it('sums the ceilings of the default policy', () => {
    const window = retryWindowMs(DEFAULT_DEPARTMENT_RETRY);

    // 7 retries after 8 attempts: 1 + 2 + 4 + 8 + 16 + 32 + 60 seconds at most.
    expect(window.maxMs).toBe(123_000);
    expect(window.minMs).toBe(61_500);
  });

  it('is zero for a single attempt', () => {
    expect(retryWindowMs({ attempts: 1, baseDelayMs: 1_000, maxDelayMs: 60_000 })).toEqual({
      minMs: 0,
      maxMs: 0,
    });
  });
});

describe('retry policy checks', () => {
  it('accepts the default policy', () => {
    expect(retryPolicyProblem(DEFAULT_DEPARTMENT_RETRY)).toBeUndefined();
  });

  it.each([
    [{ attempts: 0, baseDelayMs: 1_000, maxDelayMs: 60_000 }, 'attempts'],
    [{ attempts: 2.5, baseDelayMs: 1_000, maxDelayMs: 60_000 }, 'attempts'],
    [{ attempts: 3, baseDelayMs: 0, maxDelayMs: 60_000 }, 'baseDelayMs'],
    [{ attempts: 3, baseDelayMs: 1_000, maxDelayMs: 999 }, 'maxDelayMs'],
  ])('rejects %o', (policy, field) => {
    expect(retryPolicyProblem(policy)).toContain(field);
  });
});

describe('resilience configuration', () => {
  it('has documented defaults', () => {
    expect(loadResilienceConfig({})).toEqual({
      retryBaseDelayMs: 1_000,
      retryMaxDelayMs: 60_000,
      departmentCallsPerSecond: 50,
      breakerErrorThresholdPercent: 50,
      breakerVolumeThreshold: 5,
      breakerWindowMs: 60_000,
      breakerResetTimeoutMs: 30_000,
      replaysPerSecond: 5,
      allowUnverifiedRedis: false,
    });
  });

  it('reads every variable', () => {
    const config = loadResilienceConfig({
      LIANBAN_RETRY_BASE_DELAY_MS: '200',
      LIANBAN_RETRY_MAX_DELAY_MS: '5000',
      LIANBAN_DEPARTMENT_CALLS_PER_SECOND: '10',
      LIANBAN_BREAKER_ERROR_PERCENT: '75',
      LIANBAN_BREAKER_VOLUME_THRESHOLD: '20',
      LIANBAN_BREAKER_WINDOW_MS: '30000',
      LIANBAN_BREAKER_RESET_TIMEOUT_MS: '10000',
      LIANBAN_REPLAYS_PER_SECOND: '2',
      LIANBAN_ALLOW_UNVERIFIED_REDIS: 'true',
    });

    expect(config).toEqual({
      retryBaseDelayMs: 200,
      retryMaxDelayMs: 5_000,
      departmentCallsPerSecond: 10,
      breakerErrorThresholdPercent: 75,
      breakerVolumeThreshold: 20,
      breakerWindowMs: 30_000,
      breakerResetTimeoutMs: 10_000,
      replaysPerSecond: 2,
      allowUnverifiedRedis: true,
    });
  });

  it.each([
    [{ LIANBAN_RETRY_BASE_DELAY_MS: '0' }, 'LIANBAN_RETRY_BASE_DELAY_MS'],
    [
      { LIANBAN_RETRY_BASE_DELAY_MS: '5000', LIANBAN_RETRY_MAX_DELAY_MS: '1000' },
      'LIANBAN_RETRY_MAX_DELAY_MS',
    ],
    [{ LIANBAN_BREAKER_ERROR_PERCENT: '150' }, 'LIANBAN_BREAKER_ERROR_PERCENT'],
    [{ LIANBAN_REPLAYS_PER_SECOND: 'fast' }, 'LIANBAN_REPLAYS_PER_SECOND'],
    [{ LIANBAN_ALLOW_UNVERIFIED_REDIS: 'yes please' }, 'LIANBAN_ALLOW_UNVERIFIED_REDIS'],
  ])('rejects %o', (env, name) => {
    expect(() => loadResilienceConfig(env)).toThrow(ConfigError);
    expect(() => loadResilienceConfig(env)).toThrow(name);
  });
});
