import type { ExpressionBuilder } from 'kysely'
import { sql } from '../db/kysely.js'
import type { Database, NewUserRow } from '../db/schema.js'
import type { Executor } from '../db/unit-of-work.js'
import { AppError } from '../errors/app-error.js'
import { isUniqueViolation } from './pg-errors.js'

export interface UserRecord {
  id: string
  email: string
  full_name: string | null
  is_active: boolean
  email_verified: boolean
  mfa_enabled: boolean
  roles: string[]
  created_at: Date
  updated_at: Date
}

export interface UserCredentials {
  id: string
  password_hash: string
  is_active: boolean
  email_verified: boolean
  mfa_enabled: boolean
  locale: string | null
}

const PUBLIC_COLUMNS = [
  'users.id',
  'users.email',
  'users.full_name',
  'users.is_active',
  'users.email_verified',
  'users.mfa_enabled',
  'users.created_at',
  'users.updated_at',
] as const

function rolesOf(eb: ExpressionBuilder<Database, 'users'>) {
  return sql<string[]>`array(${eb
    .selectFrom('user_roles')
    .select('user_roles.role_name')
    .whereRef('user_roles.user_id', '=', 'users.id')
    .orderBy('user_roles.role_name')})`.as('roles')
}

export function createUserRepository(db: Executor) {
  return {
    async findById(id: string): Promise<UserRecord | undefined> {
      return db
        .selectFrom('users')
        .select((eb) => [...PUBLIC_COLUMNS, rolesOf(eb)])
        .where('users.id', '=', id)
        .executeTakeFirst()
    },

    async getById(id: string): Promise<UserRecord> {
      const user = await this.findById(id)
      if (!user) throw new AppError('NOT_FOUND', { detail: 'user not found' })
      return user
    },

    /** The only query that reads a password hash. */
    /** The language the account's e-mails are written in (null: the default). */
    async localeOf(id: string): Promise<string | null> {
      const row = await db.selectFrom('users').select('locale').where('id', '=', id).executeTakeFirst()
      return row?.locale ?? null
    },

    async setLocale(id: string, locale: string): Promise<void> {
      await db
        .updateTable('users')
        .set({ locale })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('locale', 'is', null), eb('locale', '!=', locale)]))
        .execute()
    },

    async findCredentialsByEmail(email: string): Promise<UserCredentials | undefined> {
      return db
        .selectFrom('users')
        .select(['id', 'password_hash', 'is_active', 'email_verified', 'mfa_enabled', 'locale'])
        .where(sql<string>`lower(email)`, '=', email.toLowerCase())
        .executeTakeFirst()
    },

    async findCredentialsById(id: string): Promise<UserCredentials | undefined> {
      return db
        .selectFrom('users')
        .select(['id', 'password_hash', 'is_active', 'email_verified', 'mfa_enabled', 'locale'])
        .where('id', '=', id)
        .executeTakeFirst()
    },

    /** The accounts that hold one of these (normalized) e-mail addresses or ids (imports). */
    async findByEmailsOrIds(
      emails: readonly string[],
      ids: readonly string[],
    ): Promise<Array<{ id: string; email: string }>> {
      if (emails.length === 0 && ids.length === 0) return []
      return db
        .selectFrom('users')
        .select(['id', sql<string>`lower(email)`.as('email')])
        .where((eb) =>
          eb.or([
            ...(emails.length > 0 ? [eb(sql`lower(email)`, 'in', emails)] : []),
            ...(ids.length > 0 ? [eb('id', 'in', ids)] : []),
          ]),
        )
        .execute()
    },

    /** Many accounts in one statement (imports); a taken e-mail or id fails the whole statement. */
    async insertMany(users: readonly NewUserRow[]): Promise<void> {
      if (users.length > 0) await db.insertInto('users').values(users).execute()
    },

    /** Accounts in id order after `afterId`, with what an export carries (password hash included). */
    async exportPage(afterId: string | null, limit: number) {
      let query = db
        .selectFrom('users')
        .select((eb) => [
          'users.id',
          'users.email',
          'users.full_name',
          'users.password_hash',
          'users.is_active',
          'users.email_verified',
          'users.mfa_enabled',
          'users.created_at',
          'users.locale',
          rolesOf(eb),
        ])
      if (afterId) query = query.where('users.id', '>', afterId)
      return query.orderBy('users.id').limit(limit).execute()
    },

    /** Throws EMAIL_TAKEN when the address (case-insensitively) is already registered. */
    async insert(user: NewUserRow): Promise<void> {
      try {
        await db.insertInto('users').values(user).execute()
      } catch (error) {
        if (isUniqueViolation(error, 'users_email_key')) throw new AppError('EMAIL_TAKEN')
        throw error
      }
    },

    async update(
      id: string,
      patch: { full_name?: string | null; is_active?: boolean; email_verified?: boolean },
      now: Date,
    ) {
      const result = await db
        .updateTable('users')
        .set({ ...patch, updated_at: now })
        .where('id', '=', id)
        .executeTakeFirst()
      if (result.numUpdatedRows === 0n) throw new AppError('NOT_FOUND', { detail: 'user not found' })
    },

    async updatePassword(id: string, passwordHash: string, now: Date): Promise<void> {
      await db
        .updateTable('users')
        .set({ password_hash: passwordHash, password_changed_at: now, updated_at: now })
        .where('id', '=', id)
        .execute()
    },

    /** Stores a stronger hash of the same password (not a password change: sessions stay). */
    async replaceHash(id: string, oldHash: string, newHash: string): Promise<void> {
      await db
        .updateTable('users')
        .set({ password_hash: newHash })
        .where('id', '=', id)
        .where('password_hash', '=', oldHash)
        .execute()
    },

    /**
     * Held until the transaction ends: serialises changes to one account with the checks that read
     * its roles first, so a role granted meanwhile cannot slip between the check and the change.
     */
    async lock(id: string): Promise<void> {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`kitsune:user:${id}`}))`.execute(db)
    },

    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst()
      return result.numDeletedRows > 0n
    },

    /** Newest first by UUIDv7 id (time-ordered): a keyset page is stable while rows are inserted. */
    async list(filter: {
      q?: string
      role?: string
      is_active?: boolean
      email_verified?: boolean
      mfa_enabled?: boolean
      after_id?: string
      limit: number
    }): Promise<UserRecord[]> {
      let query = db.selectFrom('users').select((eb) => [...PUBLIC_COLUMNS, rolesOf(eb)])
      if (filter.q) {
        // A substring anywhere, case-insensitively; the user's %, _ and \ are matched literally
        // (backslash is LIKE's default escape). Trigram GIN indexes serve it (0008-user-search).
        const pattern = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
        query = query.where((eb) =>
          eb.or([eb('users.email', 'ilike', pattern), eb('users.full_name', 'ilike', pattern)]),
        )
      }
      if (filter.role) {
        const role = filter.role
        query = query.where((eb) =>
          eb.exists(
            eb
              .selectFrom('user_roles')
              .select('user_roles.user_id')
              .whereRef('user_roles.user_id', '=', 'users.id')
              .where('user_roles.role_name', '=', role),
          ),
        )
      }
      if (filter.is_active !== undefined) query = query.where('users.is_active', '=', filter.is_active)
      if (filter.email_verified !== undefined)
        query = query.where('users.email_verified', '=', filter.email_verified)
      if (filter.mfa_enabled !== undefined) query = query.where('users.mfa_enabled', '=', filter.mfa_enabled)
      if (filter.after_id) query = query.where('users.id', '<', filter.after_id)
      return query.orderBy('users.id', 'desc').limit(filter.limit).execute()
    },

    async addRole(userId: string, roleName: string): Promise<void> {
      await db
        .insertInto('user_roles')
        .values({ user_id: userId, role_name: roleName })
        .onConflict((oc) => oc.doNothing())
        .execute()
    },
  }
}

export type UserRepository = ReturnType<typeof createUserRepository>
