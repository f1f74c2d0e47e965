import type { PasswordHasher } from '../auth/password-hasher.js'
import { assertAcceptablePassword } from '../auth/password-policy.js'
import { ADMIN_ROLE, permissionsBeyond, USER_ROLE } from '../auth/permissions.js'
import type { TransactionContext, UnitOfWork } from '../db/unit-of-work.js'
import { AppError, validationError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import { uuidv7 } from '../lib/uuid.js'
import type { Repositories } from '../repositories/repositories.js'
import type { UserRecord } from '../repositories/user.repository.js'
import type { AuditAction, AuditService } from './audit.service.js'
import { normalizePassword, requireEmail } from './auth.service.js'
import type { AuthStateService } from './auth-state.service.js'
import { keepOneAdmin } from './last-admin.js'
import type { MfaService } from './mfa.service.js'
import type { PasskeyService } from './passkey.service.js'
import type { Principal, RequestContext } from './request-context.js'

export const MAX_PAGE = 100

export interface UserPage {
  items: UserRecord[]
  next_cursor: string | null
}

const encodeCursor = (id: string) => Buffer.from(id).toString('base64url')
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString()
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id))
    throw validationError('/query/cursor', 'is not a valid cursor')
  return id
}

type Refusal = { refused: { missing: string[]; targetIsAdmin: boolean } }

/**
 * Administrators managing other accounts. Every change is audited in its own transaction, and every
 * change to an existing account goes through `changeUser`, which refuses an actor the target outranks.
 */
export function createUserAdminService(deps: {
  uow: UnitOfWork<Repositories>
  hasher: PasswordHasher
  authState: AuthStateService
  audit: AuditService
  mfa: Pick<MfaService, 'removeFactor'>
  passkeys: Pick<PasskeyService, 'removeIn'>
  clock: Clock
}) {
  const { uow, hasher, authState, audit, mfa, passkeys, clock } = deps

  /**
   * Runs `change` on an existing account in one transaction, only if every permission the target
   * holds is also the actor's: a delegated operator cannot act on an account above them. An
   * administrator may change anyone and only an administrator may change an administrator (whose
   * power is more than today's list of permissions: it includes granting `admin`). A refusal
   * commits its audit entry, and nothing else, before throwing.
   */
  const changeUser = async <T>(
    actor: Principal,
    id: string,
    attempted: AuditAction,
    ctx: RequestContext,
    change: (repos: Repositories, tx: TransactionContext, target: UserRecord) => Promise<T>,
  ): Promise<T> => {
    const outcome = await uow.run<{ done: T } | Refusal>(async (repos, tx) => {
      await repos.users.lock(id)
      const target = await repos.users.getById(id)
      if (actor.roles.includes(ADMIN_ROLE)) return { done: await change(repos, tx, target) }
      const targetIsAdmin = target.roles.includes(ADMIN_ROLE)
      const missing = permissionsBeyond(actor.roles, target.roles, await repos.roles.grants())
      if (!targetIsAdmin && missing.length === 0) return { done: await change(repos, tx, target) }
      await audit.record(repos, tx, ctx, {
        action: 'admin.action_denied',
        actorId: actor.userId,
        targetType: 'user',
        targetId: id,
        metadata: { attempted, missing, target_is_admin: targetIsAdmin },
      })
      return { refused: { missing, targetIsAdmin } }
    })
    if ('done' in outcome) return outcome.done
    const { missing, targetIsAdmin } = outcome.refused
    throw new AppError('TARGET_OUTRANKS_ACTOR', {
      detail: targetIsAdmin
        ? 'this account is an administrator; only an administrator can change it'
        : `this account holds permissions you do not (${missing.join(', ')}); only someone holding all of them can change it`,
    })
  }

  /** A non-admin may only grant or remove roles they hold themselves: no escalation by delegation. */
  const requireMayChangeRoles = (actor: Principal, before: readonly string[], after: readonly string[]) => {
    if (actor.roles.includes(ADMIN_ROLE)) return
    const changed = [...after.filter((r) => !before.includes(r)), ...before.filter((r) => !after.includes(r))]
    const notHeld = changed.filter((r) => !actor.roles.includes(r))
    if (notHeld.length > 0) {
      throw new AppError('FORBIDDEN', {
        detail: `only an administrator can grant or remove: ${notHeld.join(', ')}`,
      })
    }
  }

  const requireRoles = async (repos: Repositories, roles: readonly string[]) => {
    const unique = [...new Set(roles)]
    const known = await repos.roles.existing(unique)
    const unknown = unique.filter((role) => !known.includes(role))
    if (unknown.length > 0) throw validationError('/roles', `unknown role(s): ${unknown.join(', ')}`)
    return unique.sort()
  }

  return {
    async list(query: {
      q?: string
      role?: string
      is_active?: boolean
      email_verified?: boolean
      mfa_enabled?: boolean
      limit?: number
      cursor?: string
    }): Promise<UserPage> {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), MAX_PAGE)
      const items = await uow.read.users.list({
        q: query.q?.trim() || undefined,
        role: query.role,
        is_active: query.is_active,
        email_verified: query.email_verified,
        mfa_enabled: query.mfa_enabled,
        after_id: query.cursor ? decodeCursor(query.cursor) : undefined,
        limit: limit + 1,
      })
      const more = items.length > limit
      const page = more ? items.slice(0, limit) : items
      return { items: page, next_cursor: more ? encodeCursor(page[page.length - 1]?.id as string) : null }
    },

    async get(id: string): Promise<UserRecord> {
      return uow.read.users.getById(id)
    },

    async create(
      actor: Principal,
      input: {
        email: string
        password: string
        full_name?: string | null
        roles?: string[]
        is_active?: boolean
        email_verified?: boolean
      },
      ctx: RequestContext,
    ): Promise<UserRecord> {
      const email = requireEmail(input.email)
      await assertAcceptablePassword(normalizePassword(input.password), email)
      const passwordHash = await hasher.hash(normalizePassword(input.password))
      const now = clock.now()
      return uow.run(async (repos, tx) => {
        const roles = await requireRoles(repos, input.roles ?? [USER_ROLE])
        requireMayChangeRoles(actor, [], roles)
        const id = uuidv7()
        await repos.users.insert({
          id,
          email,
          full_name: input.full_name?.trim() || null,
          password_hash: passwordHash,
          is_active: input.is_active ?? true,
          email_verified: input.email_verified ?? false,
          created_at: now,
          updated_at: now,
          password_changed_at: now,
        })
        await repos.roles.setUserRoles(id, roles)
        const user = await repos.users.getById(id)
        await audit.record(repos, tx, ctx, {
          action: 'user.created',
          actorId: actor.userId,
          targetType: 'user',
          targetId: id,
          metadata: { roles },
        })
        return user
      })
    },

    /**
     * A new `email` is unverified unless `email_verified: true` comes with it; links sent to the
     * old address (verification, reset, pending changes) die with it. Taken → EMAIL_TAKEN.
     */
    async update(
      actor: Principal,
      id: string,
      patch: { email?: string; full_name?: string | null; is_active?: boolean; email_verified?: boolean },
      ctx: RequestContext,
    ): Promise<UserRecord> {
      const email = patch.email === undefined ? undefined : requireEmail(patch.email)
      return changeUser(actor, id, 'user.updated', ctx, async (repos, tx, target) => {
        const fields = Object.keys(patch).filter((key) => patch[key as keyof typeof patch] !== undefined)
        const deactivating = patch.is_active === false
        // Only taking an administrator out of service can break the at-least-one-admin rule.
        const demotes = deactivating && target.roles.includes(ADMIN_ROLE)
        if (demotes) await repos.roles.lockAdminInvariant()
        const now = clock.now()
        const emailChange =
          email !== undefined && email !== target.email.toLowerCase()
            ? { from: target.email, to: email }
            : undefined
        if (emailChange) {
          const owner = await repos.userEmails.findOwner(emailChange.to)
          if (owner !== undefined && owner !== id) throw new AppError('EMAIL_TAKEN')
          await repos.userEmails.setEmail(id, emailChange.to, patch.email_verified ?? false, now)
          for (const purpose of ['email_verification', 'password_reset', 'email_change'] as const)
            await repos.emailTokens.invalidate(id, purpose, now)
        }
        await repos.users.update(
          id,
          {
            is_active: patch.is_active,
            email_verified: emailChange ? undefined : patch.email_verified,
            full_name: patch.full_name === undefined ? undefined : patch.full_name?.trim() || null,
          },
          now,
        )
        if (deactivating) await authState.endUserSessions(repos, tx, id, 'user_deactivated')
        else await authState.invalidate(tx, { userIds: [id] })
        if (demotes) await keepOneAdmin(repos)
        await audit.record(repos, tx, ctx, {
          action: 'user.updated',
          actorId: actor.userId,
          targetType: 'user',
          targetId: id,
          metadata: { fields, ...(emailChange ? { email: emailChange } : {}) },
        })
        return repos.users.getById(id)
      })
    },

    /** Removes the account and its sessions; audit entries naming it stay. */
    async delete(actor: Principal, id: string, ctx: RequestContext): Promise<void> {
      await changeUser(actor, id, 'user.deleted', ctx, async (repos, tx, target) => {
        const wasAdmin = target.roles.includes(ADMIN_ROLE)
        if (wasAdmin) await repos.roles.lockAdminInvariant()
        await authState.endUserSessions(repos, tx, id, 'user_deleted')
        await repos.users.delete(id)
        if (wasAdmin) await keepOneAdmin(repos)
        await audit.record(repos, tx, ctx, {
          action: 'user.deleted',
          actorId: actor.userId,
          targetType: 'user',
          targetId: id,
        })
      })
    },

    /** Replaces the user's roles; takes effect on their next request. */
    async setRoles(actor: Principal, id: string, roles: string[], ctx: RequestContext): Promise<UserRecord> {
      return changeUser(actor, id, 'role.assigned', ctx, async (repos, tx, before) => {
        const wanted = await requireRoles(repos, roles)
        await repos.roles.lockAdminInvariant()
        requireMayChangeRoles(actor, before.roles, wanted)
        await repos.roles.setUserRoles(id, wanted)
        if (before.roles.includes(ADMIN_ROLE) && !wanted.includes(ADMIN_ROLE)) await keepOneAdmin(repos)
        await authState.invalidate(tx, { userIds: [id] })
        await audit.record(repos, tx, ctx, {
          action: 'role.assigned',
          actorId: actor.userId,
          targetType: 'user',
          targetId: id,
          metadata: { before: before.roles, after: wanted },
        })
        return repos.users.getById(id)
      })
    },

    /** Ends every session of the user. */
    async endSessions(actor: Principal, id: string, ctx: RequestContext): Promise<number> {
      return changeUser(actor, id, 'session.revoked', ctx, async (repos, tx) => {
        const ended = await authState.endUserSessions(repos, tx, id, 'revoked_by_admin')
        await audit.record(repos, tx, ctx, {
          action: 'session.revoked',
          actorId: actor.userId,
          targetType: 'user',
          targetId: id,
          metadata: { all: true, sessions_ended: ended },
        })
        return ended
      })
    },

    /** Removes the user's second factor (a lost device); they are told by e-mail. */
    async resetMfa(actor: Principal, id: string, ctx: RequestContext): Promise<void> {
      await changeUser(actor, id, 'mfa.disabled', ctx, async (repos, tx, user) => {
        if (!user.mfa_enabled && !(await repos.mfa.findTotp(id))) throw new AppError('MFA_NOT_ENABLED')
        await mfa.removeFactor(repos, tx, user, actor.userId, ctx)
      })
    },

    /** Removes one of an account's passkeys (a lost or suspect authenticator). */
    async removePasskey(actor: Principal, id: string, passkeyId: string, ctx: RequestContext): Promise<void> {
      await changeUser(actor, id, 'passkey.removed', ctx, (repos, tx, user) =>
        passkeys.removeIn(repos, tx, user, passkeyId, actor.userId, ctx),
      )
    },
  }
}

export type UserAdminService = ReturnType<typeof createUserAdminService>
