import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import bcrypt from 'bcrypt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPasswordHasher } from '../../src/auth/password-hasher.js'
import { jsonlSource } from '../../src/import/jsonl.source.js'
import type { ImportSource } from '../../src/import/sources.js'
import { buildTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/build-test-app.js'
import { uniqueEmail } from '../helpers/factories.js'
import {
  createPostgresDatabase,
  postgresTarget,
  TEST_DATABASE_URL,
  testTargets,
} from '../helpers/test-targets.js'

const OLD_PASSWORD = 'the password from the old system'
const argon2 = createPasswordHasher()
let bcrypt2b: string
let argon2t2: string
beforeAll(async () => {
  bcrypt2b = await bcrypt.hash(OLD_PASSWORD, 10)
  argon2t2 = await argon2.hash(OLD_PASSWORD)
})

const line = (email: string, passwordHash: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    email,
    full_name: 'Imported Person',
    password_hash: passwordHash,
    is_active: true,
    ...extra,
  })

/** A file whose lines 2 to 6 are each bad in a different way; lines 1 and 8 are good. */
function mixedFile(good: [string, string]): string[] {
  return [
    line(good[0], bcrypt2b),
    '{"email": "broken json",',
    line('not-an-email', bcrypt2b),
    line(uniqueEmail(), bcrypt2b, { roles: ['no-such-role'] }),
    line(good[0].toUpperCase(), argon2t2),
    line(uniqueEmail(), '$1$md5$not-supported'),
    '',
    line(good[1], argon2t2, { roles: ['user'] }),
  ]
}
const BAD_LINES = [2, 3, 4, 5, 6]

async function storedHash(t: TestApp, email: string): Promise<string | undefined> {
  const row = await t.kitsune.database.db
    .selectFrom('users')
    .select('password_hash')
    .where('email', '=', email)
    .executeTakeFirst()
  return row?.password_hash
}

const loginStatus = async (t: TestApp, email: string, password = OLD_PASSWORD) =>
  (await t.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } })).statusCode

async function* itemsOf(lines: string[]) {
  let n = 0
  for (const text of lines) {
    n++
    if (text.trim() === '') continue
    try {
      yield { line: n, value: JSON.parse(text) as unknown }
    } catch {
      yield { line: n, error: 'not valid JSON' }
    }
  }
}

describe.each(testTargets())('user import service on $name', (target) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target })
  })
  afterAll(async () => t?.close())

  const importLines = (lines: string[], app: TestApp = t, dryRun = false) =>
    app.kitsune.services.userImport.importItems(jsonlSource(undefined), itemsOf(lines), {
      source: 'jsonl',
      dryRun,
    })

  it('imports a good file with the given roles and names', async () => {
    const [a, b] = [uniqueEmail(), uniqueEmail()]
    const result = await importLines([line(a, bcrypt2b), line(b, argon2t2, { roles: ['admin', 'user'] })])
    expect(result).toMatchObject({ read: 2, created: 2, rejected: 0, unchanged: 0 })
    expect(await storedHash(t, a)).toBe(bcrypt2b)
    expect(await storedHash(t, b)).toBe(argon2t2)
  })

  it.each([
    ['$2b$', (hash: string) => hash],
    ['$2a$', (hash: string) => hash.replace(/^\$2b\$/, '$2a$')],
    ['$2y$', (hash: string) => hash.replace(/^\$2b\$/, '$2y$')],
  ])(
    'logs a %s bcrypt user in with the old password and upgrades the hash to argon2id',
    async (_prefix, variant) => {
      const email = uniqueEmail()
      await importLines([line(email, variant(bcrypt2b))])
      expect(await loginStatus(t, email)).toBe(200)
      expect(await storedHash(t, email)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
      expect(await loginStatus(t, email)).toBe(200)
      expect(await loginStatus(t, email, 'not the old password')).toBe(401)
    },
  )

  it('logs an argon2id user in and keeps a hash that is already strong enough', async () => {
    const email = uniqueEmail()
    await importLines([line(email, argon2t2)])
    expect(await loginStatus(t, email)).toBe(200)
    expect(await storedHash(t, email)).toBe(argon2t2)
  })

  it('imports the good lines and rejects each bad one by its number, in file order', async () => {
    const good: [string, string] = [uniqueEmail(), uniqueEmail()]
    const outcomes: Array<{ line: number; outcome: string; reason?: string }> = []
    const result = await t.kitsune.services.userImport.importItems(
      jsonlSource(undefined),
      itemsOf(mixedFile(good)),
      {
        source: 'jsonl',
        dryRun: false,
        onOutcome: (o) => {
          outcomes.push(o as { line: number; outcome: string; reason?: string })
        },
      },
    )
    expect(result).toMatchObject({ created: 2, rejected: BAD_LINES.length })
    expect(outcomes.map((o) => o.line)).toEqual([1, ...BAD_LINES, 8])
    expect(outcomes.filter((o) => o.outcome === 'rejected').map((o) => o.line)).toEqual(BAD_LINES)
    expect(outcomes.find((o) => o.line === 5)?.reason).toContain('duplicate of line 1')
    expect(outcomes.find((o) => o.line === 4)?.reason).toContain('unknown role(s): no-such-role')
    expect(await storedHash(t, good[0])).toBe(bcrypt2b)
    expect(await loginStatus(t, good[1])).toBe(200)
    const role = await t.kitsune.database.db
      .selectFrom('roles')
      .select('name')
      .where('name', '=', 'no-such-role')
      .executeTakeFirst()
    expect(role).toBeUndefined()
  })

  it('leaves an e-mail that is already registered unchanged; a second run changes nothing', async () => {
    const email = uniqueEmail()
    await importLines([line(email, bcrypt2b)])
    const other = uniqueEmail()
    const first = await importLines([line(other, bcrypt2b), line(email.toUpperCase(), argon2t2)])
    expect(first).toMatchObject({ created: 1, unchanged: 1, rejected: 0 })
    expect(await storedHash(t, email)).toBe(bcrypt2b)
    const again = await importLines([line(other, bcrypt2b), line(email, argon2t2)])
    expect(again).toMatchObject({ created: 0, unchanged: 2, rejected: 0 })
  })

  it('rejects an e-mail named again further down the file (another batch), in a dry run too', async () => {
    const [a, b, c] = [uniqueEmail(), uniqueEmail(), uniqueEmail()]
    const lines = [line(a, bcrypt2b), line(b, bcrypt2b), line(c, bcrypt2b), line(a.toUpperCase(), argon2t2)]
    for (const dryRun of [true, false]) {
      const outcomes: Array<{ line: number; outcome: string; reason?: string }> = []
      const result = await t.kitsune.services.userImport.importItems(jsonlSource(undefined), itemsOf(lines), {
        source: 'jsonl',
        dryRun,
        batchSize: 2,
        onOutcome: (o) => {
          outcomes.push(o as { line: number; outcome: string; reason?: string })
        },
      })
      expect(result).toMatchObject({ created: 3, rejected: 1 })
      expect(outcomes.at(-1)).toMatchObject({
        line: 4,
        outcome: 'rejected',
        reason: 'duplicate of line 1 (the same e-mail address)',
      })
    }
    expect(await storedHash(t, a)).toBe(bcrypt2b)
  })

  it('a dry run counts what would be created and writes nothing', async () => {
    const email = uniqueEmail()
    const before = await t.kitsune.database.db
      .selectFrom('audit_logs')
      .select(t.kitsune.database.db.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
    const result = await importLines([line(email, bcrypt2b)], t, true)
    expect(result).toMatchObject({ created: 1, dry_run: true })
    expect(await storedHash(t, email)).toBeUndefined()
    const after = await t.kitsune.database.db
      .selectFrom('audit_logs')
      .select(t.kitsune.database.db.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
    expect(Number(after.n)).toBe(Number(before.n))
  })

  it('rejects a record whose text PostgreSQL cannot store, and imports the rest', async () => {
    const [good, bad] = [uniqueEmail(), uniqueEmail()]
    const result = await importLines([
      line(bad, bcrypt2b, { full_name: 'Nul\u0000Name' }),
      line(good, bcrypt2b),
    ])
    expect(result).toMatchObject({ created: 1, rejected: 1 })
    expect(await storedHash(t, bad)).toBeUndefined()
    expect(await storedHash(t, good)).toBe(bcrypt2b)
  })

  it('a batch that fails writes nothing of itself, keeps earlier batches, and still audits them', async () => {
    const emails = [uniqueEmail(), uniqueEmail(), uniqueEmail(), uniqueEmail()]
    // A source whose third record breaks a database constraint (a negative passkey counter).
    const source: ImportSource = {
      read: () => itemsOf(emails.map((email) => JSON.stringify({ email }))),
      map: (value, lineNumber) => ({
        line: lineNumber,
        email: (value as { email: string }).email,
        emailVerified: false,
        fullName: null,
        passwordHash: bcrypt2b,
        isActive: true,
        roles: ['user'],
        ...(lineNumber === 3
          ? {
              passkeys: [
                {
                  credential_id: `c${randomBytes(8).toString('hex')}`,
                  public_key: 'pQECAyYgASFYIA',
                  sign_count: -1,
                  transports: [],
                  aaguid: '00000000-0000-0000-0000-000000000000',
                  backup_eligible: false,
                  backed_up: false,
                  user_verified: true,
                  name: 'Broken',
                },
              ],
            }
          : {}),
      }),
    }
    const run = t.kitsune.services.userImport.importFile(source, 'unused', {
      source: 'jsonl',
      dryRun: false,
      batchSize: 2,
    })
    await expect(run).rejects.toThrow(/lines 3–4: nothing of this batch was written/)
    expect(await storedHash(t, emails[0] as string)).toBe(bcrypt2b)
    expect(await storedHash(t, emails[1] as string)).toBe(bcrypt2b)
    expect(await storedHash(t, emails[2] as string)).toBeUndefined()
    expect(await storedHash(t, emails[3] as string)).toBeUndefined()
    const entry = await t.kitsune.database.db
      .selectFrom('audit_logs')
      .select('metadata')
      .where('action', '=', 'user.created')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow()
    expect(entry.metadata).toMatchObject({ import: true, count: 2, stopped_at_line: 3 })
  })

  it('rehashes an imported t=2 argon2id hash at login when ARGON2_TIME_COST=3', async () => {
    const stronger = await buildTestApp({ target, env: { ARGON2_TIME_COST: '3' } })
    try {
      const email = uniqueEmail()
      await importLines([line(email, argon2t2)], stronger)
      expect(await loginStatus(stronger, email)).toBe(200)
      expect(await storedHash(stronger, email)).toMatch(/^\$argon2id\$v=19\$m=19456,t=3,p=1\$/)
      expect(await loginStatus(stronger, email)).toBe(200)
    } finally {
      await stronger.close()
    }
  })
})

describe.skipIf(!TEST_DATABASE_URL)('kitsune users import (CLI) on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>
  let t: TestApp
  let dir: string
  beforeAll(async () => {
    database = await createPostgresDatabase()
    dir = mkdtempSync(join(tmpdir(), 'kitsune-import-'))
    const provisioned = { env: { DATABASE_URL: database.url }, drop: async () => {} }
    t = await buildTestApp({ target: postgresTarget, provisioned })
  })
  afterAll(async () => {
    await t?.close()
    await database?.drop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  function runImport(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir,
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      SECRET_KEY: TEST_SECRET_KEY,
      KITSUNE_DATA_DIR: dir,
    }
    return new Promise((resolve) => {
      execFile(
        'npx',
        ['tsx', 'src/cli/main.ts', 'users', 'import', ...args],
        { env },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      )
    })
  }

  const writeFile = (name: string, lines: string[]) => {
    const path = join(dir, name)
    writeFileSync(path, `${lines.join('\n')}\n`)
    return path
  }

  it('imports a good file, exits 0, and the bcrypt user logs in over HTTP', async () => {
    const [a, b] = [uniqueEmail(), uniqueEmail()]
    const result = await runImport(writeFile('good.jsonl', [line(a, bcrypt2b), line(b, argon2t2)]))
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(result.stdout).toContain('2 created')
    expect(await loginStatus(t, a)).toBe(200)
    expect(await storedHash(t, a)).toMatch(/^\$argon2id\$/)
    expect(await loginStatus(t, b)).toBe(200)
  })

  it('exits 1 for a file with bad lines, naming each line on stderr, and imports the good ones', async () => {
    const good: [string, string] = [uniqueEmail(), uniqueEmail()]
    const file = writeFile('mixed.jsonl', mixedFile(good))
    const result = await runImport(file, '--skip-invalid')
    expect(result.code).toBe(1)
    for (const n of BAD_LINES) expect(result.stderr).toContain(`${file}:${n}: `)
    expect(result.stdout).toContain(
      `2 created, 0 unchanged (already present), 0 skipped, ${BAD_LINES.length} rejected`,
    )
    expect(await loginStatus(t, good[0])).toBe(200)
  })

  it('exits 2 without a FILE argument or with an unreadable file', async () => {
    expect((await runImport()).code).toBe(2)
    const missing = await runImport(join(dir, 'does-not-exist.jsonl'))
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('cannot read')
  })
})
