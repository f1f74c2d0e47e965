import { sql } from '../db/kysely.js'
import type { Executor } from '../db/unit-of-work.js'

/** What the engine stores for one object, as it gets it back. */
export interface StoredPayload {
  payload: Record<string, unknown>
  consumed_at: Date | null
}

/** The columns an object is found or ended by, beside its payload. */
export interface PayloadIndex {
  grant_id?: string | null
  uid?: string | null
  user_code?: string | null
  client_id?: string | null
  session_id?: string | null
  user_id?: string | null
}

/** An engine session that ended with the Kitsune session it belonged to. */
export interface EndedEngineSession {
  account_id: string | undefined
  /** Per client that signed in through it: the `sid` its ID tokens carried. */
  authorizations: Record<string, { sid?: string }>
}

const live = (now: Date) => sql<boolean>`(expires_at IS NULL OR expires_at > ${now})`

/**
 * The OpenID Provider's objects (oidc_payloads), and remembered consent (oidc_consents). The
 * engine's adapter (oidc/adapter.ts) reads and writes through here; the session paths end what a
 * Kitsune session signed in to.
 */
export function createOidcPayloadRepository(db: Executor) {
  return {
    async find(model: string, id: string, now: Date): Promise<StoredPayload | undefined> {
      return db
        .selectFrom('oidc_payloads')
        .select(['payload', 'consumed_at'])
        .where('model', '=', model)
        .where('id', '=', id)
        .where(live(now))
        .executeTakeFirst()
    },

    async findBy(
      model: string,
      column: 'uid' | 'user_code',
      value: string,
      now: Date,
    ): Promise<StoredPayload | undefined> {
      return db
        .selectFrom('oidc_payloads')
        .select(['payload', 'consumed_at'])
        .where('model', '=', model)
        .where(column, '=', value)
        .where(live(now))
        .executeTakeFirst()
    },

    /**
     * Inserts or replaces an object. A link to a Kitsune session or user, once made, is kept when
     * the engine saves the object again without knowing it.
     */
    async upsert(
      model: string,
      id: string,
      payload: Record<string, unknown>,
      expiresAt: Date | null,
      index: PayloadIndex,
    ): Promise<void> {
      const row = {
        model,
        id,
        payload: JSON.stringify(payload),
        expires_at: expiresAt,
        grant_id: index.grant_id ?? null,
        uid: index.uid ?? null,
        user_code: index.user_code ?? null,
        client_id: index.client_id ?? null,
        session_id: index.session_id ?? null,
        user_id: index.user_id ?? null,
      }
      await db
        .insertInto('oidc_payloads')
        .values(row)
        .onConflict((conflict) =>
          conflict.columns(['model', 'id']).doUpdateSet((eb) => ({
            payload: eb.ref('excluded.payload'),
            expires_at: eb.ref('excluded.expires_at'),
            grant_id: eb.ref('excluded.grant_id'),
            uid: eb.ref('excluded.uid'),
            user_code: eb.ref('excluded.user_code'),
            client_id: eb.ref('excluded.client_id'),
            session_id: sql`COALESCE(excluded.session_id, oidc_payloads.session_id)`,
            user_id: sql`COALESCE(excluded.user_id, oidc_payloads.user_id)`,
          })),
        )
        .execute()
    },

    async consume(model: string, id: string, now: Date): Promise<void> {
      await db
        .updateTable('oidc_payloads')
        .set({ consumed_at: now })
        .where('model', '=', model)
        .where('id', '=', id)
        .execute()
    },

    async destroy(model: string, id: string): Promise<void> {
      await db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', id).execute()
    },

    /** Every object of a grant (its tokens and codes), and the grant itself. */
    async revokeByGrantId(grantId: string): Promise<void> {
      await db
        .deleteFrom('oidc_payloads')
        .where((eb) =>
          eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]),
        )
        .execute()
    },

    /** Records which Kitsune session a grant was made from. */
    async linkGrant(grantId: string, sessionId: string): Promise<void> {
      await db
        .updateTable('oidc_payloads')
        .set({ session_id: sessionId })
        .where('model', '=', 'Grant')
        .where('id', '=', grantId)
        .execute()
    },

    /**
     * Ends what Kitsune sessions signed in to: the engine's sessions, the grants made from them and
     * every token and code of those grants. Returns the engine sessions, for back-channel logout.
     */
    async endForSessions(sessionIds: readonly string[]): Promise<EndedEngineSession[]> {
      if (sessionIds.length === 0) return []
      const ids = [...sessionIds]
      const grants = db
        .selectFrom('oidc_payloads')
        .select('id')
        .where('model', '=', 'Grant')
        .where('session_id', 'in', ids)
      await db.deleteFrom('oidc_payloads').where('grant_id', 'in', grants).execute()
      const ended = await db
        .deleteFrom('oidc_payloads')
        .where('session_id', 'in', ids)
        .returning(['model', 'payload'])
        .execute()
      return ended
        .filter((row) => row.model === 'Session')
        .map((row) => ({
          account_id: typeof row.payload.accountId === 'string' ? row.payload.accountId : undefined,
          authorizations: (row.payload.authorizations ?? {}) as EndedEngineSession['authorizations'],
        }))
    },

    /** The clients each of these Kitsune sessions signed in to (through a grant made from it). */
    async clientsBySession(
      sessionIds: readonly string[],
    ): Promise<Array<{ session_id: string; client_id: string }>> {
      if (sessionIds.length === 0) return []
      return db
        .selectFrom('oidc_payloads')
        .select(['session_id', 'client_id'])
        .distinct()
        .where('model', '=', 'Grant')
        .where('session_id', 'in', [...sessionIds])
        .where('client_id', 'is not', null)
        .$narrowType<{ session_id: string; client_id: string }>()
        .execute()
    },

    /** Deletes up to `limit` objects that expired before `before`; returns how many. */
    async purgeExpired(before: Date, limit: number): Promise<number> {
      const result = await sql<{ count: string }>`
        WITH gone AS (
          DELETE FROM oidc_payloads WHERE ctid IN (
            SELECT ctid FROM oidc_payloads WHERE expires_at < ${before} LIMIT ${limit}
          ) RETURNING 1
        ) SELECT count(*) AS count FROM gone`.execute(db)
      return Number(result.rows[0]?.count ?? 0)
    },

    async findConsent(userId: string, clientId: string): Promise<string[] | undefined> {
      const row = await db
        .selectFrom('oidc_consents')
        .select('scopes')
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
        .executeTakeFirst()
      return row?.scopes
    },

    /** Remembers (adds to) the scopes a person granted a client. */
    async rememberConsent(
      userId: string,
      clientId: string,
      scopes: readonly string[],
      now: Date,
    ): Promise<void> {
      await sql`
        INSERT INTO oidc_consents (user_id, client_id, scopes, granted_at)
        VALUES (${userId}, ${clientId}, ${[...scopes]}::text[], ${now})
        ON CONFLICT (user_id, client_id) DO UPDATE SET
          scopes = ARRAY(SELECT DISTINCT unnest(oidc_consents.scopes || excluded.scopes) ORDER BY 1),
          granted_at = excluded.granted_at`.execute(db)
    },

    async listConsents(
      userId: string,
    ): Promise<Array<{ client_id: string; scopes: string[]; granted_at: Date }>> {
      return db
        .selectFrom('oidc_consents')
        .select(['client_id', 'scopes', 'granted_at'])
        .where('user_id', '=', userId)
        .orderBy('granted_at', 'desc')
        .execute()
    },

    /** Forgets a consent and ends every grant the user made to that client; false when none. */
    async revokeConsent(userId: string, clientId: string): Promise<boolean> {
      const forgotten = await db
        .deleteFrom('oidc_consents')
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
        .executeTakeFirst()
      const grants = db
        .selectFrom('oidc_payloads')
        .select('id')
        .where('model', '=', 'Grant')
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
      await db.deleteFrom('oidc_payloads').where('grant_id', 'in', grants).execute()
      const ended = await db
        .deleteFrom('oidc_payloads')
        .where('model', '=', 'Grant')
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
        .executeTakeFirst()
      return Number(forgotten.numDeletedRows) > 0 || Number(ended.numDeletedRows) > 0
    },
  }
}

export type OidcPayloadRepository = ReturnType<typeof createOidcPayloadRepository>
