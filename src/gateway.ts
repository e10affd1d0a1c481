/**
 * The composition root: the one place that wires configuration, Redis, stores, queues,
 * the configured department adapters, the HTTP API and the workers.
 */
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { createHrssAdapter } from '../adapters/hrss/adapter.ts';
import { createMedicalAdapter } from '../adapters/medical/adapter.ts';
import { createPoliceAdapter } from '../adapters/police/adapter.ts';
import { createVeteransAdapter } from '../adapters/veterans/adapter.ts';
import type { DepartmentAdapter, DepartmentKey } from './adapters-kit/types.ts';
import { PlatformAuthenticator } from './api/auth.ts';
import { buildApi } from './api/server.ts';
import { loadBundle, type Bundle } from './bundle/bundle.ts';
import { DeadlineServices } from './deadlines/index.ts';
import type { GatewayConfig } from './config.ts';
import { IntakeService } from './intake/intake.ts';
import { CaseValidator } from './intake/validate.ts';
import { PlatformNotifier } from './notifier/platform-notifier.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { createAdminRoutes } from './api/admin-routes.ts';
import { BreakerStatusService } from './operations/breaker-status.ts';
import { DeadLetterService } from './operations/dead-letters.ts';
import { FailedJobService } from './operations/failed-jobs.ts';
import { enforceRedisSafety, readinessHook } from './operations/redis-safety.ts';
import {
  DEFAULT_BREAKER_SETTINGS,
  DepartmentBreakers,
  type BreakerSettings,
} from './orchestration/breakers.ts';
import { DepartmentWorkers, type DueCalculator } from './orchestration/department-worker.ts';
import { Orchestrator } from './orchestration/orchestrator.ts';
import { OutcomeApplier } from './orchestration/outcomes.ts';
import { Reconciler } from './orchestration/reconciler.ts';
import { createItemPresenter } from './orchestration/presenter.ts';
import { GatewayQueues } from './orchestration/queues.ts';
import { SupportWorkers } from './orchestration/support-workers.ts';
import { CaseStore } from './store/case-store.ts';
import { DataCipher } from './store/crypto.ts';
import { DocumentStore } from './store/documents.ts';
import { KeySpace } from './store/keys.ts';

export type Role = 'api' | 'worker' | 'all';

const ADAPTER_FACTORIES: Record<DepartmentKey, typeof createVeteransAdapter> = {
  veterans: createVeteransAdapter,
  police: createPoliceAdapter,
  hrss: createHrssAdapter,
  medical: createMedicalAdapter,
};

export interface Gateway {
  config: GatewayConfig;
  bundle: Bundle;
  store: CaseStore;
  queues: GatewayQueues;
  logger: Logger;
  metrics: Metrics;
  api?: FastifyInstance;
  /** The API's base URL once listening. */
  url?: string;
  departmentWorkers?: DepartmentWorkers;
  /** The calendar in force, the deadline sweeper and the list of items at risk or overdue. */
  deadlines: DeadlineServices;
  /** Dead letters of department items: list, count, preview and replay. */
  deadLetters: DeadLetterService;
  /** Failed jobs of the callback, poll and push queues: list and retry. */
  failedJobs: FailedJobService;
  breakerStatus: BreakerStatusService;
  close(): Promise<void>;
}

function createAdapters(config: GatewayConfig): Map<string, DepartmentAdapter> {
  const adapters = new Map<string, DepartmentAdapter>();
  for (const [department, factory] of Object.entries(ADAPTER_FACTORIES) as Array<
    [DepartmentKey, typeof createVeteransAdapter]
  >) {
    const endpoint = config.departments[department];
    adapters.set(department, factory({ baseUrl: endpoint.baseUrl, secret: endpoint.secret }));
  }
  return adapters;
}

const ERROR_LOG_INTERVAL_MS = 10_000;
/** Time one part of the gateway may take to close before shutdown moves on without it. */
const PART_CLOSE_TIMEOUT_MS = 12_000;

/**
 * Closes one part, giving up after PART_CLOSE_TIMEOUT_MS with an error log, so one stuck
 * connection cannot hold the whole shutdown.
 */
async function closeWithin(name: string, close: () => Promise<void>, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), PART_CLOSE_TIMEOUT_MS);
  });
  const closing = close().then(
    () => 'closed' as const,
    (error: unknown) => {
      logger.error(
        { part: name, err: { message: error instanceof Error ? error.message : String(error) } },
        'close failed',
      );
      return 'failed' as const;
    },
  );
  const outcome = await Promise.race([closing, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout')
    logger.error({ part: name, timeoutMs: PART_CLOSE_TIMEOUT_MS }, 'close timed out; moving on');
}

/**
 * Returns a handler that logs a connection error at most once per interval and source,
 * with the count of those left out, so a Redis outage does not flood the log.
 */
function rateLimitedErrorLog(logger: Logger, message: string): (source: string, error: Error) => void {
  const lastLoggedAt = new Map<string, number>();
  const suppressed = new Map<string, number>();
  return (source, error) => {
    const now = Date.now();
    if (now - (lastLoggedAt.get(source) ?? 0) < ERROR_LOG_INTERVAL_MS) {
      suppressed.set(source, (suppressed.get(source) ?? 0) + 1);
      return;
    }
    logger.warn(
      { source, suppressed: suppressed.get(source) ?? 0, err: { message: error.message } },
      message,
    );
    lastLoggedAt.set(source, now);
    suppressed.set(source, 0);
  };
}

export async function startGateway(
  config: GatewayConfig,
  role: Role,
  options: { logger?: Logger; calendar?: DueCalculator; clock?: () => Date } = {},
): Promise<Gateway> {
  const logger = options.logger ?? createLogger();
  const metrics = new Metrics();
  const keys = new KeySpace(config.keyPrefix);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const logRedisError = rateLimitedErrorLog(logger, 'redis connection error');
  redis.on('error', (error: Error) => logRedisError('gateway', error));
  const connection = { url: config.redisUrl, maxRetriesPerRequest: null };
  const { resilience } = config;
  await enforceRedisSafety(redis, {
    mode: config.mode,
    allowUnverified: resilience.allowUnverifiedRedis,
    logger,
    metrics,
  }).catch((error: unknown) => {
    redis.disconnect();
    throw error;
  });

  const bundle = loadBundle();
  const cipher = new DataCipher(config.dataKeys, config.activeDataKeyId);
  const documents = new DocumentStore(config.documentsDir, cipher);
  const presentItem = createItemPresenter(bundle);
  const store = new CaseStore(redis, keys, cipher, presentItem);
  const adapters = createAdapters(config);
  const queues = new GatewayQueues(connection, keys, [...adapters.keys()], config.departmentAttempts);
  queues.onError(rateLimitedErrorLog(logger, 'queue connection error'));
  // Tables an operator activated in Redis take part next to the contract files, also those
  // activated while the gateway runs.
  const deadlines = await DeadlineServices.create({
    config,
    redis,
    bundle,
    store,
    metrics,
    logger,
    clock: options.clock,
    requestPush: (caseId) => queues.requestPush(caseId),
  });
  const calendar = options.calendar ?? deadlines.calendar;
  const orchestrator = new Orchestrator(bundle, store, queues, logger);
  const applier = new OutcomeApplier(bundle, store, documents, orchestrator, logger);
  const breakerSettings: BreakerSettings = {
    ...DEFAULT_BREAKER_SETTINGS,
    errorThresholdPercentage: resilience.breakerErrorThresholdPercent,
    volumeThreshold: resilience.breakerVolumeThreshold,
    rollingWindowMs: resilience.breakerWindowMs,
    resetTimeoutMs: resilience.breakerResetTimeoutMs,
  };
  const breakers =
    role === 'api'
      ? undefined
      : new DepartmentBreakers(adapters, {
          settings: breakerSettings,
          logger,
          metrics,
          shared: { redis, prefix: config.keyPrefix },
        });
  const breakerStatus = new BreakerStatusService({
    redis,
    keyPrefix: config.keyPrefix,
    queues,
    settings: breakerSettings,
    rateLimitMax: resilience.departmentCallsPerSecond,
    local: breakers,
  });
  const replaysPerSecond = resilience.replaysPerSecond;
  const deadLetters = new DeadLetterService({
    store,
    queues,
    orchestrator,
    logger,
    metrics,
    replaysPerSecond,
  });
  const failedJobs = new FailedJobService({ queues, store, logger, metrics, replaysPerSecond });
  metrics.readBreakerStates = () => breakerStatus.stateValues();
  metrics.readDeadLetterCounts = () => deadLetters.counts();
  const notifier = new PlatformNotifier(
    store,
    config.platform.statusUrl,
    config.platform.secret,
    metrics,
    logger,
  );

  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  const gateway: Gateway = {
    config,
    bundle,
    store,
    queues,
    logger,
    metrics,
    deadlines,
    deadLetters,
    failedJobs,
    breakerStatus,
    async close() {
      for (const { name, close } of closers.reverse()) await closeWithin(name, close, logger);
      await closeWithin('queues', () => queues.close(), logger);
      redis.disconnect();
    },
  };
  closers.push({ name: 'deadlines', close: () => deadlines.close() });

  if (role === 'worker' || role === 'all') {
    const departmentWorkers = new DepartmentWorkers({
      bundle,
      store,
      documents,
      orchestrator,
      queues,
      keys,
      calendar,
      metrics,
      logger,
      adapters,
      connection,
      publicUrl: config.publicUrl,
      policePollIntervalMs: config.policePollIntervalMs,
      breakers: breakers as DepartmentBreakers,
      deadLetters,
      retry: { baseDelayMs: resilience.retryBaseDelayMs, maxDelayMs: resilience.retryMaxDelayMs },
      callsPerSecond: resilience.departmentCallsPerSecond,
    });
    const supportWorkers = new SupportWorkers({
      store,
      keys,
      applier,
      notifier,
      adapters,
      connection,
      logger,
      policePollIntervalMs: config.policePollIntervalMs,
    });
    departmentWorkers.start();
    supportWorkers.start();
    await deadlines.startSweeper(connection, keys.queuePrefix());
    gateway.departmentWorkers = departmentWorkers;
    // The first pass runs at once, so a worker that replaces a crashed one repairs what the crash left.
    const reconciler = new Reconciler({
      store,
      queues,
      orchestrator,
      adapters,
      logger,
      metrics,
      deadLetters,
    });
    reconciler.start();
    closers.push(
      { name: 'department workers', close: () => departmentWorkers.close() },
      { name: 'support workers', close: () => supportWorkers.close() },
      { name: 'reconciler', close: () => reconciler.stop() },
    );
    logger.info({ role }, 'workers started');
  }

  if (role === 'api' || role === 'all') {
    const validator = new CaseValidator(bundle);
    const intake = new IntakeService(bundle, validator, store, documents, orchestrator, calendar, logger);
    const auth = new PlatformAuthenticator(config.platformCallers, redis, `${config.keyPrefix}:nonce`);
    const api = await buildApi({
      intake,
      store,
      documents,
      cipher,
      applier,
      queues,
      adapters,
      auth,
      metrics,
      logger,
      presentItem,
      maxUploadBytes: config.maxUploadBytes,
      maxCaseUploadBytes: config.maxCaseUploadBytes,
      promiseExcludes: bundle.definition.promiseExcludes,
      operatorTokens: config.operatorTokens,
      adminRoutes: [createAdminRoutes({ deadLetters, failedJobs, breakerStatus }), deadlines.adminRoutes()],
      calendarReadiness: () => deadlines.readiness(),
    });
    api.addHook(
      'onRequest',
      readinessHook(redis, { mode: config.mode, allowUnverified: resilience.allowUnverifiedRedis, metrics }),
    );
    gateway.url = await api.listen({ host: config.host, port: config.port });
    gateway.api = api;
    closers.push({ name: 'api', close: () => api.close() });
    logger.info({ role, url: gateway.url }, 'api listening');
  }

  return gateway;
}
