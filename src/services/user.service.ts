import type { PasswordHasher } from '../auth/password-hasher.js'
import { assertAcceptablePassword } from '../auth/password-policy.js'
import { ADMIN_ROLE } from '../auth/permissions.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import { AppError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import type { Repositories } from '../repositories/repositories.js'
import type { UserRecord } from '../repositories/user.repository.js'
import type { AuditService } from './audit.service.js'
import { normalizePassword } from './auth.service.js'
import type { AuthStateService, CachedUser } from './auth-state.service.js'
import { keepOneAdmin } from './last-admin.js'
import type { Principal, RequestContext } from './request-context.js'

/** The current user's own account: profile, password, deletion. */
export function createUserService(deps: {
  uow: UnitOfWork<Repositories>
  hasher: PasswordHasher
  authState: AuthStateService
  audit: AuditService
  clock: Clock
}) {
  const { uow, hasher, authState, audit, clock } = deps

  const checkPassword = async (userId: string, password: string) => {
    const credentials = await uow.read.users.findCredentialsById(userId)
    if (!credentials || !(await hasher.verify(credentials.password_hash, normalizePassword(password)))) {
      throw new AppError('INVALID_CREDENTIALS', { detail: 'the password is not correct' })
    }
  }

  return {
    /** Remembers the language a person uses the pages in: their e-mails follow it. */
    async rememberLocale(userId: string, locale: 'en' | 'es'): Promise<void> {
      await uow.read.users.setLocale(userId, locale)
    },

    async me(principal: Principal): Promise<UserRecord | CachedUser> {
      return principal.profile ?? uow.read.users.getById(principal.userId)
    },

    async updateMe(
      principal: Principal,
      patch: { full_name?: string | null },
      ctx: RequestContext,
    ): Promise<UserRecord> {
      return uow.run(async (repos, tx) => {
        if (patch.full_name !== undefined) {
          await repos.users.update(
            principal.userId,
            { full_name: patch.full_name?.trim() || null },
            clock.now(),
          )
          await authState.invalidate(tx, { userIds: [principal.userId] })
          await audit.record(repos, tx, ctx, {
            action: 'user.updated',
            actorId: principal.userId,
            targetType: 'user',
            targetId: principal.userId,
            metadata: { fields: ['full_name'] },
          })
        }
        return repos.users.getById(principal.userId)
      })
    },

    /** Changes the password and ends every other session of the user, in one transaction. */
    async changePassword(
      principal: Principal,
      input: { current_password: string; new_password: string },
      ctx: RequestContext,
    ): Promise<void> {
      await checkPassword(principal.userId, input.current_password)
      const { email } = await uow.read.users.getById(principal.userId)
      await assertAcceptablePassword(normalizePassword(input.new_password), email, '/new_password')
      const passwordHash = await hasher.hash(normalizePassword(input.new_password))
      const now = clock.now()
      await uow.run(async (repos, tx) => {
        await repos.users.updatePassword(principal.userId, passwordHash, now)
        const ended = await authState.endUserSessions(
          repos,
          tx,
          principal.userId,
          'password_changed',
          principal.sessionId,
        )
        await audit.record(repos, tx, ctx, {
          action: 'password.changed',
          actorId: principal.userId,
          targetType: 'user',
          targetId: principal.userId,
          metadata: { sessions_ended: ended },
        })
      })
    },

    /** Deletes the account after re-checking the password; its sessions go with it. */
    async deleteMe(principal: Principal, password: string, ctx: RequestContext): Promise<void> {
      await checkPassword(principal.userId, password)
      await uow.run(async (repos, tx) => {
        const isAdmin = principal.roles.includes(ADMIN_ROLE)
        if (isAdmin) await repos.roles.lockAdminInvariant()
        await authState.endUserSessions(repos, tx, principal.userId, 'user_deleted')
        await repos.users.delete(principal.userId)
        if (isAdmin) await keepOneAdmin(repos)
        await audit.record(repos, tx, ctx, {
          action: 'user.deleted',
          actorId: principal.userId,
          targetType: 'user',
          targetId: principal.userId,
        })
      })
    },
  }
}

export type UserService = ReturnType<typeof createUserService>
