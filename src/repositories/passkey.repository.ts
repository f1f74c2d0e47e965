import type { Selectable } from 'kysely'
import type { PasskeysTable } from '../db/schema.js'
import type { Executor } from '../db/unit-of-work.js'

export type PasskeyRecord = Selectable<PasskeysTable>

export function createPasskeyRepository(db: Executor) {
  return {
    async listByUser(userId: string): Promise<PasskeyRecord[]> {
      return db
        .selectFrom('passkeys')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id')
        .execute()
    },

    async findByCredentialId(credentialId: string): Promise<PasskeyRecord | undefined> {
      return db
        .selectFrom('passkeys')
        .selectAll()
        .where('credential_id', '=', credentialId)
        .executeTakeFirst()
    },

    async findForUser(userId: string, id: string): Promise<PasskeyRecord | undefined> {
      return db
        .selectFrom('passkeys')
        .selectAll()
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst()
    },

    async countByUser(userId: string): Promise<number> {
      const row = await db
        .selectFrom('passkeys')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow()
      return Number(row.n)
    },

    /** The passkeys of these users (exports). */
    async listByUsers(userIds: readonly string[]): Promise<PasskeyRecord[]> {
      if (userIds.length === 0) return []
      return db
        .selectFrom('passkeys')
        .selectAll()
        .where('user_id', 'in', userIds)
        .orderBy('created_at')
        .execute()
    },

    /** Many credentials at once (imports); one already registered (to anyone) is left out. */
    async insertMany(rows: readonly PasskeyRecord[]): Promise<string[]> {
      if (rows.length === 0) return []
      const inserted = await db
        .insertInto('passkeys')
        .values([...rows])
        .onConflict((oc) => oc.column('credential_id').doNothing())
        .returning('user_id')
        .execute()
      return inserted.map((row) => row.user_id)
    },

    /** Inserts a credential; false when its credential id is already registered (to anyone). */
    async insert(row: PasskeyRecord): Promise<boolean> {
      const result = await db
        .insertInto('passkeys')
        .values(row)
        .onConflict((oc) => oc.column('credential_id').doNothing())
        .returning('id')
        .executeTakeFirst()
      return result !== undefined
    },

    /**
     * Records a verified assertion, only if the counter the check was made against is still the
     * stored one: of two concurrent uses of one assertion's counter, one wins.
     */
    async recordUse(
      id: string,
      expectedCount: string,
      update: { signCount: number; backedUp: boolean; now: Date },
    ): Promise<boolean> {
      const result = await db
        .updateTable('passkeys')
        .set({ sign_count: update.signCount, backed_up: update.backedUp, last_used_at: update.now })
        .where('id', '=', id)
        .where('sign_count', '=', expectedCount)
        .executeTakeFirst()
      return result.numUpdatedRows > 0n
    },

    async rename(userId: string, id: string, name: string): Promise<PasskeyRecord | undefined> {
      return db
        .updateTable('passkeys')
        .set({ name })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .returningAll()
        .executeTakeFirst()
    },

    async delete(userId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('passkeys')
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return result.numDeletedRows > 0n
    },
  }
}

export type PasskeyRepository = ReturnType<typeof createPasskeyRepository>
