import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

export async function up(db: Kysely<unknown>): Promise<void> {
  // Single-use tokens sent by e-mail (password reset, address verification), stored as SHA-256.
  await sql`
    CREATE TABLE email_tokens (
      token_hash text PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      purpose text NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz
    )`.execute(db)
  await sql`CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose) WHERE used_at IS NULL`.execute(
    db,
  )
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
