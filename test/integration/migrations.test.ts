import { type Kysely, Migrator, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../../src/config/config.schema.js'
import { loadConfig } from '../../src/config/load-config.js'
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { migrations } from '../../src/db/migrations/index.js'
import { migrateToLatest, pendingMigrations } from '../../src/db/migrator.js'
import type { Database } from '../../src/db/schema.js'
import { createKitsune, type Kitsune } from '../../src/kitsune.js'
import { TEST_SECRET_KEY } from '../helpers/build-test-app.js'
import { createPostgresDatabase, TEST_DATABASE_URL, testTargets } from '../helpers/test-targets.js'

const ALL_MIGRATIONS = Object.keys(migrations).sort()
const TABLES = ['refresh_tokens', 'roles', 'sessions', 'signing_keys', 'user_roles', 'users']
const silent = { info() {}, error() {} }

function configFor(env: Record<string, string>): Config {
  return loadConfig({
    NODE_ENV: 'test',
    SECRET_KEY: TEST_SECRET_KEY,
    LOG_LEVEL: 'silent',
    KITSUNE_DATA_DIR: '/nonexistent-kitsune-test-data',
    ...env,
  })
}

async function recordedMigrations(db: Kysely<Database>) {
  const result = await sql<{ name: string; n: string }>`
    SELECT name, count(*) AS n FROM kitsune_migration GROUP BY name ORDER BY name`.execute(db)
  return result.rows.map((row) => ({ name: row.name, n: Number(row.n) }))
}

async function existingTables(db: Kysely<Database>): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_name = ANY(${TABLES})
    ORDER BY table_name`.execute(db)
  return result.rows.map((row) => row.table_name)
}

describe.each(testTargets())('migrator on $name', (target) => {
  let handle: DatabaseHandle
  let drop: () => Promise<void>
  beforeAll(async () => {
    const provisioned = await target.provision()
    drop = provisioned.drop
    handle = await createDatabase(configFor(provisioned.env).database, silent)
  })
  afterAll(async () => {
    await handle?.close()
    await drop?.()
  })

  it('lists every migration as pending on an empty database', async () => {
    expect((await pendingMigrations(handle.db)).sort()).toEqual(ALL_MIGRATIONS)
  })

  it('applies every migration once, then has none pending and applies none again', async () => {
    expect((await migrateToLatest(handle.db)).sort()).toEqual(ALL_MIGRATIONS)
    expect(await pendingMigrations(handle.db)).toEqual([])
    expect(await migrateToLatest(handle.db)).toEqual([])
    expect(await existingTables(handle.db)).toEqual(TABLES)
    expect(await recordedMigrations(handle.db)).toEqual(ALL_MIGRATIONS.map((name) => ({ name, n: 1 })))
  })
})

describe.each(testTargets())('0007-audit-head on $name', (target) => {
  /** A database at migration 0006 with `seed` run on it, then migrated to the latest. */
  async function headAfterUpgrade(seed: (db: Kysely<Database>) => Promise<void>) {
    const provisioned = await target.provision()
    const handle = await createDatabase(configFor(provisioned.env).database, silent)
    try {
      const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0007'))
      const upTo0006 = await new Migrator({
        db: handle.db,
        provider: { getMigrations: async () => before },
        migrationTableName: 'kitsune_migration',
        migrationLockTableName: 'kitsune_migration_lock',
      }).migrateToLatest()
      expect(upTo0006.error).toBeUndefined()
      await seed(handle.db)
      expect(await migrateToLatest(handle.db)).toContain('0007-audit-head')
      return await handle.db.selectFrom('audit_head').selectAll().execute()
    } finally {
      await handle.close()
      await provisioned.drop()
    }
  }
  const entry = (seq: number, hash: string) => sql`
    INSERT INTO audit_logs (seq, id, at, action, metadata, prev_hash, hash) OVERRIDING SYSTEM VALUE
    VALUES (${seq}, gen_random_uuid(), now(), 'user.registered', '{}', '', ${hash})`

  it('starts the head at the newest existing entry', async () => {
    const head = await headAfterUpgrade(async (db) => {
      await entry(1, 'first').execute(db)
      await entry(2, 'second').execute(db)
    })
    expect(head).toEqual([{ id: 1, seq: '2', hash: 'second' }])
  })

  it('starts the head at the retention anchor when pruning emptied the log', async () => {
    const head = await headAfterUpgrade(async (db) => {
      await sql`INSERT INTO audit_anchor (id, seq, hash, pruned_at) VALUES (1, 7, 'anchor', now())`.execute(
        db,
      )
    })
    expect(head).toEqual([{ id: 1, seq: '7', hash: 'anchor' }])
  })

  it("starts the head empty ('') on a log that never had an entry", async () => {
    expect(await headAfterUpgrade(async () => {})).toEqual([{ id: 1, seq: null, hash: '' }])
  })
})

describe.skipIf(!TEST_DATABASE_URL)('concurrent start-up on PostgreSQL (needs TEST_DATABASE_URL)', () => {
  it('lets two migrators started at once both succeed, recording each migration once', async () => {
    const { url, drop } = await createPostgresDatabase()
    const config = configFor({ DATABASE_URL: url, DATABASE_POOL_MAX: '2' })
    const handles: DatabaseHandle[] = []
    try {
      handles.push(
        await createDatabase(config.database, silent),
        await createDatabase(config.database, silent),
      )
      const [a, b] = handles as [DatabaseHandle, DatabaseHandle]
      const [appliedA, appliedB] = await Promise.all([migrateToLatest(a.db), migrateToLatest(b.db)])

      // Exactly one of them did the work; neither applied a migration the other had applied.
      expect([...appliedA, ...appliedB].sort()).toEqual(ALL_MIGRATIONS)
      expect(await recordedMigrations(a.db)).toEqual(ALL_MIGRATIONS.map((name) => ({ name, n: 1 })))
      expect(await existingTables(b.db)).toEqual(TABLES)
      expect(await pendingMigrations(b.db)).toEqual([])
      const roles = await a.db.selectFrom('roles').select('name').orderBy('name').execute()
      expect(roles.map((r) => r.name)).toEqual(['admin', 'user'])
    } finally {
      for (const handle of handles) await handle.close()
      await drop()
    }
  })

  it('brings up two Kitsune instances started at once, sharing exactly one signing key per algorithm', async () => {
    const { url, drop } = await createPostgresDatabase()
    const config = configFor({ DATABASE_URL: url })
    const started = await Promise.allSettled([createKitsune(config), createKitsune(config)])
    const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
    try {
      expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'ok'))).toEqual(['ok', 'ok'])
      const [first, second] = instances as [Kitsune, Kitsune]
      const keys = await first.database.db.selectFrom('signing_keys').select(['kid', 'algorithm']).execute()
      // The access-token key and the RS256 ID-token key, each created once.
      expect(keys.map((key) => key.algorithm).sort()).toEqual(['EdDSA', 'RS256'])
      const accessKid = keys.find((key) => key.algorithm === 'EdDSA')?.kid
      expect(first.services.keys.current().kid).toBe(accessKid)
      expect(second.services.keys.current().kid).toBe(accessKid)
      expect(first.services.keys.jwks()).toEqual(second.services.keys.jwks())
      expect(await recordedMigrations(second.database.db)).toEqual(
        ALL_MIGRATIONS.map((name) => ({ name, n: 1 })),
      )
    } finally {
      for (const instance of instances) await instance.close()
      await drop()
    }
  })
})
