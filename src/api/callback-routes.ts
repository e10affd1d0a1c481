/** The route departments post results to; each adapter verifies and parses its own format. */

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CallbackAuthError, CallbackFormatError } from '../adapters-kit/errors.ts';
import { sha256Hex } from '../adapters-kit/signing.ts';
import type { DepartmentAdapter } from '../adapters-kit/types.ts';
import { ForeignItemError, parseReference, type StoredOutcome } from '../orchestration/outcomes.ts';
import { GatewayError } from './errors.ts';
import type { ApiDeps } from './server.ts';

const OUTCOME_TTL_SECONDS = 30 * 24 * 3600;

export async function registerCallbackRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
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
