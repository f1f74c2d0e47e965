import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE sessions (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      ip text,
      user_agent text,
      revoked_at timestamptz,
      revoke_reason text
    )`.execute(db)
  await sql`CREATE INDEX sessions_user_idx ON sessions (user_id, created_at DESC)`.execute(db)

  // Refresh tokens are stored only as SHA-256 digests. Consumed rows stay until the session ends
  // so that presenting one again is recognised as reuse (RFC 9700 section 4.14).
  await sql`
    CREATE TABLE refresh_tokens (
      token_hash text PRIMARY KEY,
      session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      consumed_at timestamptz
    )`.execute(db)
  await sql`CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
