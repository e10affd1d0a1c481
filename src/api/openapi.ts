/**
 * The OpenAPI 3.1 description of the platform interface, built at start from the same
 * contracts the gateway validates with: the case JSON Schema of the bundle, the error
 * registry and the item states. Served at GET /docs/openapi.json, with a plain HTML page
 * at GET /docs that needs no assets from elsewhere.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { CONTRACTS_DIR, loadBundle, type Bundle } from '../bundle/bundle.ts';
import { PROBLEMS, WARNINGS } from '../intake/problems.ts';
import { ITEM_STATES } from '../store/records.ts';
import { HEADERS } from './auth.ts';
import { ERRORS } from './errors.ts';
import { MAX_CASE_JSON_BYTES } from './platform-routes.ts';

type JsonObject = Record<string, unknown>;

export interface RouteRecord {
  method: string;
  url: string;
}

const routeTables = new WeakMap<FastifyInstance, RouteRecord[]>();

/** Records every route registered on `app` from now on, for the check of the spec against the server. */
export function trackRoutes(app: FastifyInstance): void {
  const routes: RouteRecord[] = [];
  routeTables.set(app, routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method: String(method).toUpperCase(), url: route.url });
  });
}

/** Routes recorded by trackRoutes, or an empty list for an app that does not track them. */
export function registeredRoutes(app: FastifyInstance): readonly RouteRecord[] {
  return routeTables.get(app) ?? [];
}

export function registerDocsRoutes(app: FastifyInstance, bundle: Bundle = loadBundle()): void {
  const document = buildOpenApiDocument(bundle);
  const page = renderDocsPage(document);
  app.get('/docs/openapi.json', async (_request, reply) => reply.type('application/json').send(document));
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
}

export function buildOpenApiDocument(bundle: Bundle): JsonObject {
  const caseSchema = JSON.parse(
    readFileSync(join(CONTRACTS_DIR, bundle.key, 'case.schema.json'), 'utf8'),
  ) as JsonObject;
  const { schemas: caseSchemas, root } = splitCaseSchema(caseSchema);

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: `Lianban gateway: platform interface (${bundle.definition.name})`,
      version: bundle.definition.version,
      description:
        'Case intake, case status and document download for the 渝快办 platform. Requests are signed with ' +
        'HMAC-SHA256 over METHOD, PATH, TIMESTAMP, NONCE and the content digest (see the security schemes). ' +
        'Every error answer is an ErrorBody; a 422 lists every problem of the case at once.',
    },
    components: {
      schemas: {
        ...caseSchemas,
        Case: root,
        MultipartCase: multipartCaseSchema(caseSchema),
        CaseAccepted: caseAcceptedSchema(),
        CaseStatus: caseStatusSchema(),
        ErrorDetail: errorDetailSchema(),
        ErrorBody: errorBodySchema(),
      },
      securitySchemes: securitySchemes(),
      responses: errorResponses(),
    },
    security: [Object.fromEntries(Object.keys(securitySchemes()).map((name) => [name, []]))],
    paths: paths(),
  };
}

/** Moves the schema's `$defs` into components, rewriting `#/$defs/x` to `#/components/schemas/CaseX`. */
function splitCaseSchema(schema: JsonObject): { schemas: JsonObject; root: JsonObject } {
  const { $defs, $schema: _dialect, $id: _id, ...root } = schema;
  const schemas: JsonObject = {};
  for (const [name, definition] of Object.entries(($defs ?? {}) as JsonObject)) {
    schemas[componentName(name)] = rewriteRefs(definition);
  }
  return { schemas, root: rewriteRefs(root) as JsonObject };
}

function componentName(definition: string): string {
  return `Case${definition.charAt(0).toUpperCase()}${definition.slice(1)}`;
}

function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(node as JsonObject)) {
    copy[key] =
      key === '$ref' && typeof value === 'string' && value.startsWith('#/$defs/')
        ? `#/components/schemas/${componentName(value.slice('#/$defs/'.length))}`
        : rewriteRefs(value);
  }
  return copy;
}

/** Describes the multipart form: the case JSON in a `case` part and one file part per material key. */
function multipartCaseSchema(caseSchema: JsonObject): JsonObject {
  const materials = ((caseSchema.properties as JsonObject).materials as { properties: JsonObject })
    .properties;
  const properties: JsonObject = {
    case: {
      type: 'string',
      contentMediaType: 'application/json',
      contentSchema: { $ref: '#/components/schemas/Case' },
      description: `The case JSON without materials, at most ${MAX_CASE_JSON_BYTES} bytes`,
    },
  };
  for (const [key, material] of Object.entries(materials)) {
    properties[key] = {
      type: 'string',
      contentMediaType: 'application/octet-stream',
      description: `${String((material as JsonObject).description)}. JPEG, PNG or PDF, identified by content; the file name is ignored.`,
    };
  }
  return { type: 'object', required: ['case'], properties };
}

function caseAcceptedSchema(): JsonObject {
  return {
    type: 'object',
    required: ['caseId', 'platformCaseId', 'status', 'items', 'warnings'],
    properties: {
      caseId: { type: 'string', description: 'Gateway case id, such as LB20250929-0123456789ab' },
      platformCaseId: { type: 'string', description: 'The platform case number as sent' },
      status: { type: 'string', description: 'Case status, in_progress after acceptance' },
      items: {
        type: 'array',
        items: {
          type: 'object',
          required: ['itemKey', 'status'],
          properties: { itemKey: { type: 'string' }, status: { enum: [...ITEM_STATES] } },
        },
      },
      warnings: {
        type: 'array',
        description: 'Findings that do not stop the case, such as a bank card number failing the Luhn check',
        items: { $ref: '#/components/schemas/ErrorDetail' },
      },
    },
  };
}

function caseStatusSchema(): JsonObject {
  return {
    type: 'object',
    required: ['caseId', 'platformCaseId', 'status', 'items'],
    properties: {
      caseId: { type: 'string' },
      platformCaseId: { type: 'string' },
      status: {
        type: 'string',
        description: 'in_progress, completed, partially_completed, rejected or withdrawn',
      },
      createdAt: { type: 'string', format: 'date-time' },
      promiseDueAt: { type: 'string', format: 'date-time' },
      promiseDueProvisional: { type: 'boolean' },
      promiseExcludes: {
        type: 'string',
        description: 'Time the 9-working-day promise does not count (不计入承诺时限的时间)',
      },
      flags: {
        type: 'array',
        items: { type: 'string' },
        description:
          'Facts for veterans affairs, such as check-in-late:<days> and service-registration-late:<days>',
      },
      items: {
        type: 'array',
        items: {
          type: 'object',
          required: ['itemKey', 'status', 'department'],
          properties: {
            itemKey: { type: 'string' },
            itemName: { type: 'string' },
            status: { enum: [...ITEM_STATES] },
            department: { type: 'string' },
            receiptNo: { type: 'string' },
            dueAt: { type: 'string', format: 'date-time' },
            dueProvisional: {
              type: 'boolean',
              description:
                'True while the holiday table of the due year is not loaded (Monday to Friday counted)',
            },
            dueExcludes: { type: 'string', description: 'Time the item deadline does not count' },
            deadlineWarning: { enum: ['at-risk', 'overdue'] },
            receivedAt: { type: 'string', format: 'date-time' },
            message: { type: 'string', description: 'Informational message (Chinese)' },
            reason: { type: 'string', description: 'Rejection reason (不予受理的理由)' },
            legalBasis: { type: 'string', description: 'Legal basis (依据)' },
            documents: { type: 'array', items: { type: 'object' } },
          },
        },
      },
    },
  };
}

function errorDetailSchema(): JsonObject {
  return {
    type: 'object',
    required: ['code', 'pointer', 'message'],
    properties: {
      code: { enum: [...Object.keys(PROBLEMS), ...Object.keys(WARNINGS), ...Object.keys(ERRORS)] },
      pointer: {
        type: 'string',
        description: 'JSON pointer (RFC 6901) into the case, such as /applicant/idNumber',
      },
      message: {
        type: 'string',
        description: 'Chinese message for the applicant; it names the rule, never personal data',
      },
    },
  };
}

function errorBodySchema(): JsonObject {
  return {
    type: 'object',
    required: ['code', 'message', 'details'],
    properties: {
      code: { enum: Object.keys(ERRORS) },
      message: { type: 'string', description: 'Chinese message of the answer code' },
      details: { type: 'array', items: { $ref: '#/components/schemas/ErrorDetail' } },
    },
  };
}

function securitySchemes(): JsonObject {
  const header = (name: string, description: string): JsonObject => ({
    type: 'apiKey',
    in: 'header',
    name,
    description,
  });
  return {
    appId: header(HEADERS.appId, 'Caller app id'),
    timestamp: header(HEADERS.timestamp, 'Unix seconds; requests older than five minutes are rejected'),
    nonce: header(HEADERS.nonce, 'Random value used once'),
    signature: header(
      HEADERS.signature,
      'Hex HMAC-SHA256 with the caller secret over METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nCONTENT-DIGEST',
    ),
  };
}

/** Builds one response per HTTP status of the registry, listing the codes that use it. */
function errorResponses(): JsonObject {
  const byStatus = new Map<number, string[]>();
  for (const [code, entry] of Object.entries(ERRORS)) {
    byStatus.set(entry.status, [...(byStatus.get(entry.status) ?? []), code]);
  }
  const responses: JsonObject = {};
  for (const [status, codes] of byStatus) {
    responses[`Error${status}`] = {
      description: `Error answer with code ${codes.join(', ')}`,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
    };
  }
  return responses;
}

function errorRefs(statuses: readonly number[]): JsonObject {
  return Object.fromEntries(
    statuses.map((status) => [String(status), { $ref: `#/components/responses/Error${status}` }]),
  );
}

function paths(): JsonObject {
  return {
    '/v1/cases': {
      post: {
        operationId: 'submitCase',
        summary: 'Submit a case (联办申请)',
        description:
          'The same request again (same platformCaseId, same body) returns the first answer, also while the first ' +
          'is still being stored; a different body under an accepted platformCaseId is a 409 naming the changed parts.',
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { $ref: '#/components/schemas/Case' } },
            'multipart/form-data': { schema: { $ref: '#/components/schemas/MultipartCase' } },
          },
        },
        responses: {
          '202': {
            description: 'Accepted; the item plan and any warnings',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/CaseAccepted' } } },
          },
          ...errorRefs([400, 401, 409, 413, 415, 422, 500, 503]),
        },
      },
    },
    '/v1/cases/{caseId}': {
      get: {
        operationId: 'getCase',
        summary: 'Case status and each item’s state (我的办件)',
        parameters: [{ name: 'caseId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'The case',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/CaseStatus' } } },
          },
          ...errorRefs([401, 404, 500, 503]),
        },
      },
    },
    '/v1/documents/{sha256}': {
      get: {
        operationId: 'getDocument',
        summary: 'Download a result document by its SHA-256',
        parameters: [
          {
            name: 'sha256',
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          },
        ],
        responses: {
          '200': {
            description: 'The document; its media type is in Content-Type and its hash in X-Content-SHA256',
            content: { 'application/pdf': {}, 'image/jpeg': {}, 'image/png': {} },
          },
          ...errorRefs([401, 404, 500, 503]),
        },
      },
    },
  };
}

function renderDocsPage(document: JsonObject): string {
  const info = document.info as { title: string; version: string; description: string };
  const rows: string[] = [];
  for (const [path, operations] of Object.entries(document.paths as Record<string, JsonObject>)) {
    for (const [method, operation] of Object.entries(operations)) {
      const summary = String((operation as JsonObject).summary ?? '');
      rows.push(
        `<tr><td>${method.toUpperCase()}</td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(summary)}</td></tr>`,
      );
    }
  }
  const codes = Object.entries(ERRORS).map(
    ([code, entry]) =>
      `<tr><td><code>${code}</code></td><td>${entry.status}</td><td>${escapeHtml(entry.message)}</td></tr>`,
  );
  return [
    '<!doctype html>',
    '<html lang="zh-CN"><head><meta charset="utf-8">',
    `<title>${escapeHtml(info.title)}</title></head><body>`,
    `<h1>${escapeHtml(info.title)}</h1>`,
    `<p>Version ${escapeHtml(info.version)}. ${escapeHtml(info.description)}</p>`,
    '<p>Machine-readable description: <a href="/docs/openapi.json">/docs/openapi.json</a> (OpenAPI 3.1).</p>',
    '<h2>Routes</h2><table><tr><th>Method</th><th>Path</th><th>Summary</th></tr>',
    ...rows,
    '</table><h2>Answer codes</h2><table><tr><th>Code</th><th>Status</th><th>Message</th></tr>',
    ...codes,
    '</table></body></html>',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
