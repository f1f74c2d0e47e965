import type { Executor } from '../db/unit-of-work.js'

export function createRefreshTokenRepository(db: Executor) {
  return {
    async insert(token: {
      token_hash: string
      session_id: string
      created_at: Date
      expires_at: Date
    }): Promise<void> {
      await db.insertInto('refresh_tokens').values(token).execute()
    },

    /**
     * Marks an unconsumed, unexpired token consumed and returns its session. The row lock makes a
     * concurrent second consumer wait and then find it consumed: exactly one rotation wins.
     */
    async consume(tokenHash: string, now: Date): Promise<{ session_id: string } | undefined> {
      return db
        .updateTable('refresh_tokens')
        .set({ consumed_at: now })
        .where('token_hash', '=', tokenHash)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('session_id')
        .executeTakeFirst()
    },

    async findByHash(
      tokenHash: string,
    ): Promise<{ session_id: string; consumed_at: Date | null } | undefined> {
      return db
        .selectFrom('refresh_tokens')
        .select(['session_id', 'consumed_at'])
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst()
    },
  }
}

export type RefreshTokenRepository = ReturnType<typeof createRefreshTokenRepository>
