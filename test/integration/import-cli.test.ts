import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hashRaw } from '@node-rs/argon2'
import bcrypt from 'bcrypt'
import { FirebaseScrypt } from 'firebase-scrypt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSecretBox } from '../../src/auth/secret-box.js'
import { buildTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/build-test-app.js'
import { cliEnv, killAllCli, runCli } from '../helpers/cli-process.js'
import { loginMfa, startMfaLogin } from '../helpers/mfa.js'
import {
  createPostgresDatabase,
  pgliteTarget,
  postgresTarget,
  TEST_DATABASE_URL,
} from '../helpers/test-targets.js'
import { base32Decode, totp } from '../helpers/totp.js'

/**
 * Every import kind through the real CLI: fixture files built from known passwords with each
 * scheme's real algorithm, imported, then each user signs in over HTTP with the original password
 * and ends up with an argon2id hash; bad records are reported by line; a second run changes nothing.
 * Runs on PostgreSQL when TEST_DATABASE_URL is set (as in CI), else on a file-backed PGlite.
 */

interface Person {
  email: string
  password: string
  totpSecret?: string
}

const person = (tag: string, extra: Partial<Person> = {}): Person => ({
  email: `${tag}-${randomBytes(4).toString('hex')}@import.example`,
  password: `${tag} original password ${randomBytes(3).toString('hex')}`,
  ...extra,
})

const b64 = (bytes: Buffer) => bytes.toString('base64')

// ---- Keycloak: realm export with pbkdf2 (sha1), pbkdf2-sha256, pbkdf2-sha512, argon2 and OTP ----
const KC_SALT = randomBytes(16)
function keycloakPbkdf2(password: string, algorithm: string, digest: string, iterations: number) {
  return {
    type: 'password',
    secretData: JSON.stringify({
      value: b64(pbkdf2Sync(password, KC_SALT, iterations, 64, digest)),
      salt: b64(KC_SALT),
      additionalParameters: {},
    }),
    credentialData: JSON.stringify({ hashIterations: iterations, algorithm, additionalParameters: {} }),
  }
}
async function keycloakArgon2(password: string) {
  const salt = randomBytes(16)
  const raw = await hashRaw(password, {
    salt,
    memoryCost: 7168,
    timeCost: 5,
    parallelism: 1,
    outputLen: 32,
    algorithm: 2,
  })
  return {
    type: 'password',
    secretData: JSON.stringify({ value: b64(raw), salt: b64(salt), additionalParameters: {} }),
    credentialData: JSON.stringify({
      hashIterations: 5,
      algorithm: 'argon2',
      additionalParameters: {
        hashLength: ['32'],
        memory: ['7168'],
        type: ['id'],
        version: ['1.3'],
        parallelism: ['1'],
      },
    }),
  }
}
const KEYCLOAK_OTP_TEXT = 'kK8uEaVtDxbHq2fZ9wLp' // Keycloak keeps the secret as text; its UTF-8 bytes are the key

// ---- Firebase: the modified scrypt, through its own library ----
const FIREBASE = {
  signerKey: 'jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==',
  saltSeparator: 'Bw==',
  rounds: 8,
  memCost: 14,
}

// ---- Django and ASP.NET Core Identity, inside Kitsune's JSONL ----
function djangoPbkdf2(password: string, iterations = 100_000) {
  const salt = randomBytes(12).toString('base64url').slice(0, 16)
  return `pbkdf2_sha256$${iterations}$${salt}$${b64(pbkdf2Sync(password, salt, iterations, 32, 'sha256'))}`
}
async function djangoBcryptSha256(password: string) {
  const digest = createHash('sha256').update(password).digest('hex')
  return `bcrypt_sha256$${await bcrypt.hash(digest, 4)}`
}
function aspNetV3(password: string, iterations = 10_000) {
  const salt = randomBytes(16)
  const subkey = pbkdf2Sync(password, salt, iterations, 32, 'sha512')
  const header = Buffer.alloc(13)
  header.writeUInt8(0x01, 0)
  header.writeUInt32BE(2, 1) // HMACSHA512
  header.writeUInt32BE(iterations, 5)
  header.writeUInt32BE(salt.length, 9)
  return b64(Buffer.concat([header, salt, subkey]))
}

/** The 1-based line of the `{` that opens the array element holding `marker` (pretty-printed). */
function elementLine(text: string, marker: string): number {
  const lines = text.split('\n')
  let index = lines.findIndex((l) => l.includes(marker))
  while (index > 0 && lines[index]?.trim() !== '{') index--
  return index + 1
}

interface Fixture {
  kind: string
  file: string
  args: string[]
  people: Person[]
  badLines: number[]
}

async function buildFixtures(dir: string): Promise<Fixture[]> {
  const fixtures: Fixture[] = []

  // Keycloak (pretty-printed, as kc.sh writes it); the 4th user's element is malformed.
  {
    const people = [person('kc-sha1'), person('kc-sha256'), person('kc-sha512'), person('kc-argon2')]
    const otpUser = person('kc-otp', { totpSecret: 'from-keycloak' })
    const credentials = [
      keycloakPbkdf2(people[0]!.password, 'pbkdf2', 'sha1', 20_000),
      keycloakPbkdf2(people[1]!.password, 'pbkdf2-sha256', 'sha256', 27_500),
      keycloakPbkdf2(people[2]!.password, 'pbkdf2-sha512', 'sha512', 30_000),
      await keycloakArgon2(people[3]!.password),
    ]
    const users: unknown[] = people.map((p, i) => ({
      id: crypto.randomUUID(),
      createdTimestamp: 1_600_000_000_000 + i,
      username: p.email.split('@')[0],
      enabled: true,
      emailVerified: true,
      firstName: 'Kay',
      lastName: `Cloak ${i}`,
      email: p.email,
      credentials: [credentials[i]],
      realmRoles: ['default-roles-demo', 'offline_access', i === 0 ? 'Report Viewer' : 'uma_authorization'],
    }))
    users.push({
      id: crypto.randomUUID(),
      username: otpUser.email,
      enabled: true,
      credentials: [
        keycloakPbkdf2(otpUser.password, 'pbkdf2-sha256', 'sha256', 27_500),
        {
          type: 'otp',
          secretData: JSON.stringify({ value: KEYCLOAK_OTP_TEXT }),
          credentialData: JSON.stringify({
            subType: 'totp',
            digits: 6,
            period: 30,
            algorithm: 'HmacSHA1',
            counter: 0,
          }),
        },
      ],
    })
    users.push({ id: crypto.randomUUID(), username: 'no-address', email: 'not an e-mail', credentials: [] })
    const text = JSON.stringify({ realm: 'demo', roles: { realm: [] }, users }, null, 2)
    const file = join(dir, 'realm-export.json')
    writeFileSync(file, text)
    const badLine = elementLine(text, '"no-address"')
    fixtures.push({ kind: 'keycloak', file, args: [], people: [...people, otpUser], badLines: [badLine] })
  }

  // Supabase: auth.users as COPY … CSV HEADER writes it; line 4 has a bad hash.
  {
    const people = [person('sb-a'), person('sb-b')]
    const hashes = [await bcrypt.hash(people[0]!.password, 10), await bcrypt.hash(people[1]!.password, 4)]
    const row = (id: string, email: string, hash: string, confirmed: string) =>
      [
        id,
        email,
        hash,
        confirmed,
        '2024-01-02 03:04:05.123456+00',
        '"{""full_name"": ""Supa, Base""}"',
        '',
        'f',
        'f',
      ].join(',')
    const lines = [
      'id,email,encrypted_password,email_confirmed_at,created_at,raw_user_meta_data,deleted_at,is_sso_user,is_anonymous',
      row(crypto.randomUUID(), people[0]!.email, hashes[0]!, '2024-01-02 03:05:00+00'),
      row(crypto.randomUUID(), people[1]!.email, hashes[1]!, ''),
      row(crypto.randomUUID(), 'bad-hash@import.example', '$1$md5$nope', ''),
    ]
    const file = join(dir, 'users.csv')
    writeFileSync(file, `${lines.join('\n')}\n`)
    fixtures.push({ kind: 'supabase', file, args: [], people, badLines: [4] })
  }

  // Auth0: the password-hash export (NDJSON); line 2 is not JSON.
  {
    const people = [person('a0-a'), person('a0-b')]
    const line = async (p: Person) =>
      JSON.stringify({
        _id: { $oid: randomBytes(12).toString('hex') },
        email: p.email,
        email_verified: true,
        passwordHash: await bcrypt.hash(p.password, 10),
        tenant: 'dev-kitsune',
        connection: 'Username-Password-Authentication',
      })
    const file = join(dir, 'auth0.ndjson')
    writeFileSync(file, [await line(people[0]!), '{"email": "broken', await line(people[1]!)].join('\n'))
    fixtures.push({ kind: 'auth0', file, args: [], people, badLines: [2] })
  }

  // Firebase: auth:export JSON with the project's hash parameters (in a hash_config file).
  {
    const people = [person('fb-a'), person('fb-b')]
    const scrypt = new FirebaseScrypt(FIREBASE)
    const users: unknown[] = []
    for (const p of people) {
      const salt = b64(randomBytes(12))
      users.push({
        localId: randomBytes(14).toString('base64url'),
        email: p.email,
        emailVerified: true,
        passwordHash: await scrypt.hash(p.password, salt),
        salt,
        displayName: 'Fire Base',
        createdAt: '1600000000000',
        providerUserInfo: [{ providerId: 'password', email: p.email }],
      })
    }
    users.push({ localId: 'phone-only', phoneNumber: '+15555550100' })
    const text = JSON.stringify({ users }, null, 2)
    const file = join(dir, 'firebase.json')
    writeFileSync(file, text)
    const config = join(dir, 'hash-config.txt')
    writeFileSync(
      config,
      `hash_config {\n  algorithm: SCRYPT,\n  base64_signer_key: ${FIREBASE.signerKey},\n  base64_salt_separator: ${FIREBASE.saltSeparator},\n  rounds: ${FIREBASE.rounds},\n  mem_cost: ${FIREBASE.memCost},\n}\n`,
    )
    const badLine = elementLine(text, '"phone-only"')
    fixtures.push({ kind: 'firebase', file, args: ['--hash-config', config], people, badLines: [badLine] })
  }

  // Kitsune JSONL with Django and ASP.NET Core Identity hashes; line 3 has an unknown field.
  {
    // Django hashed the password as typed; Kitsune normalises (NFKC) — the first sign-in still works.
    const people = [
      person('dj-pbkdf2', { password: 'ﬁne ｗｉｄｅ password ½' }),
      person('dj-bcrypt'),
      person('aspnet'),
    ]
    const hashes = [
      djangoPbkdf2(people[0]!.password),
      await djangoBcryptSha256(people[1]!.password),
      aspNetV3(people[2]!.password),
    ]
    const lines = people.map((p, i) =>
      JSON.stringify({ email: p.email, password_hash: hashes[i], email_verified: true }),
    )
    lines.splice(2, 0, JSON.stringify({ email: 'typo@import.example', pasword_hash: 'x' }))
    const file = join(dir, 'users.jsonl')
    writeFileSync(file, `${lines.join('\n')}\n`)
    fixtures.push({ kind: 'jsonl', file, args: [], people, badLines: [3] })
  }
  return fixtures
}

const TARGETS = [
  { name: 'a PGlite directory', onPostgres: false },
  ...(TEST_DATABASE_URL ? [{ name: 'PostgreSQL', onPostgres: true }] : []),
]

describe.each(TARGETS)(
  'kitsune import (CLI) into $name: every kind, then sign-in over HTTP',
  ({ onPostgres }) => {
    let dir: string
    let database: { url: string; drop(): Promise<void> }
    let env: Record<string, string>
    let fixtures: Fixture[]
    const firstRuns = new Map<string, { code: number | null; stdout: string; stderr: string }>()

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kitsune-import-'))
      database = onPostgres
        ? await createPostgresDatabase()
        : { url: `pglite://${join(dir, 'db')}`, drop: async () => {} }
      env = cliEnv(dir, { DATABASE_URL: database.url })
      fixtures = await buildFixtures(dir)
      // A dry run first: it says what would change and writes nothing.
      const dry = await runCli(['import', 'keycloak', fixtures[0]!.file, '--dry-run'], env)
      firstRuns.set('dry-run', { code: dry.code, stdout: dry.stdout, stderr: dry.stderr })
      for (const f of fixtures) {
        const result = await runCli(
          ['import', f.kind, f.file, ...f.args, '--report', join(dir, `${f.kind}.report`)],
          env,
        )
        firstRuns.set(f.kind, { code: result.code, stdout: result.stdout, stderr: result.stderr })
      }
    }, 240_000)

    afterAll(async () => {
      killAllCli()
      await database?.drop()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    async function withApp<T>(use: (t: TestApp) => Promise<T>): Promise<T> {
      const target = onPostgres ? postgresTarget : pgliteTarget
      const t = await buildTestApp({
        target,
        provisioned: { env: { DATABASE_URL: database.url }, drop: async () => {} },
      })
      try {
        return await use(t)
      } finally {
        await t.close()
      }
    }

    it('a dry run reports what would be created and writes nothing', async () => {
      const dry = firstRuns.get('dry-run')
      expect(dry?.code).toBe(1) // the fixture has a rejected record
      expect(dry?.stdout).toContain('5 would create')
      expect(dry?.stdout).toContain('dry run: nothing was written')
      expect(dry?.stdout).toContain('roles to create: report-viewer')
    })

    it('imports each kind, naming every bad record by its line (exit 1)', () => {
      for (const f of fixtures) {
        const run = firstRuns.get(f.kind)
        expect(run?.code, `${f.kind}: ${run?.stderr}`).toBe(1)
        expect(run?.stdout).toContain(`${f.people.length} created`)
        for (const line of f.badLines) expect(run?.stderr).toContain(`${f.file}:${line}: `)
        const report = readFileSync(join(dir, `${f.kind}.report`), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
        expect(report.filter((r) => r.outcome === 'created')).toHaveLength(f.people.length)
        expect(report.filter((r) => r.outcome === 'rejected').map((r) => r.line)).toEqual(f.badLines)
        expect(report.at(-1).summary).toMatchObject({
          source: f.kind,
          created: f.people.length,
          rejected: f.badLines.length,
        })
      }
    })

    it('every user signs in with the original password, ends with argon2id, and a wrong password fails', async () => {
      await withApp(async (t) => {
        const stored = async (email: string) =>
          (
            await t.kitsune.database.db
              .selectFrom('users')
              .select('password_hash')
              .where('email', '=', email)
              .executeTakeFirstOrThrow()
          ).password_hash
        for (const f of fixtures) {
          for (const p of f.people) {
            const wrong = await t.inject({
              method: 'POST',
              url: '/api/v1/auth/login',
              payload: { email: p.email, password: `${p.password}!` },
            })
            expect(wrong.statusCode, `${f.kind} ${p.email} wrong password`).toBe(401)
            expect(await stored(p.email)).not.toMatch(/^\$argon2id\$v=19\$m=19456/)
            if (p.totpSecret) {
              const mfaToken = await startMfaLogin(t, p)
              const secret = Buffer.from(KEYCLOAK_OTP_TEXT).toString('base64') // the key is the text's bytes
              expect(base32Decode(await totpSecretOf(t, p.email)).toString('base64')).toBe(secret)
              const ok = await loginMfa(t, mfaToken, totp(await totpSecretOf(t, p.email), Date.now()))
              expect(ok.statusCode, `${f.kind} ${p.email} MFA`).toBe(200)
            } else {
              const ok = await t.inject({
                method: 'POST',
                url: '/api/v1/auth/login',
                payload: { email: p.email, password: p.password },
              })
              expect(ok.statusCode, `${f.kind} ${p.email}: ${ok.body}`).toBe(200)
            }
            expect(await stored(p.email), `${f.kind} ${p.email} re-hashed`).toMatch(
              /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/,
            )
          }
        }
        // Keycloak's realm role came along; its built-in ones did not.
        const kc = fixtures[0]!.people[0]!
        const roles = await t.kitsune.database.db
          .selectFrom('user_roles')
          .innerJoin('users', 'users.id', 'user_roles.user_id')
          .select('role_name')
          .where('users.email', '=', kc.email)
          .orderBy('role_name')
          .execute()
        expect(roles.map((r) => r.role_name)).toEqual(['report-viewer', 'user'])
        // One audit entry per run that created something, never with an e-mail or a hash in it.
        const audits = await t.kitsune.database.db
          .selectFrom('audit_logs')
          .select(['metadata'])
          .where('action', '=', 'user.created')
          .execute()
        const imports = audits.filter((a) => (a.metadata as { import?: boolean }).import)
        expect(imports.map((a) => (a.metadata as { source: string }).source).sort()).toEqual(
          fixtures.map((f) => f.kind).sort(),
        )
        expect(JSON.stringify(imports)).not.toMatch(/@import\.example|\$2b\$|pbkdf2/)
      })
    })

    it('a second run of every kind changes nothing and says so', async () => {
      const before = await withApp(async (t) => counts(t))
      for (const f of fixtures) {
        const again = await runCli(['import', f.kind, f.file, ...f.args], env)
        expect(again.code, again.stderr).toBe(1) // the bad records are still bad
        expect(again.stdout).toContain(`0 created, ${f.people.length} unchanged`)
        expect(again.stdout).toContain('nothing changed')
      }
      expect(await withApp(async (t) => counts(t))).toEqual(before)
    }, 120_000)

    it('exits 2 for a usage error: unknown kind, unreadable file, missing Firebase parameters', async () => {
      expect((await runCli(['import', 'okta', fixtures[0]!.file], env)).code).toBe(2)
      expect((await runCli(['import', 'auth0', join(dir, 'missing.ndjson')], env)).code).toBe(2)
      const firebase = await runCli(['import', 'firebase', fixtures[3]!.file, '--rounds', '8'], env)
      expect(firebase.code).toBe(2)
      expect(firebase.stderr).toContain('--signer-key')
    }, 60_000)
  },
)

async function totpSecretOf(t: TestApp, email: string): Promise<string> {
  const row = await t.kitsune.database.db
    .selectFrom('mfa_totp')
    .innerJoin('users', 'users.id', 'mfa_totp.user_id')
    .select(['mfa_totp.secret_enc', 'users.id'])
    .where('users.email', '=', email)
    .executeTakeFirstOrThrow()
  return createSecretBox(TEST_SECRET_KEY).open(row.secret_enc, `totp:${row.id}`)
}

async function counts(t: TestApp) {
  const db = t.kitsune.database.db
  const one = async (table: 'users' | 'user_roles' | 'roles' | 'mfa_totp' | 'audit_logs') =>
    Number((await db.selectFrom(table).select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
  return {
    users: await one('users'),
    user_roles: await one('user_roles'),
    roles: await one('roles'),
    mfa_totp: await one('mfa_totp'),
    audit_logs: await one('audit_logs'),
  }
}
