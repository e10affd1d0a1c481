/**
 * The gateway's HTTP API: case intake and status for the platform, document download,
 * department callbacks, health and metrics.
 */
import multipart from '@fastify/multipart';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import { CallbackAuthError, CallbackFormatError } from '../adapters-kit/errors.ts';
import { sha256Hex } from '../adapters-kit/signing.ts';
import type { DepartmentAdapter } from '../adapters-kit/types.ts';
import type { IntakeService } from '../intake/intake.ts';
import type { UploadedMaterial } from '../intake/validate.ts';
import { problem } from '../intake/problems.ts';
import type { Metrics } from '../observability/metrics.ts';
import {
  ForeignItemError,
  parseReference,
  type OutcomeApplier,
  type StoredOutcome,
} from '../orchestration/outcomes.ts';
import type { GatewayQueues } from '../orchestration/queues.ts';
import type { CaseStore } from '../store/case-store.ts';
import type { DataCipher } from '../store/crypto.ts';
import { isSha256, type DocumentStore } from '../store/documents.ts';
import type { ItemRecord, PushItem } from '../store/records.ts';
import { multipartDigest, type PlatformAuthenticator } from './auth.ts';
import { GatewayError, type ErrorDetail } from './errors.ts';

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
  maxFiles?: number;
}

const MAX_CASE_JSON_BYTES = 1024 * 1024;
const OUTCOME_TTL_SECONDS = 30 * 24 * 3600;

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
    void reply.status(gatewayError.status).send(gatewayError.toBody());
  });

  await app.register(async (platform) => registerPlatformRoutes(platform, deps));
  await app.register(async (callbacks) => registerCallbackRoutes(callbacks, deps));
  registerOperationsRoutes(app, deps);
  return app;
}

async function registerPlatformRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    (request as FastifyRequest & { contentDigest?: string }).contentDigest = sha256Hex(body as Buffer);
    try {
      done(null, JSON.parse((body as Buffer).toString('utf8')));
    } catch {
      done(new GatewayError('LB_ERR_REQUEST_INVALID_JSON'), undefined);
    }
  });
  await app.register(multipart, {
    limits: {
      fileSize: deps.maxUploadBytes,
      files: deps.maxFiles ?? 20,
      fields: 4,
      fieldSize: MAX_CASE_JSON_BYTES,
      parts: (deps.maxFiles ?? 20) + 4,
    },
    throwFileSizeLimit: true,
  });

  app.post('/v1/cases', async (request, reply) => {
    const stopTimer = deps.metrics.intakeSeconds.startTimer();
    try {
      const { form, uploads, digest } = request.isMultipart()
        ? await readMultipart(request)
        : readJsonCase(request);
      await deps.auth.verify(request.headers, 'POST', '/v1/cases', digest);
      const result = await deps.intake.submit(form, uploads);
      deps.metrics.intakeRequests.inc({ outcome: result.duplicate ? 'duplicate' : 'accepted' });
      return reply.status(result.httpStatus).send(result.answer);
    } catch (error) {
      const outcome = error instanceof GatewayError && error.status === 422 ? 'invalid' : 'rejected';
      deps.metrics.intakeRequests.inc({ outcome });
      throw error;
    } finally {
      stopTimer();
    }
  });

  app.get<{ Params: { caseId: string } }>('/v1/cases/:caseId', async (request) => {
    await deps.auth.verify(request.headers, 'GET', request.url, sha256Hex(''));
    const meta = await deps.store.getCase(request.params.caseId);
    if (!meta) throw new GatewayError('LB_ERR_CASE_NOT_FOUND');
    const items = await deps.store.getItems(meta.caseId, meta.itemKeys);
    return {
      caseId: meta.caseId,
      platformCaseId: meta.platformCaseId,
      status: meta.status,
      createdAt: meta.createdAt,
      promiseDueAt: meta.promiseDueAt,
      promiseDueProvisional: meta.promiseDueProvisional,
      flags: meta.flags,
      items: items.map((item) => ({
        ...deps.presentItem(item),
        receivedAt: item.receivedAt,
        updatedAt: item.updatedAt,
      })),
    };
  });

  app.get<{ Params: { sha256: string } }>('/v1/documents/:sha256', async (request, reply) => {
    await deps.auth.verify(request.headers, 'GET', request.url, sha256Hex(''));
    const { sha256 } = request.params;
    const entry = isSha256(sha256)
      ? await deps.store.redis.hget(deps.store.keys.resultDocuments(), sha256)
      : null;
    const content = entry ? await deps.documents.get(sha256) : null;
    if (!entry || !content) throw new GatewayError('LB_ERR_DOCUMENT_NOT_FOUND');
    const { mediaType } = JSON.parse(entry) as { mediaType: string };
    return reply.header('content-type', mediaType).header('x-content-sha256', sha256).send(content);
  });
}

function readJsonCase(request: FastifyRequest): {
  form: unknown;
  uploads: Record<string, UploadedMaterial>;
  digest: string;
} {
  if (!request.headers['content-type']?.startsWith('application/json')) {
    throw new GatewayError('LB_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE');
  }
  const body = request.body as Record<string, unknown> | null;
  const digest = (request as FastifyRequest & { contentDigest?: string }).contentDigest ?? '';
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new GatewayError('LB_ERR_CASE_INVALID', [
      problem('LB_ERR_FIELD_SCHEMA', '', '请求体应为办件 JSON 对象'),
    ]);
  }

  const { materials, ...form } = body;
  const uploads: Record<string, UploadedMaterial> = {};
  const problems: ErrorDetail[] = [];
  if (
    materials !== undefined &&
    (materials === null || typeof materials !== 'object' || Array.isArray(materials))
  ) {
    problems.push(
      problem('LB_ERR_FIELD_SCHEMA', '/materials', '应为材料键到 { mediaType, dataBase64 } 的对象'),
    );
  }
  for (const [key, value] of Object.entries((materials ?? {}) as Record<string, unknown>)) {
    const encoded = (value as { dataBase64?: unknown } | null)?.dataBase64;
    if (typeof encoded !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
      problems.push(problem('LB_ERR_MATERIAL_BASE64', `/materials/${key}/dataBase64`));
      continue;
    }
    uploads[key] = {
      content: Buffer.from(encoded, 'base64'),
      declaredType: String((value as { mediaType?: unknown }).mediaType),
    };
  }
  if (problems.length > 0) throw new GatewayError('LB_ERR_CASE_INVALID', problems);
  return { form, uploads, digest };
}

async function readMultipart(
  request: FastifyRequest,
): Promise<{ form: unknown; uploads: Record<string, UploadedMaterial>; digest: string }> {
  let caseJson: string | undefined;
  const files: Record<string, Buffer> = {};
  const declared: Record<string, string> = {};
  const problems: ErrorDetail[] = [];

  for await (const part of request.parts()) {
    if (part.type === 'field') {
      if (part.fieldname === 'case') caseJson = String(part.value);
      else problems.push(problem('LB_ERR_MULTIPART_PART_UNKNOWN', `/${part.fieldname}`, part.fieldname));
      continue;
    }
    // The client's file name is ignored: documents are stored under their content hash.
    files[part.fieldname] = await part.toBuffer();
    declared[part.fieldname] = part.mimetype;
  }

  if (caseJson === undefined) problems.push(problem('LB_ERR_MULTIPART_CASE_MISSING', '/case'));
  let form: unknown;
  if (caseJson !== undefined) {
    try {
      form = JSON.parse(caseJson);
    } catch {
      throw new GatewayError('LB_ERR_REQUEST_INVALID_JSON');
    }
  }
  if (problems.length > 0) throw new GatewayError('LB_ERR_CASE_INVALID', problems);

  const uploads: Record<string, UploadedMaterial> = {};
  for (const [name, content] of Object.entries(files))
    uploads[name] = { content, declaredType: declared[name] };
  return { form, uploads, digest: multipartDigest(caseJson ?? '', files) };
}

async function registerCallbackRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  // Departments send JSON, SOAP or GBK XML: each adapter reads the raw bytes itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post<{ Params: { department: string } }>('/v1/callbacks/:department', async (request, reply) => {
    const { department } = request.params;
    const adapter = deps.adapters.get(department);
    if (!adapter?.parseCallback) throw new GatewayError('LB_ERR_CALLBACK_DEPARTMENT_UNKNOWN');

    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const outcomes = parseCallback(adapter, department, request, body, deps);
    await storeCallback(department, outcomes, body, deps);

    deps.metrics.callbacks.inc({ department, outcome: 'accepted' });
    const ack = adapter.acknowledgeCallback?.() ?? {
      contentType: 'application/json',
      body: '{"received":true}',
    };
    return reply.status(200).header('content-type', ack.contentType).send(ack.body);
  });
}

function parseCallback(
  adapter: DepartmentAdapter,
  department: string,
  request: FastifyRequest,
  body: Buffer,
  deps: ApiDeps,
): ReturnType<NonNullable<DepartmentAdapter['parseCallback']>> {
  try {
    return adapter.parseCallback?.({ headers: request.headers, body }) ?? [];
  } catch (error) {
    const outcome = error instanceof CallbackAuthError ? 'unauthorized' : 'invalid';
    deps.metrics.callbacks.inc({ department, outcome });
    request.log.warn(
      { department, err: { name: (error as Error).name, message: (error as Error).message } },
      'callback refused',
    );
    if (error instanceof CallbackAuthError) throw new GatewayError('LB_ERR_CALLBACK_UNAUTHORIZED');
    if (error instanceof CallbackFormatError) {
      throw new GatewayError('LB_ERR_CALLBACK_INVALID', [
        { code: 'LB_ERR_CALLBACK_INVALID', pointer: '', message: error.message },
      ]);
    }
    throw error;
  }
}

/**
 * Checks every report first, then stores the raw body (encrypted, for the audit trail),
 * the documents and the parsed reports, and queues their application. A callback that
 * touches another department's item is refused whole.
 */
async function storeCallback(
  department: string,
  outcomes: NonNullable<ReturnType<NonNullable<DepartmentAdapter['parseCallback']>>>,
  body: Buffer,
  deps: ApiDeps,
): Promise<void> {
  for (const outcome of outcomes) {
    try {
      await deps.applier.checkOwnership(department, outcome.reference);
    } catch (error) {
      if (!(error instanceof ForeignItemError)) throw error;
      deps.metrics.callbacks.inc({ department, outcome: 'foreign' });
      deps.logger.warn(
        { department, err: { message: error.message } },
        'callback refused: item of another department',
      );
      throw new GatewayError('LB_ERR_CALLBACK_FORBIDDEN');
    }
  }

  for (const outcome of outcomes) {
    const { caseId } = parseReference(outcome.reference) as { caseId: string };
    await deps.store.redis.rpush(
      deps.store.keys.rawCallbacks(caseId),
      deps.cipher.encrypt(body).toString('base64'),
    );
    const documents = await deps.applier.storeDocuments(outcome.documents);
    const stored: StoredOutcome = { ...outcome, documents };
    const eventDigest = sha256Hex(`${department}:${outcome.eventId}`).slice(0, 32);
    const outcomeKey = `${deps.store.keys.prefix}:outcome:${department}:${eventDigest}`;
    await deps.store.redis.set(outcomeKey, JSON.stringify(stored), 'EX', OUTCOME_TTL_SECONDS, 'NX');
    await deps.queues.enqueueCallback(
      { caseId, department, outcomeKey },
      `callback.${department}.${eventDigest}`,
    );
  }
}

function registerOperationsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/health/live', async () => ({ status: 'ok' }));

  app.get('/health/ready', async (_request, reply: FastifyReply) => {
    try {
      await deps.store.redis.ping();
      return { status: 'ready' };
    } catch {
      return reply.status(503).send(new GatewayError('LB_ERR_SERVICE_UNAVAILABLE').toBody());
    }
  });

  app.get('/metrics', async (_request, reply) => {
    for (const queue of deps.queues.all()) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      for (const [state, count] of Object.entries(counts))
        deps.metrics.queueJobs.set({ queue: queue.name, state }, count);
    }
    return reply
      .header('content-type', deps.metrics.registry.contentType)
      .send(await deps.metrics.registry.metrics());
  });
}
