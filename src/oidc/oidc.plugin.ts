import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type Provider from 'oidc-provider'
import { securityHeaders } from '../http/plugins/security.js'
import type { Kitsune } from '../kitsune.js'
import { type RequestContext, requestContextOf } from '../services/request-context.js'
import { browserSessionCookie, clearedBrowserSessionCookie } from '../web/browser-cookie.js'
import type { CookiePolicy } from '../web/csrf.js'
import { createEngine, kidsOf, OIDC_ROUTES, type OidcEngine } from './provider.js'

const CONTEXT = Symbol('kitsune.request-context')
type RawWithContext = IncomingMessage & { [CONTEXT]?: RequestContext }

/** A protocol-level CSP: forms may post to applications (form_post response mode), scripts only by hash. */
const ENGINE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'"

/** The engine in use: rebuilt when the signing keys change (a rotation here or on another instance). */
export interface OidcEngineHolder {
  provider(): Provider
}

export function createEngineHolder(kitsune: Kitsune, cookies: CookiePolicy): OidcEngineHolder {
  let engine: OidcEngine | undefined
  const build = () => {
    const built = createEngine(kitsune, cookies)
    wireEvents(built.provider, kitsune, cookies)
    return built
  }
  return {
    provider() {
      if (!engine || engine.kids !== kidsOf(kitsune.services.keys.jwks().keys)) engine = build()
      return engine.provider
    },
  }
}

/**
 * Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a Kitsune session ends by any
 * path, each client its engine session signed in to that registered a backchannel_logout_uri gets
 * a logout token for the session's `sid`. Sent after the commit; a failed delivery is logged.
 */
export function registerBackChannelLogout(kitsune: Kitsune, engine: OidcEngineHolder): void {
  const log = kitsune.logger.child({ component: 'oidc' })
  kitsune.services.authState.onSignedOut(async (ended) => {
    const provider = engine.provider()
    await Promise.all(
      ended.flatMap((session) =>
        Object.entries(session.authorizations).map(async ([clientId, { sid }]) => {
          if (!session.account_id || !sid) return
          try {
            const client = (await provider.Client.find(clientId)) as
              | (InstanceType<Provider['Client']> & {
                  backchannelLogout(sub: string, sid: string): Promise<void>
                })
              | undefined
            if (client?.backchannelLogoutUri) await client.backchannelLogout(session.account_id, sid)
          } catch (error) {
            log.warn({ err: error, client_id: clientId }, 'back-channel logout delivery failed')
          }
        }),
      ),
    )
  })
}

const contextOf = (ctx: { req: IncomingMessage }): RequestContext | undefined =>
  (ctx.req as RawWithContext)[CONTEXT]

/** Audit entries, Kitsune's side of RP-initiated logout, and logging of the engine's failures. */
function wireEvents(provider: Provider, kitsune: Kitsune, cookies: CookiePolicy): void {
  const { services, logger } = kitsune
  const log = logger.child({ component: 'oidc' })

  provider.on('authorization.success', (ctx) => {
    const accountId = ctx.oidc.session?.accountId
    const clientId = ctx.oidc.client?.clientId
    if (!accountId || !clientId) return
    services.audit
      .recordAlone(contextOf(ctx), {
        action: 'oidc.authorized',
        actorId: accountId,
        targetType: 'client',
        targetId: clientId,
        metadata: { scope: String(ctx.oidc.params?.scope ?? '') },
      })
      .catch((error) => log.error({ err: error }, 'audit of an authorization failed'))
  })
  provider.on('server_error', (_ctx, error) => log.error({ err: error }, 'openid provider error'))
  provider.on('backchannel.error', (_ctx, error, client) =>
    log.warn({ err: error, client_id: client.clientId }, 'back-channel logout delivery failed'),
  )

  provider.use(async (ctx, next) => {
    await next()
    const route = ctx.oidc?.route
    if (route === 'revocation' && ctx.status === 200) {
      const token = ctx.oidc.entities.RefreshToken ?? ctx.oidc.entities.AccessToken
      if (token) {
        await services.audit.recordAlone(contextOf(ctx), {
          action: 'oidc.token_revoked',
          actorId: 'accountId' in token && token.accountId ? String(token.accountId) : null,
          targetType: 'client',
          targetId: ctx.oidc.client?.clientId,
          metadata: { kind: token.kind },
        })
      }
    }
    // RP-initiated logout ends the Kitsune session the engine's session was signed in with.
    if (route === 'end_session_confirm' && ctx.oidc.session?.destroyed) {
      const session = ctx.oidc.session as unknown as { kitsuneSessionId?: string; accountId?: string }
      const requestContext = contextOf(ctx)
      if (session.kitsuneSessionId && session.accountId && requestContext)
        await services.browserSessions.end(
          { sessionId: session.kitsuneSessionId, userId: session.accountId },
          requestContext,
        )
      ctx.append('set-cookie', clearedBrowserSessionCookie(cookies))
    }
  })
}

/**
 * Mounts the engine: /oidc/*, discovery (OIDC and RFC 8414) and device-code entry, in a scope
 * that leaves request bodies to the engine. The engine sees PUBLIC_URL's scheme and host and the
 * client address Fastify resolved (TRUST_PROXY), whatever forwarding headers a client sent.
 */
export async function oidcEndpoints(scope: FastifyInstance, kitsune: Kitsune, engine: OidcEngineHolder) {
  const issuer = new URL(kitsune.config.publicUrl)
  const headers = { ...securityHeaders(kitsune.config), 'content-security-policy': ENGINE_CSP }

  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', (_request, _payload, done) => done(null))

  const forward = (request: FastifyRequest, reply: FastifyReply, url?: string) => {
    const raw = request.raw as RawWithContext
    raw.headers['x-forwarded-proto'] = issuer.protocol.slice(0, -1)
    raw.headers['x-forwarded-host'] = issuer.host
    raw.headers['x-forwarded-for'] = request.ip
    raw[CONTEXT] = requestContextOf(request)
    if (url) raw.url = url
    for (const [name, value] of Object.entries(headers)) reply.raw.setHeader(name, value)
    reply.raw.setHeader('x-request-id', request.id)
    reply.hijack()
    engine.provider().callback()(raw, reply.raw)
  }

  const methods = ['GET', 'POST', 'OPTIONS', 'DELETE', 'PUT']
  const hide = { schema: { hide: true } }
  scope.route({
    method: methods,
    url: '/oidc/*',
    ...hide,
    handler: (request, reply) => forward(request, reply),
  })
  scope.route({
    method: ['GET', 'POST'],
    url: OIDC_ROUTES.code_verification,
    ...hide,
    handler: (request, reply) => forward(request, reply),
  })
  scope.route({
    method: ['GET', 'POST'],
    url: `${OIDC_ROUTES.code_verification}/*`,
    ...hide,
    handler: (request, reply) => forward(request, reply),
  })
  scope.route({
    method: ['GET', 'OPTIONS'],
    url: '/.well-known/openid-configuration',
    ...hide,
    handler: (request, reply) => forward(request, reply),
  })
  // RFC 8414 metadata: the same document (the engine publishes one for both).
  scope.route({
    method: ['GET', 'OPTIONS'],
    url: '/.well-known/oauth-authorization-server',
    ...hide,
    handler: (request, reply) => forward(request, reply, '/.well-known/openid-configuration'),
  })
}

export { browserSessionCookie }
