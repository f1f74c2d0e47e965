import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

export async function up(db: Kysely<unknown>): Promise<void> {
  // One TOTP factor per user; the secret is encrypted with SECRET_KEY. last_used_step stops a
  // code from being accepted twice (RFC 6238 section 5.2).
  await sql`
    CREATE TABLE mfa_totp (
      user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
      secret_enc text NOT NULL,
      created_at timestamptz NOT NULL,
      confirmed_at timestamptz,
      last_used_step bigint
    )`.execute(db)
  await sql`
    CREATE TABLE mfa_recovery_codes (
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      code_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      used_at timestamptz,
      PRIMARY KEY (user_id, code_hash)
    )`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
