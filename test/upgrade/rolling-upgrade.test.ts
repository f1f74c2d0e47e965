import { randomBytes } from 'node:crypto'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliProcess, cliEnv, freePort, http, waitUntilReady } from '../helpers/cli-process.js'
import {
  CURRENT_CLI,
  extractRelease,
  killAllKitsune,
  PREVIOUS_RELEASE,
  type ReleaseTree,
  ROOT,
  startKitsune,
  startNode,
} from '../helpers/previous-release.js'
import { createPostgresDatabase, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/test-targets.js'

/**
 * A rolling upgrade from the previous release (test/upgrade/previous-release.json) to this code:
 * the old release migrates and serves, the new code migrates the same database, and old and new
 * serve side by side. On PostgreSQL they really run at once; an embedded PGlite database admits one
 * process at a time, so there the same steps run one after another.
 */

// The previous release's own HTTP suites, run on this release's schema. Chosen by measuring which
// tables each of its test/http files writes (pg_stat_user_tables) and what it costs: together these
// write every table, in about half a minute on PostgreSQL. users, roles, user_roles, sessions,
// refresh_tokens, signing_keys, audit_logs, audit_head, email_tokens, jobs: all of them;
// mfa_totp, mfa_recovery_codes, oidc_clients, oidc_payloads, oidc_consents: account-console (and
// mfa-login); passkeys, role_permissions: passkeys-admin; webhook_endpoints, webhook_deliveries:
// admin-webhooks-console; audit_anchor: audit-log-chain (retention). auth.routes, sessions and
// mfa-login add the register, login, refresh, logout and MFA step-up API that clients depend on.
const PREVIOUS_SUITES = [
  'test/http/auth.routes.test.ts',
  'test/http/sessions.test.ts',
  'test/http/mfa-login.test.ts',
  'test/http/account-console.test.ts',
  'test/http/passkeys-admin.test.ts',
  'test/http/admin-webhooks-console.test.ts',
  'test/http/audit-log-chain.test.ts',
]

const STOP_DEADLINE_MS = 30_000
const GENEROUS_LIMITS = {
  RATE_LIMIT_GLOBAL: '100000/1m',
  RATE_LIMIT_LOGIN: '100000/1m',
  RATE_LIMIT_REGISTER: '100000/1m',
  RATE_LIMIT_REFRESH: '100000/1m',
}

interface Tokens {
  access_token: string
  refresh_token: string
}
interface Person {
  email: string
  password: string
}

const person = (): Person => ({
  email: `upgrade-${randomBytes(5).toString('hex')}@example.com`,
  password: `pw-${randomBytes(8).toString('hex')}`,
})

/** A running `kitsune serve` and the HTTP calls the test makes on it. */
interface Server {
  readonly process: CliProcess
  readonly base: string
  register(who: Person): Promise<void>
  login(who: Person): Promise<Tokens>
  refresh(refreshToken: string): Promise<Tokens>
  me(accessToken: string): Promise<string>
  stop(): Promise<void>
}

let release: ReleaseTree | undefined
let dir: string
let databaseUrl: string
let dropDatabase: (() => Promise<void>) | undefined
const concurrent = Boolean(TEST_DATABASE_URL)
const target = concurrent ? 'PostgreSQL (old and new at once)' : 'a PGlite directory (one process at a time)'

function env(extra: Record<string, string> = {}): Record<string, string> {
  return cliEnv(dir, {
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    // One issuer for every instance, as behind a load balancer: tokens then verify on any of them.
    PUBLIC_URL: 'http://kitsune.test',
    ...GENEROUS_LIMITS,
    ...extra,
  })
}

let redisPrefix: Record<string, string> = {}

async function migrate(cli: string): Promise<string> {
  const result = await startKitsune(cli, ['migrate'], env()).exited()
  expect(result.code, `migrate failed:\n${result.stderr}${result.stdout}`).toBe(0)
  return result.stdout
}

async function serve(cli: string): Promise<Server> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const process = startKitsune(cli, ['serve'], env({ PORT: String(port), ...redisPrefix }))
  await waitUntilReady(`${base}/health/ready`, process)
  const call = async (path: string, options: Parameters<typeof http>[1], status: number) => {
    const response = await http(`${base}${path}`, options)
    expect(response.status, `${options?.method ?? 'GET'} ${path}: ${response.body}`).toBe(status)
    return response
  }
  return {
    process,
    base,
    async register(who) {
      await call('/api/v1/auth/register', { method: 'POST', body: who }, 201)
    },
    async login(who) {
      return (await call('/api/v1/auth/login', { method: 'POST', body: who }, 200)).json<Tokens>()
    },
    async refresh(refreshToken) {
      const body = { refresh_token: refreshToken }
      return (await call('/api/v1/auth/refresh', { method: 'POST', body }, 200)).json<Tokens>()
    },
    async me(accessToken) {
      const headers = { authorization: `Bearer ${accessToken}` }
      return (await call('/api/v1/users/me', { headers }, 200)).json<{ email: string }>().email
    },
    async stop() {
      process.child.kill('SIGTERM')
      const result = await process.exited(STOP_DEADLINE_MS)
      expect(result, result.stderr).toMatchObject({ code: 0, signal: null })
    },
  }
}

afterAll(async () => {
  killAllKitsune()
  release?.remove()
  await dropDatabase?.()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe(`rolling upgrade from ${PREVIOUS_RELEASE.version} (${PREVIOUS_RELEASE.commit.slice(0, 7)}) on ${target}`, () => {
  beforeAll(async () => {
    // No skipping: without the previous release there is no upgrade to test, and that must show.
    release = extractRelease(PREVIOUS_RELEASE.commit)
    dir = mkdtempSync(join(tmpdir(), 'kitsune-upgrade-'))
    if (TEST_DATABASE_URL) {
      const database = await createPostgresDatabase()
      databaseUrl = database.url
      dropDatabase = database.drop
      if (TEST_REDIS_URL)
        redisPrefix = {
          REDIS_URL: TEST_REDIS_URL,
          REDIS_KEY_PREFIX: `kitsune-upgrade:${randomBytes(6).toString('hex')}:`,
        }
    } else {
      databaseUrl = `pglite://${join(dir, 'db')}`
    }
  })

  it('keeps old and new instances working on one database through the upgrade', async () => {
    const oldCli = (release as ReleaseTree).cli
    const first = person()
    const second = person()

    // a. The previous release creates its schema.
    await migrate(oldCli)

    // b. The previous release serves and data is made through it.
    let old = await serve(oldCli)
    await old.register(first)
    const issuedByOld = await old.refresh((await old.login(first)).refresh_token)
    expect(await old.me(issuedByOld.access_token)).toBe(first.email)

    // c. The new code migrates the database (the old server keeps running where it can).
    if (!concurrent) await old.stop()
    expect(await migrate(CURRENT_CLI)).toMatch(/^(applied: .+|database is up to date)\n$/)

    // d. The previous release still works on the migrated schema (on PGlite: after a restart).
    if (!concurrent) old = await serve(oldCli)
    const refreshedByOld = await old.refresh(issuedByOld.refresh_token)
    await old.login(first)
    await old.register(second)
    const secondByOld = await old.login(second)

    // e. A new instance beside the old one: each accepts the other's tokens; both log both in.
    if (!concurrent) await old.stop()
    const current = await serve(CURRENT_CLI)
    expect(await current.me(issuedByOld.access_token)).toBe(first.email)
    expect(await current.me(secondByOld.access_token)).toBe(second.email)
    // A refresh token the old release issued is honoured by the new one.
    await current.refresh(refreshedByOld.refresh_token)
    await current.login(first)
    const issuedByNew = await current.login(second)
    if (concurrent) {
      expect(await old.me(issuedByNew.access_token)).toBe(second.email)
      await old.login(first)
      await old.login(second)
    }

    // f. The previous release restarts on the new schema (what a rolling restart or a rollback of
    // the code does) and still takes the new instance's tokens.
    if (concurrent) await old.stop()
    else await current.stop()
    old = await serve(oldCli)
    expect(await old.me(issuedByNew.access_token)).toBe(second.email)
    await old.login(first)
    await old.login(second)
    await old.stop()
    if (concurrent) await current.stop()
  }, 180_000)

  it("passes the previous release's own HTTP suites on the new schema", async () => {
    const tree = release as ReleaseTree
    // Migrations are self-contained SQL: the old code then builds the schema this release ships.
    const migrations = join(tree.dir, 'src/db/migrations')
    rmSync(migrations, { recursive: true })
    cpSync(join(ROOT, 'src/db/migrations'), migrations, { recursive: true })

    const suiteEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tree.dir,
      NO_COLOR: '1',
      ...(TEST_DATABASE_URL ? { TEST_DATABASE_URL } : {}),
      ...(TEST_REDIS_URL ? { TEST_REDIS_URL } : {}),
      ...(process.env.CI ? { CI: process.env.CI } : {}),
    }
    // Its suites run on every target they are given (PGlite, and PostgreSQL when it is set). The
    // schema is the same on both: with PostgreSQL at hand, its blocks alone (each suite names its
    // target) keep the time down.
    const only = TEST_DATABASE_URL ? ['--testNamePattern', 'postgres'] : []
    const vitest = join(ROOT, 'node_modules/vitest/vitest.mjs')
    const result = await startNode([vitest, 'run', ...only, ...PREVIOUS_SUITES], suiteEnv, tree.dir).exited(
      300_000,
    )
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
    expect(result.stdout).toMatch(
      new RegExp(`Test Files +${PREVIOUS_SUITES.length} passed \\(${PREVIOUS_SUITES.length}\\)`),
    )
    expect(result.stdout).toMatch(/Tests +\d+ passed/)
  }, 320_000)
})
