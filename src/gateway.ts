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
import { CalendarStore } from './calendar/index.ts';
import type { GatewayConfig } from './config.ts';
import { IntakeService } from './intake/intake.ts';
import { CaseValidator } from './intake/validate.ts';
import { PlatformNotifier } from './notifier/platform-notifier.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { DepartmentWorkers, type DueCalculator } from './orchestration/department-worker.ts';
import { Orchestrator } from './orchestration/orchestrator.ts';
import { OutcomeApplier } from './orchestration/outcomes.ts';
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

export async function startGateway(
  config: GatewayConfig,
  role: Role,
  options: { logger?: Logger; calendar?: DueCalculator } = {},
): Promise<Gateway> {
  const logger = options.logger ?? createLogger();
  const metrics = new Metrics();
  const keys = new KeySpace(config.keyPrefix);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (error) => logger.warn({ err: { message: error.message } }, 'redis connection error'));
  const connection = { url: config.redisUrl, maxRetriesPerRequest: null };

  const bundle = loadBundle();
  // Tables an operator activated in Redis take part next to the contract files.
  const calendar =
    options.calendar ?? (await new CalendarStore(redis, { keyPrefix: config.keyPrefix, logger }).load());
  const cipher = new DataCipher(config.dataKeys, config.activeDataKeyId);
  const documents = new DocumentStore(config.documentsDir, cipher);
  const presentItem = createItemPresenter(bundle);
  const store = new CaseStore(redis, keys, cipher, presentItem);
  const adapters = createAdapters(config);
  const queues = new GatewayQueues(connection, keys, [...adapters.keys()], config.departmentAttempts);
  const orchestrator = new Orchestrator(bundle, store, queues, logger);
  const applier = new OutcomeApplier(bundle, store, documents, orchestrator, logger);
  const notifier = new PlatformNotifier(
    store,
    config.platform.statusUrl,
    config.platform.secret,
    metrics,
    logger,
  );

  const closers: Array<() => Promise<void>> = [];
  const gateway: Gateway = {
    config,
    bundle,
    store,
    queues,
    logger,
    metrics,
    async close() {
      for (const close of closers.reverse()) await close();
      await queues.close();
      redis.disconnect();
    },
  };

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
    gateway.departmentWorkers = departmentWorkers;
    closers.push(
      () => departmentWorkers.close(),
      () => supportWorkers.close(),
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
      operatorTokens: config.operatorTokens,
      adminRoutes: [],
    });
    gateway.url = await api.listen({ host: config.host, port: config.port });
    gateway.api = api;
    closers.push(() => api.close());
    logger.info({ role, url: gateway.url }, 'api listening');
  }

  return gateway;
}
