import type { PasswordHasher } from '../auth/password-hasher.js'
import { assertAcceptablePassword } from '../auth/password-policy.js'
import { ADMIN_ROLE, USER_ROLE } from '../auth/permissions.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import { AppError, validationError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import { uuidv7 } from '../lib/uuid.js'
import type { Repositories } from '../repositories/repositories.js'
import type { UserRecord } from '../repositories/user.repository.js'
import type { AuditService } from './audit.service.js'
import { normalizePassword, requireEmail } from './auth.service.js'
import type { AuthStateService } from './auth-state.service.js'
import { keepOneAdmin } from './last-admin.js'
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

/** Administrators managing other accounts. Every change is audited in its own transaction. */
export function createUserAdminService(deps: {
  uow: UnitOfWork<Repositories>
  hasher: PasswordHasher
  authState: AuthStateService
  audit: AuditService
  clock: Clock
}) {
  const { uow, hasher, authState, audit, clock } = deps

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
      limit?: number
      cursor?: string
    }): Promise<UserPage> {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), MAX_PAGE)
      const items = await uow.read.users.list({
        q: query.q?.trim() || undefined,
        role: query.role,
        is_active: query.is_active,
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

    async update(
      actor: Principal,
      id: string,
      patch: { full_name?: string | null; is_active?: boolean; email_verified?: boolean },
      ctx: RequestContext,
    ): Promise<UserRecord> {
      return uow.run(async (repos, tx) => {
        const fields = Object.keys(patch).filter((key) => patch[key as keyof typeof patch] !== undefined)
        const deactivating = patch.is_active === false
        const target = await repos.users.getById(id)
        // Only taking an administrator out of service can break the at-least-one-admin rule.
        const demotes = deactivating && target.roles.includes(ADMIN_ROLE)
        if (demotes) await repos.roles.lockAdminInvariant()
        await repos.users.update(
          id,
          {
            ...patch,
            full_name: patch.full_name === undefined ? undefined : patch.full_name?.trim() || null,
          },
          clock.now(),
        )
        if (deactivating) await authState.endUserSessions(repos, tx, id, 'user_deactivated')
        else await authState.invalidate(tx, { userIds: [id] })
        if (demotes) await keepOneAdmin(repos)
        await audit.record(repos, tx, ctx, {
          action: 'user.updated',
          actorId: actor.userId,
          targetType: 'user',
          targetId: id,
          metadata: { fields },
        })
        return repos.users.getById(id)
      })
    },

    /** Removes the account and its sessions; audit entries naming it stay. */
    async delete(actor: Principal, id: string, ctx: RequestContext): Promise<void> {
      await uow.run(async (repos, tx) => {
        const target = await repos.users.getById(id)
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
      return uow.run(async (repos, tx) => {
        const wanted = await requireRoles(repos, roles)
        await repos.roles.lockAdminInvariant()
        const before = await repos.users.getById(id)
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
  }
}

export type UserAdminService = ReturnType<typeof createUserAdminService>
