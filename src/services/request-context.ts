/** Who is asking, from where: passed by the HTTP layer so services never see Fastify. */
export interface RequestContext {
  readonly ip: string
  readonly userAgent: string | null
  readonly requestId: string
}

import { storableHeaderText } from '../lib/storable-text.js'
import type { CachedUser } from './auth-state.service.js'

/** What an HTTP request tells about its sender (Fastify's request has these fields). */
export interface RequestOrigin {
  readonly ip: string
  readonly id: string
  readonly headers: { readonly 'user-agent'?: string | undefined }
}

/**
 * Who is asking, for sessions and the audit log, for the JSON API and the pages alike. The
 * User-Agent and the client address (taken from X-Forwarded-For behind a trusted proxy) are stored
 * as sent except for characters PostgreSQL cannot store or that have no business in them: those
 * become U+FFFD (see storableHeaderText) rather than failing the request, because a client cannot
 * be asked to correct a header.
 */
export function requestContextOf(request: RequestOrigin): RequestContext {
  const userAgent = request.headers['user-agent']
  return {
    ip: typeof request.ip === 'string' ? storableHeaderText(request.ip) : request.ip,
    // Cut before cleaning, so a surrogate pair split by the cut is cleaned too.
    userAgent: userAgent ? storableHeaderText(userAgent.slice(0, 512)) : null,
    requestId: request.id,
  }
}

/** An authenticated caller, resolved from a verified access token and live session state. */
export interface Principal {
  readonly userId: string
  readonly sessionId: string
  readonly roles: readonly string[]
  readonly tokenExpiresAt: number
  /** The caller's public record as of this request (fresh: every change invalidates it). */
  readonly profile?: CachedUser
}
