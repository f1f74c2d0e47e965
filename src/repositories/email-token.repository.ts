import type { EmailTokenPurpose } from '../db/schema.js'
import type { Executor } from '../db/unit-of-work.js'

export function createEmailTokenRepository(db: Executor) {
  return {
    /** Kills the user's unused tokens of this purpose: only the newest link works. */
    async invalidate(userId: string, purpose: EmailTokenPurpose, now: Date): Promise<void> {
      await db
        .updateTable('email_tokens')
        .set({ used_at: now })
        .where('user_id', '=', userId)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .execute()
    },

    async insert(token: {
      token_hash: string
      user_id: string
      purpose: EmailTokenPurpose
      created_at: Date
      expires_at: Date
    }) {
      await db.insertInto('email_tokens').values(token).execute()
    },

    /** The user of a live token, without using it up. */
    async findLive(
      tokenHash: string,
      purpose: EmailTokenPurpose,
      now: Date,
    ): Promise<{ user_id: string } | undefined> {
      return db
        .selectFrom('email_tokens')
        .select('user_id')
        .where('token_hash', '=', tokenHash)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst()
    },

    /** Uses a live token up; a concurrent second use finds it used (the row lock decides). */
    async consume(
      tokenHash: string,
      purpose: EmailTokenPurpose,
      now: Date,
    ): Promise<{ user_id: string } | undefined> {
      return db
        .updateTable('email_tokens')
        .set({ used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('user_id')
        .executeTakeFirst()
    },
  }
}

export type EmailTokenRepository = ReturnType<typeof createEmailTokenRepository>
