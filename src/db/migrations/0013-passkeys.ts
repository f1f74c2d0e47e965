import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

// Passkeys (WebAuthn credentials), any number per user. The credential id and COSE public key are
// kept base64url-encoded (the same text on PostgreSQL and PGlite). sign_count is the authenticator's
// signature counter: an assertion whose counter does not move past it is refused (a cloned
// authenticator). backup_eligible / backed_up are the BE and BS flags (a synced passkey).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE passkeys (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      credential_id text NOT NULL,
      public_key text NOT NULL,
      sign_count bigint NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
      transports text[] NOT NULL DEFAULT '{}',
      aaguid uuid NOT NULL,
      backup_eligible boolean NOT NULL,
      backed_up boolean NOT NULL,
      user_verified boolean NOT NULL,
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
      created_at timestamptz NOT NULL,
      last_used_at timestamptz
    )`.execute(db)
  await sql`CREATE UNIQUE INDEX passkeys_credential_id ON passkeys (credential_id)`.execute(db)
  await sql`CREATE INDEX passkeys_user ON passkeys (user_id, created_at)`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
