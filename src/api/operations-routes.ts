/** Health and metrics routes for operators and orchestrators. */

import type { FastifyInstance, FastifyReply } from 'fastify';
import { GatewayError } from './errors.ts';
import type { ApiDeps } from './server.ts';

export function registerOperationsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/health/live', async () => ({ status: 'ok' }));

  app.get('/health/ready', async (_request, reply: FastifyReply) => {
    try {
      await deps.store.redis.ping();
      return { status: 'ready', ...deps.calendarReadiness?.() };
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
