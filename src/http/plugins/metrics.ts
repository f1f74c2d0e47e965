import type { FastifyInstance } from 'fastify'
import type { Metrics } from '../../observability/metrics.js'

/** Counts every request by route template (never the raw URL) and serves /metrics unless it has its own port. */
export function registerMetrics(app: FastifyInstance, metrics: Metrics, serveRoute: boolean): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    )
  })
  if (serveRoute) {
    app.get('/metrics', { schema: { hide: true }, config: { rateLimit: false } }, async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    )
  }
}
