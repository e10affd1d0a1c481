/** Routes the platform calls: case intake, case status and document download. */

import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sha256Hex } from '../adapters-kit/signing.ts';
import type { UploadedMaterial } from '../intake/validate.ts';
import { problem } from '../intake/problems.ts';
import { isSha256 } from '../store/documents.ts';
import { multipartDigest } from './auth.ts';
import { GatewayError, type ErrorDetail } from './errors.ts';
import type { ApiDeps } from './server.ts';

const MAX_CASE_JSON_BYTES = 1024 * 1024;

export async function registerPlatformRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
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
