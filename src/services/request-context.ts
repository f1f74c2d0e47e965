/** Who is asking, from where: passed by the HTTP layer so services never see Fastify. */
export interface RequestContext {
  readonly ip: string
  readonly userAgent: string | null
  readonly requestId: string
}

import type { CachedUser } from './auth-state.service.js'

/** An authenticated caller, resolved from a verified access token and live session state. */
export interface Principal {
  readonly userId: string
  readonly sessionId: string
  readonly roles: readonly string[]
  readonly tokenExpiresAt: number
  /** The caller's public record as of this request (fresh: every change invalidates it). */
  readonly profile?: CachedUser
}
