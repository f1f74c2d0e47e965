import { randomBytes } from 'node:crypto'
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../../src/config/config.schema.js'
import { loadConfig } from '../../src/config/load-config.js'
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrator.js'
import type { Database } from '../../src/db/schema.js'
import { createUserRepository } from '../../src/repositories/user.repository.js'
import { TEST_SECRET_KEY } from '../helpers/build-test-app.js'
import { TEST_DATABASE_URL, testTargets } from '../helpers/test-targets.js'

const silent = { info() {}, error() {} }
const TRGM_INDEXES = ['users_email_trgm_idx', 'users_full_name_trgm_idx']

function configFor(env: Record<string, string>): Config {
  return loadConfig({
    NODE_ENV: 'test',
    SECRET_KEY: TEST_SECRET_KEY,
    LOG_LEVEL: 'silent',
    KITSUNE_DATA_DIR: '/nonexistent-kitsune-test-data',
    ...env,
  })
}

async function trigramIndexes(db: Kysely<Database>): Promise<string[]> {
  const result = await sql<{ indexname: string }>`
    SELECT indexname FROM pg_indexes
    WHERE tablename = 'users' AND indexdef LIKE '%gin_trgm_ops%' ORDER BY indexname`.execute(db)
  return result.rows.map((row) => row.indexname)
}

async function seedUsers(db: Kysely<Database>, count: number): Promise<void> {
  await sql`
    INSERT INTO users (id, email, full_name, password_hash)
    SELECT gen_random_uuid(), 'person' || g || '@domain' || (g % 50) || '.example',
           'Person ' || g || ' Surname' || (g % 300), 'x'
    FROM generate_series(1, ${count}) AS g`.execute(db)
  await sql`ANALYZE users`.execute(db)
}

describe.each(testTargets())('admin search indexes on $name', (target) => {
  let handle: DatabaseHandle
  let drop: () => Promise<void>
  beforeAll(async () => {
    const provisioned = await target.provision()
    drop = provisioned.drop
    handle = await createDatabase(configFor(provisioned.env).database, silent)
    await migrateToLatest(handle.db)
  })
  afterAll(async () => {
    await handle?.close()
    await drop?.()
  })

  it('installs pg_trgm and indexes the e-mail and the full name with it', async () => {
    const installed = await sql<{ extname: string }>`
      SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'`.execute(handle.db)
    expect(installed.rows).toHaveLength(1)
    expect(await trigramIndexes(handle.db)).toEqual(TRGM_INDEXES)
  })

  it("serves the repository's search from both trigram indexes", async () => {
    await seedUsers(handle.db, 3000)
    const queries: CompiledQuery[] = []
    const capturing = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: handle.pool }),
      log: (event) => {
        queries.push(event.query)
      },
    })
    const found = await createUserRepository(capturing).list({ q: 'SURNAME17_', limit: 51 })
    expect(found).toEqual([])
    const [search] = queries
    if (!search) throw new Error('the search ran no query')
    const plan = await handle.db.transaction().execute(async (trx) => {
      // A table this small is cheaper to read whole, or along the primary key; the question here
      // is whether the trigram indexes can serve the filter (bench/search-explain.ts for 1M rows).
      await sql`SET LOCAL enable_seqscan = off`.execute(trx)
      await sql`SET LOCAL enable_indexscan = off`.execute(trx)
      const explained = await trx.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`EXPLAIN ${search.sql}`, [...search.parameters]),
      )
      return explained.rows.map((row) => row['QUERY PLAN']).join('\n')
    })
    for (const index of TRGM_INDEXES) expect(plan).toContain(`Bitmap Index Scan on ${index}`)
  })
})

describe('admin search on a PGlite without pg_trgm', () => {
  it('migrates without the indexes and still finds substrings', async () => {
    const { PGlite } = await import('@electric-sql/pglite')
    const { createPgConfig } = await import('@electric-sql/pglite/node-postgres')
    const pglite = await PGlite.create()
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ ...createPgConfig(pglite), max: 1 }) }),
    })
    try {
      expect(await migrateToLatest(db)).toContain('0008-user-search')
      expect(await trigramIndexes(db)).toEqual([])
      await seedUsers(db, 100)
      const found = await createUserRepository(db).list({ q: 'N 42 SURNAME4', limit: 10 })
      expect(found.map((user) => user.email)).toEqual(['person42@domain42.example'])
    } finally {
      await db.destroy()
      await pglite.close()
    }
  })
})

describe.skipIf(!TEST_DATABASE_URL)('the pg_trgm privilege on PostgreSQL (needs TEST_DATABASE_URL)', () => {
  const suffix = `${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const role = `kitsune_app_${suffix}`
  const databases: string[] = []

  const asSuperuser = async (statement: string, database?: string) => {
    const url = new URL(TEST_DATABASE_URL as string)
    if (database) url.pathname = `/${database}`
    const client = new pg.Client({ connectionString: url.toString() })
    await client.connect()
    try {
      await client.query(statement)
    } finally {
      await client.end()
    }
  }
  /** A database on the test server that `role` (no superuser) connects to. */
  const databaseFor = async (ownedByRole: boolean) => {
    const name = `kitsune_test_trgm_${databases.length}_${suffix}`
    await asSuperuser(`CREATE DATABASE ${name}${ownedByRole ? ` OWNER ${role}` : ''}`)
    databases.push(name)
    // Without ownership: tables may be created, the database itself grants nothing more.
    if (!ownedByRole) await asSuperuser(`GRANT CREATE ON SCHEMA public TO ${role}`, name)
    const url = new URL(TEST_DATABASE_URL as string)
    url.username = role
    url.password = ''
    url.pathname = `/${name}`
    return { name, config: configFor({ DATABASE_URL: url.toString() }) }
  }

  beforeAll(async () => {
    await asSuperuser(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`)
  })
  afterAll(async () => {
    for (const name of databases) await asSuperuser(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await asSuperuser(`DROP ROLE IF EXISTS ${role}`)
  })

  it("lets the database's owner, no superuser, install it and create the indexes", async () => {
    const { config } = await databaseFor(true)
    const handle = await createDatabase(config.database, silent)
    try {
      expect(await migrateToLatest(handle.db)).toContain('0008-user-search')
      expect(await trigramIndexes(handle.db)).toEqual(TRGM_INDEXES)
    } finally {
      await handle.close()
    }
  })

  it('stops a role without CREATE on the database with what to do, and goes on once it is installed', async () => {
    const { name, config } = await databaseFor(false)
    const handle = await createDatabase(config.database, silent)
    try {
      await expect(migrateToLatest(handle.db)).rejects.toThrow(
        /run CREATE EXTENSION pg_trgm in this database/,
      )
      await asSuperuser('CREATE EXTENSION pg_trgm', name)
      expect(await migrateToLatest(handle.db)).toContain('0008-user-search')
      expect(await trigramIndexes(handle.db)).toEqual(TRGM_INDEXES)
    } finally {
      await handle.close()
    }
  })
})
