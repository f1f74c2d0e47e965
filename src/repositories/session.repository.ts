import { sql } from '../db/kysely.js'
import type { SessionRow } from '../db/schema.js'
import type { Executor } from '../db/unit-of-work.js'

export interface NewSession {
  id: string
  user_id: string
  created_at: Date
  last_used_at: Date
  expires_at: Date
  ip: string | null
  user_agent: string | null
}

export type SessionPublic = Pick<
  SessionRow,
  'id' | 'created_at' | 'last_used_at' | 'expires_at' | 'ip' | 'user_agent' | 'kind'
>

export function createSessionRepository(db: Executor) {
  return {
    async insert(session: NewSession): Promise<void> {
      await db.insertInto('sessions').values(session).execute()
    },

    /**
     * Opens a session with its first refresh token, in one statement, if the user exists and is
     * active; returns the user's roles (for the access token), or undefined.
     */
    async open(session: NewSession, refreshTokenHash: string): Promise<{ roles: string[] } | undefined> {
      const { id, user_id, created_at, last_used_at, expires_at, ip, user_agent } = session
      const result = await sql<{ roles: string[] }>`
        WITH active AS (
          SELECT id FROM users WHERE id = ${user_id} AND is_active
        ), opened AS (
          INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, ip, user_agent)
          SELECT ${id}, active.id, ${created_at}, ${last_used_at}, ${expires_at}, ${ip}, ${user_agent} FROM active
          RETURNING id
        ), first_token AS (
          INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
          SELECT ${refreshTokenHash}, opened.id, ${created_at}, ${expires_at} FROM opened
          RETURNING session_id
        )
        SELECT array(SELECT role_name FROM user_roles WHERE user_roles.user_id = ${user_id} ORDER BY role_name) AS roles
        FROM first_token`.execute(db)
      return result.rows[0]
    },

    /**
     * Opens a browser session (signed in through the pages: no refresh token, a cookie instead)
     * if the user exists and is active; false otherwise.
     */
    async openBrowser(session: NewSession, amr: readonly string[]): Promise<boolean> {
      const { id, user_id, created_at, last_used_at, expires_at, ip, user_agent } = session
      const result = await sql`
        INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, ip, user_agent, kind, amr, auth_time)
        SELECT ${id}, id, ${created_at}, ${last_used_at}, ${expires_at}, ${ip}, ${user_agent}, 'browser', ${[...amr]}::text[], ${created_at}
        FROM users WHERE id = ${user_id} AND is_active`.execute(db)
      return Number(result.numAffectedRows ?? 0) === 1
    },

    /** A live browser session of this user signed in again: new auth_time and methods; false if gone. */
    async reauthenticate(id: string, userId: string, amr: readonly string[], now: Date): Promise<boolean> {
      const result = await db
        .updateTable('sessions')
        .set({ auth_time: now, amr: [...amr], last_used_at: now })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .where('kind', '=', 'browser')
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },

    async findById(id: string): Promise<SessionRow | undefined> {
      return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst()
    },

    /** Live sessions of one user, newest first. */
    async listLiveByUser(userId: string, now: Date): Promise<SessionPublic[]> {
      return db
        .selectFrom('sessions')
        .select(['id', 'created_at', 'last_used_at', 'expires_at', 'ip', 'user_agent', 'kind'])
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .orderBy('created_at', 'desc')
        .execute()
    },

    /** Revokes one live session (of `userId` when given); returns the ended session's user, if any. */
    async revoke(
      id: string,
      reason: string,
      now: Date,
      userId?: string,
    ): Promise<{ user_id: string } | undefined> {
      let query = db
        .updateTable('sessions')
        .set({ revoked_at: now, revoke_reason: reason })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
      if (userId !== undefined) query = query.where('user_id', '=', userId)
      return query.returning('user_id').executeTakeFirst()
    },

    /** Revokes every live session of a user except `exceptId`; returns the ids ended. */
    async revokeAllForUser(userId: string, reason: string, now: Date, exceptId?: string): Promise<string[]> {
      let query = db
        .updateTable('sessions')
        .set({ revoked_at: now, revoke_reason: reason })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
      if (exceptId !== undefined) query = query.where('id', '!=', exceptId)
      const rows = await query.returning('id').execute()
      return rows.map((row) => row.id)
    },
  }
}

export type SessionRepository = ReturnType<typeof createSessionRepository>
