import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import type { CompiledQuery, Kysely as KyselyInstance } from 'kysely'
import pg from 'pg'
import { Kysely, Migrator, PostgresDialect, sql } from '../src/db/kysely.js'
import { migrations } from '../src/db/migrations/index.js'
import { migrateToLatest } from '../src/db/migrator.js'
import type { Database } from '../src/db/schema.js'
import { createUserRepository } from '../src/repositories/user.repository.js'
import { BenchDatabase } from './infra.js'

const USAGE = `Usage: npx tsx bench/search-explain.ts [--users 1000000] [--runs 5]

The admin user search (GET /api/v1/admin/users?q=) at scale, on PostgreSQL. Creates a throwaway
database kitsune_bench_search_<random> on BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/postgres; the role needs CREATEDB), migrates it to just before
0008-user-search, loads --users users with generate_series, runs 0008 on the full table (timed:
what the upgrade costs), ANALYZEs, then prints EXPLAIN (ANALYZE, BUFFERS) of the repository's own
query for a few searches, with the median execution time of --runs runs, and the same median with
bitmap scans turned off (no trigram index). Drops the database at the end, Ctrl-C included.`

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const USERS = Number(values.users)
const RUNS = Number(values.runs)
if (!Number.isInteger(USERS) || USERS < 1000 || !Number.isInteger(RUNS) || RUNS < 1) {
  console.error(USAGE)
  process.exit(2)
}

const FIRST = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Tim']
/** Common surnames: each about 1 user in 100. */
const COMMON = Array.from({ length: 100 }, (_, i) => `Surname${String(i).padStart(2, '0')}`)
COMMON[7] = 'Hopper'
/** One user in 1000 gets one of these: each about 1 in 20,000. */
const RARE = ['Featherstonehaugh', 'Cholmondeley', 'Marjoribanks', 'Mainwaring', 'Wriothesley']
const COMPANIES = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'vandelay', 'wonka', 'stark']

/** Each search: what an operator types, and why it is in the list. */
const SEARCHES: Array<{ label: string; q: string }> = [
  { label: 'a domain fragment (one company of 800, ~1,250 users)', q: 'vandelay-042.' },
  { label: 'a rare surname (~200 users), in another case', q: 'featherSTONE' },
  { label: 'a common surname (~10,000 users)', q: 'hopper' },
  { label: 'a rare substring (a number in the middle of the e-mail)', q: '98765' },
  { label: 'a fragment every user matches', q: 'example' },
  // Shorter than a trigram: no index can narrow it, and with no match the whole table is read.
  { label: 'two letters no user has', q: 'qz' },
]

const log = (message: string) => console.log(`[search-explain] ${message}`)
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** Users with time-ordered ids (like UUIDv7: the newest has the greatest id), names and e-mails. */
async function loadUsers(db: KyselyInstance<Database>, count: number): Promise<void> {
  const first = sql.val(FIRST)
  const common = sql.val(COMMON)
  const rare = sql.val(RARE)
  const companies = sql.val(COMPANIES)
  await sql`
    INSERT INTO users (id, email, full_name, password_hash, created_at, updated_at, password_changed_at)
    SELECT
      (lpad(to_hex(1700000000000 + g * 10), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid,
      lower(fname) || '.' || lower(sname) || g || '@' || company || '-' || lpad((g % 100)::text, 3, '0') || '.example',
      fname || ' ' || sname,
      'bench-not-a-hash',
      now(), now(), now()
    FROM (
      SELECT g, md5(g::text) AS h,
        (${first}::text[])[(1 + g % 10)::int] AS fname,
        CASE WHEN g % 1000 = 999 THEN (${rare}::text[])[(1 + (g / 1000) % 5)::int]
             ELSE (${common}::text[])[(1 + (g * 7919) % 100)::int] END AS sname,
        (${companies}::text[])[(1 + (g / 100) % 8)::int] AS company
      FROM generate_series(1::bigint, ${count}::bigint) AS g
    ) AS generated`.execute(db)
  await sql`INSERT INTO user_roles (user_id, role_name) SELECT id, 'user' FROM users`.execute(db)
}

/** The SQL and parameters the repository sends for `q` (an admin's first page: 50 + 1 rows). */
async function searchQuery(pool: pg.Pool, q: string): Promise<CompiledQuery> {
  const queries: CompiledQuery[] = []
  const capturing = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      queries.push(event.query)
    },
  })
  await createUserRepository(capturing).list({ q, limit: 51 })
  const [query] = queries
  if (!query) throw new Error('the search ran no query')
  return query
}

async function explain(
  db: KyselyInstance<Database>,
  query: CompiledQuery,
  options: string,
  settings: string[] = [],
): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    for (const setting of settings) await sql.raw(`SET LOCAL ${setting}`).execute(trx)
    const result = await trx.executeQuery<{ 'QUERY PLAN': string }>({
      ...query,
      sql: `EXPLAIN (${options}) ${query.sql}`,
    })
    return result.rows.map((row) => row['QUERY PLAN'])
  })
}

const executionMs = (plan: string[]) =>
  Number(/Execution Time: ([\d.]+) ms/.exec(plan.join('\n'))?.[1] ?? Number.NaN)

async function medianMs(
  db: KyselyInstance<Database>,
  query: CompiledQuery,
  settings: string[] = [],
): Promise<number> {
  const times: number[] = []
  for (let run = 0; run < RUNS; run++)
    times.push(executionMs(await explain(db, query, 'ANALYZE, TIMING OFF', settings)))
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] as number
}

const database = await BenchDatabase.create(
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  `search_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`,
)
const pool = new pg.Pool({ connectionString: database.url, max: 2, application_name: 'kitsune-bench' })
const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
let closed = false
const cleanUp = async () => {
  if (closed) return
  closed = true
  await db.destroy().catch(() => {})
  await database.drop()
  log(`dropped ${database.name}`)
}
process.once('SIGINT', () => {
  void cleanUp().finally(() => process.exit(130))
})

try {
  const version = await sql<{ version: string }>`SELECT version()`.execute(db)
  log(`${version.rows[0]?.version}`)
  log(`database ${database.name}`)
  const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0008'))
  const upTo0007 = await new Migrator({
    db,
    provider: { getMigrations: async () => before },
    migrationTableName: 'kitsune_migration',
    migrationLockTableName: 'kitsune_migration_lock',
  }).migrateToLatest()
  if (upTo0007.error) throw upTo0007.error

  let started = performance.now()
  await loadUsers(db, USERS)
  log(
    `loaded ${USERS.toLocaleString('en')} users (and their user role) in ${seconds(performance.now() - started)}`,
  )

  started = performance.now()
  const applied = await migrateToLatest(db)
  log(
    `${applied.join(', ')} on the loaded table (extension + both GIN indexes) in ${seconds(performance.now() - started)}`,
  )

  started = performance.now()
  await sql`ANALYZE`.execute(db)
  log(`ANALYZE in ${seconds(performance.now() - started)}`)
  const sizes = await sql<{ name: string; size: string }>`
    SELECT c.relname AS name, pg_size_pretty(pg_relation_size(c.oid)) AS size FROM pg_class c
    WHERE c.relname IN ('users', 'users_pkey', 'users_email_key', 'users_email_trgm_idx', 'users_full_name_trgm_idx')
    ORDER BY c.relname`.execute(db)
  log(`sizes: ${sizes.rows.map((row) => `${row.name} ${row.size}`).join(', ')}`)

  const summary: string[] = []
  for (const search of SEARCHES) {
    const query = await searchQuery(pool, search.q)
    const matches = await sql<{ n: string }>`
      SELECT count(*) AS n FROM users WHERE email ILIKE ${`%${search.q}%`} OR full_name ILIKE ${`%${search.q}%`}`.execute(
      db,
    )
    const plan = await explain(db, query, 'ANALYZE, BUFFERS')
    console.log(`\n=== q=${JSON.stringify(search.q)}: ${search.label}; ${matches.rows[0]?.n} matching users`)
    console.log(plan.join('\n'))
    const indexed = await medianMs(db, query)
    const unindexed = await medianMs(db, query, ['enable_bitmapscan = off'])
    summary.push(
      `${JSON.stringify(search.q).padEnd(16)} ${String(matches.rows[0]?.n).padStart(8)} matches  ` +
        `median ${indexed.toFixed(2).padStart(8)} ms   without bitmap scans ${unindexed.toFixed(2).padStart(8)} ms`,
    )
  }
  console.log(
    `\n=== Median execution time of ${RUNS} runs (first page, LIMIT 51), ${USERS.toLocaleString('en')} users`,
  )
  console.log(summary.join('\n'))
} finally {
  await cleanUp()
}
