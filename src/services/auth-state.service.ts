import type { AccessTokenClaims } from '../auth/access-tokens.js'
import type { TransactionContext, UnitOfWork } from '../db/unit-of-work.js'
import { AppError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import type { EndedEngineSession } from '../repositories/oidc-payload.repository.js'
import type { Repositories } from '../repositories/repositories.js'
import type { UserRecord } from '../repositories/user.repository.js'
import type { Store } from '../stores/store.js'
import type { Principal } from './request-context.js'

/**
 * Decides whether a verified access token still stands: its session is alive and its user is
 * active, with the user's current roles. State lives in the shared store so every instance sees a
 * revocation on the next request; the database is the source of truth on a miss.
 *
 * A writer marks the entries it is about to change "dirty" inside its transaction, before the
 * commit (if the store is down the whole change rolls back: fail closed), and writes the final
 * state after the commit. Readers only fill missing entries (set-if-absent) and never cache while
 * an entry is dirty, so stale data can never overwrite a newer revocation. An entry lost (Redis
 * restart, eviction) is re-read from the database: losing the store never resurrects a session.
 */
export interface AuthStateService {
  principalFor(claims: AccessTokenClaims): Promise<Principal>
  /**
   * Call inside a unit of work that ends sessions or changes anything of a user's public record
   * (activity, roles, profile fields; or deletes them), before it commits.
   */
  /**
   * Inside a unit of work: ends the user's live sessions (all, or all but `keep`) and invalidates
   * their cached state and the user's. Returns how many sessions ended.
   */
  endUserSessions(
    repos: Repositories,
    tx: TransactionContext,
    userId: string,
    reason: string,
    keep?: string,
  ): Promise<number>
  invalidate(
    tx: TransactionContext,
    target: { sessionIds?: readonly string[]; userIds?: readonly string[] },
  ): Promise<void>
  /**
   * Inside a unit of work that ended sessions, with their cache entries invalidated: ends what
   * they signed in to through the OpenID Provider (its sessions, the grants made from them, every
   * token of those grants), and after the commit tells the clients that asked for back-channel
   * logout. Every path that ends a session calls it (endUserSessions does).
   */
  endSignIns(repos: Repositories, tx: TransactionContext, sessionIds: readonly string[]): Promise<void>
  /** Registers who sends back-channel logout notices for engine sessions that ended. */
  onSignedOut(listener: SignedOutListener): void
}

/** Told, after the commit, about the OpenID Provider sessions that ended with Kitsune sessions. */
export type SignedOutListener = (ended: readonly EndedEngineSession[]) => Promise<void>

const SESSION_REVOKED = 'r'
const USER_GONE = 'x'
const DIRTY = 'd'

/** The public user record as cached (dates as ISO strings): also what GET /users/me returns. */
export type CachedUser = Omit<UserRecord, 'created_at' | 'updated_at'> & {
  created_at: string
  updated_at: string
}

const sessionKey = (sid: string) => `s:${sid}`
const userKey = (uid: string) => `u:${uid}`

export function createAuthStateService(deps: {
  uow: UnitOfWork<Repositories>
  store: Store
  clock: Clock
  /** Upper bound on how long an entry lives; revocation markers must outlive every access token. */
  accessTokenTtlSeconds: number
  cacheTtlSeconds?: number
}): AuthStateService {
  const { uow, store, clock, accessTokenTtlSeconds } = deps
  const cacheTtl = deps.cacheTtlSeconds ?? 300
  const markerTtl = accessTokenTtlSeconds + 60
  const signedOutListeners: SignedOutListener[] = []

  const loadSession = async (sid: string, uid: string, cacheable: boolean): Promise<string> => {
    const session = await uow.read.sessions.findById(sid)
    const now = clock.now()
    const alive =
      session && session.user_id === uid && session.revoked_at === null && session.expires_at > now
    if (!alive) {
      if (cacheable) await store.set(sessionKey(sid), SESSION_REVOKED, markerTtl, { onlyIfAbsent: true })
      return SESSION_REVOKED
    }
    // Cached as the owning user id; it expires no later than the session itself.
    const ttl = Math.min(cacheTtl, Math.floor((session.expires_at.getTime() - now.getTime()) / 1000))
    if (cacheable && ttl > 0) await store.set(sessionKey(sid), uid, ttl, { onlyIfAbsent: true })
    return uid
  }

  const readUser = async (uid: string): Promise<string> => {
    // The whole public record: GET /users/me is then answered without a database read.
    const user = await uow.read.users.findById(uid)
    return user ? JSON.stringify(user) : USER_GONE
  }

  return {
    async principalFor(claims) {
      const { sid, sub } = claims
      let [session, user] = await store.mget([sessionKey(sid), userKey(sub)])
      if (session === undefined || session === DIRTY)
        session = await loadSession(sid, sub, session === undefined)
      if (user === undefined || user === DIRTY) {
        const cacheable = user === undefined
        user = await readUser(sub)
        if (cacheable) await store.set(userKey(sub), user, cacheTtl, { onlyIfAbsent: true })
      }
      if (session !== sub || user === USER_GONE) throw new AppError('INVALID_TOKEN')
      const profile = JSON.parse(user) as CachedUser
      if (!profile.is_active) throw new AppError('INVALID_TOKEN')
      return { userId: sub, sessionId: sid, roles: profile.roles, tokenExpiresAt: claims.exp, profile }
    },
    async endUserSessions(repos, tx, userId, reason, keep) {
      const ended = await repos.sessions.revokeAllForUser(userId, reason, clock.now(), keep)
      await this.invalidate(tx, { sessionIds: ended, userIds: [userId] })
      await this.endSignIns(repos, tx, ended)
      return ended.length
    },
    async invalidate(tx, { sessionIds = [], userIds = [] }) {
      const keys = [...sessionIds.map(sessionKey), ...userIds.map(userKey)]
      await Promise.all(keys.map((key) => store.set(key, DIRTY, markerTtl)))
      tx.afterCommit(async () => {
        await Promise.all([
          ...sessionIds.map((sid) => store.set(sessionKey(sid), SESSION_REVOKED, markerTtl)),
          // Readers treat a dirty entry as a miss, so deleting it is enough if this write fails.
          ...userIds.map(async (uid) => store.set(userKey(uid), await readUser(uid), cacheTtl)),
        ])
      })
    },
    async endSignIns(repos, tx, sessionIds) {
      const ended = await repos.oidcPayloads.endForSessions(sessionIds)
      if (ended.length === 0 || signedOutListeners.length === 0) return
      tx.afterCommit(async () => {
        for (const listener of signedOutListeners) await listener(ended)
      })
    },
    onSignedOut(listener) {
      signedOutListeners.push(listener)
    },
  }
}
