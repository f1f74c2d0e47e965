import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

// Change of e-mail address: two more kinds of e-mailed token, and the address each one concerns.
// - email_change: sent to the new address; using it makes `email` the account's address.
// - email_change_undo: sent to the old address; using it restores `email` (the address the account
//   had when the change was asked for) and ends every session.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE email_tokens DROP CONSTRAINT email_tokens_purpose_check`.execute(db)
  await sql`
    ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_purpose_check
      CHECK (purpose IN ('password_reset', 'email_verification', 'email_change', 'email_change_undo'))`.execute(
    db,
  )
  await sql`ALTER TABLE email_tokens ADD COLUMN email text`.execute(db)
  await sql`
    ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_email_check
      CHECK ((email IS NOT NULL) = (purpose IN ('email_change', 'email_change_undo')))`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
