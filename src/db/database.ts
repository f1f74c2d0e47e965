import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import type { LogEvent } from 'kysely'
import pg from 'pg'
import type { DatabaseConfig } from '../config/config.schema.js'
import { Kysely, PostgresDialect, sql } from './kysely.js'
import type { Database } from './schema.js'

export interface DatabaseLogger {
  info(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface DatabaseHandle {
  readonly db: Kysely<Database>
  readonly kind: DatabaseConfig['kind']
  /** The pg pool (also for PGlite, through its adapter): gauges read it. */
  readonly pool: pg.Pool
  /** Runs `SELECT 1`, rejecting after timeoutMs. */
  ping(timeoutMs: number): Promise<void>
  close(): Promise<void>
}

/**
 * A connection that breaks (the server crashed, failed over or was restarted) makes its pg client
 * emit 'error'. The pool listens only while a client is idle in it; a client checked out by a
 * transaction that is waiting between statements has no listener of its own, and an 'error' event
 * without one is an uncaught exception that would end the process. So every client gets a listener
 * when it connects. The failed statement, if any, rejects on its own (→ 503), and the pool drops
 * the dead client when it is released.
 */
function watchConnections(pool: pg.Pool, logger: DatabaseLogger): void {
  const lost = (error: Error) =>
    logger.error(
      { err: { message: error.message, code: (error as { code?: string }).code } },
      'database connection lost',
    )
  pool.on('connect', (client) => client.on('error', lost))
  // Idle clients report through the pool as well as through their own listener: log once.
  pool.on('error', () => {})
}

/**
 * The one place a dialect is chosen. PGlite is PostgreSQL compiled to WebAssembly; through its
 * node-postgres adapter it feeds the stock PostgresDialect, so both paths run the same SQL.
 */
export async function createDatabase(
  config: DatabaseConfig,
  logger: DatabaseLogger,
  onQuery?: (seconds: number, failed: boolean) => void,
): Promise<DatabaseHandle> {
  let pglite: PGlite | undefined
  let releaseLock = () => {}
  let pool: pg.Pool
  if (config.kind === 'postgres') {
    pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolMax,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      application_name: 'kitsune',
    })
  } else {
    // Loaded only when used: a PostgreSQL deployment never pays for the WebAssembly build.
    const { PGlite } = await import('@electric-sql/pglite')
    const { createPgConfig } = await import('@electric-sql/pglite/node-postgres')
    // pg_trgm backs the admin user search's indexes, as on PostgreSQL (migration 0008).
    const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm')
    const extensions = { pg_trgm }
    const dataDir = config.pgliteDataDir ?? 'memory'
    if (dataDir === 'memory') {
      pglite = await PGlite.create({ extensions })
    } else {
      mkdirSync(dataDir, { recursive: true })
      releaseLock = lockDataDir(dataDir)
      try {
        pglite = await PGlite.create(dataDir, { extensions })
      } catch (error) {
        releaseLock()
        throw error
      }
    }
    pool = new pg.Pool({ ...createPgConfig(pglite), max: 1 })
  }
  watchConnections(pool, logger)

  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log:
      config.logQueries || onQuery
        ? (event: LogEvent) => {
            onQuery?.(event.queryDurationMillis / 1000, event.level === 'error')
            // Statements only: parameters can carry personal data and secrets.
            if (config.logQueries) {
              logger.info(
                {
                  sql: event.query.sql,
                  duration_ms: event.queryDurationMillis,
                  failed: event.level === 'error',
                },
                'query',
              )
            }
          }
        : undefined,
  })

  let closed = false
  return {
    db,
    kind: config.kind,
    pool,
    async ping(timeoutMs) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('database ping timed out')), timeoutMs)
      })
      const query = sql`SELECT 1`.execute(db)
      // A query that fails after the timeout won the race has nobody waiting for it.
      query.catch(() => {})
      try {
        await Promise.race([query, timeout])
      } finally {
        clearTimeout(timer)
      }
    },
    async close() {
      if (closed) return
      closed = true
      await db.destroy()
      await pglite?.close()
      releaseLock()
    },
  }
}

/** A second process opening the same embedded database at once (a CLI while `serve` runs). */
export class DataDirInUse extends Error {
  constructor(dataDir: string, pid: number) {
    super(
      `the embedded database in ${dataDir} is in use by another Kitsune process (pid ${pid}): stop it first, or use the admin API while it runs`,
    )
    this.name = 'DataDirInUse'
  }
}

/**
 * PGlite is one process's database: two processes writing one directory corrupt it. A lock file
 * holding the owner's pid keeps a second one out; a lock left by a process that is gone is taken.
 */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, 'kitsune.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(path, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const pid = Number(readFileSync(path, 'utf8').trim())
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) throw new DataDirInUse(dataDir, pid)
      rmSync(path, { force: true })
    }
  }
  throw new Error(`could not lock ${dataDir}`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
