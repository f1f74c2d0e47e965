import { sql } from '../db/kysely.js'
import type { Executor } from '../db/unit-of-work.js'
import { isUniqueViolation } from './pg-errors.js'

export interface RoleRecord {
  name: string
  description: string
  built_in: boolean
  permissions: string[]
}

export function createRoleRepository(db: Executor) {
  const withPermissions = () =>
    db
      .selectFrom('roles')
      .select((eb) => [
        'roles.name',
        'roles.description',
        'roles.built_in',
        sql<string[]>`array(${eb
          .selectFrom('role_permissions')
          .select('role_permissions.permission')
          .whereRef('role_permissions.role_name', '=', 'roles.name')
          .orderBy('role_permissions.permission')})`.as('permissions'),
      ])

  return {
    async list(): Promise<RoleRecord[]> {
      return withPermissions().orderBy('roles.name').execute()
    },

    async find(name: string): Promise<RoleRecord | undefined> {
      return withPermissions().where('roles.name', '=', name).executeTakeFirst()
    },

    /** Role → granted permissions, for every role with at least one grant. */
    async grants(): Promise<Record<string, string[]>> {
      const rows = await db.selectFrom('role_permissions').select(['role_name', 'permission']).execute()
      const grants: Record<string, string[]> = {}
      for (const row of rows) grants[row.role_name] = [...(grants[row.role_name] ?? []), row.permission]
      return grants
    },

    /** Returns false when the name is taken. */
    async insert(role: { name: string; description: string }): Promise<boolean> {
      try {
        await db
          .insertInto('roles')
          .values({ name: role.name, description: role.description, built_in: false })
          .execute()
        return true
      } catch (error) {
        if (isUniqueViolation(error)) return false
        throw error
      }
    },

    async updateDescription(name: string, description: string): Promise<void> {
      await db.updateTable('roles').set({ description }).where('name', '=', name).execute()
    },

    async setPermissions(name: string, permissions: readonly string[]): Promise<void> {
      await db.deleteFrom('role_permissions').where('role_name', '=', name).execute()
      if (permissions.length > 0) {
        await db
          .insertInto('role_permissions')
          .values(permissions.map((permission) => ({ role_name: name, permission })))
          .execute()
      }
    },

    async delete(name: string): Promise<void> {
      await db.deleteFrom('roles').where('name', '=', name).where('built_in', '=', false).execute()
    },

    /** The users holding a role (to refresh their cached state after a change). */
    async listUserIdsWithRole(name: string): Promise<string[]> {
      const rows = await db.selectFrom('user_roles').select('user_id').where('role_name', '=', name).execute()
      return rows.map((row) => row.user_id)
    },

    /** Active users holding a role, locking their rows so two demotions cannot both pass. */
    async countActiveHolders(name: string): Promise<number> {
      const rows = await db
        .selectFrom('user_roles')
        .innerJoin('users', 'users.id', 'user_roles.user_id')
        .select('users.id')
        .where('user_roles.role_name', '=', name)
        .where('users.is_active', '=', true)
        .forUpdate()
        .execute()
      return rows.length
    },

    /** Serialises changes that must keep at least one admin. */
    async lockAdminInvariant(): Promise<void> {
      await sql`SELECT pg_advisory_xact_lock(hashtext('kitsune:last-admin'))`.execute(db)
    },

    async setUserRoles(userId: string, roles: readonly string[]): Promise<void> {
      await db.deleteFrom('user_roles').where('user_id', '=', userId).execute()
      if (roles.length > 0) {
        await db
          .insertInto('user_roles')
          .values(roles.map((role_name) => ({ user_id: userId, role_name })))
          .execute()
      }
    },

    /** Role grants for many users in one statement (imports). */
    async addUserRolesMany(rows: ReadonlyArray<{ user_id: string; role_name: string }>): Promise<void> {
      if (rows.length > 0)
        await db
          .insertInto('user_roles')
          .values([...rows])
          .execute()
    },

    async existing(names: readonly string[]): Promise<string[]> {
      if (names.length === 0) return []
      const rows = await db.selectFrom('roles').select('name').where('name', 'in', names).execute()
      return rows.map((row) => row.name)
    },
  }
}

export type RoleRepository = ReturnType<typeof createRoleRepository>
