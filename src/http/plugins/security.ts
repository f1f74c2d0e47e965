import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
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

  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
      },
    },
    hsts: config.publicUrl.startsWith('https://') ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    crossOriginEmbedderPolicy: false,
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
