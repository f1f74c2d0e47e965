import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSecretBox } from '../../src/auth/secret-box.js'
import { loadConfig } from '../../src/config/load-config.js'
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { sql } from '../../src/db/kysely.js'
import { createUnitOfWork } from '../../src/db/unit-of-work.js'
import { systemClock } from '../../src/lib/clock.js'
import { uuidv7 } from '../../src/lib/uuid.js'
import { createRepositories } from '../../src/repositories/repositories.js'
import { createAuditService } from '../../src/services/audit.service.js'
import { totpSealContext } from '../../src/services/mfa.service.js'
import { signingKeySealContext } from '../../src/services/signing-key.service.js'
import { TEST_SECRET_KEY } from '../helpers/build-test-app.js'
import { type CliResult, cliEnv, cliTargets, freePort, killAllCli, runCli } from '../helpers/cli-process.js'
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js'
import { createPostgresDatabase, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/test-targets.js'

const CHECKS = ['config', 'database', 'migrations', 'keys', 'audit head', 'redis', 'smtp', 'clock']

/** `{ database: 'ok    database    PostgreSQL …' }`: each check's line, by name. */
function linesOf(result: CliResult): Record<string, string> {
  const lines = result.stdout.trimEnd().split('\n')
  const byName: Record<string, string> = {}
  for (const line of lines) {
    const name = line.slice(6, 18).trim()
    if (CHECKS.includes(name)) byName[name] = line
  }
  expect(Object.keys(byName), result.stdout + result.stderr).toEqual(CHECKS)
  return byName
}

/** Answers the greeting, then refuses EHLO: a server that is up but will not talk to Kitsune. */
async function startRefusingSmtp(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((socket) => {
    socket.write('220 refusing.test ESMTP\r\n')
    socket.on('data', (chunk) => {
      if (/^QUIT/i.test(String(chunk))) socket.end('221 bye\r\n')
      else socket.write('554 5.7.1 not from your network\r\n')
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

afterAll(() => killAllCli())

describe('kitsune doctor when things are broken', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-doctor-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('fails database, Redis and SMTP on closed ports, skips what needs the database, prints no password', async () => {
    const [dbPort, redisPort, smtpPort] = [await freePort(), await freePort(), await freePort()]
    const env = cliEnv(dir, {
      DATABASE_URL: `postgres://kitsune:db-password-1@127.0.0.1:${dbPort}/kitsune`,
      REDIS_URL: `redis://:redis-password-1@127.0.0.1:${redisPort}/0`,
      SMTP_URL: `smtp://mailer:smtp-password-1@127.0.0.1:${smtpPort}`,
    })
    const result = await runCli(['doctor'], env)
    expect(result.code).toBe(1)
    const line = linesOf(result)
    expect(line.config).toMatch(/^ok {4}config {6}NODE_ENV=test, database 127\.0\.0\.1:\d+\/kitsune$/)
    expect(line.database).toBe(`FAIL  database    127.0.0.1:${dbPort}/kitsune: connection refused`)
    for (const name of ['migrations', 'keys', 'audit head', 'clock'])
      expect(line[name]).toMatch(new RegExp(`^skip  ${name} +the database check failed$`))
    expect(line.redis).toBe(`FAIL  redis       127.0.0.1:${redisPort}: connect: connection refused`)
    expect(line.smtp).toBe(`FAIL  smtp        127.0.0.1:${smtpPort}: greeting: connection refused`)
    expect(result.stdout + result.stderr).not.toMatch(/password-1|SECRET|test-secret-key/)
  })

  it('names the pending migrations of a fresh database and an SMTP server refusing EHLO', async () => {
    const refusing = await startRefusingSmtp()
    try {
      // A fresh PostgreSQL database when there is a server: cheaper than booting another PGlite.
      const fresh = TEST_DATABASE_URL ? await createPostgresDatabase() : undefined
      const env = cliEnv(dir, { DATABASE_URL: fresh?.url ?? 'pglite://memory', SMTP_URL: refusing.url })
      const result = await runCli(['doctor'], env).finally(() => fresh?.drop())
      expect(result.code).toBe(1)
      const line = linesOf(result)
      expect(line.database).toMatch(/^ok {4}database {4}PostgreSQL \d+\.\d+(,| at) \S.* \(\d+ ms\)$/)
      expect(line.migrations).toMatch(
        /^FAIL {2}migrations {2}none of the \d+ migrations is applied .*kitsune migrate$/,
      )
      expect(line.keys).toBe('skip  keys        the database schema is not up to date')
      expect(line.smtp).toMatch(
        /^FAIL {2}smtp {8}127\.0\.0\.1:\d+: EHLO answered 554 5\.7\.1 not from your network$/,
      )
      expect(line.clock).toMatch(/^ok {4}clock {7}database clock \d+ ms (ahead of|behind) this machine/)
    } finally {
      await refusing.close()
    }
  })

  it('lists each configuration problem on the config line and skips every other check', async () => {
    const result = await runCli(['doctor'], cliEnv(dir, { CORS_ORIGINS: '*', LOG_LEVEL: 'loud' }))
    expect(result.code).toBe(1)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe('FAIL  config      CORS_ORIGINS may not be *')
    expect(lines[1]).toMatch(/^ {18}LOG_LEVEL must be one of/)
    expect(lines.slice(2)).toEqual(
      CHECKS.slice(1).map((name) => `skip  ${name.padEnd(12)}the configuration is invalid`),
    )
  })

  it('does not make up a SECRET_KEY: run in the wrong directory, it says where it looked', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kitsune-doctor-nokey-'))
    try {
      const env = cliEnv(empty, { NODE_ENV: 'development', DATABASE_URL: 'pglite://memory' })
      delete env.SECRET_KEY
      const result = await runCli(['doctor'], env)
      expect(result.code).toBe(1)
      expect(result.stdout.split('\n')[0]).toContain(
        `FAIL  config      SECRET_KEY is not set and ${join(empty, 'secret.key')} does not exist`,
      )
      expect(existsSync(join(empty, 'secret.key'))).toBe(false)
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })
})

describe.each(cliTargets)('kitsune doctor on $name', (target) => {
  let dir: string
  let env: Record<string, string>
  let drop: () => Promise<void>
  let smtp: TestSmtpServer
  const withRedis = target.name === 'PostgreSQL' && TEST_REDIS_URL !== undefined
  const prefix = `kitsune-test:${randomBytes(6).toString('hex')}:`
  // The failure cases run the same SQL on both databases: with a PostgreSQL server they run there
  // only, sparing two PGlite boots (a WebAssembly compile per process).
  const failureCases = target.name === 'PostgreSQL' || !TEST_DATABASE_URL

  /** Opens the database only between CLI runs: a PGlite directory belongs to one process at a time. */
  async function withDatabase<T>(work: (database: DatabaseHandle) => Promise<T>): Promise<T> {
    const database = await createDatabase(loadConfig(env).database, { info() {}, error() {} })
    try {
      return await work(database)
    } finally {
      await database.close()
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-doctor-'))
    const database = await target.provision(dir)
    drop = database.drop
    smtp = await startSmtpServer()
    env = cliEnv(dir, {
      DATABASE_URL: database.url,
      SMTP_URL: smtp.url,
      ...(withRedis ? { REDIS_URL: TEST_REDIS_URL as string, REDIS_KEY_PREFIX: prefix } : {}),
    })
    const migrated = await runCli(['migrate'], env)
    expect(migrated.code, migrated.stderr).toBe(0)
    // What a running service leaves behind: sealed signing keys, a TOTP secret, audit entries.
    await withDatabase(async ({ db }) => {
      const box = createSecretBox(TEST_SECRET_KEY)
      const now = new Date()
      for (const [kid, algorithm, retired] of [
        ['k-eddsa', 'EdDSA', null],
        ['k-rs256', 'RS256', null],
        ['k-old', 'EdDSA', now],
      ] as const) {
        await db
          .insertInto('signing_keys')
          .values({
            kid,
            algorithm,
            public_jwk: '{}',
            private_key_enc: box.seal('{"kty":"OKP"}', signingKeySealContext(kid)),
            created_at: now,
            retired_at: retired,
            verify_until: retired && new Date(now.getTime() + 3_600_000),
          })
          .execute()
      }
      const userId = uuidv7()
      await db
        .insertInto('users')
        .values({
          id: userId,
          email: 'totp@example.com',
          full_name: null,
          password_hash: 'x',
          created_at: now,
          updated_at: now,
          password_changed_at: now,
        })
        .execute()
      await db
        .insertInto('mfa_totp')
        .values({
          user_id: userId,
          secret_enc: box.seal('JBSWY3DPEHPK3PXP', totpSealContext(userId)),
          created_at: now,
        })
        .execute()
      const uow = createUnitOfWork(db, createRepositories, () => {})
      const audit = createAuditService({
        uow,
        secretKey: TEST_SECRET_KEY,
        clock: systemClock,
        logger: { info() {} },
      })
      for (let i = 0; i < 3; i++)
        await audit.recordAlone(undefined, { action: 'user.created', actorId: null })
    })
  })
  afterAll(async () => {
    killAllCli()
    await smtp?.stop()
    await drop?.()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('prints one ok line per check and exits 0 on a healthy installation', async () => {
    const result = await runCli(['doctor'], env)
    expect(result.stderr).toBe('')
    expect(result.code, result.stdout).toBe(0)
    const line = linesOf(result)
    for (const name of CHECKS.filter((name) => name !== 'redis' || withRedis))
      expect(line[name]).toMatch(new RegExp(`^ok {4}${name} +\\S`))
    expect(line.migrations).toMatch(/\d+ applied, none pending \(latest \d{4}-/)
    expect(line.keys).toContain('3 signing keys open with SECRET_KEY (current: EdDSA, RS256; 1 retired')
    expect(line.keys).toContain('a TOTP secret opens too')
    expect(line['audit head']).toMatch(/head at entry \d+; the newest 3 entries verify/)
    expect(line.smtp).toMatch(
      new RegExp(`^ok {4}smtp {8}127\\.0\\.0\\.1:${smtp.port}: 220 greeting, EHLO accepted`),
    )
    expect(smtp.messages).toHaveLength(0)
    if (withRedis) expect(line.redis).toContain(`under prefix "${prefix}"`)
    else
      expect(line.redis).toBe(
        'skip  redis       REDIS_URL not set: in-process stores, fine for one instance only',
      )
  })

  it.runIf(failureCases)(
    'fails keys (and the audit chain) with a hint when SECRET_KEY is not the one the keys were sealed with',
    async () => {
      const result = await runCli(['doctor'], {
        ...env,
        SECRET_KEY: 'another-secret-key-0123456789abcdef-0123',
      })
      expect(result.code).toBe(1)
      const line = linesOf(result)
      expect(line.keys).toMatch(
        /^FAIL {2}keys {8}3 of 3 signing keys do not open \(k-\S+, k-\S+, k-\S+\): SECRET_KEY is not the one these keys were sealed with/,
      )
      expect(line['audit head']).toMatch(/^FAIL {2}audit head {2}entry \S+ does not verify/)
      expect(line.database).toMatch(/^ok /)
    },
  )

  // Last in this block: it leaves the head changed (restoring it would cost another database open).
  it.runIf(failureCases)(
    "fails the audit head when audit_head.hash was changed, and names a newer release's migration (not a failure)",
    async () => {
      await withDatabase(async ({ db }) => {
        await db
          .updateTable('audit_head')
          .set({ hash: 'f'.repeat(64) })
          .execute()
        await sql`INSERT INTO kitsune_migration (name, timestamp) VALUES ('9000-newer', now())`.execute(db)
      })
      const result = await runCli(['doctor'], env)
      expect(result.code).toBe(1)
      const line = linesOf(result)
      expect(line['audit head']).toMatch(
        /^FAIL {2}audit head {2}audit_head \(seq \d+\) does not match the newest entry \(seq \d+\): the head or the log's tail was changed$/,
      )
      // A newer release's migration is expected during a rolling upgrade or after a rollback.
      expect(line.migrations).toMatch(
        /^ok {4}migrations {2}\d+ applied, none pending; also 9000-newer from a newer release/,
      )
      // Its schema has all of this release's tables: the checks that need them still run.
      expect(line.keys).toMatch(/^ok /)
    },
  )
})
