import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Permission } from '../../auth/permissions.js'
import { AppError } from '../../errors/app-error.js'
import type { AuthService } from '../../services/auth.service.js'
import type { RbacService } from '../../services/rbac.service.js'
import { type Principal, type RequestContext, requestContextOf } from '../../services/request-context.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs a valid bearer token. */
    auth?: boolean
    /** The route needs a valid bearer token whose roles grant this permission (403 otherwise). */
    permission?: Permission
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)[ ]*$/i

/**
 * Resolves `Authorization: Bearer …` for every route whose config says `auth: true` or names a
 * `permission`, and checks that permission: the one place routes declare what they need.
 */
export function registerAuthenticate(app: FastifyInstance, auth: AuthService, rbac: RbacService): void {
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (request, reply) => {
    const { auth: needsAuth, permission } = request.routeOptions.config
    if (!needsAuth && !permission) return
    const header = request.headers.authorization
    if (!header) {
      reply.header('www-authenticate', 'Bearer realm="kitsune"')
      throw new AppError('UNAUTHENTICATED', { detail: 'a bearer access token is required' })
    }
    const token = BEARER.exec(header)?.[1]
    if (!token)
      throw new AppError('INVALID_TOKEN', { detail: 'the Authorization header must be "Bearer <token>"' })
    request.principal = await auth.authenticate(token)
    if (permission) await rbac.require(request.principal, permission)
  })
}

/** The principal of a route declared with `auth: true`. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('UNAUTHENTICATED')
  return request.principal
}

/** Who is asking, for sessions and the audit log (see requestContextOf). */
export const contextOf: (request: FastifyRequest) => RequestContext = requestContextOf
