/** Every permission Kitsune knows (API.md, Admin). A route declares the one it needs. */
export const PERMISSIONS = [
  'users:read',
  'users:write',
  'users:delete',
  'roles:read',
  'roles:write',
  'roles:assign',
  'sessions:revoke',
  'audit:read',
  'clients:read',
  'clients:write',
  'webhooks:read',
  'webhooks:write',
] as const

export type Permission = (typeof PERMISSIONS)[number]

export const ADMIN_ROLE = 'admin'
export const USER_ROLE = 'user'
export const BUILT_IN_ROLES = [ADMIN_ROLE, USER_ROLE] as const

/** A role's name: lower case letters, digits, `_` and `-`, 2–50 characters, starting with a letter. */
export const ROLE_NAME = /^[a-z][a-z0-9_-]{1,49}$/

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value)
}

/** Whether any of `roles` grants `permission`; `admin` holds every permission by definition. */
export function rolesGrant(
  roles: readonly string[],
  permission: Permission,
  grants: Readonly<Record<string, readonly string[]>>,
): boolean {
  return roles.some((role) => role === ADMIN_ROLE || grants[role]?.includes(permission))
}

/**
 * The permissions `target` holds that `actor` does not: an actor may change another account only
 * when this is empty, so a delegated operator can never act on an account above them.
 */
export function permissionsBeyond(
  actor: readonly string[],
  target: readonly string[],
  grants: Readonly<Record<string, readonly string[]>>,
): Permission[] {
  return PERMISSIONS.filter((p) => rolesGrant(target, p, grants) && !rolesGrant(actor, p, grants))
}
