import { randomBytes } from 'node:crypto'
import pg from 'pg'

/**
 * Where a suite runs: always the embedded PGlite with the in-process store; also PostgreSQL with
 * Redis when TEST_DATABASE_URL and TEST_REDIS_URL are set (CI sets both).
 */
export interface TestTarget {
  readonly name: 'pglite' | 'postgres'
  /** Creates a fresh, empty database (and Redis key prefix) for one suite. */
  provision(): Promise<ProvisionedTarget>
}

export interface ProvisionedTarget {
  readonly env: Record<string, string>
  /** Drops the database; the Redis keys carry the suite's own prefix and expire by themselves. */
  drop(): Promise<void>
}

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL

export const pgliteTarget: TestTarget = {
  name: 'pglite',
  async provision() {
    return { env: { DATABASE_URL: 'pglite://memory' }, drop: async () => {} }
  },
}

export const postgresTarget: TestTarget = {
  name: 'postgres',
  async provision() {
    const { url, drop } = await createPostgresDatabase()
    const env: Record<string, string> = { DATABASE_URL: url }
    if (TEST_REDIS_URL) {
      env.REDIS_URL = TEST_REDIS_URL
      env.REDIS_KEY_PREFIX = `kitsune-test:${randomBytes(6).toString('hex')}:`
    }
    return { env, drop }
  },
}

export function testTargets(): TestTarget[] {
  return TEST_DATABASE_URL ? [pgliteTarget, postgresTarget] : [pgliteTarget]
}

/** A uniquely named database on the PostgreSQL server of TEST_DATABASE_URL, dropped afterwards. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set')
  const name = `kitsune_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
      await client.connect()
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await client.end()
      }
    },
  }
}
