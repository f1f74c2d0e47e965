import { sql } from 'kysely'
import type { Executor } from '../db/unit-of-work.js'

export type RotationResult =
  | { status: 'rotated'; session_id: string; user_id: string; expires_at: Date; roles: string[] }
  | { status: 'dead_session' | 'not_consumed' }

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

    /**
     * The whole happy path of a rotation in one statement (one round trip, atomic on its own):
     * consume the presented token, touch its live session, check the user is active, store the
     * successor token. Undefined when any step does not hold; the caller then finds out why.
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
        consumed: number
        session_id: string | null
        user_id: string | null
        expires_at: Date | null
        roles: string[] | null
      }>`
        WITH consumed AS (
          UPDATE refresh_tokens SET consumed_at = ${now}
          WHERE token_hash = ${tokenHash} AND consumed_at IS NULL AND expires_at > ${now}
          RETURNING session_id
        ), live AS (
          UPDATE sessions SET last_used_at = ${now}, ip = ${ip}, user_agent = ${userAgent}
          FROM consumed
          WHERE sessions.id = consumed.session_id AND sessions.revoked_at IS NULL AND sessions.expires_at > ${now}
            AND EXISTS (SELECT 1 FROM users WHERE users.id = sessions.user_id AND users.is_active)
          RETURNING sessions.id, sessions.user_id, sessions.expires_at
        ), successor AS (
          INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
          SELECT ${nextHash}, live.id, ${now}, live.expires_at FROM live
          RETURNING session_id
        )
        SELECT (SELECT count(*)::int FROM consumed) AS consumed, successor.session_id, live.user_id, live.expires_at,
          array(SELECT role_name FROM user_roles WHERE user_roles.user_id = live.user_id ORDER BY role_name) AS roles
        FROM (SELECT 1) AS one
        LEFT JOIN (successor JOIN live ON live.id = successor.session_id) ON true`.execute(db)
      const row = result.rows[0]
      if (row?.session_id && row.user_id && row.expires_at && row.roles) {
        return {
          status: 'rotated',
          session_id: row.session_id,
          user_id: row.user_id,
          expires_at: row.expires_at,
          roles: row.roles,
        }
      }
      // Consumed here but the session or user is gone: invalid. Not consumed: unknown, expired or reused.
      return { status: row?.consumed ? 'dead_session' : 'not_consumed' }
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
