import { ADMIN_ROLE } from '../auth/permissions.js'
import { AppError } from '../errors/app-error.js'
import type { Repositories } from '../repositories/repositories.js'

/**
 * Run inside a change that may remove admin power (after taking `roles.lockAdminInvariant()`):
 * throws LAST_ADMIN, rolling the change back, when no active administrator would be left.
 */
export async function keepOneAdmin(repos: Repositories): Promise<void> {
  if ((await repos.roles.countActiveHolders(ADMIN_ROLE)) === 0) {
    throw new AppError('LAST_ADMIN', { detail: 'at least one active administrator must remain' })
  }
}
