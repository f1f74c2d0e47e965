import {
  ADMIN_ROLE,
  BUILT_IN_ROLES,
  isPermission,
  PERMISSIONS,
  type Permission,
  ROLE_NAME,
  rolesGrant,
} from '../auth/permissions.js'
import type { TransactionContext, UnitOfWork } from '../db/unit-of-work.js'
import { AppError, validationError } from '../errors/app-error.js'
import type { Repositories } from '../repositories/repositories.js'
import type { RoleRecord } from '../repositories/role.repository.js'
import type { Store } from '../stores/store.js'
import type { AuditService } from './audit.service.js'
import type { AuthStateService } from './auth-state.service.js'
import type { Principal, RequestContext } from './request-context.js'

const GRANTS_KEY = 'rbac:grants'
const GRANTS_TTL_SECONDS = 300
const DIRTY = 'd'

/**
 * Roles and permissions. The role→permission grants are cached in the shared store (refreshed
 * after every role change, with the same dirty-marker protocol as the auth state), and a user's
 * roles come fresh from the auth state, so a change applies on the very next request.
 */
export function createRbacService(deps: {
  uow: UnitOfWork<Repositories>
  store: Store
  authState: AuthStateService
  audit: AuditService
}) {
  const { uow, store, authState, audit } = deps

  const present = (role: RoleRecord): RoleRecord =>
    role.name === ADMIN_ROLE ? { ...role, permissions: [...PERMISSIONS] } : role

  const loadGrants = async (): Promise<Record<string, string[]>> => {
    const cached = await store.get(GRANTS_KEY)
    if (cached !== undefined && cached !== DIRTY) return JSON.parse(cached) as Record<string, string[]>
    const grants = await uow.read.roles.grants()
    if (cached === undefined)
      await store.set(GRANTS_KEY, JSON.stringify(grants), GRANTS_TTL_SECONDS, { onlyIfAbsent: true })
    return grants
  }

  const invalidateGrants = async (tx: TransactionContext) => {
    await store.set(GRANTS_KEY, DIRTY, GRANTS_TTL_SECONDS)
    tx.afterCommit(async () => {
      await store.set(GRANTS_KEY, JSON.stringify(await uow.read.roles.grants()), GRANTS_TTL_SECONDS)
    })
  }

  /** A non-admin with roles:write may only hand out permissions they hold themselves. */
  const requireHeld = async (actor: Principal, permissions: readonly string[]) => {
    if (actor.roles.includes(ADMIN_ROLE)) return
    const grants = await loadGrants()
    const notHeld = permissions.filter((p) => !rolesGrant(actor.roles, p as Permission, grants))
    if (notHeld.length > 0) {
      throw new AppError('FORBIDDEN', { detail: `only an administrator can grant: ${notHeld.join(', ')}` })
    }
  }

  const checkPermissions = (permissions: readonly string[]) => {
    const unknown = permissions.filter((p) => !isPermission(p))
    if (unknown.length > 0)
      throw validationError('/permissions', `unknown permission(s): ${unknown.join(', ')}`)
    return [...new Set(permissions)].sort()
  }

  const audited = (
    repos: Repositories,
    tx: TransactionContext,
    ctx: RequestContext,
    actor: Principal,
    name: string,
    change: string,
  ) =>
    audit.record(repos, tx, ctx, {
      action: 'role.changed',
      actorId: actor.userId,
      targetType: 'role',
      targetId: name,
      metadata: { change },
    })

  return {
    /** Throws FORBIDDEN unless one of the principal's roles grants `permission`. */
    async require(principal: Principal, permission: Permission): Promise<void> {
      if (principal.roles.includes(ADMIN_ROLE)) return
      if (!rolesGrant(principal.roles, permission, await loadGrants())) {
        throw new AppError('FORBIDDEN', { detail: `requires the ${permission} permission` })
      }
    },

    /** Every permission these roles grant, sorted (the `permissions` claim of OIDC tokens). */
    async permissionsOf(roles: readonly string[]): Promise<string[]> {
      if (roles.includes(ADMIN_ROLE)) return [...PERMISSIONS].sort()
      const grants = await loadGrants()
      return [...new Set(roles.flatMap((role) => grants[role] ?? []))].sort()
    },

    async list(): Promise<RoleRecord[]> {
      return (await uow.read.roles.list()).map(present)
    },

    async create(
      actor: Principal,
      input: { name: string; description?: string; permissions: string[] },
      ctx: RequestContext,
    ) {
      if (!ROLE_NAME.test(input.name))
        throw validationError('/name', 'must be 2-50 characters: a-z, 0-9, _ or -, starting with a letter')
      const permissions = checkPermissions(input.permissions)
      await requireHeld(actor, permissions)
      return uow.run(async (repos, tx) => {
        if (!(await repos.roles.insert({ name: input.name, description: input.description ?? '' })))
          throw new AppError('ROLE_EXISTS')
        await repos.roles.setPermissions(input.name, permissions)
        await invalidateGrants(tx)
        await audited(repos, tx, ctx, actor, input.name, 'created')
        return present((await repos.roles.find(input.name)) as RoleRecord)
      })
    },

    async update(
      actor: Principal,
      name: string,
      patch: { description?: string; permissions?: string[] },
      ctx: RequestContext,
    ) {
      const permissions = patch.permissions ? checkPermissions(patch.permissions) : undefined
      if (permissions) await requireHeld(actor, permissions)
      return uow.run(async (repos, tx) => {
        const role = await repos.roles.find(name)
        if (!role) throw new AppError('NOT_FOUND', { detail: 'role not found' })
        if (name === ADMIN_ROLE && permissions)
          throw new AppError('BUILT_IN_ROLE', { detail: 'admin holds every permission' })
        if (patch.description !== undefined) await repos.roles.updateDescription(name, patch.description)
        if (permissions) {
          await repos.roles.setPermissions(name, permissions)
          await invalidateGrants(tx)
        }
        await audited(repos, tx, ctx, actor, name, 'updated')
        return present((await repos.roles.find(name)) as RoleRecord)
      })
    },

    async delete(actor: Principal, name: string, ctx: RequestContext): Promise<void> {
      if ((BUILT_IN_ROLES as readonly string[]).includes(name))
        throw new AppError('BUILT_IN_ROLE', { detail: `${name} cannot be deleted` })
      await uow.run(async (repos, tx) => {
        if (!(await repos.roles.find(name))) throw new AppError('NOT_FOUND', { detail: 'role not found' })
        const holders = await repos.roles.listUserIdsWithRole(name)
        await repos.roles.delete(name)
        await invalidateGrants(tx)
        await authState.invalidate(tx, { userIds: holders })
        await audited(repos, tx, ctx, actor, name, 'deleted')
      })
    },
  }
}

export type RbacService = ReturnType<typeof createRbacService>
