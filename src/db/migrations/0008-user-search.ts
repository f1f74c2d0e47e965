import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

// Admin search matches a case-insensitive substring of the e-mail or the full name
// (`ILIKE '%…%'`), which no B-tree can serve; pg_trgm's GIN operator class can. pg_trgm is a
// contrib extension and "trusted" since PostgreSQL 13: a role with CREATE on the database (its
// owner, for one) may install it without being a superuser. Where the server does not offer it at
// all, the search still works, unindexed, and this migration creates nothing.
export async function up(db: Kysely<unknown>): Promise<void> {
  const offered = await sql<{ installed_version: string | null }>`
    SELECT installed_version FROM pg_available_extensions WHERE name = 'pg_trgm'`.execute(db)
  const extension = offered.rows[0]
  if (!extension) return
  if (extension.installed_version === null) {
    try {
      await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db)
    } catch (error) {
      if ((error as { code?: string }).code !== '42501') throw error
      throw new Error(
        'creating the pg_trgm extension needs CREATE on the database (its owner has it); ' +
          'have the owner or a superuser run CREATE EXTENSION pg_trgm in this database, then start again',
        { cause: error },
      )
    }
  }
  // The operator class lives in whichever schema the extension was installed in.
  const located = await sql<{ schema: string }>`
    SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm'`.execute(db)
  const ops = sql.id(located.rows[0]?.schema ?? 'public', 'gin_trgm_ops')
  await sql`CREATE INDEX users_email_trgm_idx ON users USING gin (email ${ops})`.execute(db)
  await sql`CREATE INDEX users_full_name_trgm_idx ON users USING gin (full_name ${ops})`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
