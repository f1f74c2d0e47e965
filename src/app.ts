import { randomUUID } from 'node:crypto'
import { isIP } from 'node:net'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { KitsuneApp } from './http/app-types.js'
import { registerAuthenticate } from './http/plugins/authenticate.js'
import { clientErrorHandler } from './http/plugins/client-error.js'
import { handleError, registerErrorHandler } from './http/plugins/error-handler.js'
import { registerMetrics } from './http/plugins/metrics.js'
import { registerOpenApi } from './http/plugins/openapi.js'
import { registerRateLimits } from './http/plugins/rate-limit.js'
import { registerRequestLog, requestIdFrom } from './http/plugins/request-log.js'
import { registerSecurity, securityHeaders } from './http/plugins/security.js'
import { buildCachedSerializer } from './http/plugins/serialization.js'
import { createValidatorCompiler } from './http/plugins/validation.js'
import { adminAuditLogRoutes } from './http/routes/admin/audit-log.routes.js'
import { adminClientRoutes } from './http/routes/admin/clients.routes.js'
import { adminRoleRoutes } from './http/routes/admin/roles.routes.js'
import { adminUserRoutes } from './http/routes/admin/users.routes.js'
import { adminWebhookRoutes } from './http/routes/admin/webhooks.routes.js'
import { authRoutes } from './http/routes/auth.routes.js'
import { healthRoutes } from './http/routes/health.routes.js'
import { jwksRoutes } from './http/routes/jwks.routes.js'
import { meRoutes } from './http/routes/me.routes.js'
import { myPasskeyRoutes, passkeyAuthRoutes } from './http/routes/passkey.routes.js'
import { RolePublic } from './http/schemas/admin.schemas.js'
import { MfaChallenge, OAuthError, TokenPair } from './http/schemas/auth.schemas.js'
import { Problem } from './http/schemas/common.schemas.js'
import { PasskeyPublic } from './http/schemas/passkey.schemas.js'
import { SessionList, SessionPublic, UserPublic } from './http/schemas/user.schemas.js'
import { eventSchemas } from './http/schemas/webhook.schemas.js'
import type { Kitsune } from './kitsune.js'
import { createEngineHolder, oidcEndpoints, registerBackChannelLogout } from './oidc/oidc.plugin.js'
import { cookiePolicy } from './web/csrf.js'
import { webPages } from './web/web.plugin.js'

const BODY_LIMIT_BYTES = 64 * 1024

export interface KitsuneServer {
  readonly app: FastifyInstance
  /** Stops keep-alive reuse so close() drains quickly. */
  beginShutdown(): void
}

/** Builds the HTTP application around a composed Kitsune. Plugins first, then routes, in order. */
export async function buildApp(kitsune: Kitsune): Promise<KitsuneServer> {
  const { config } = kitsune
  const protectiveHeaders = securityHeaders(config)
  const app = Fastify({
    loggerInstance: kitsune.logger as FastifyBaseLogger,
    // One line per request comes from request-log.ts, with the fields operators filter on.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: (request) => requestIdFrom(request.headers['x-request-id'], randomUUID),
    // Fastify also takes a hop count here, which its types do not list.
    trustProxy: config.trustProxy as boolean | string[],
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // A path the router cannot decode (`/users/%FF`) or with an over-long parameter is refused
    // before routing, so before any hook, by default with Fastify's own JSON body: answer it as a
    // problem like every other error, with the headers the hooks would have added.
    frameworkErrors: (error, request, reply) => {
      reply.headers(protectiveHeaders).header('x-request-id', request.id).header('cache-control', 'no-store')
      handleError(error, request, reply)
    },
    clientErrorHandler,
    schemaController: { compilersFactory: { buildSerializer: buildCachedSerializer } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(createValidatorCompiler())
  registerErrorHandler(app)

  // Bodies are JSON; Fastify's built-in text parser would let a text/plain body reach validation.
  app.removeContentTypeParser('text/plain')
  // Only the OAuth2 token endpoint takes a form body (RFC 6749); everything else is JSON.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (request, body, done) => {
      if (request.routeOptions.url !== '/api/v1/auth/token') {
        done(
          Object.assign(new Error('Unsupported Media Type: application/x-www-form-urlencoded'), {
            statusCode: 415,
            code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
          }),
        )
        return
      }
      done(null, Object.fromEntries(new URLSearchParams(body as string)))
    },
  )

  for (const schema of [
    Problem,
    OAuthError,
    UserPublic,
    TokenPair,
    SessionPublic,
    SessionList,
    RolePublic,
    MfaChallenge,
    PasskeyPublic,
    ...eventSchemas,
  ])
    app.addSchema(schema)

  let shuttingDown = false
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
    if (shuttingDown) reply.header('connection', 'close')
    return payload
  })
  registerRequestLog(app)
  await registerSecurity(app, config)
  if (kitsune.metrics) registerMetrics(app, kitsune.metrics, config.metricsPort === undefined)
  if (config.rateLimitEnabled) registerRateLimits(app, kitsune.store, config.rateLimits, kitsune.metrics)
  registerAuthenticate(app, kitsune.services.auth, kitsune.services.rbac)
  await registerOpenApi(app, config.publicUrl)

  const typed = app as unknown as KitsuneApp
  await typed.register(async (scope) => healthRoutes(scope, kitsune), { prefix: '/health' })
  await typed.register(async (scope) => jwksRoutes(scope, kitsune))
  await typed.register(async (scope) => authRoutes(scope, kitsune), { prefix: '/api/v1/auth' })
  await typed.register(async (scope) => passkeyAuthRoutes(scope, kitsune), { prefix: '/api/v1/auth/passkey' })
  await typed.register(async (scope) => meRoutes(scope, kitsune), { prefix: '/api/v1/users/me' })
  await typed.register(async (scope) => myPasskeyRoutes(scope, kitsune), {
    prefix: '/api/v1/users/me/passkeys',
  })
  await typed.register(async (scope) => adminUserRoutes(scope, kitsune), { prefix: '/api/v1/admin/users' })
  await typed.register(async (scope) => adminRoleRoutes(scope, kitsune), { prefix: '/api/v1/admin/roles' })
  await typed.register(async (scope) => adminAuditLogRoutes(scope, kitsune), {
    prefix: '/api/v1/admin/audit-logs',
  })
  // The OpenID Provider in use, built on first use (the admin API issues its initial access tokens).
  const cookies = cookiePolicy(config.publicUrl)
  if (cookies.warning) kitsune.logger.warn({ public_url: config.publicUrl }, cookies.warning)
  if (isIP(config.webauthn.rpId) !== 0)
    kitsune.logger.warn(
      { webauthn_rp_id: config.webauthn.rpId },
      'passkeys cannot work: browsers refuse WebAuthn on an IP address; set PUBLIC_URL (or WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS) to a host name',
    )
  const engine = createEngineHolder(kitsune, cookies)
  await typed.register(async (scope) => adminClientRoutes(scope, kitsune, engine), {
    prefix: '/api/v1/admin/clients',
  })
  await typed.register(async (scope) => adminWebhookRoutes(scope, kitsune), {
    prefix: '/api/v1/admin/webhooks',
  })

  // The OpenID Provider (its own scope: the engine reads request bodies itself), then the pages
  // people see, in their own scope: HTML errors, page CSP, form bodies, CSRF.
  registerBackChannelLogout(kitsune, engine)
  await app.register(async (scope) => oidcEndpoints(scope, kitsune, engine))
  await app.register(async (scope) => webPages(scope, kitsune, engine, cookies), { prefix: '/ui' })

  await app.ready()
  return {
    app,
    beginShutdown() {
      shuttingDown = true
    },
  }
}
