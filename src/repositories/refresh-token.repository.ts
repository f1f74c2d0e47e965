import { sql } from '../db/kysely.js'
import type { Executor } from '../db/unit-of-work.js'

export type RotationResult =
  | { status: 'rotated'; session_id: string; user_id: string; expires_at: Date; roles: string[] }
  | { status: 'dead_session' | 'not_consumed' }

export function createRefreshTokenRepository(db: Executor) {
  return {
    /**
     * The whole happy path of a rotation in one call of kitsune_rotate_refresh_token (migration
     * 0006; one round trip, atomic on its own): consume the presented token, touch its live
     * session, check the user is active, store the successor token.
     * Concurrent rotations of one token serialise on its row lock, so at most one succeeds.
     */
    async rotate(input: {
      tokenHash: string
      nextHash: string
      now: Date
      ip: string | null
      userAgent: string | null
    }): Promise<RotationResult> {
      const { tokenHash, nextHash, now, ip, userAgent } = input
      const result = await sql<{
        r_consumed: boolean
        r_session_id: string | null
        r_user_id: string | null
        r_expires_at: Date | null
        r_roles: string[] | null
      }>`SELECT * FROM kitsune_rotate_refresh_token(${tokenHash}, ${nextHash}, ${now}, ${ip}, ${userAgent})`.execute(
        db,
      )
      const row = result.rows[0]
      if (row?.r_session_id && row.r_user_id && row.r_expires_at && row.r_roles) {
        return {
          status: 'rotated',
          session_id: row.r_session_id,
          user_id: row.r_user_id,
          expires_at: row.r_expires_at,
          roles: row.r_roles,
        }
      }
      // Consumed here but the session or user is gone: invalid. Not consumed: unknown, expired or reused.
      return { status: row?.r_consumed ? 'dead_session' : 'not_consumed' }
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
