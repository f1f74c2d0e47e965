import type { AccessTokens } from '../auth/access-tokens.js'
import { generateOpaqueToken, hashOpaqueToken } from '../auth/opaque-tokens.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import { AppError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import type { AuthMetrics } from '../observability/metrics.js'
import type { Repositories } from '../repositories/repositories.js'
import type { AuditService } from './audit.service.js'
import type { AuthStateService } from './auth-state.service.js'
import type { Principal, RequestContext } from './request-context.js'
import { type TokenPair, tokenPair } from './token-pair.js'

export interface SecurityLogger {
  warn(obj: object, msg: string): void
}

export interface SessionView {
  id: string
  created_at: Date
  last_used_at: Date
  expires_at: Date
  ip: string | null
  user_agent: string | null
  current: boolean
  kind: 'api' | 'browser'
  applications: Array<{ client_id: string; client_name: string }>
}

type RefreshOutcome = { reused: { sessionId: string; userId: string | undefined } }

export function createSessionService(deps: {
  uow: UnitOfWork<Repositories>
  accessTokens: AccessTokens
  authState: AuthStateService
  audit: AuditService
  clock: Clock
  logger: SecurityLogger
  metrics: AuthMetrics
}) {
  const { uow, accessTokens, authState, audit, clock, logger, metrics } = deps

  return {
    /**
     * Rotates a refresh token (RFC 9700 4.14.2): the presented token is consumed and a new pair
     * issued in one transaction. A token that was already consumed is reuse: the whole session
     * is revoked (that revocation commits) and the caller gets 401.
     */
    async refresh(refreshToken: string, ctx: RequestContext): Promise<TokenPair> {
      const tokenHash = hashOpaqueToken(refreshToken)
      const now = clock.now()
      const next = generateOpaqueToken()
      // The common case costs one statement; only a failed rotation opens a transaction.
      const rotation = await uow.read.refreshTokens.rotate({
        tokenHash,
        nextHash: next.hash,
        now,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
      })
      if (rotation.status === 'rotated') {
        const access = await accessTokens.issue({
          userId: rotation.user_id,
          sessionId: rotation.session_id,
          roles: rotation.roles,
        })
        metrics.refresh('success')
        return tokenPair(access, next.token, rotation.expires_at, now)
      }
      const outcome =
        rotation.status === 'dead_session'
          ? undefined
          : await uow.run<RefreshOutcome | undefined>(async (repos, tx) => {
              const known = await repos.refreshTokens.findByHash(tokenHash)
              if (!known?.consumed_at) return undefined
              // The owner comes from the session row: revoke() returns nothing when it had already ended.
              const owner = await repos.sessions.findById(known.session_id)
              await repos.sessions.revoke(known.session_id, 'refresh_token_reused', now)
              await authState.invalidate(tx, { sessionIds: [known.session_id] })
              await authState.endSignIns(repos, tx, [known.session_id])
              await audit.record(repos, tx, ctx, {
                action: 'token.refresh_reused',
                actorId: owner?.user_id ?? null,
                targetType: 'session',
                targetId: known.session_id,
              })
              return { reused: { sessionId: known.session_id, userId: owner?.user_id } }
            })
      metrics.refresh(outcome ? 'reused' : 'invalid')
      if (outcome) {
        logger.warn(
          {
            event: 'token.refresh_reused',
            user_id: outcome.reused.userId,
            session_id: outcome.reused.sessionId,
            ip: ctx.ip,
            request_id: ctx.requestId,
          },
          'refresh token reused: session revoked',
        )
      }
      throw new AppError('INVALID_TOKEN', { detail: 'refresh token is invalid, expired or already used' })
    },

    /** Ends the caller's session, and the session of `refreshToken` if it is also theirs. */
    async logout(principal: Principal, refreshToken: string | undefined, ctx: RequestContext): Promise<void> {
      const now = clock.now()
      await uow.run(async (repos, tx) => {
        const ended = new Set<string>([principal.sessionId])
        await repos.sessions.revoke(principal.sessionId, 'logout', now, principal.userId)
        if (refreshToken) {
          const known = await repos.refreshTokens.findByHash(hashOpaqueToken(refreshToken))
          if (known && !ended.has(known.session_id)) {
            const other = await repos.sessions.revoke(known.session_id, 'logout', now, principal.userId)
            if (other) ended.add(known.session_id)
          }
        }
        await authState.invalidate(tx, { sessionIds: [...ended] })
        await authState.endSignIns(repos, tx, [...ended])
        await audit.record(repos, tx, ctx, {
          action: 'user.logout',
          actorId: principal.userId,
          targetType: 'session',
          targetId: principal.sessionId,
          metadata: { sessions_ended: ended.size },
        })
      })
    },

    /**
     * The caller's logout-all: ends every session of their own. (An administrator ending another
     * user's sessions goes through the user-admin service, which checks that they may.)
     */
    async endAllSessions(principal: Principal, ctx: RequestContext): Promise<number> {
      const { userId } = principal
      return uow.run(async (repos, tx) => {
        const ended = await authState.endUserSessions(repos, tx, userId, 'logout_all')
        await audit.record(repos, tx, ctx, {
          action: 'user.logout',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
          metadata: { all: true, sessions_ended: ended },
        })
        return ended
      })
    },

    /** The caller's live sessions, each with the OpenID clients it signed in to. */
    async list(principal: Principal): Promise<SessionView[]> {
      const sessions = await uow.read.sessions.listLiveByUser(principal.userId, clock.now())
      const signedIn = await uow.read.oidcPayloads.clientsBySession(sessions.map((session) => session.id))
      const names = new Map(
        (
          await Promise.all(
            [...new Set(signedIn.map((row) => row.client_id))].map((id) => uow.read.oidcClients.findById(id)),
          )
        )
          .filter((client) => client !== undefined)
          .map((client) => [client.client_id, client.client_name]),
      )
      return sessions.map((session) => ({
        ...session,
        current: session.id === principal.sessionId,
        applications: signedIn
          .filter((row) => row.session_id === session.id && names.has(row.client_id))
          .map((row) => ({
            client_id: row.client_id,
            client_name: names.get(row.client_id) ?? row.client_id,
          })),
      }))
    },

    /** Ends one of the caller's own sessions; another user's session id is NOT_FOUND. */
    async revokeOwn(principal: Principal, sessionId: string, ctx: RequestContext): Promise<void> {
      await uow.run(async (repos, tx) => {
        const revoked = await repos.sessions.revoke(
          sessionId,
          'revoked_by_user',
          clock.now(),
          principal.userId,
        )
        if (!revoked) throw new AppError('NOT_FOUND', { detail: 'session not found' })
        await authState.invalidate(tx, { sessionIds: [sessionId] })
        await authState.endSignIns(repos, tx, [sessionId])
        await audit.record(repos, tx, ctx, {
          action: 'session.revoked',
          actorId: principal.userId,
          targetType: 'session',
          targetId: sessionId,
        })
      })
    },
  }
}

export type SessionService = ReturnType<typeof createSessionService>
