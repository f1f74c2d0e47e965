import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { sql } from '../../src/db/kysely.js'
import { migrations } from '../../src/db/migrations/index.js'
import {
  MigrationMismatch,
  migrateToLatest,
  newerMigrations,
  pendingMigrations,
} from '../../src/db/migrator.js'
import { buildTestApp, TEST_SECRET_KEY } from '../helpers/build-test-app.js'
import { cliTargets } from '../helpers/cli-process.js'
import {
  createPostgresDatabase,
  pgliteTarget,
  TEST_DATABASE_URL,
  testTargets,
} from '../helpers/test-targets.js'

const KNOWN = Object.keys(migrations).sort()
const LAST = KNOWN.at(-1) as string
const silent = { info() {}, error() {} }

function databaseConfig(env: Record<string, string>) {
  return loadConfig({
    NODE_ENV: 'test',
    SECRET_KEY: TEST_SECRET_KEY,
    LOG_LEVEL: 'silent',
    KITSUNE_DATA_DIR: '/nonexistent-kitsune-test-data',
    ...env,
  }).database
}

async function recorded(handle: DatabaseHandle): Promise<string[]> {
  const rows = await sql<{ name: string }>`SELECT name FROM kitsune_migration ORDER BY name`.execute(
    handle.db,
  )
  return rows.rows.map((row) => row.name)
}

/** Records a migration as applied, as another release's migrator would (a later timestamp). */
async function record(handle: DatabaseHandle, name: string): Promise<void> {
  await sql`INSERT INTO kitsune_migration (name, timestamp) VALUES (${name}, ${new Date().toISOString()})`.execute(
    handle.db,
  )
}

describe.each(testTargets())('migrator beside a newer release on $name', (target) => {
  let handle: DatabaseHandle
  let drop: () => Promise<void>
  let original: Array<{ name: string; timestamp: string }>

  beforeAll(async () => {
    const provisioned = await target.provision()
    drop = provisioned.drop
    handle = await createDatabase(databaseConfig(provisioned.env), silent)
    expect(await newerMigrations(handle.db)).toEqual([])
    expect((await migrateToLatest(handle.db)).sort()).toEqual(KNOWN)
    original = (
      await sql<{ name: string; timestamp: string }>`SELECT name, timestamp FROM kitsune_migration`.execute(
        handle.db,
      )
    ).rows
  })
  afterAll(async () => {
    await handle?.close()
    await drop?.()
  })
  // Each case starts from the fully migrated table this code wrote.
  afterEach(async () => {
    await sql`DELETE FROM kitsune_migration`.execute(handle.db)
    for (const row of original) {
      await sql`INSERT INTO kitsune_migration (name, timestamp) VALUES (${row.name}, ${row.timestamp})`.execute(
        handle.db,
      )
    }
  })

  it('starts on a database a newer release migrated, applying and reporting nothing', async () => {
    await record(handle, '0016-newer-column')
    await record(handle, '0017-newer-table')

    expect(await migrateToLatest(handle.db)).toEqual([])
    expect(await pendingMigrations(handle.db)).toEqual([])
    expect(await newerMigrations(handle.db)).toEqual(['0016-newer-column', '0017-newer-table'])
    // Nothing was recorded for the placeholders or re-run of its own.
    expect(await recorded(handle)).toEqual([...KNOWN, '0016-newer-column', '0017-newer-table'])
  })

  it('refuses an unknown applied migration that sorts before one of its own', async () => {
    await record(handle, '0009-from-another-line')

    const failure = migrateToLatest(handle.db)
    await expect(failure).rejects.toBeInstanceOf(MigrationMismatch)
    await expect(failure).rejects.toThrow(/0009-from-another-line .*before its own 0010-oidc-clients/)
    await expect(newerMigrations(handle.db)).rejects.toThrow(/0009-from-another-line/)
    expect(await recorded(handle)).toEqual([...KNOWN, '0009-from-another-line'].sort())
  })

  it('refuses to apply one of its own migrations below a newer applied one (out of order)', async () => {
    await sql`DELETE FROM kitsune_migration WHERE name = ${LAST}`.execute(handle.db)
    await record(handle, '0016-newer-column')

    await expect(migrateToLatest(handle.db)).rejects.toThrow(
      new RegExp(`migration ${LAST} is not applied, but the newer 0016-newer-column is`),
    )
    expect(await pendingMigrations(handle.db)).toEqual([LAST])
    expect(await recorded(handle)).not.toContain(LAST)
  })

  it('still refuses a gap among its own migrations when no newer one is applied', async () => {
    const middle = KNOWN[3] as string
    await sql`DELETE FROM kitsune_migration WHERE name = ${middle}`.execute(handle.db)

    await expect(migrateToLatest(handle.db)).rejects.toThrow(/corrupted migrations/)
    expect(await newerMigrations(handle.db)).toEqual([])
    expect(await pendingMigrations(handle.db)).toEqual([middle])
  })
})

describe.each(testTargets())('migrator on an empty database on $name', (target) => {
  it('names no newer migrations and every one of its own as pending before the table exists', async () => {
    const provisioned = await target.provision()
    const handle = await createDatabase(databaseConfig(provisioned.env), silent)
    try {
      expect(await newerMigrations(handle.db)).toEqual([])
      expect(await pendingMigrations(handle.db)).toEqual(KNOWN)
    } finally {
      await handle.close()
      await provisioned.drop()
    }
  })
})

// Kysely's PostgreSQL adapter takes this session-level advisory lock around a migration run.
const KYSELY_MIGRATION_LOCK = '3853314791062309107'

describe.skipIf(!TEST_DATABASE_URL)(
  'a newer release migrating while this one waits (needs TEST_DATABASE_URL)',
  () => {
    it('reads the applied migrations again and starts', async () => {
      const { url, drop } = await createPostgresDatabase()
      const handle = await createDatabase(databaseConfig({ DATABASE_URL: url }), silent)
      const newer = new pg.Client({ connectionString: url })
      try {
        await migrateToLatest(handle.db)
        await newer.connect()
        // The newer release holds the lock, as if it were migrating.
        await newer.query(`SELECT pg_advisory_lock(${KYSELY_MIGRATION_LOCK})`)
        const starting = migrateToLatest(handle.db)
        // Once this release waits for the lock, it has read the applied list already.
        for (let i = 0; i < 200; i++) {
          const waiting = await newer.query(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
          )
          if (waiting.rowCount) break
          await new Promise((resolve) => setTimeout(resolve, 25))
        }
        await newer.query('INSERT INTO kitsune_migration (name, timestamp) VALUES ($1, $2)', [
          '0016-newer-column',
          new Date().toISOString(),
        ])
        await newer.query(`SELECT pg_advisory_unlock(${KYSELY_MIGRATION_LOCK})`)

        expect(await starting).toEqual([])
        expect(await newerMigrations(handle.db)).toEqual(['0016-newer-column'])
      } finally {
        await newer.end().catch(() => {})
        await handle.close()
        await drop()
      }
    })
  },
)

describe.each(cliTargets)('an instance restarting after a newer release migrated ($name)', (target) => {
  it('starts, serves and reports ready, naming the newer migrations nowhere as pending', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kitsune-newer-'))
    const database = await target.provision(dir)
    try {
      const handle = await createDatabase(databaseConfig({ DATABASE_URL: database.url }), silent)
      try {
        await migrateToLatest(handle.db)
        await record(handle, '0016-newer-column')
      } finally {
        await handle.close()
      }
      const provisioned = { env: { DATABASE_URL: database.url }, drop: async () => {} }
      const t = await buildTestApp({ target: pgliteTarget, provisioned })
      try {
        const ready = await t.inject({ method: 'GET', url: '/health/ready' })
        expect(ready.statusCode).toBe(200)
        expect(ready.json()).toMatchObject({ status: 'ok', checks: { migrations: 'ok' } })
        const registered = await t.inject({
          method: 'POST',
          url: '/api/v1/auth/register',
          payload: { email: 'beside-newer@example.com', password: 'pw long enough 1' },
        })
        expect(registered.statusCode).toBe(201)
        expect(t.logs.filter((line) => line.msg === 'migrations applied')).toEqual([])
      } finally {
        await t.close()
      }
    } finally {
      await database.drop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
