import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import bcrypt from 'bcrypt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPassphraseSeal, openPassphraseSeal } from '../../src/auth/passphrase-seal.js'
import { createPasswordHasher, NO_PASSWORD } from '../../src/auth/password-hasher.js'
import { mapAuth0User } from '../../src/import/auth0.source.js'
import { firebaseSource, mapFirebaseUser } from '../../src/import/firebase.source.js'
import { base32, type Mapped, roleNameOf, timeOf, totpSecretOf } from '../../src/import/import-record.js'
import {
  exportTotpContext,
  headerRoles,
  jsonlSource,
  type KitsuneExportHeader,
  mapKitsuneLine,
  readJsonlHeader,
} from '../../src/import/jsonl.source.js'
import { keycloakSource, mapKeycloakUser } from '../../src/import/keycloak.source.js'
import { mapSupabaseUser, supabaseSource } from '../../src/import/supabase.source.js'

const hasher = createPasswordHasher()
const b64 = (bytes: Buffer) => bytes.toString('base64')
const unpadded = (bytes: Buffer) => b64(bytes).replace(/=+$/, '')
const BCRYPT = bcrypt.hashSync('correct horse battery staple', 4)
const NO_PASSWORD_NOTE = 'no password: signs in after a password reset'
// RFC 6238 Appendix B's key, "12345678901234567890" (ASCII), is GEZDGNBVGY3TQOJQ… in base32.
const RFC6238_TEXT = '12345678901234567890'
const RFC6238_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'

let dir: string
let fileCount = 0
async function file(content: string): Promise<string> {
  const path = join(dir, `source-${++fileCount}`)
  await writeFile(path, content)
  return path
}
async function mapAll(
  source: { read(path: string): AsyncIterable<unknown>; map(v: unknown, l: number): Mapped },
  path: string,
) {
  const out: unknown[] = []
  for await (const item of source.read(path) as AsyncIterable<{
    line: number
    value?: unknown
    error?: string
  }>)
    out.push('value' in item ? source.map(item.value, item.line) : item)
  return out
}
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kitsune-import-sources-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('import record helpers', () => {
  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
    [RFC6238_TEXT, RFC6238_BASE32],
  ])('base32(%j) is %s (RFC 4648 §10, unpadded)', (text, expected) => {
    expect(base32(new TextEncoder().encode(text))).toBe(expected)
  })

  it('normalizes a TOTP secret of at least 80 bits and refuses others', () => {
    expect(totpSecretOf('gezd gnbv gy3t qojq====')).toBe('GEZDGNBVGY3TQOJQ')
    expect(totpSecretOf('MZXW6YTBOI')).toBeUndefined()
    expect(totpSecretOf('GEZDGNBVGY3TQOJ1')).toBeUndefined()
  })

  it('turns a source role name into a Kitsune role name or names why not', () => {
    expect(roleNameOf('Billing Admin')).toEqual({ role: 'billing-admin' })
    expect(roleNameOf('  support_team ')).toEqual({ role: 'support_team' })
    expect(roleNameOf('管理者')).toMatchObject({ error: expect.stringContaining('"管理者"') })
    expect(roleNameOf('1st-line')).toMatchObject({ error: expect.stringContaining('no valid Kitsune name') })
  })

  it.each([
    [1700000000123, '2023-11-14T22:13:20.123Z'],
    ['1612345678901', '2021-02-03T09:47:58.901Z'],
    ['2024-01-02T03:04:05.678Z', '2024-01-02T03:04:05.678Z'],
    ['2024-01-02 03:04:05.123456+00', '2024-01-02T03:04:05.123Z'],
    ['2024-01-02 03:04:05+02', '2024-01-02T01:04:05.000Z'],
    ['2024-01-02 03:04:05.5-07', '2024-01-02T10:04:05.500Z'],
    ['2024-01-02 03:04:05.123456+05:30', '2024-01-01T21:34:05.123Z'],
    [{ $date: '2021-03-05T16:35:16.775Z' }, '2021-03-05T16:35:16.775Z'],
  ])('reads the time %j', (value, iso) => {
    expect(timeOf(value)?.toISOString()).toBe(iso)
  })

  it.each([[null], [''], ['not a time'], [0], [{}]])('reads no time from %j', (value) => {
    expect(timeOf(value)).toBeUndefined()
  })
})

describe('Keycloak', () => {
  const salt = randomBytes(16)
  const key = pbkdf2Sync('correct horse battery staple', salt, 27_500, 64, 'sha256')
  const passwordCredential = {
    id: '0d5c5e1a-6f1b-4c59-9a5e-3f0a2b1c4d5e',
    type: 'password',
    userLabel: 'My password',
    createdDate: 1700000000456,
    secretData: JSON.stringify({ value: b64(key), salt: b64(salt), additionalParameters: {} }),
    credentialData: JSON.stringify({
      hashIterations: 27_500,
      algorithm: 'pbkdf2-sha256',
      additionalParameters: {},
    }),
  }
  const otpCredential = (data: Record<string, unknown> = {}, value = RFC6238_TEXT) => ({
    id: '7a1e2b3c-4d5e-4f60-8172-93a4b5c6d7e8',
    type: 'otp',
    userLabel: 'Phone',
    createdDate: 1700000000789,
    secretData: JSON.stringify({ value }),
    credentialData: JSON.stringify({
      subType: 'totp',
      digits: 6,
      counter: 0,
      period: 30,
      algorithm: 'HmacSHA1',
      ...data,
    }),
  })
  // One user of a realm file as `kc.sh export --realm acme` writes it.
  const ada = {
    id: '6F1C0A4E-2B3D-4E5F-8A9B-0C1D2E3F4A5B',
    createdTimestamp: 1700000000123,
    username: 'ada',
    enabled: true,
    totp: false,
    emailVerified: true,
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: '  Ada@Example.COM ',
    credentials: [passwordCredential],
    disableableCredentialTypes: [],
    requiredActions: [],
    realmRoles: ['default-roles-acme', 'offline_access', 'uma_authorization', 'Billing Admin'],
    clientRoles: { account: ['manage-account'] },
    notBefore: 0,
    groups: ['/staff'],
  }

  it('maps a user with a pbkdf2-sha256 password to a complete record', async () => {
    const mapped = mapKeycloakUser(ada, 12)
    expect(mapped).toEqual({
      line: 12,
      id: '6f1c0a4e-2b3d-4e5f-8a9b-0c1d2e3f4a5b',
      email: 'ada@example.com',
      emailVerified: true,
      fullName: 'Ada Lovelace',
      passwordHash: `$pbkdf2-sha256$i=27500$${unpadded(salt)}$${unpadded(key)}`,
      isActive: true,
      createdAt: new Date(1700000000123),
      roles: ['billing-admin', 'user'],
    })
    expect(
      await hasher.verify((mapped as { passwordHash: string }).passwordHash, 'correct horse battery staple'),
    ).toBe(true)
  })

  it('reads the legacy (before Keycloak 11) credential fields', () => {
    const legacy = {
      type: 'password',
      hashedSaltedValue: b64(key),
      salt: b64(salt),
      hashIterations: 27_500,
      algorithm: 'pbkdf2-sha256',
      digits: 0,
      period: 0,
      createdDate: 1500000000000,
      config: {},
    }
    expect(mapKeycloakUser({ ...ada, credentials: [legacy] }, 3)).toMatchObject({
      passwordHash: `$pbkdf2-sha256$i=27500$${unpadded(salt)}$${unpadded(key)}`,
    })
  })

  it('reads the legacy (before Keycloak 11) totp and hotp credentials', () => {
    const legacyOtp = (type: string) => ({
      type,
      value: RFC6238_TEXT,
      digits: 6,
      period: 30,
      algorithm: 'HmacSHA1',
      createdDate: 1500000000000,
    })
    expect(
      mapKeycloakUser({ ...ada, credentials: [passwordCredential, legacyOtp('totp')] }, 4),
    ).toMatchObject({
      totpSecret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
    })
    expect(
      mapKeycloakUser({ ...ada, credentials: [passwordCredential, legacyOtp('hotp')] }, 5),
    ).toMatchObject({
      line: 5,
      error: expect.stringContaining('OTP credential is hotp'),
    })
  })

  it('maps an argon2 credential to a PHC string', () => {
    const argonSalt = randomBytes(16)
    const hash = randomBytes(32)
    const credential = {
      type: 'password',
      secretData: JSON.stringify({ value: b64(hash), salt: b64(argonSalt), additionalParameters: {} }),
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
    expect(mapKeycloakUser({ ...ada, credentials: [credential] }, 1)).toMatchObject({
      passwordHash: `$argon2id$v=19$m=7168,t=5,p=1$${unpadded(argonSalt)}$${unpadded(hash)}`,
    })
  })

  it('turns a hash the converter refuses into a line error', () => {
    const credential = {
      ...passwordCredential,
      credentialData: JSON.stringify({ hashIterations: 1, algorithm: 'md5' }),
    }
    expect(mapKeycloakUser({ ...ada, credentials: [credential] }, 4)).toEqual({
      line: 4,
      error: 'password: unsupported Keycloak algorithm "md5"',
    })
  })

  it('imports a user without a password with NO_PASSWORD and a note', () => {
    expect(mapKeycloakUser({ ...ada, credentials: [] }, 5)).toMatchObject({
      passwordHash: NO_PASSWORD,
      notes: [NO_PASSWORD_NOTE],
    })
    expect(mapKeycloakUser({ ...ada, credentials: undefined }, 5)).toMatchObject({
      passwordHash: NO_PASSWORD,
    })
  })

  it('takes an OTP secret’s UTF-8 text as the key, in base32', () => {
    const mapped = mapKeycloakUser(
      { ...ada, totp: true, credentials: [passwordCredential, otpCredential()] },
      6,
    )
    expect(mapped).toMatchObject({ totpSecret: RFC6238_BASE32 })
    expect(mapped).not.toHaveProperty('notes')
  })

  it('takes a secret marked BASE32 as it is, normalized', () => {
    const mapped = mapKeycloakUser(
      { ...ada, credentials: [otpCredential({ secretEncoding: 'BASE32' }, 'jbsw y3dp ehpk 3pxp')] },
      7,
    )
    expect(mapped).toMatchObject({ totpSecret: 'JBSWY3DPEHPK3PXP' })
  })

  it.each([
    ['8 digits', { digits: 8 }, /8 digits/],
    ['HmacSHA256', { algorithm: 'HmacSHA256' }, /HmacSHA256/],
    ['a 60 s period', { period: 60 }, /60 s/],
    ['HOTP', { subType: 'hotp' }, /is hotp/],
  ])('refuses an OTP credential with %s', (_name, data, message) => {
    const mapped = mapKeycloakUser({ ...ada, credentials: [otpCredential(data)] }, 8)
    expect(mapped).toEqual({ line: 8, error: expect.stringMatching(message) })
  })

  it('refuses an OTP secret shorter than 80 bits', () => {
    // base32("foobar") is MZXW6YTBOI: 50 bits.
    expect(mapKeycloakUser({ ...ada, credentials: [otpCredential({}, 'foobar')] }, 9)).toEqual({
      line: 9,
      error: 'OTP secret is shorter than 80 bits or malformed',
    })
  })

  it('refuses a realm role with no Kitsune name', () => {
    expect(mapKeycloakUser({ ...ada, realmRoles: ['default-roles-acme', '管理者'] }, 10)).toEqual({
      line: 10,
      error: expect.stringContaining('role "管理者" has no valid Kitsune name'),
    })
  })

  it('gives a user with only built-in realm roles just the user role', () => {
    expect(
      mapKeycloakUser({ ...ada, realmRoles: ['default-roles-acme', 'offline_access'] }, 1),
    ).toMatchObject({
      roles: ['user'],
    })
  })

  it('skips a client’s service account', () => {
    const serviceAccount = {
      id: ada.id,
      username: 'service-account-billing',
      enabled: true,
      serviceAccountClientId: 'billing',
    }
    expect(mapKeycloakUser(serviceAccount, 11)).toEqual({
      line: 11,
      skip: 'a client’s service account, not a person',
    })
  })

  it('falls back to a username that is an e-mail address, and refuses a user with neither', () => {
    expect(mapKeycloakUser({ ...ada, email: undefined, username: 'Grace@Example.com' }, 1)).toMatchObject({
      email: 'grace@example.com',
    })
    expect(mapKeycloakUser({ ...ada, email: undefined }, 2)).toEqual({
      line: 2,
      error: 'no valid e-mail address (email, or a username that is one)',
    })
  })

  it('notes linked identities, keeps a non-UUID id as sourceId and maps a disabled user inactive', () => {
    const user = {
      ...ada,
      id: 'legacy-42',
      enabled: false,
      emailVerified: false,
      lastName: undefined,
      federatedIdentities: [
        { identityProvider: 'google', userId: '1234', userName: 'ada@example.com' },
        { identityProvider: 'github', userId: '99', userName: 'ada' },
      ],
    }
    const mapped = mapKeycloakUser(user, 13)
    expect(mapped).toMatchObject({
      sourceId: 'legacy-42',
      isActive: false,
      emailVerified: false,
      fullName: 'Ada',
    })
    expect(mapped).not.toHaveProperty('id')
    expect(mapped).toHaveProperty('notes', ['linked identities not imported: google, github'])
  })

  it('reads the users of a realm file with their lines', async () => {
    const realm = JSON.stringify(
      { realm: 'acme', roles: { realm: [] }, users: [ada, { ...ada, serviceAccountClientId: 'x' }] },
      null,
      2,
    )
    const lines = realm.split('\n')
    const starts = lines.flatMap((l, i) => (l === '    {' ? [i + 1] : []))
    const out = await mapAll(keycloakSource, await file(realm))
    expect(out).toEqual([
      expect.objectContaining({ line: starts[0], email: 'ada@example.com' }),
      { line: starts[1], skip: 'a client’s service account, not a person' },
    ])
    expect(keycloakSource.createsRoles).toBe(true)
  })
})

describe('Supabase', () => {
  const now = new Date('2025-06-01T00:00:00Z')
  // A row of auth.users as `select row_to_json(u) from auth.users u` prints it.
  const jsonRow = {
    instance_id: '00000000-0000-0000-0000-000000000000',
    id: 'd2f1b7c4-3e5a-4b6c-9d8e-7f6a5b4c3d2e',
    aud: 'authenticated',
    role: 'authenticated',
    email: 'Ada@Example.com',
    encrypted_password: BCRYPT,
    email_confirmed_at: '2024-01-02T03:04:05.123456+00:00',
    raw_app_meta_data: { provider: 'email', providers: ['email'] },
    raw_user_meta_data: { full_name: 'Ada Lovelace', email_verified: true },
    created_at: '2024-01-01T10:00:00.5+00:00',
    phone: null,
    confirmed_at: '2024-01-02T03:04:05.123456+00:00',
    banned_until: null,
    is_sso_user: false,
    deleted_at: null,
    is_anonymous: false,
  }

  it('maps a JSON row', () => {
    expect(mapSupabaseUser(jsonRow, 1, now)).toEqual({
      line: 1,
      id: 'd2f1b7c4-3e5a-4b6c-9d8e-7f6a5b4c3d2e',
      email: 'ada@example.com',
      emailVerified: true,
      fullName: 'Ada Lovelace',
      passwordHash: BCRYPT,
      isActive: true,
      createdAt: new Date('2024-01-01T10:00:00.500Z'),
      roles: ['user'],
    })
  })

  // The same columns as `\copy auth.users to 'users.csv' with (format csv, header)` writes them.
  const header =
    'instance_id,id,aud,role,email,encrypted_password,email_confirmed_at,raw_app_meta_data,raw_user_meta_data,created_at,phone,phone_confirmed_at,confirmed_at,banned_until,is_sso_user,deleted_at,is_anonymous'
  const csvRow = (fields: Record<string, string>) => {
    const base: Record<string, string> = {
      instance_id: '00000000-0000-0000-0000-000000000000',
      id: 'e3a2c8d5-4f6b-4c7d-8e9f-0a1b2c3d4e5f',
      aud: 'authenticated',
      role: 'authenticated',
      email: 'grace@example.com',
      encrypted_password: BCRYPT,
      email_confirmed_at: '2024-01-02 03:04:05.123456+00',
      raw_app_meta_data: '"{""provider"": ""email"", ""providers"": [""email""]}"',
      raw_user_meta_data: '"{""name"": ""Grace Hopper""}"',
      created_at: '2024-01-01 10:00:00.5+00',
      phone: '',
      phone_confirmed_at: '',
      confirmed_at: '2024-01-02 03:04:05.123456+00',
      banned_until: '',
      is_sso_user: 'f',
      deleted_at: '',
      is_anonymous: 'f',
      ...fields,
    }
    return header
      .split(',')
      .map((column) => base[column])
      .join(',')
  }

  it('maps CSV rows read from a file: text booleans, JSON text and PostgreSQL timestamps', async () => {
    const rows = [
      csvRow({}),
      csvRow({
        id: 'f4b3d9e6-5a7c-4d8e-9fa0-1b2c3d4e5f60',
        email: 'deleted@example.com',
        deleted_at: '2024-05-01 00:00:00+00',
      }),
      csvRow({ email: '', is_anonymous: 't' }),
      csvRow({ email: '', phone: '15551234567', phone_confirmed_at: '2024-01-02 03:04:05+00' }),
      csvRow({ email: 'banned@example.com', banned_until: '2125-01-01 00:00:00+00' }),
      csvRow({ email: 'sso@example.com', encrypted_password: '""', is_sso_user: 't' }),
      csvRow({ email: 'unconfirmed@example.com', email_confirmed_at: '', confirmed_at: '' }),
    ]
    const out = await mapAll(supabaseSource, await file(`${header}\n${rows.join('\n')}\n`))
    expect(out).toEqual([
      {
        line: 2,
        id: 'e3a2c8d5-4f6b-4c7d-8e9f-0a1b2c3d4e5f',
        email: 'grace@example.com',
        emailVerified: true,
        fullName: 'Grace Hopper',
        passwordHash: BCRYPT,
        isActive: true,
        createdAt: new Date('2024-01-01T10:00:00.500Z'),
        roles: ['user'],
      },
      { line: 3, skip: 'deleted in Supabase' },
      { line: 4, skip: 'an anonymous user' },
      { line: 5, error: 'no valid e-mail address (phone-only users are not imported)' },
      expect.objectContaining({ line: 6, email: 'banned@example.com', isActive: false }),
      expect.objectContaining({
        line: 7,
        passwordHash: NO_PASSWORD,
        notes: ['an SSO user: signs in after a password reset'],
      }),
      expect.objectContaining({ line: 8, email: 'unconfirmed@example.com', emailVerified: false }),
    ])
  })

  it('reads JSON lines and a JSON array too', async () => {
    const lines = await mapAll(supabaseSource, await file(`${JSON.stringify(jsonRow)}\n`))
    const array = await mapAll(supabaseSource, await file(`\n[${JSON.stringify(jsonRow)}]`))
    expect(lines).toEqual([expect.objectContaining({ line: 1, email: 'ada@example.com' })])
    expect(array).toEqual([expect.objectContaining({ line: 2, email: 'ada@example.com' })])
  })

  it('makes a user banned until a future time inactive, and one whose ban ended active', () => {
    expect(mapSupabaseUser({ ...jsonRow, banned_until: '2025-06-02 00:00:00+00' }, 1, now)).toMatchObject({
      isActive: false,
    })
    expect(mapSupabaseUser({ ...jsonRow, banned_until: '2025-05-31 00:00:00+00' }, 1, now)).toMatchObject({
      isActive: true,
    })
  })

  it('verifies the e-mail only from email_confirmed_at, not from a confirmed phone', () => {
    const phoneConfirmed = {
      ...jsonRow,
      email_confirmed_at: null,
      phone: '15551234567',
      phone_confirmed_at: '2024-01-02T03:04:05+00:00',
      confirmed_at: '2024-01-02T03:04:05+00:00',
    }
    expect(mapSupabaseUser(phoneConfirmed, 1, now)).toMatchObject({ emailVerified: false })
    // Rows from before email_confirmed_at existed have only confirmed_at.
    const { email_confirmed_at: _, ...old } = jsonRow
    expect(mapSupabaseUser(old, 1, now)).toMatchObject({ emailVerified: true })
  })

  it('imports an empty encrypted_password as NO_PASSWORD with a note', () => {
    for (const encrypted_password of ['', null]) {
      expect(mapSupabaseUser({ ...jsonRow, encrypted_password }, 1, now)).toMatchObject({
        passwordHash: NO_PASSWORD,
        notes: [NO_PASSWORD_NOTE],
      })
    }
  })

  it('turns a hash the converter refuses into a line error', () => {
    expect(mapSupabaseUser({ ...jsonRow, encrypted_password: '$2a$10$short' }, 9, now)).toEqual({
      line: 9,
      error: expect.stringMatching(/^encrypted_password: /),
    })
  })
})

describe('Auth0', () => {
  it('maps a line of the password-hash export', () => {
    const line = {
      _id: { $oid: '60425dc43519d90068f82973' },
      email_verified: false,
      email: 'Santa@Example.com',
      passwordHash: BCRYPT,
      password_set_date: { $date: '2021-03-05T16:35:16.775Z' },
      tenant: 'dev-rwsbs6ym',
      connection: 'Username-Password-Authentication',
      _tmp_is_unique: true,
    }
    expect(mapAuth0User(line, 3)).toEqual({
      line: 3,
      sourceId: 'auth0|60425dc43519d90068f82973',
      email: 'santa@example.com',
      emailVerified: false,
      fullName: null,
      passwordHash: BCRYPT,
      isActive: true,
      createdAt: undefined,
      roles: ['user'],
    })
    expect(BCRYPT.startsWith('$2b$04$')).toBe(true)
  })

  it('maps a line of a bulk user export, without a hash', () => {
    const line = {
      user_id: 'auth0|5f7c8ec7c33c6c004bbafe82',
      email: 'grace@example.com',
      email_verified: true,
      given_name: 'Grace',
      family_name: 'Hopper',
      created_at: '2020-10-06T15:25:27.417Z',
      blocked: true,
    }
    expect(mapAuth0User(line, 1)).toEqual({
      line: 1,
      sourceId: 'auth0|5f7c8ec7c33c6c004bbafe82',
      email: 'grace@example.com',
      emailVerified: true,
      fullName: 'Grace Hopper',
      passwordHash: NO_PASSWORD,
      isActive: false,
      createdAt: new Date('2020-10-06T15:25:27.417Z'),
      roles: ['user'],
      notes: [NO_PASSWORD_NOTE],
    })
  })

  it('turns a bad hash into an error naming passwordHash, and refuses a line without an e-mail', () => {
    expect(mapAuth0User({ email: 'a@example.com', passwordHash: '$2b$10$tooShort' }, 2)).toEqual({
      line: 2,
      error: expect.stringMatching(/^passwordHash: /),
    })
    expect(mapAuth0User({ user_id: 'sms|1', phone_number: '+15551234567' }, 3)).toEqual({
      line: 3,
      error: 'no valid e-mail address',
    })
    expect(mapAuth0User([], 4)).toEqual({ line: 4, error: 'not a JSON object' })
  })
})

describe('Firebase', () => {
  // The sample project parameters and user published with Firebase's scrypt tool.
  const params = {
    signerKey: 'jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==',
    saltSeparator: 'Bw==',
    rounds: 8,
    memCost: 14,
  }
  const user = {
    localId: 'Ay3Ju5bSR1NpQHNv4B2Jt1dZbo92',
    email: 'User1@Example.com',
    emailVerified: true,
    passwordHash: 'lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==',
    salt: '42xEC+ixf3L2lw==',
    displayName: 'User One',
    lastSignedInAt: '1612345999000',
    createdAt: '1612345678901',
    providerUserInfo: [
      {
        providerId: 'password',
        email: 'user1@example.com',
        federatedId: 'user1@example.com',
        rawId: 'user1@example.com',
      },
      { providerId: 'google.com', rawId: '1122334455', email: 'user1@example.com', displayName: 'User One' },
    ],
  }

  it('maps a user with a password to the firebase-scrypt form that verifies', async () => {
    const mapped = mapFirebaseUser(user, 5, params)
    expect(mapped).toEqual({
      line: 5,
      sourceId: 'Ay3Ju5bSR1NpQHNv4B2Jt1dZbo92',
      email: 'user1@example.com',
      emailVerified: true,
      fullName: 'User One',
      passwordHash: `$firebase-scrypt$r=8,m=14$${params.signerKey.replace(/=+$/, '')}$Bw$42xEC+ixf3L2lw$${user.passwordHash.replace(/=+$/, '')}`,
      isActive: true,
      createdAt: new Date(1612345678901),
      roles: ['user'],
      notes: ['linked identities not imported: google.com'],
    })
    expect(await hasher.verify((mapped as { passwordHash: string }).passwordHash, 'user1password')).toBe(true)
  })

  it('maps a disabled user without a password, with notes', () => {
    const { passwordHash: _p, salt: _s, ...rest } = user
    const mapped = mapFirebaseUser(
      { ...rest, disabled: true, providerUserInfo: [], mfaInfo: [{ phoneInfo: '+1555' }] },
      6,
      params,
    )
    expect(mapped).toMatchObject({
      isActive: false,
      passwordHash: NO_PASSWORD,
      notes: [
        'multi-factor enrolments not imported (Firebase does not export their secrets)',
        NO_PASSWORD_NOTE,
      ],
    })
  })

  it('refuses a user without an e-mail and turns a bad hash into a line error', () => {
    expect(mapFirebaseUser({ localId: 'x', phoneNumber: '+15551234567' }, 7, params)).toEqual({
      line: 7,
      error: 'no valid e-mail address (phone-only users are not imported)',
    })
    expect(mapFirebaseUser({ ...user, passwordHash: 'not base64!' }, 8, params)).toEqual({
      line: 8,
      error: 'passwordHash: Firebase password hash is not base64',
    })
  })

  it('reads the users array of an export file', async () => {
    const path = await file(JSON.stringify({ users: [user] }, null, 2))
    expect(await mapAll(firebaseSource(params), path)).toEqual([
      expect.objectContaining({ line: 3, email: 'user1@example.com' }),
    ])
  })
})

describe('Kitsune JSON lines', () => {
  const id = '0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B'
  const codeHash = (code: string) => createHash('sha256').update(code).digest('base64url')
  const codes = [codeHash('AAAA-BBBB'), codeHash('CCCC-DDDD')]
  let seal: (plaintext: string, context: string) => string
  let open: (sealed: string, context: string) => string
  beforeAll(async () => {
    const sealer = await createPassphraseSeal('a long enough passphrase')
    seal = sealer.seal
    open = (await openPassphraseSeal('a long enough passphrase', sealer.header)).open
  })
  const line = (fields: Record<string, unknown> = {}) => ({
    id,
    email: 'Ada@Example.com',
    email_verified: true,
    full_name: '  Ada Lovelace ',
    password_hash: BCRYPT,
    is_active: false,
    roles: ['user', 'billing-admin', 'user'],
    created_at: '2024-01-02T03:04:05.678Z',
    locale: 'es-MX',
    ...fields,
  })

  it('maps every field, opening the sealed TOTP secret', () => {
    const mfa = { totp: seal(RFC6238_BASE32, exportTotpContext(id)), recovery_codes: codes }
    expect(mapKitsuneLine(line({ mfa }), 2, open)).toEqual({
      line: 2,
      id: id.toLowerCase(),
      email: 'ada@example.com',
      emailVerified: true,
      fullName: 'Ada Lovelace',
      passwordHash: BCRYPT,
      isActive: false,
      createdAt: new Date('2024-01-02T03:04:05.678Z'),
      roles: ['billing-admin', 'user'],
      locale: 'es-MX',
      totpSecret: RFC6238_BASE32,
      recoveryCodeHashes: codes,
    })
  })

  it('defaults a minimal hand-made line', () => {
    expect(mapKitsuneLine({ email: 'b@example.com' }, 1)).toEqual({
      line: 1,
      email: 'b@example.com',
      emailVerified: false,
      fullName: null,
      passwordHash: NO_PASSWORD,
      isActive: true,
      roles: ['user'],
    })
    expect(
      mapKitsuneLine(
        { email: 'b@example.com', password_hash: null, full_name: null, locale: null, mfa: null },
        1,
      ),
    ).toMatchObject({
      passwordHash: NO_PASSWORD,
    })
  })

  it('converts a foreign hash it accepts to the stored form', () => {
    const salt = 'abcdefgh'
    const key = pbkdf2Sync('pw', salt, 1000, 32, 'sha256')
    expect(
      mapKitsuneLine(line({ password_hash: `pbkdf2_sha256$1000$${salt}$${b64(key)}` }), 1),
    ).toMatchObject({
      passwordHash: `$pbkdf2-sha256$i=1000$${unpadded(Buffer.from(salt))}$${unpadded(key)}`,
    })
  })

  it.each([
    ['an unknown field', { nickname: 'ada', extra: 1 }, 'unknown field(s): nickname, extra'],
    ['an id that is not a UUID', { id: '42' }, 'id must be a UUID'],
    ['a missing e-mail', { email: undefined }, 'email is missing or invalid'],
    [
      'a refused hash',
      { password_hash: '$1$salt$hash' },
      'password_hash: unsupported password hash scheme: md5-crypt',
    ],
    ['a hash that is not text', { password_hash: 7 }, 'password_hash must be a string or null'],
    ['a long name', { full_name: 'x'.repeat(201) }, 'full_name must be a string of at most 200 characters'],
    ['a text flag', { is_active: 'true' }, 'is_active must be a boolean'],
    ['roles that are not a list', { roles: 'admin' }, 'roles must be an array of role names'],
    [
      'a role not spelled as Kitsune names it',
      { roles: ['Billing Admin'] },
      'role "Billing Admin" is not a valid role name',
    ],
    ['a time that is not one', { created_at: 'yesterday' }, 'created_at must be an ISO 8601 time'],
    ['a time as a number', { created_at: 1700000000000 }, 'created_at must be an ISO 8601 time'],
    ['a bad locale', { locale: 'Spanish!' }, 'locale must be a language tag'],
    ['mfa that is a list', { mfa: [] }, 'mfa must be an object'],
    [
      'bad recovery code hashes',
      { mfa: { recovery_codes: ['short'] } },
      'mfa.recovery_codes must be at most 50 recovery-code hashes',
    ],
    [
      'too many recovery code hashes',
      { mfa: { recovery_codes: Array.from({ length: 51 }, (_, i) => codeHash(String(i))) } },
      'mfa.recovery_codes must be at most 50 recovery-code hashes',
    ],
  ])('refuses %s', (_name, fields, error) => {
    expect(mapKitsuneLine(line(fields), 4, open)).toEqual({ line: 4, error })
  })

  it('refuses a sealed secret that was altered, moved to another account, or has no way to open', () => {
    const sealed = seal(RFC6238_BASE32, exportTotpContext(id))
    const tampered = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.at(-1)}`
    const refused = 'mfa.totp does not open with this passphrase (altered, or moved to another account)'
    expect(mapKitsuneLine(line({ mfa: { totp: tampered } }), 5, open)).toEqual({ line: 5, error: refused })
    const other = '0190a1b2-c3d4-7e5f-8a9b-000000000000'
    expect(mapKitsuneLine(line({ id: other, mfa: { totp: sealed } }), 6, open)).toEqual({
      line: 6,
      error: refused,
    })
    expect(mapKitsuneLine(line({ mfa: { totp: sealed } }), 7)).toEqual({
      line: 7,
      error: 'mfa.totp is sealed but the file has no MFA header',
    })
    expect(mapKitsuneLine(line({ mfa: { totp: seal('short', exportTotpContext(id)) } }), 8, open)).toEqual({
      line: 8,
      error: 'mfa.totp is not a base32 secret of at least 80 bits',
    })
  })

  it('keeps only header roles with a valid name and known permissions', () => {
    const header = {
      format: 'kitsune-users',
      version: 1,
      roles: [
        {
          name: 'billing-admin',
          description: 'Bills',
          permissions: ['users:read', 'bills:pay', 'audit:read', 3],
        },
        { name: '1st-line', description: 'x', permissions: ['users:read'] },
        { name: 'support', description: 'd'.repeat(300), permissions: 'users:read' },
        { name: 'auditor', description: 7, permissions: ['audit:read'] },
        { name: 42 },
        null,
      ],
    } as unknown as KitsuneExportHeader
    expect(headerRoles(header)).toEqual([
      { name: 'billing-admin', description: 'Bills', permissions: ['users:read', 'audit:read'] },
      { name: 'support', description: 'd'.repeat(200), permissions: [] },
      { name: 'auditor', description: '', permissions: ['audit:read'] },
    ])
    expect(headerRoles(undefined)).toEqual([])
    expect(headerRoles({ format: 'kitsune-users', version: 1 })).toEqual([])
  })

  it('reads an export file: its header, then the account lines without it', async () => {
    const header: KitsuneExportHeader = {
      format: 'kitsune-users',
      version: 1,
      exported_at: '2025-01-01T00:00:00Z',
      roles: [],
    }
    const path = await file([JSON.stringify(header), JSON.stringify(line()), '', 'not json'].join('\n'))
    expect(await readJsonlHeader(path)).toEqual(header)
    expect(await mapAll(jsonlSource(header), path)).toEqual([
      expect.objectContaining({ line: 2, email: 'ada@example.com' }),
      { line: 4, error: 'not valid JSON' },
    ])
    expect(await readJsonlHeader(await file(`${JSON.stringify(line())}\n`))).toBeUndefined()
    await expect(
      readJsonlHeader(await file(`${JSON.stringify({ ...header, version: 2 })}\n`)),
    ).rejects.toThrow('export format version 2 is not supported')
  })
})

describe('Kitsune JSON lines: passwords and passkeys from other systems', () => {
  it("reads Django's unusable password (`!…`) as no password", () => {
    const mapped = mapKitsuneLine(
      { email: 'nopass@example.com', password_hash: '!Xq9ZkUo2aZ8Lw1b3v5n7m9p0r2t4y6u8i0o' },
      1,
    )
    expect(mapped).toMatchObject({ email: 'nopass@example.com', passwordHash: NO_PASSWORD })
  })

  it('keeps a valid passkey and rejects a malformed one, naming it', () => {
    const passkey = {
      credential_id: 'q8Zb3X0vUu1cQm7l1oUq9w',
      public_key: 'pQECAyYgASFYIJ2mXlq0pFJc8bmf9P3sWqJ7T0r2K1yq4V4f1a3f2c1d',
      sign_count: 3,
      transports: ['internal'],
      aaguid: '00000000-0000-0000-0000-000000000000',
      backup_eligible: false,
      backed_up: false,
      user_verified: true,
      name: 'Key',
    }
    expect(
      mapKitsuneLine({ email: 'k@example.com', mfa_enabled: true, passkeys: [passkey] }, 1),
    ).toMatchObject({
      mfaEnabled: true,
      passkeys: [passkey],
    })
    expect(
      mapKitsuneLine(
        { email: 'k@example.com', passkeys: [passkey, { ...passkey, transports: ['carrier-pigeon'] }] },
        2,
      ),
    ).toEqual({ line: 2, error: 'passkeys[1] is not a valid passkey' })
    expect(mapKitsuneLine({ email: 'k@example.com', mfa_enabled: 'yes' }, 3)).toEqual({
      line: 3,
      error: 'mfa_enabled must be a boolean',
    })
  })
})
