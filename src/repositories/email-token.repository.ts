import type { EmailTokenPurpose } from '../db/schema.js'
import type { Executor } from '../db/unit-of-work.js'

/** What using a token up tells its caller: whose it was, the address it concerns, when it was made. */
export interface UsedEmailToken {
  user_id: string
  email: string | null
  created_at: Date
}

export function createEmailTokenRepository(db: Executor) {
  return {
    /**
     * Kills the user's unused tokens of this purpose: only the newest link works. With
     * `createdAfter`, only those made later than that moment die.
     */
    async invalidate(
      userId: string,
      purpose: EmailTokenPurpose,
      now: Date,
      options: { createdAfter?: Date } = {},
    ): Promise<void> {
      let query = db
        .updateTable('email_tokens')
        .set({ used_at: now })
        .where('user_id', '=', userId)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
      if (options.createdAfter) query = query.where('created_at', '>', options.createdAfter)
      await query.execute()
    },

    async insert(token: {
      token_hash: string
      user_id: string
      purpose: EmailTokenPurpose
      created_at: Date
      expires_at: Date
      email?: string | null
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
    ): Promise<UsedEmailToken | undefined> {
      return db
        .updateTable('email_tokens')
        .set({ used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning(['user_id', 'email', 'created_at'])
        .executeTakeFirst()
    },
  }
}

export type EmailTokenRepository = ReturnType<typeof createEmailTokenRepository>
