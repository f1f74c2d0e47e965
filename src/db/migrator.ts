import type { Kysely, Migration, MigrationResultSet } from 'kysely'
import { Migrator, sql } from './kysely.js'
import { migrations as knownMigrations } from './migrations/index.js'
import type { Database } from './schema.js'

const MIGRATION_TABLE = 'kitsune_migration'
const LOCK_TABLE = 'kitsune_migration_lock'

/**
 * A migration that a newer release applied. It stands in for the real one so Kysely's Migrator,
 * which refuses a database holding a migration it was not given, lets this release run beside
 * the newer one during a rolling upgrade. It is never run: it is already applied.
 */
const appliedByNewerRelease: Migration = {
  async up() {
    throw new Error('a newer release applies this migration, not this one')
  },
}

/** The database does not match this code's migrations in a way no rolling upgrade explains. */
export class MigrationMismatch extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MigrationMismatch'
  }
}

interface MigrationState {
  /** Applied names this code does not know, all sorting after its own last migration. */
  readonly newer: string[]
}

/** Names recorded in the migration table; none before the first migration ever ran. */
async function appliedNames(db: Kysely<Database>): Promise<string[]> {
  const table = await sql<{ exists: boolean }>`
    SELECT to_regclass(${MIGRATION_TABLE}) IS NOT NULL AS exists`.execute(db)
  if (!table.rows[0]?.exists) return []
  const rows = await sql<{ name: string }>`SELECT name FROM kitsune_migration ORDER BY name`.execute(db)
  return rows.rows.map((row) => row.name)
}

/**
 * Compares the applied migrations with this code's. Every migration is backwards compatible with
 * the release before it (docs/operations.md §5), so a database a newer release has migrated is one
 * this release may still run on: its extra migrations sort after all of ours, and all of ours are
 * applied. Anything else means the database and the code come from different histories.
 */
function classify(applied: readonly string[], known: readonly string[]): MigrationState {
  const knownSet = new Set(known)
  const last = known.at(-1) ?? ''
  const unknown = applied.filter((name) => !knownSet.has(name))
  const older = unknown.filter((name) => name < last)
  if (older.length > 0) {
    const first = known.find((name) => name > (older[0] as string)) ?? last
    throw new MigrationMismatch(
      `the database has migration ${older.join(', ')} applied, which this version does not know and which sorts before its own ${first}: the database and this code come from different histories`,
    )
  }
  const newer = unknown.filter((name) => name > last)
  if (newer.length > 0) {
    const appliedSet = new Set(applied)
    const missing = known.filter((name) => !appliedSet.has(name))
    if (missing.length > 0) {
      throw new MigrationMismatch(
        `migration ${missing.join(', ')} is not applied, but the newer ${newer[0]} is: applying it now would run it out of order`,
      )
    }
  }
  return { newer }
}

function createMigrator(db: Kysely<Database>, newer: readonly string[]): Migrator {
  const all: Record<string, Migration> = { ...knownMigrations }
  for (const name of newer) all[name] = appliedByNewerRelease
  return new Migrator({
    db,
    provider: { getMigrations: async () => all },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: LOCK_TABLE,
  })
}

const KNOWN = Object.keys(knownMigrations).sort()

/**
 * Applies pending migrations. Kysely's PostgreSQL adapter runs them in one transaction holding an
 * advisory lock, so instances starting together wait for each other instead of racing. Migrations
 * a newer release applied are tolerated (an instance of this release restarting during a rolling
 * upgrade must start); they are neither run nor reported.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  // The applied list is read before the lock is taken. A newer release migrating in between makes
  // the Migrator see a name it was not given: read again and retry, which then finds it.
  for (let attempt = 1; ; attempt++) {
    const applied = await appliedNames(db)
    const { newer } = classify(applied, KNOWN)
    const result: MigrationResultSet = await createMigrator(db, newer).migrateToLatest()
    if (!result.error) {
      return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
    }
    const failed = result.results?.find((r) => r.status === 'Error')
    if (!failed && attempt < 3) {
      const now = await appliedNames(db).catch(() => applied)
      if (now.some((name) => !applied.includes(name))) continue
    }
    const reason = result.error instanceof Error ? result.error.message : String(result.error)
    throw new Error(`migration ${failed?.migrationName ?? '(none)'} failed: ${reason}`, {
      cause: result.error,
    })
  }
}

/**
 * Names of migrations that exist in the code but are not applied (readiness check). Migrations of
 * a newer release are not this code's: see newerMigrations.
 */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const applied = new Set(await appliedNames(db))
  return KNOWN.filter((name) => !applied.has(name))
}

/**
 * Applied migrations this code does not know and that sort after all of its own: a newer release
 * has migrated the database (normal during a rolling upgrade; after a rollback it says the schema
 * is ahead of the code). Throws MigrationMismatch when the database and the code disagree otherwise.
 */
export async function newerMigrations(db: Kysely<Database>): Promise<string[]> {
  return classify(await appliedNames(db), KNOWN).newer
}
