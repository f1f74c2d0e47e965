import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import bcrypt from 'bcrypt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonlSource } from '../../src/import/jsonl.source.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { cliEnv, killAllCli, runCli } from '../helpers/cli-process.js'
import { registerUser, type TestUser, uniqueEmail } from '../helpers/factories.js'
import { enrolMfa, loginMfa, startMfaLogin } from '../helpers/mfa.js'
import {
  createPostgresDatabase,
  pgliteTarget,
  postgresTarget,
  TEST_DATABASE_URL,
} from '../helpers/test-targets.js'
import { totp } from '../helpers/totp.js'

/**
 * Moving out and back in: `kitsune export` on one instance, `kitsune import jsonl` on another with
 * another SECRET_KEY. Everyone keeps their password, id, roles and verification state; with
 * `--include-mfa` the same authenticator app and recovery codes keep working.
 */

const OTHER_SECRET_KEY = 'a-different-secret-key-for-instance-b-0123456789abcdef'
const PASSPHRASE = 'correct horse battery staple export'
const TARGETS = [
  { name: 'PGlite directories', onPostgres: false },
  ...(TEST_DATABASE_URL ? [{ name: 'PostgreSQL', onPostgres: true }] : []),
]

async function provision(onPostgres: boolean, dir: string, name: string) {
  return onPostgres ? createPostgresDatabase() : { url: `pglite://${join(dir, name)}`, drop: async () => {} }
}

async function withApp<T>(
  onPostgres: boolean,
  url: string,
  secretKey: string | undefined,
  use: (t: TestApp) => Promise<T>,
) {
  const t = await buildTestApp({
    target: onPostgres ? postgresTarget : pgliteTarget,
    provisioned: {
      env: { DATABASE_URL: url, ...(secretKey ? { SECRET_KEY: secretKey } : {}) },
      drop: async () => {},
    },
  })
  try {
    return await use(t)
  } finally {
    await t.close()
  }
}

const realClock = { now: () => new Date(), advance: () => {} }

describe.each(TARGETS)(
  'kitsune export → kitsune import jsonl on another instance ($name)',
  ({ onPostgres }) => {
    let dir: string
    const databases: Array<{ url: string; drop(): Promise<void> }> = []
    let source: { url: string }
    let plain: TestUser
    let legacy: TestUser
    let mfa: TestUser & { secret: string; recoveryCodes: string[] }
    // Two-step verification through a passkey alone (no authenticator app).
    let keyed: TestUser
    const passkey = {
      credential_id: 'q8Zb3X0vUu1cQm7l1oUq9w',
      public_key:
        'pQECAyYgASFYIJ2mXlq0pFJc8bmf9P3sWqJ7T0r2K1yq4V4f1a3f2c1dIlggZ3Jk2Ew7d0xv8rT8p6S1bqLQ9N5m6k2o0a1c3b2e4f5',
      sign_count: 7,
      transports: ['internal', 'hybrid'],
      aaguid: 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4',
      backup_eligible: true,
      backed_up: true,
      user_verified: true,
      name: 'Laptop',
    }
    const ids = new Map<string, string>()

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kitsune-export-'))
      source = await provision(onPostgres, dir, 'a')
      databases.push(source as { url: string; drop(): Promise<void> })
      await withApp(onPostgres, source.url, undefined, async (t) => {
        plain = await registerUser(t, { full_name: 'Plain Person' })
        const enrolled = await enrolMfa(t, realClock)
        mfa = { ...enrolled.user, secret: enrolled.secret, recoveryCodes: enrolled.recoveryCodes }
        // An account imported earlier whose bcrypt hash has not been re-hashed yet: exported as it is.
        legacy = { id: '', email: uniqueEmail('legacy'), password: 'legacy password from before' }
        const hash = await bcrypt.hash(legacy.password, 4)
        async function* one() {
          yield {
            line: 1,
            value: { email: legacy.email, password_hash: hash, email_verified: true } as unknown,
          }
        }
        await t.kitsune.services.userImport.importItems(jsonlSource(undefined), one(), {
          source: 'jsonl',
          dryRun: false,
        })
        // A custom role with permissions, held by the plain user.
        const db = t.kitsune.database.db
        await db.insertInto('roles').values({ name: 'editor', description: 'Edits things' }).execute()
        await db
          .insertInto('role_permissions')
          .values([
            { role_name: 'editor', permission: 'users:read' },
            { role_name: 'editor', permission: 'roles:read' },
          ])
          .execute()
        await db.insertInto('user_roles').values({ user_id: plain.id, role_name: 'editor' }).execute()
        keyed = await registerUser(t)
        await db
          .insertInto('passkeys')
          .values({ ...passkey, id: crypto.randomUUID(), user_id: keyed.id, created_at: new Date() })
          .execute()
        await db.updateTable('users').set({ mfa_enabled: true }).where('id', '=', keyed.id).execute()
        for (const row of await db.selectFrom('users').select(['id', 'email']).execute())
          ids.set(row.email, row.id)
      })
    }, 120_000)

    afterAll(async () => {
      killAllCli()
      for (const database of databases) await database.drop()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    const envFor = (url: string, extra: Record<string, string> = {}) =>
      cliEnv(dir, { DATABASE_URL: url, ...extra })

    it('exports to a new 0600 file, holds no TOTP secret without --include-mfa, never overwrites', async () => {
      const file = join(dir, 'users.jsonl')
      const result = await runCli(['export', file], envFor(source.url))
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout).toContain('exported 4 user(s), 1 passkey(s) and 1 custom role(s)')
      expect(statSync(file).mode & 0o777).toBe(0o600)
      const [header, ...lines] = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
      expect(header).toMatchObject({
        format: 'kitsune-users',
        version: 1,
        roles: [
          {
            name: 'editor',
            description: 'Edits things',
            permissions: expect.arrayContaining(['users:read', 'roles:read']),
          },
        ],
      })
      expect(header.mfa).toBeUndefined()
      expect(lines.map((l) => l.email).sort()).toEqual(
        [plain.email, legacy.email, mfa.email, keyed.email].sort(),
      )
      expect(lines.every((l) => l.mfa === undefined)).toBe(true)
      expect(lines.find((l) => l.email === legacy.email).password_hash).toMatch(/^\$2b\$04\$/)
      expect(readFileSync(file, 'utf8')).not.toContain(mfa.secret)
      const again = await runCli(['export', file], envFor(source.url))
      expect(again.code).toBe(2)
      expect(again.stderr).toContain('exists')
    }, 60_000)

    it('another instance imports it: same ids, passwords, roles and verification', async () => {
      const target = await provision(onPostgres, dir, 'b1')
      databases.push(target)
      const env = envFor(target.url, { SECRET_KEY: OTHER_SECRET_KEY })
      const result = await runCli(['import', 'jsonl', join(dir, 'users.jsonl')], env)
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout).toContain('4 created')
      expect(result.stdout).toContain('1 passkey(s)')
      expect(result.stdout).toContain('roles created: editor')
      await withApp(onPostgres, target.url, OTHER_SECRET_KEY, async (t) => {
        for (const user of [plain, legacy, mfa]) {
          const response = await t.inject({
            method: 'POST',
            url: '/api/v1/auth/login',
            payload: { email: user.email, password: user.password },
          })
          // Without --include-mfa the authenticator did not come along: the password alone signs in.
          expect(response.statusCode, `${user.email}: ${response.body}`).toBe(200)
          expect(response.json().access_token).toBeTypeOf('string')
        }
        const db = t.kitsune.database.db
        const rows = await db
          .selectFrom('users')
          .select(['id', 'email', 'email_verified', 'full_name'])
          .execute()
        for (const row of rows) expect(row.id).toBe(ids.get(row.email))
        expect(rows.find((r) => r.email === legacy.email)?.email_verified).toBe(true)
        expect(rows.find((r) => r.email === plain.email)?.full_name).toBe('Plain Person')
        const grants = await db
          .selectFrom('role_permissions')
          .select('permission')
          .where('role_name', '=', 'editor')
          .execute()
        expect(grants.map((g) => g.permission).sort()).toEqual(['roles:read', 'users:read'])
        // The passkey came along (public data, no passphrase needed) and still serves as the second
        // factor; it works wherever the relying party id is the same.
        const keys = await db.selectFrom('passkeys').selectAll().where('user_id', '=', keyed.id).execute()
        expect(keys).toMatchObject([{ ...passkey, sign_count: '7' }])
        const keyedLogin = await t.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: keyed.email, password: keyed.password },
        })
        expect(keyedLogin.json()).toMatchObject({ mfa_required: true, methods: ['passkey'] })
        const held = await db
          .selectFrom('user_roles')
          .select('role_name')
          .where('user_id', '=', plain.id)
          .execute()
        expect(held.map((r) => r.role_name).sort()).toEqual(['editor', 'user'])
      })
      const second = await runCli(['import', 'jsonl', join(dir, 'users.jsonl')], env)
      expect(second.code).toBe(0)
      expect(second.stdout).toContain('nothing changed')
    }, 120_000)

    it('with --include-mfa the same authenticator and recovery codes work on the other instance', async () => {
      const file = join(dir, 'users-mfa.jsonl')
      const exported = await runCli(
        ['export', file, '--include-mfa'],
        envFor(source.url, { KITSUNE_EXPORT_PASSPHRASE: PASSPHRASE }),
      )
      expect(exported.code, exported.stderr).toBe(0)
      expect(exported.stdout).toContain('1 authenticator secret(s) sealed with the passphrase')
      const text = readFileSync(file, 'utf8')
      expect(text).not.toContain(mfa.secret)
      expect(JSON.parse(text.split('\n')[0] as string).mfa).toMatchObject({ kdf: 'scrypt' })

      const target = await provision(onPostgres, dir, 'b2')
      databases.push(target)
      const wrong = await runCli(
        ['import', 'jsonl', file],
        envFor(target.url, {
          SECRET_KEY: OTHER_SECRET_KEY,
          KITSUNE_EXPORT_PASSPHRASE: 'not the passphrase at all',
        }),
      )
      expect(wrong.code).toBe(2)
      expect(wrong.stderr).toContain('wrong passphrase')
      const noPassphrase = await runCli(
        ['import', 'jsonl', file],
        envFor(target.url, { SECRET_KEY: OTHER_SECRET_KEY }),
      )
      expect(noPassphrase.code).toBe(2)
      expect(noPassphrase.stderr).toContain('KITSUNE_EXPORT_PASSPHRASE')

      const imported = await runCli(
        ['import', 'jsonl', file],
        envFor(target.url, { SECRET_KEY: OTHER_SECRET_KEY, KITSUNE_EXPORT_PASSPHRASE: PASSPHRASE }),
      )
      expect(imported.code, imported.stderr).toBe(0)
      expect(imported.stdout).toContain('1 with an authenticator app')
      await withApp(onPostgres, target.url, OTHER_SECRET_KEY, async (t) => {
        const token = await startMfaLogin(t, mfa)
        const ok = await loginMfa(t, token, totp(mfa.secret, Date.now()))
        expect(ok.statusCode, ok.body).toBe(200)
        const again = await startMfaLogin(t, mfa)
        const recovered = await loginMfa(t, again, mfa.recoveryCodes[0] as string)
        expect(recovered.statusCode, recovered.body).toBe(200)
        const plainLogin = await t.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: plain.email, password: plain.password },
        })
        expect(plainLogin.statusCode).toBe(200)
      })
    }, 120_000)
  },
)
