import { sql } from '../db/kysely.js'
import type { Executor } from '../db/unit-of-work.js'
import { AppError } from '../errors/app-error.js'
import { isUniqueViolation } from './pg-errors.js'

/** The account's address: who holds one, and changing it (the unique index has the last word). */
export function createUserEmailRepository(db: Executor) {
  return {
    /** The id of the account holding this address (case-insensitively), if any. */
    async findOwner(email: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('users')
        .select('id')
        .where(sql<string>`lower(email)`, '=', email.toLowerCase())
        .executeTakeFirst()
      return row?.id
    },

    /** Throws EMAIL_TAKEN when another account holds the address (a race the check missed included). */
    async setEmail(id: string, email: string, verified: boolean, now: Date): Promise<void> {
      try {
        await db
          .updateTable('users')
          .set({ email, email_verified: verified, updated_at: now })
          .where('id', '=', id)
          .execute()
      } catch (error) {
        if (isUniqueViolation(error, 'users_email_key')) throw new AppError('EMAIL_TAKEN')
        throw error
      }
    },
  }
}

export type UserEmailRepository = ReturnType<typeof createUserEmailRepository>
