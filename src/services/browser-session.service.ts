import { createHmac, timingSafeEqual } from 'node:crypto'
import { deriveKey } from '../auth/secret-box.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import type { Clock } from '../lib/clock.js'
import type { Repositories } from '../repositories/repositories.js'
import type { UserRecord } from '../repositories/user.repository.js'
import type { AuditService } from './audit.service.js'
import type { AuthStateService } from './auth-state.service.js'
import type { RequestContext } from './request-context.js'

/** A live browser session, as the pages and the OpenID Provider's sign-in see it. */
export interface BrowserSession {
  readonly sessionId: string
  readonly authTime: Date
  readonly expiresAt: Date
  /** RFC 8176 methods used at sign-in: pwd, otp. */
  readonly amr: readonly string[]
  readonly user: UserRecord
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * The pages' session cookie: the Kitsune session id and an HMAC of it under a key derived from
 * SECRET_KEY. The cookie proves which session the browser holds; the session row decides whether
 * it still stands, so everything that ends a session (logout-all, password change, deactivation,
 * admin revocation) ends the browser's sign-in on its next request.
 */
export function createBrowserSessionService(deps: {
  uow: UnitOfWork<Repositories>
  authState: AuthStateService
  audit: AuditService
  clock: Clock
  secretKey: string
}) {
  const { uow, authState, audit, clock } = deps
  const key = deriveKey(deps.secretKey, 'kitsune/browser-session/v1')
  const mac = (sessionId: string) => createHmac('sha256', key).update(sessionId).digest()

  return {
    cookieValue(sessionId: string): string {
      return `${sessionId}.${mac(sessionId).toString('base64url')}`
    },

    /** The session a cookie value names, while it is live and its user active; else undefined. */
    async resolve(cookie: string | undefined): Promise<BrowserSession | undefined> {
      if (!cookie) return undefined
      const dot = cookie.indexOf('.')
      const sessionId = cookie.slice(0, dot)
      if (dot < 0 || !UUID.test(sessionId)) return undefined
      const given = Buffer.from(cookie.slice(dot + 1), 'base64url')
      const expected = mac(sessionId)
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
      const session = await uow.read.sessions.findById(sessionId)
      const now = clock.now()
      if (session?.kind !== 'browser' || session.revoked_at !== null || session.expires_at <= now)
        return undefined
      const user = await uow.read.users.findById(session.user_id)
      if (!user?.is_active) return undefined
      return {
        sessionId,
        authTime: session.auth_time ?? session.created_at,
        expiresAt: session.expires_at,
        amr: session.amr,
        user,
      }
    },

    /** Signs a browser out: ends its session and whatever it signed in to. */
    async end(session: { sessionId: string; userId: string }, ctx: RequestContext): Promise<void> {
      await uow.run(async (repos, tx) => {
        const ended = await repos.sessions.revoke(session.sessionId, 'logout', clock.now(), session.userId)
        if (!ended) return
        await authState.invalidate(tx, { sessionIds: [session.sessionId] })
        await authState.endSignIns(repos, tx, [session.sessionId])
        await audit.record(repos, tx, ctx, {
          action: 'user.logout',
          actorId: session.userId,
          targetType: 'session',
          targetId: session.sessionId,
          metadata: { browser: true },
        })
      })
    },
  }
}

export type BrowserSessionService = ReturnType<typeof createBrowserSessionService>
