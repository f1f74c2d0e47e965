import type { PasswordHasher } from '../auth/password-hasher.js'
import { assertAcceptablePassword } from '../auth/password-policy.js'
import { ADMIN_ROLE, USER_ROLE } from '../auth/permissions.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import type { Clock } from '../lib/clock.js'
import { uuidv7 } from '../lib/uuid.js'
import type { Repositories } from '../repositories/repositories.js'
import type { AuditService } from './audit.service.js'
import { normalizePassword, requireEmail } from './auth.service.js'
import type { AuthStateService } from './auth-state.service.js'

export type EnsureAdminResult = 'created' | 'promoted' | 'unchanged'

/**
 * Makes sure an administrator account exists (ADMIN_EMAIL/ADMIN_PASSWORD at start, or
 * `kitsune users create-admin`). Idempotent, and safe when instances start together: the work
 * runs under the same lock as every change to the admin set. An existing account keeps its
 * password; it only gains the admin role.
 */
export function createBootstrapService(deps: {
  uow: UnitOfWork<Repositories>
  hasher: PasswordHasher
  authState: AuthStateService
  audit: AuditService
  clock: Clock
}) {
  const { uow, hasher, authState, audit, clock } = deps
  return {
    async ensureAdmin(
      rawEmail: string,
      password: string,
    ): Promise<{ result: EnsureAdminResult; userId: string }> {
      const email = requireEmail(rawEmail)
      const existing = await uow.read.users.findCredentialsByEmail(email)
      if (!existing) await assertAcceptablePassword(normalizePassword(password), email)
      const passwordHash = existing ? undefined : await hasher.hash(normalizePassword(password))
      return uow.run(async (repos, tx) => {
        await repos.roles.lockAdminInvariant()
        const found = await repos.users.findCredentialsByEmail(email)
        if (found) {
          const user = await repos.users.getById(found.id)
          if (user.roles.includes(ADMIN_ROLE)) return { result: 'unchanged' as const, userId: found.id }
          await repos.users.addRole(found.id, ADMIN_ROLE)
          await authState.invalidate(tx, { userIds: [found.id] })
          await audit.record(repos, tx, undefined, {
            action: 'role.assigned',
            actorId: null,
            targetType: 'user',
            targetId: found.id,
            metadata: { before: user.roles, after: [...user.roles, ADMIN_ROLE].sort(), bootstrap: true },
          })
          return { result: 'promoted' as const, userId: found.id }
        }
        const id = uuidv7()
        const now = clock.now()
        await repos.users.insert({
          id,
          email,
          full_name: null,
          password_hash: passwordHash ?? (await hasher.hash(normalizePassword(password))),
          email_verified: true,
          created_at: now,
          updated_at: now,
          password_changed_at: now,
        })
        await repos.roles.setUserRoles(id, [ADMIN_ROLE, USER_ROLE])
        await audit.record(repos, tx, undefined, {
          action: 'user.created',
          actorId: null,
          targetType: 'user',
          targetId: id,
          metadata: { roles: [ADMIN_ROLE, USER_ROLE], bootstrap: true },
        })
        return { result: 'created' as const, userId: id }
      })
    },
  }
}

export type BootstrapService = ReturnType<typeof createBootstrapService>
