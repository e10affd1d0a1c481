/**
 * Gateway configuration, read once from environment variables. Every variable is
 * listed in the README; names carry their unit where they have one.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPARTMENTS, type DepartmentKey } from './adapters-kit/types.ts';

export interface DepartmentEndpoint {
  baseUrl: string;
  secret: string;
}

export interface GatewayConfig {
  mode: 'production' | 'development';
  host: string;
  port: number;
  /** Base URL departments use to reach this gateway's callbacks. */
  publicUrl: string;
  redisUrl: string;
  /** Prefix of every Redis key and BullMQ queue, so several gateways can share a Redis in tests. */
  keyPrefix: string;
  documentsDir: string;
  /** Data keys by key id; the first is used for new data, all decrypt. */
  dataKeys: Map<string, Buffer>;
  activeDataKeyId: string;
  departments: Record<DepartmentKey, DepartmentEndpoint>;
  platform: { statusUrl: string; secret: string };
  /** Callers allowed to post cases: app id to shared secret. */
  platformCallers: Map<string, string>;
  /** Operators of the admin API: name to bearer token. */
  operatorTokens: Map<string, string>;
  policePollIntervalMs: number;
  departmentAttempts: number;
  maxUploadBytes: number;
  /** Limit on all files of one case together. */
  maxCaseUploadBytes: number;
  /** Interval of the deadline sweeper's job scheduler; 0 turns the schedule off. */
  deadlineSweepIntervalMs: number;
  /** An item is at risk when fewer working days than this remain after the current one. */
  deadlineAtRiskWorkingDays: number;
  /** Interval of the periodic calendar reload from Redis; 0 leaves only the pub/sub reload. */
  calendarReloadIntervalMs: number;
  /** Retries, circuit breakers, replays and the Redis settings check; see docs/operations.md. */
  resilience: ResilienceConfig;
}

export interface ResilienceConfig {
  /** Delay before the first retry of a department call; doubles per retry, with jitter. */
  retryBaseDelayMs: number;
  /** Cap of the delay between two department call attempts. */
  retryMaxDelayMs: number;
  /** Department calls each department queue starts per second at most, across all workers. */
  departmentCallsPerSecond: number;
  breakerErrorThresholdPercent: number;
  breakerVolumeThreshold: number;
  breakerWindowMs: number;
  breakerResetTimeoutMs: number;
  /** Dead-letter replays and failed-job retries per second, across all processes. */
  replaysPerSecond: number;
  /** Start in production mode although CONFIG GET is disabled and the Redis settings cannot be read. */
  allowUnverifiedRedis: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string, mode: GatewayConfig['mode'], developmentDefault: string): string {
  const value = env[name];
  if (value) return value;
  if (mode === 'development') return developmentDefault;
  throw new ConfigError(`${name} is not set; production mode requires it`);
}

function integer(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  }
  return value;
}

/** Parses `keyId:base64key,keyId:base64key`; each key must be 32 bytes for AES-256-GCM. */
export function parseDataKeys(raw: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const entry of raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [keyId, encoded] = entry.split(':', 2);
    if (!keyId || !encoded)
      throw new ConfigError(`LIANBAN_DATA_KEYS entry "${keyId ?? ''}" must be keyId:base64key`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== 32) {
      throw new ConfigError(`LIANBAN_DATA_KEYS key "${keyId}" must decode to 32 bytes, got ${key.length}`);
    }
    keys.set(keyId, key);
  }
  if (keys.size === 0) throw new ConfigError('LIANBAN_DATA_KEYS contains no key');
  return keys;
}

/** Parses `name:secret,name:secret` (platform callers, operator tokens). */
function parseCallers(raw: string): Map<string, string> {
  const callers = new Map<string, string>();
  for (const entry of raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const separator = entry.indexOf(':');
    if (separator <= 0)
      throw new ConfigError(
        'LIANBAN_PLATFORM_CALLERS and LIANBAN_OPERATOR_TOKENS entries must be name:secret',
      );
    callers.set(entry.slice(0, separator), entry.slice(separator + 1));
  }
  return callers;
}

function departmentEndpoints(
  env: Env,
  mode: GatewayConfig['mode'],
): Record<DepartmentKey, DepartmentEndpoint> {
  const endpoints = {} as Record<DepartmentKey, DepartmentEndpoint>;
  for (const department of DEPARTMENTS) {
    const upper = department.toUpperCase();
    endpoints[department] = {
      baseUrl: required(env, `LIANBAN_${upper}_URL`, mode, 'http://127.0.0.1:1'),
      secret: required(env, `LIANBAN_${upper}_SECRET`, mode, `development-${department}-secret`),
    };
  }
  return endpoints;
}

function positive(env: Env, name: string, fallback: number): number {
  const value = integer(env, name, fallback);
  if (value === 0) throw new ConfigError(`${name} must be at least 1, got 0`);
  return value;
}

function flag(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(`${name} must be true or false, got "${env[name] ?? ''}"`);
}

export function loadResilienceConfig(env: Env): ResilienceConfig {
  const config: ResilienceConfig = {
    retryBaseDelayMs: positive(env, 'LIANBAN_RETRY_BASE_DELAY_MS', 1_000),
    retryMaxDelayMs: positive(env, 'LIANBAN_RETRY_MAX_DELAY_MS', 60_000),
    departmentCallsPerSecond: positive(env, 'LIANBAN_DEPARTMENT_CALLS_PER_SECOND', 50),
    breakerErrorThresholdPercent: positive(env, 'LIANBAN_BREAKER_ERROR_PERCENT', 50),
    breakerVolumeThreshold: positive(env, 'LIANBAN_BREAKER_VOLUME_THRESHOLD', 5),
    breakerWindowMs: positive(env, 'LIANBAN_BREAKER_WINDOW_MS', 60_000),
    breakerResetTimeoutMs: positive(env, 'LIANBAN_BREAKER_RESET_TIMEOUT_MS', 30_000),
    replaysPerSecond: positive(env, 'LIANBAN_REPLAYS_PER_SECOND', 5),
    allowUnverifiedRedis: flag(env, 'LIANBAN_ALLOW_UNVERIFIED_REDIS'),
  };
  if (config.retryMaxDelayMs < config.retryBaseDelayMs) {
    throw new ConfigError('LIANBAN_RETRY_MAX_DELAY_MS must not be less than LIANBAN_RETRY_BASE_DELAY_MS');
  }
  if (config.breakerErrorThresholdPercent > 100) {
    throw new ConfigError(
      `LIANBAN_BREAKER_ERROR_PERCENT must be at most 100, got ${config.breakerErrorThresholdPercent}`,
    );
  }
  return config;
}

/** Variables that production requires and development replaces with defaults. */
export const PRODUCTION_REQUIRED = [
  'LIANBAN_DATA_KEYS',
  'LIANBAN_DOCUMENTS_DIR',
  ...DEPARTMENTS.flatMap((department) => [
    `LIANBAN_${department.toUpperCase()}_URL`,
    `LIANBAN_${department.toUpperCase()}_SECRET`,
  ]),
  'LIANBAN_PLATFORM_STATUS_URL',
  'LIANBAN_PLATFORM_SECRET',
  'LIANBAN_PLATFORM_CALLERS',
  'LIANBAN_OPERATOR_TOKENS',
];

/** Returns the production-required variables that are unset, so development uses a default. */
export function developmentDefaultsInUse(env: Env = process.env): string[] {
  return PRODUCTION_REQUIRED.filter((name) => !env[name]);
}

export function loadConfig(env: Env = process.env): GatewayConfig {
  const mode = env.NODE_ENV === 'production' ? 'production' : 'development';
  const host = env.HOST ?? '127.0.0.1';
  const port = integer(env, 'PORT', 8080);
  const dataKeys = parseDataKeys(
    required(env, 'LIANBAN_DATA_KEYS', mode, `dev:${randomBytes(32).toString('base64')}`),
  );

  return {
    mode,
    host,
    port,
    publicUrl: env.LIANBAN_PUBLIC_URL ?? `http://${host}:${port}`,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    keyPrefix: env.LIANBAN_KEY_PREFIX ?? 'lb',
    documentsDir: required(env, 'LIANBAN_DOCUMENTS_DIR', mode, join(tmpdir(), 'lianban-documents')),
    dataKeys,
    activeDataKeyId: [...dataKeys.keys()][0] as string,
    departments: departmentEndpoints(env, mode),
    platform: {
      statusUrl: required(env, 'LIANBAN_PLATFORM_STATUS_URL', mode, 'http://127.0.0.1:1/status'),
      secret: required(env, 'LIANBAN_PLATFORM_SECRET', mode, 'development-platform-secret'),
    },
    platformCallers: parseCallers(
      required(env, 'LIANBAN_PLATFORM_CALLERS', mode, 'ykb:development-caller-secret'),
    ),
    operatorTokens: parseCallers(
      required(env, 'LIANBAN_OPERATOR_TOKENS', mode, 'operator:development-operator-token'),
    ),
    policePollIntervalMs: integer(env, 'LIANBAN_POLICE_POLL_INTERVAL_MS', 5_000),
    departmentAttempts: integer(env, 'LIANBAN_DEPARTMENT_ATTEMPTS', 8),
    maxUploadBytes: integer(env, 'LIANBAN_MAX_UPLOAD_BYTES', 10 * 1024 * 1024),
    maxCaseUploadBytes: integer(
      env,
      'LIANBAN_MAX_CASE_UPLOAD_BYTES',
      4 * integer(env, 'LIANBAN_MAX_UPLOAD_BYTES', 10 * 1024 * 1024),
    ),
    deadlineSweepIntervalMs: integer(env, 'LIANBAN_DEADLINE_SWEEP_INTERVAL_MS', 60_000),
    deadlineAtRiskWorkingDays: integer(env, 'LIANBAN_DEADLINE_AT_RISK_WORKING_DAYS', 1),
    calendarReloadIntervalMs: integer(env, 'LIANBAN_CALENDAR_RELOAD_INTERVAL_MS', 60_000),
    resilience: loadResilienceConfig(env),
  };
}
