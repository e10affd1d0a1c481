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

/** Limit of the case JSON itself (the multipart `case` part, or a JSON body without its materials). */
export const MAX_CASE_JSON_BYTES = 1024 * 1024;

/** Without an explicit limit, the materials of one case may add up to this many files of the maximum size. */
const DEFAULT_CASE_UPLOAD_IN_FILES = 4;

/** Multipart fields besides the `case` part are rejected as unknown, so a few are enough. */
const MAX_MULTIPART_FIELDS = 4;

interface ReadCase {
  form: unknown;
  uploads: Record<string, UploadedMaterial>;
  digest: string;
  /** Problems of the request's framing, reported together with the form's problems. */
  problems: ErrorDetail[];
  /** False when the request has no case JSON, so only its framing problems can be reported. */
  hasForm: boolean;
}

export interface UploadLimits {
  /** Limit of one uploaded file, in bytes. */
  fileBytes: number;
  /** Limit of all files of one case together, in bytes. */
  caseBytes: number;
  files: number;
}

export function uploadLimits(
  deps: Pick<ApiDeps, 'maxUploadBytes' | 'maxFiles' | 'maxCaseUploadBytes'>,
): UploadLimits {
  return {
    fileBytes: deps.maxUploadBytes,
    caseBytes: deps.maxCaseUploadBytes ?? deps.maxUploadBytes * DEFAULT_CASE_UPLOAD_IN_FILES,
    files: deps.maxFiles ?? 20,
  };
}

/** Limit of a JSON body: the case JSON plus all materials in base64 (4 characters per 3 bytes). */
export function jsonBodyLimitBytes(limits: UploadLimits): number {
  return MAX_CASE_JSON_BYTES + Math.ceil(limits.caseBytes / 3) * 4 + 64 * 1024;
}

export async function registerPlatformRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const limits = uploadLimits(deps);
  registerJsonParser(app, limits);
  await app.register(multipart, {
    limits: {
      fileSize: limits.fileBytes,
      files: limits.files,
      fields: MAX_MULTIPART_FIELDS,
      fieldSize: MAX_CASE_JSON_BYTES,
      parts: limits.files + MAX_MULTIPART_FIELDS,
    },
    // A file over the limit fails the request instead of arriving cut off.
    throwFileSizeLimit: true,
  });

  app.post('/v1/cases', async (request, reply) => {
    const stopTimer = deps.metrics.intakeSeconds.startTimer();
    let platformCaseId: unknown;
    try {
      const read = request.isMultipart()
        ? await readMultipart(request, limits)
        : readJsonCase(request, limits);
      await deps.auth.verify(request.headers, 'POST', '/v1/cases', read.digest);
      platformCaseId = (read.form as { platformCaseId?: unknown } | null)?.platformCaseId;
      if (!read.hasForm) throw new GatewayError('LB_ERR_CASE_INVALID', read.problems);
      const result = await deps.intake.submit(read.form, read.uploads, read.problems);
      deps.metrics.intakeRequests.inc({ outcome: result.duplicate ? 'duplicate' : 'accepted' });
      return reply.status(result.httpStatus).send(result.answer);
    } catch (error) {
      const outcome = error instanceof GatewayError && error.status === 422 ? 'invalid' : 'rejected';
      deps.metrics.intakeRequests.inc({ outcome });
      if (outcome === 'invalid') {
        // Codes and pointers only: the messages never carry values, but the pointers tell an SRE why.
        const problems = (error as GatewayError).details.map((detail) => `${detail.code} ${detail.pointer}`);
        const id = typeof platformCaseId === 'string' ? platformCaseId.slice(0, 64) : undefined;
        request.log.info({ platformCaseId: id, problems }, 'case rejected at intake');
      }
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
      promiseExcludes: deps.promiseExcludes,
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

/**
 * Parses JSON bodies with JSON.parse alone: no schema coercion and no removal of fields
 * touches what the platform sent, so a `null` stays `null` and intake reports it.
 */
function registerJsonParser(app: FastifyInstance, limits: UploadLimits): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: jsonBodyLimitBytes(limits) },
    (request, body, done) => {
      (request as FastifyRequest & { contentDigest?: string }).contentDigest = sha256Hex(body as Buffer);
      try {
        done(null, JSON.parse((body as Buffer).toString('utf8')));
      } catch {
        done(new GatewayError('LB_ERR_REQUEST_INVALID_JSON'), undefined);
      }
    },
  );
}

function readJsonCase(request: FastifyRequest, limits: UploadLimits): ReadCase {
  if (!request.headers['content-type']?.startsWith('application/json')) {
    throw new GatewayError('LB_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE');
  }
  const body = request.body as Record<string, unknown> | null;
  const digest = (request as FastifyRequest & { contentDigest?: string }).contentDigest ?? '';
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new GatewayError('LB_ERR_CASE_INVALID', [
      problem('LB_ERR_FIELD_TYPE', '', '请求体应为办件 JSON 对象'),
    ]);
  }

  const { materials, ...form } = body;
  const problems: ErrorDetail[] = [];
  if (
    materials !== undefined &&
    (materials === null || typeof materials !== 'object' || Array.isArray(materials))
  ) {
    problems.push(
      problem('LB_ERR_FIELD_TYPE', '/materials', '应为材料键到 { mediaType, dataBase64 } 的对象'),
    );
  }
  const uploads = decodeMaterials((materials ?? {}) as Record<string, unknown>, limits, problems);
  return { form, uploads, digest, problems, hasForm: true };
}

function decodeMaterials(
  materials: Record<string, unknown>,
  limits: UploadLimits,
  problems: ErrorDetail[],
): Record<string, UploadedMaterial> {
  const uploads: Record<string, UploadedMaterial> = {};
  let totalBytes = 0;
  for (const [key, value] of Object.entries(materials)) {
    const encoded = (value as { dataBase64?: unknown } | null)?.dataBase64;
    if (typeof encoded !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
      problems.push(problem('LB_ERR_MATERIAL_BASE64', `/materials/${key}/dataBase64`));
      continue;
    }
    const content = Buffer.from(encoded, 'base64');
    totalBytes += content.length;
    if (content.length > limits.fileBytes || totalBytes > limits.caseBytes) {
      throw new GatewayError('LB_ERR_REQUEST_TOO_LARGE');
    }
    const declared = (value as { mediaType?: unknown }).mediaType;
    uploads[key] = { content, declaredType: typeof declared === 'string' ? declared : undefined };
  }
  return uploads;
}

async function readMultipart(request: FastifyRequest, limits: UploadLimits): Promise<ReadCase> {
  let caseJson: string | undefined;
  const files: Record<string, Buffer> = {};
  const declared: Record<string, string> = {};
  const problems: ErrorDetail[] = [];
  let totalBytes = 0;

  for await (const part of request.parts()) {
    if (part.type === 'field') {
      // busboy cuts a field at fieldSize; a cut-off case JSON is a request over the limit.
      if (part.valueTruncated) throw new GatewayError('LB_ERR_REQUEST_TOO_LARGE');
      if (part.fieldname === 'case') caseJson = String(part.value);
      else problems.push(problem('LB_ERR_MULTIPART_PART_UNKNOWN', `/${escapeToken(part.fieldname)}`));
      continue;
    }
    // The client's file name is ignored: documents are stored under their content hash.
    const content = await part.toBuffer();
    if (part.fieldname === 'case') {
      if (content.length > MAX_CASE_JSON_BYTES) throw new GatewayError('LB_ERR_REQUEST_TOO_LARGE');
      caseJson = content.toString('utf8');
      continue;
    }
    totalBytes += content.length;
    if (totalBytes > limits.caseBytes) throw new GatewayError('LB_ERR_REQUEST_TOO_LARGE');
    if (files[part.fieldname]) {
      problems.push(problem('LB_ERR_MULTIPART_PART_DUPLICATE', `/materials/${escapeToken(part.fieldname)}`));
    }
    files[part.fieldname] = content;
    declared[part.fieldname] = part.mimetype;
  }

  const uploads: Record<string, UploadedMaterial> = {};
  for (const [name, content] of Object.entries(files))
    uploads[name] = { content, declaredType: declared[name] };
  if (caseJson === undefined) {
    problems.push(problem('LB_ERR_MULTIPART_CASE_MISSING', '/case'));
    return { form: undefined, uploads, digest: multipartDigest('', files), problems, hasForm: false };
  }

  let form: unknown;
  try {
    form = JSON.parse(caseJson);
  } catch {
    throw new GatewayError('LB_ERR_REQUEST_INVALID_JSON');
  }
  return { form, uploads, digest: multipartDigest(caseJson, files), problems, hasForm: true };
}

function escapeToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}
