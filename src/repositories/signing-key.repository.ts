import { sql } from '../db/kysely.js'
import type { SigningKeyRow } from '../db/schema.js'
import type { Executor } from '../db/unit-of-work.js'

export function createSigningKeyRepository(db: Executor) {
  return {
    /** Serialises key creation across instances for the rest of the transaction. */
    async lock(): Promise<void> {
      await sql`SELECT pg_advisory_xact_lock(hashtext('kitsune:signing-keys'))`.execute(db)
    },

    /** Keys that may still verify tokens at `now`, newest first; the first unretired one signs. */
    async listUsable(now: Date): Promise<SigningKeyRow[]> {
      return db
        .selectFrom('signing_keys')
        .selectAll()
        .where((eb) => eb.or([eb('verify_until', 'is', null), eb('verify_until', '>', now)]))
        .orderBy('created_at', 'desc')
        .orderBy('kid', 'desc')
        .execute()
    },

    async insert(row: {
      kid: string
      algorithm: string
      public_jwk: string
      private_key_enc: string
      created_at: Date
    }) {
      await db.insertInto('signing_keys').values(row).execute()
    },

    /** Stops every current key of `algorithm` from signing; each verifies until `verifyUntil`. */
    async retireCurrent(algorithm: string, now: Date, verifyUntil: Date): Promise<number> {
      const result = await db
        .updateTable('signing_keys')
        .set({ retired_at: now, verify_until: verifyUntil })
        .where('algorithm', '=', algorithm)
        .where('retired_at', 'is', null)
        .executeTakeFirst()
      return Number(result.numUpdatedRows)
    },
  }
}

export type SigningKeyRepository = ReturnType<typeof createSigningKeyRepository>
