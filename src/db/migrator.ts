import type { Kysely, MigrationResultSet } from 'kysely'
import { Migrator } from './kysely.js'
import { migrations } from './migrations/index.js'
import type { Database } from './schema.js'

function createMigrator(db: Kysely<Database>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'kitsune_migration',
    migrationLockTableName: 'kitsune_migration_lock',
  })
}

/**
 * Applies pending migrations. Kysely's PostgreSQL adapter runs them in one transaction holding an
 * advisory lock, so instances starting together wait for each other instead of racing.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const result: MigrationResultSet = await createMigrator(db).migrateToLatest()
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')
    const reason = result.error instanceof Error ? result.error.message : String(result.error)
    throw new Error(`migration ${failed?.migrationName ?? '(none)'} failed: ${reason}`, {
      cause: result.error,
    })
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

/** Names of migrations that exist in the code but are not applied (readiness check). */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const all = await createMigrator(db).getMigrations()
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name)
}
