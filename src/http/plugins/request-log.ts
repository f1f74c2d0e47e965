import type { FastifyInstance } from 'fastify'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Accepts a well-formed incoming X-Request-Id (so a trace spans the proxy), else makes one. */
export function requestIdFrom(header: string | string[] | undefined, generate: () => string): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : generate()
}

/**
 * One JSON line per request: method, route template, status, duration, request and user ids. The
 * template, never the URL: page links carry single-use tokens in their query string
 * (`/ui/reset-password?token=…`), which must not reach a log line.
 */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status,
      duration_ms: Math.round(reply.elapsedTime * 100) / 100,
      user_id: request.principal?.userId,
    }
    if (status >= 500) request.log.error(line, 'request')
    else request.log.info(line, 'request')
  })
}
