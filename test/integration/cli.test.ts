import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { cliEnv, cliTargets, killAllCli, runCli } from '../helpers/cli-process.js'

const COMMANDS = [
  'serve',
  'migrate',
  'keys rotate',
  'users create-admin',
  'users import',
  'audit verify',
  'audit prune',
]

afterAll(() => killAllCli())

describe('kitsune CLI usage and configuration errors', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-cli-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('prints usage listing every command for --help and exits 0', async () => {
    const result = await runCli(['--help'], cliEnv(dir))
    expect(result.code).toBe(0)
    for (const command of COMMANDS) expect(result.stdout).toContain(`kitsune ${command} `)
  })

  it.each(COMMANDS)('prints the options of "%s --help" and exits 0', async (command) => {
    const result = await runCli([...command.split(' '), '--help'], cliEnv(dir))
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`Usage: kitsune ${command}`)
  })

  it('exits 2 with the usage on stderr for an unknown command', async () => {
    const result = await runCli(['frobnicate'], cliEnv(dir))
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Usage: kitsune <command>')
  })

  it('exits 2 for an unknown option of a known command', async () => {
    const result = await runCli(['migrate', '--frobnicate'], cliEnv(dir))
    expect(result.code).toBe(2)
  })

  it('exits 2 with one line naming DATABASE_URL for DATABASE_URL=mysql://x', async () => {
    const result = await runCli(['migrate'], cliEnv(dir, { DATABASE_URL: 'mysql://x' }))
    expect(result.code).toBe(2)
    const lines = result.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('DATABASE_URL')
  })

  it('refuses "serve --workers 2" on the embedded database with exit 2, saying it needs PostgreSQL', async () => {
    const env = cliEnv(dir, { DATABASE_URL: `pglite://${join(dir, 'db')}`, PORT: '0' })
    const result = await runCli(['serve', '--workers', '2'], env)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('needs PostgreSQL')
  })
})

describe.each(cliTargets)('kitsune CLI commands on $name', (target) => {
  let dir: string
  let env: Record<string, string>
  let drop: () => Promise<void>
  const email = 'a@example.com'

  /** Opens the database only between CLI runs: a PGlite directory belongs to one process at a time. */
  async function withDatabase<T>(work: (database: DatabaseHandle) => Promise<T>): Promise<T> {
    const database = await createDatabase(loadConfig(env).database, { info() {}, error() {} })
    try {
      return await work(database)
    } finally {
      await database.close()
    }
  }
  const currentKids = (algorithm: string) =>
    withDatabase(async ({ db }) =>
      (
        await db
          .selectFrom('signing_keys')
          .select('kid')
          .where('retired_at', 'is', null)
          .where('algorithm', '=', algorithm)
          .execute()
      ).map((row) => row.kid),
    )

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-cli-'))
    const database = await target.provision(dir)
    drop = database.drop
    env = cliEnv(dir, { DATABASE_URL: database.url })
  })
  afterAll(async () => {
    killAllCli()
    await drop?.()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('migrate applies the migrations, then reports the database up to date', async () => {
    const first = await runCli(['migrate'], env)
    expect(first).toMatchObject({ code: 0, stderr: '' })
    expect(first.stdout).toMatch(/^applied: 0001-/)
    const second = await runCli(['migrate'], env)
    expect(second.code).toBe(0)
    expect(second.stdout).toContain('up to date')
  })

  it('users create-admin creates an administrator with the password read from stdin', async () => {
    const result = await runCli(['users', 'create-admin', '--email', email], env, 'admin password 1234\n')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`created administrator ${email}`)
    const roles = await withDatabase(({ db }) =>
      db
        .selectFrom('users')
        .innerJoin('user_roles', 'user_roles.user_id', 'users.id')
        .select(['users.is_active', 'user_roles.role_name'])
        .where('users.email', '=', email)
        .execute(),
    )
    expect(roles).toContainEqual({ is_active: true, role_name: 'admin' })
  })

  it('users create-admin exits 2 without --email', async () => {
    const result = await runCli(['users', 'create-admin'], env, 'admin password 1234\n')
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--email is required')
  })

  it('users create-admin exits 2 for a password under 8 characters and creates nobody', async () => {
    const other = 'short@example.com'
    const result = await runCli(['users', 'create-admin', '--email', other], env, 'short\n')
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('8 to 256 characters')
    const found = await withDatabase(({ db }) =>
      db.selectFrom('users').select('id').where('email', '=', other).executeTakeFirst(),
    )
    expect(found).toBeUndefined()
  })

  it('keys rotate exits 0 and makes a new key the only current one of each algorithm', async () => {
    const before = { EdDSA: await currentKids('EdDSA'), RS256: await currentKids('RS256') }
    expect(before.EdDSA).toHaveLength(1)
    expect(before.RS256).toHaveLength(1)
    const result = await runCli(['keys', 'rotate'], env)
    expect(result.code).toBe(0)
    for (const algorithm of ['EdDSA', 'RS256'] as const) {
      const kid = result.stdout.match(new RegExp(`new signing key (\\S+) is current for ${algorithm};`))?.[1]
      expect(kid).toBeDefined()
      expect(kid).not.toBe(before[algorithm][0])
      expect(await currentKids(algorithm)).toEqual([kid])
    }
  })

  it('keys rotate --algorithm RS256 rotates only the RS256 key', async () => {
    const before = { EdDSA: await currentKids('EdDSA'), RS256: await currentKids('RS256') }
    const result = await runCli(['keys', 'rotate', '--algorithm', 'RS256'], env)
    expect(result.code).toBe(0)
    const kid = result.stdout.match(/new signing key (\S+) is current for RS256;/)?.[1]
    expect(result.stdout).not.toContain('EdDSA')
    expect(await currentKids('RS256')).toEqual([kid])
    expect(kid).not.toBe(before.RS256[0])
    expect(await currentKids('EdDSA')).toEqual(before.EdDSA)
  })

  it('keys rotate exits 2 for an algorithm Kitsune does not know, and 1 for HS256', async () => {
    const unknown = await runCli(['keys', 'rotate', '--algorithm', 'PS256'], env)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('--algorithm must be one of')
    const hs = await runCli(['keys', 'rotate', '--algorithm', 'HS256'], env)
    expect(hs.code).toBe(1)
    expect(hs.stderr).toContain('JWT_SECRET')
  })

  it('audit verify exits 0 on an intact log', async () => {
    const result = await runCli(['audit', 'verify'], env)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/audit log intact: [1-9]\d* entries checked/)
  })

  it('audit prune exits 2 without --days or AUDIT_RETENTION_DAYS', async () => {
    const result = await runCli(['audit', 'prune'], env)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--days')
  })

  it('audit prune --days 1 exits 0 and keeps entries younger than a day', async () => {
    const result = await runCli(['audit', 'prune', '--days', '1'], env)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('pruned 0 audit entries older than 1 days')
  })

  it('audit verify exits 1 naming the entry after a row is altered in the database', async () => {
    const tampered = await withDatabase(async ({ db }) => {
      const first = await db
        .selectFrom('audit_logs')
        .select(['id', 'seq'])
        .orderBy('seq')
        .limit(1)
        .executeTakeFirstOrThrow()
      await db
        .updateTable('audit_logs')
        .set({ action: 'user.tampered' })
        .where('seq', '=', first.seq)
        .execute()
      return first.id
    })
    const result = await runCli(['audit', 'verify'], env)
    expect(result.code).toBe(1)
    expect(result.stdout).toContain(`BROKEN at entry ${tampered}`)
  })
})
