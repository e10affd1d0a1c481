/**
 * The gateway's HTTP API: case intake and status for the platform, document download,
 * department callbacks, health and metrics.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DepartmentAdapter } from '../adapters-kit/types.ts';
import type { IntakeService } from '../intake/intake.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { OutcomeApplier } from '../orchestration/outcomes.ts';
import type { GatewayQueues } from '../orchestration/queues.ts';
import type { CaseStore } from '../store/case-store.ts';
import type { DataCipher } from '../store/crypto.ts';
import type { DocumentStore } from '../store/documents.ts';
import type { ItemRecord, PushItem } from '../store/records.ts';
import type { PlatformAuthenticator } from './auth.ts';
import { registerCallbackRoutes } from './callback-routes.ts';
import { registerDocsRoutes, trackRoutes } from './openapi.ts';
import { operatorGuard } from './operator-auth.ts';
import { registerOperationsRoutes } from './operations-routes.ts';
import { registerPlatformRoutes } from './platform-routes.ts';
import { GatewayError } from './errors.ts';
import type { CalendarReadiness } from '../deadlines/index.ts';

export interface ApiDeps {
  intake: IntakeService;
  store: CaseStore;
  documents: DocumentStore;
  cipher: DataCipher;
  applier: OutcomeApplier;
  queues: GatewayQueues;
  adapters: Map<string, DepartmentAdapter>;
  auth: PlatformAuthenticator;
  metrics: Metrics;
  logger: Logger;
  presentItem: (item: ItemRecord) => PushItem;
  maxUploadBytes: number;
  operatorTokens: ReadonlyMap<string, string>;
  /** Admin route modules, registered behind the operator guard under `/v1/admin`. */
  adminRoutes?: Array<(app: FastifyInstance, deps: ApiDeps) => Promise<void> | void>;
  maxFiles?: number;
  /** Limit of all uploaded files of one case together; four files of `maxUploadBytes` when absent. */
  maxCaseUploadBytes?: number;
  /** Time the bundle's promise does not count, shown beside `promiseDueAt`. */
  promiseExcludes?: string;
  /** Calendar coverage for readiness: a missing year is a warning, never a 503. */
  calendarReadiness?: () => CalendarReadiness;
}

/** Maps framework and multipart errors to registry codes; anything unknown is a 500. */
function toGatewayError(error: FastifyError | Error): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = (error as FastifyError).code ?? '';
  const status = (error as FastifyError).statusCode ?? 500;
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    return new GatewayError('LB_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE');
  }
  if (
    status === 413 ||
    ['FST_REQ_FILE_TOO_LARGE', 'FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT'].includes(code)
  ) {
    return new GatewayError('LB_ERR_REQUEST_TOO_LARGE');
  }
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new GatewayError('LB_ERR_REQUEST_INVALID_JSON');
  }
  if (status === 400 || /multipart|boundary|unexpected end of form/i.test(error.message)) {
    return new GatewayError('LB_ERR_REQUEST_MULTIPART_INVALID');
  }
  return new GatewayError('LB_ERR_INTERNAL');
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.maxUploadBytes * 2,
  }) as unknown as FastifyInstance;

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const gatewayError = toGatewayError(error);
    if (gatewayError.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: gatewayError.code, status: gatewayError.status }, 'request rejected');
    // A request rejected for its size or framing may still be sending its body. Closing the
    // connection keeps the client from sending its next request after the unread rest.
    if (gatewayError.status === 413 || gatewayError.code === 'LB_ERR_REQUEST_MULTIPART_INVALID') {
      void reply.header('connection', 'close');
    }
    if (gatewayError.status === 503) void reply.header('retry-after', '5');
    void reply.status(gatewayError.status).send(gatewayError.toBody());
  });

  trackRoutes(app);
  await app.register(async (platform) => registerPlatformRoutes(platform, deps));
  await app.register(async (callbacks) => registerCallbackRoutes(callbacks, deps));
  await app.register(async (admin) => {
    // Every route registered in this scope requires an operator token.
    admin.addHook('preHandler', operatorGuard(deps.operatorTokens));
    for (const register of deps.adminRoutes ?? []) await register(admin, deps);
  });
  registerOperationsRoutes(app, deps);
  registerDocsRoutes(app);
  return app;
}
