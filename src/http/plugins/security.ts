import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../../config/config.schema.js'
import { parseStrictJson, StrictJsonError } from '../../lib/strict-json.js'

const EXPOSED_HEADERS = [
  'x-request-id',
  'retry-after',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
]

/**
 * The protective headers of every response: helmet 8's defaults with a CSP that allows nothing (API
 * responses are JSON, never rendered), no referrer, framing denied, HSTS only behind an https
 * PUBLIC_URL (over plain http a browser ignores it and a local setup would be pinned to https).
 */
export function securityHeaders(config: Pick<Config, 'publicUrl'>): Readonly<Record<string, string>> {
  return Object.freeze({
    'content-security-policy': "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'",
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    ...(config.publicUrl.startsWith('https://')
      ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' }
      : {}),
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'DENY',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
  })
}

/**
 * CORS for the configured exact origins only (credentials included, for those origins alone),
 * security headers with a CSP that allows nothing for API responses, and a strict JSON parser.
 */
export async function registerSecurity(app: FastifyInstance, config: Config): Promise<void> {
  const allowed = new Set(config.corsOrigins)
  await app.register(cors, {
    // An origin not on the list gets no CORS headers at all, so a browser refuses the response.
    origin: (origin, callback) =>
      callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
    hook: 'onRequest',
  })

  // Set once per response from a table built at start (a helmet middleware rebuilt per request cost
  // as much as the rest of a /health/live answer). The documentation pages and the /ui pages
  // (web/web.plugin.ts) replace the CSP with their own.
  const headers = securityHeaders(config)
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })

  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      // An empty body with a JSON content type (some clients send one on POST /logout) is no body.
      const bytes = body as Buffer
      done(null, bytes.length === 0 ? undefined : parseStrictJson(bytes))
    } catch (error) {
      const message = error instanceof StrictJsonError ? error.message : 'the body is not valid JSON'
      done(
        Object.assign(new Error(message), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }),
        undefined,
      )
    }
  })
}
