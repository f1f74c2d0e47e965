import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase } from '../../src/db/database.js'
import { sql } from '../../src/db/kysely.js'
import { isDependencyDown } from '../../src/errors/app-error.js'
import {
  type CliProcess,
  cliEnv,
  freePort,
  type HttpResult,
  http,
  killAllCli,
  startCli,
  waitUntilReady,
} from '../helpers/cli-process.js'
import {
  postgresBinDir,
  startThrowawayPostgres,
  type ThrowawayPostgres,
} from '../helpers/throwaway-postgres.js'
import { HAS_REDIS_SERVER, startRedis, stopRedis } from '../helpers/throwaway-redis.js'

/**
 * A dependency that crashes (SIGKILL, as a host crash or a failover looks) must not take Kitsune
 * down: requests that need it answer 503 while it is gone, /health/ready says so, service comes
 * back by itself once it returns, and nothing is half-written. Kitsune runs as a real process
 * (`kitsune serve`) against a PostgreSQL cluster and a redis-server of this file's own; the
 * machine's shared servers are never touched.
 */
const ADMIN = { email: 'crash-admin@example.com', password: 'crash admin password 1' }
const PASSWORD = 'load password 12345'
const WORKERS = 6
const RECOVERY_DEADLINE_MS = 30_000

interface Outcome {
  readonly route: string
  readonly status: number
  readonly startedAt: number
  readonly error?: string
}

/**
 * Users registering, logging in, refreshing and reading their profile in a loop, as `WORKERS`
 * clients would, until stop() is called. Each response is recorded; status 0 means no HTTP answer
 * at all (the process is gone or refused the connection).
 */
function startLoad(base: string) {
  const outcomes: Outcome[] = []
  let running = true
  let sequence = 0
  const run = randomBytes(4).toString('hex')
  const call = async (route: string, path: string, options: Parameters<typeof http>[1]) => {
    const startedAt = Date.now()
    try {
      const response = await http(`${base}${path}`, options)
      outcomes.push({ route, status: response.status, startedAt })
      return response
    } catch (error) {
      outcomes.push({ route, status: 0, startedAt, error: (error as Error).message })
      return undefined
    }
  }
  const ok = (response: HttpResult | undefined, status: number) => response?.status === status
  const client = async (worker: number) => {
    while (running) {
      const email = `load-${run}-${worker}-${sequence++}@example.com`
      if (
        !ok(
          await call('register', '/api/v1/auth/register', {
            method: 'POST',
            body: { email, password: PASSWORD },
          }),
          201,
        )
      )
        continue
      const login = await call('login', '/api/v1/auth/login', {
        method: 'POST',
        body: { email, password: PASSWORD },
      })
      if (!ok(login, 200)) continue
      let tokens = login?.json<{ access_token: string; refresh_token: string }>()
      for (let round = 0; round < 4 && running && tokens; round++) {
        await call('me', '/api/v1/users/me', { headers: { authorization: `Bearer ${tokens.access_token}` } })
        const refresh = await call('refresh', '/api/v1/auth/refresh', {
          method: 'POST',
          body: { refresh_token: tokens.refresh_token },
        })
        tokens = ok(refresh, 200) ? refresh?.json() : undefined
      }
    }
  }
  const clients = Array.from({ length: WORKERS }, (_, worker) => client(worker))
  return {
    outcomes,
    async stop() {
      running = false
      await Promise.all(clients)
    },
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function readiness(base: string) {
  return http(`${base}/health/ready`).then(
    (r) => ({ status: r.status, checks: r.json<{ checks: Record<string, string> }>().checks }),
    () => ({ status: 0, checks: {} as Record<string, string> }),
  )
}

/** Polls /health/ready until `done` holds; returns the milliseconds it took. */
async function waitForReadiness(
  base: string,
  done: (r: Awaited<ReturnType<typeof readiness>>) => boolean,
  deadlineMs = RECOVERY_DEADLINE_MS,
): Promise<number> {
  const started = Date.now()
  while (Date.now() - started < deadlineMs) {
    if (done(await readiness(base))) return Date.now() - started
    await sleep(100)
  }
  throw new Error(
    `/health/ready did not change within ${deadlineMs} ms: ${JSON.stringify(await readiness(base))}`,
  )
}

function summary(outcomes: readonly Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const o of outcomes) counts[`${o.route} ${o.status}`] = (counts[`${o.route} ${o.status}`] ?? 0) + 1
  return counts
}

/** The database after the dust settles: every change whole, the chain intact. */
async function expectNothingHalfWritten(url: string, base: string) {
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  try {
    const one = async (text: string) => Number((await db.query(text)).rows[0].n)
    expect(await one('SELECT count(*) AS n FROM users')).toBeGreaterThan(1)
    // Every user has the audit entry of its creation, and every such entry its user.
    expect(
      await one(`SELECT count(*) AS n FROM users u WHERE NOT EXISTS (SELECT 1 FROM audit_logs a
        WHERE a.action IN ('user.registered', 'user.created') AND a.target_id = u.id::text)`),
    ).toBe(0)
    expect(
      await one(`SELECT count(*) AS n FROM audit_logs a WHERE a.action = 'user.registered'
        AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id::text = a.target_id)`),
    ).toBe(0)
    expect(
      await one(
        'SELECT count(*) AS n FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id)',
      ),
    ).toBe(0)
    expect(
      await one(`SELECT count(*) AS n FROM refresh_tokens t
        WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = t.session_id)`),
    ).toBe(0)
  } finally {
    await db.end()
  }
  const login = await http(`${base}/api/v1/auth/login`, { method: 'POST', body: ADMIN })
  expect(login.status).toBe(200)
  const verify = await http(`${base}/api/v1/admin/audit-logs/verify`, {
    headers: { authorization: `Bearer ${login.json<{ access_token: string }>().access_token}` },
  })
  expect(verify.status).toBe(200)
  expect(verify.json()).toMatchObject({ ok: true })
}

/** No answer may be a 5xx other than 503, and every request got an HTTP answer. */
function expectOnlyCleanFailures(outcomes: readonly Outcome[], process: CliProcess) {
  const broken = outcomes.filter((o) => o.status === 0 || (o.status >= 500 && o.status !== 503))
  const errors = process
    .stdout()
    .split('\n')
    .filter(
      (line) =>
        /"level":"(error|fatal)"/.test(line) && /"msg":"(unhandled error|unexpected error)/.test(line),
    )
  expect(broken, `${JSON.stringify(summary(outcomes))}\n${errors.join('\n')}`).toEqual([])
}

const HAS_POSTGRES_BINARIES = postgresBinDir() !== undefined

describe.skipIf(!HAS_POSTGRES_BINARIES)(
  'a dependency crashing under load (needs the PostgreSQL server binaries and redis-server)',
  () => {
    let postgres: ThrowawayPostgres
    let dir: string
    afterAll(async () => {
      killAllCli()
      await postgres?.destroy()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kitsune-crash-'))
      postgres = await startThrowawayPostgres()
    })

    it('a transaction waiting between statements when PostgreSQL dies fails as "dependency down", and nothing escapes', async () => {
      const logged: string[] = []
      const logger = { info: () => {}, error: (_: object, msg: string) => logged.push(msg) }
      const database = await createDatabase(
        { kind: 'postgres', url: postgres.url, pgliteDataDir: undefined, poolMax: 2, logQueries: false },
        logger,
      )
      try {
        let crashed: () => void = () => {}
        const serverGone = new Promise<void>((resolve) => {
          crashed = resolve
        })
        let begun: () => void = () => {}
        const inTransaction = new Promise<void>((resolve) => {
          begun = resolve
        })
        const failure = database.db
          .transaction()
          .execute(async (trx) => {
            await sql`SELECT 1`.execute(trx)
            begun()
            // The connection is checked out and idle in its transaction when the server dies:
            // its 'error' event arrives with no statement running.
            await serverGone
            await sql`SELECT 2`.execute(trx)
          })
          .then(
            () => undefined,
            (e: unknown) => e,
          )
        await inTransaction
        await postgres.crash()
        await sleep(500)
        crashed()
        const error = await failure
        expect(error).toBeDefined()
        expect(isDependencyDown(error)).toBe(true)
        expect(logged).toContain('database connection lost')
        await expect(database.ping(1000)).rejects.toSatisfy(isDependencyDown)

        await postgres.start()
        // The pool drops the dead connection and opens a fresh one.
        await database.ping(5000)
      } finally {
        await database.close()
      }
    })

    const serve = async (extra: Record<string, string>) => {
      const port = await freePort()
      const base = `http://127.0.0.1:${port}`
      const process = startCli(
        ['serve'],
        cliEnv(dir, {
          DATABASE_URL: postgres.url,
          HOST: '127.0.0.1',
          PORT: String(port),
          PUBLIC_URL: base,
          ADMIN_EMAIL: ADMIN.email,
          ADMIN_PASSWORD: ADMIN.password,
          // Limits on (their counters are among the checks that must not be skipped), but wide.
          RATE_LIMIT_GLOBAL: '100000/1m',
          RATE_LIMIT_LOGIN: '100000/1m',
          RATE_LIMIT_REGISTER: '100000/1m',
          RATE_LIMIT_REFRESH: '100000/1m',
          LOG_LEVEL: 'info',
          ...extra,
        }),
      )
      await waitUntilReady(`${base}/health/ready`, process)
      return { base, process }
    }
    const expectStillRunning = (process: CliProcess) => {
      expect(process.child.exitCode, process.stdout()).toBeNull()
      expect(process.child.signalCode).toBeNull()
      expect(process.stdout()).not.toMatch(/shutting down|unexpected error/)
    }

    /**
     * Load on `base`, then `crash()` the dependency; once /health/ready reports it `down`, keep the
     * load going, `restart()` it, wait for readiness, and keep going a little more. Checks that the
     * process stayed up and answered nothing but successes and 503s throughout; returns the
     * outcomes started during the outage and after the restart for the caller's own checks.
     */
    const crashUnderLoad = async (
      process: CliProcess,
      base: string,
      dependency: 'database' | 'redis',
      crash: () => Promise<void>,
      restart: () => Promise<void>,
    ) => {
      const load = startLoad(base)
      await sleep(2000)
      await crash()
      const crashedAt = Date.now()
      await waitForReadiness(base, (r) => r.status === 503 && r.checks[dependency] === 'down', 10_000)
      await sleep(2000)
      expectStillRunning(process)
      const during = load.outcomes.filter((o) => o.startedAt > crashedAt + 500)
      expect(during.some((o) => o.status === 503)).toBe(true)

      await restart()
      const recoveredIn = await waitForReadiness(base, (r) => r.status === 200)
      const restartedAt = Date.now()
      await sleep(2000)
      await load.stop()

      expectStillRunning(process)
      expectOnlyCleanFailures(load.outcomes, process)
      console.info(
        `${dependency} crash: ready again ${recoveredIn} ms after the server's restart; outcomes ${JSON.stringify(summary(load.outcomes))}`,
      )
      return {
        during: during.map((o) => ({ ...o, afterCrashMs: o.startedAt - crashedAt })),
        after: load.outcomes.filter((o) => o.startedAt > restartedAt),
      }
    }

    it('survives a PostgreSQL SIGKILL: 503 while it is gone, back by itself, nothing half-written', async () => {
      const { base, process } = await serve({})
      const { during, after } = await crashUnderLoad(
        process,
        base,
        'database',
        () => postgres.crash(),
        () => postgres.start(),
      )
      expect(during.filter((o) => o.route === 'register' && o.status === 201)).toEqual([])
      expect(after.some((o) => o.route === 'register' && o.status === 201)).toBe(true)
      expect(after.some((o) => o.route === 'refresh' && o.status === 200)).toBe(true)
      expect(process.stdout()).toContain('database connection lost')
      await expectNothingHalfWritten(postgres.url, base)
      process.child.kill('SIGTERM')
      expect((await process.exited(30_000)).code).toBe(0)
    })

    describe.skipIf(!HAS_REDIS_SERVER)('with Redis', () => {
      let redis: ChildProcess | undefined
      let redisPort: number
      afterAll(async () => stopRedis(redis, 'SIGKILL'))

      it('survives a Redis SIGKILL: fails closed with 503 while it is gone, back by itself', async () => {
        redisPort = await freePort()
        redis = await startRedis(redisPort, dir)
        const { base, process } = await serve({ REDIS_URL: `redis://127.0.0.1:${redisPort}/0` })
        const { during, after } = await crashUnderLoad(
          process,
          base,
          'redis',
          () => stopRedis(redis, 'SIGKILL'),
          async () => {
            redis = await startRedis(redisPort, dir)
          },
        )
        // Fail closed: once Redis is gone, no token is accepted or issued without its checks.
        expect(
          during
            .filter((o) => ['me', 'refresh', 'login'].includes(o.route) && o.status === 200)
            .map((o) => `${o.route} ${o.afterCrashMs} ms after the crash`),
        ).toEqual([])
        expect(after.some((o) => o.route === 'me' && o.status === 200)).toBe(true)
        expect(after.some((o) => o.route === 'refresh' && o.status === 200)).toBe(true)
        await expectNothingHalfWritten(postgres.url, base)
      })
    })
  },
)
