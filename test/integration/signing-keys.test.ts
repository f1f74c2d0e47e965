import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JWK, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSecretBox } from '../../src/auth/secret-box.js'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'
import { fixedClock } from '../../src/lib/clock.js'
import { KEY_RELOAD_SECONDS } from '../../src/services/signing-key.service.js'
import { buildTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/build-test-app.js'
import { bearer, registerAndLogin } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const meStatus = async (t: TestApp, token: string) =>
  (await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) })).statusCode

const jwksOf = async (t: TestApp) =>
  (await t.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: JWK[] }

const kidOf = (token: string) => decodeProtectedHeader(token).kid

/** Rotates the access-token (EdDSA) key only; the RS256 key has tests of its own. */
const rotateAccessKey = async (t: TestApp) => {
  const [rotated] = await t.kitsune.services.keys.rotate('EdDSA')
  if (!rotated) throw new Error('nothing rotated')
  return rotated
}

const kidsOf = (jwks: { keys: JWK[] }, alg: string) =>
  jwks.keys.filter((k) => k.alg === alg).map((k) => k.kid)

const HS256_SECRET = 'an-hs256-shared-secret-of-at-least-32-bytes'

describe.each(testTargets())('signing keys on $name', (target) => {
  let t: Awaited<ReturnType<typeof buildTestApp>>
  beforeAll(async () => {
    t = await buildTestApp({ target })
  })
  afterAll(async () => t?.close())

  it('stores the private key sealed in private_key_enc, bound to its kid, never as a clear JWK', async () => {
    const { kid } = t.kitsune.services.keys.current()
    const row = await t.kitsune.database.db
      .selectFrom('signing_keys')
      .select(['kid', 'public_jwk', 'private_key_enc'])
      .where('kid', '=', kid)
      .executeTakeFirstOrThrow()
    expect(row.private_key_enc).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(row.private_key_enc).not.toContain('"d"')
    expect(JSON.stringify(row.public_jwk)).not.toContain('"d"')

    const privateJwk = JSON.parse(
      createSecretBox(TEST_SECRET_KEY).open(row.private_key_enc, `signing-key:${kid}`),
    )
    expect(privateJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', x: (row.public_jwk as JWK).x })
    expect(typeof privateJwk.d).toBe('string')
    expect(row.private_key_enc).not.toContain(privateJwk.d)
    expect(Buffer.from(row.private_key_enc).toString('base64url')).not.toContain(privateJwk.d)
    expect(() =>
      createSecretBox(TEST_SECRET_KEY).open(row.private_key_enc, 'signing-key:another-kid'),
    ).toThrow()
    expect(() =>
      createSecretBox('another-secret-key-0123456789abcdef-0123').open(
        row.private_key_enc,
        `signing-key:${kid}`,
      ),
    ).toThrow()
  })

  it('after rotate(): old tokens still verify, new tokens carry the new kid, the JWKS lists both', async () => {
    const { tokens: before } = await registerAndLogin(t)
    const oldKid = t.kitsune.services.keys.current().kid
    expect(kidOf(before.access_token)).toBe(oldKid)

    const rotated = await rotateAccessKey(t)
    expect(rotated).toMatchObject({ retired: 1 })
    expect(rotated.kid).not.toBe(oldKid)

    expect(await meStatus(t, before.access_token)).toBe(200)
    const { tokens: after } = await registerAndLogin(t)
    expect(kidOf(after.access_token)).toBe(rotated.kid)
    expect(await meStatus(t, after.access_token)).toBe(200)

    const jwks = await jwksOf(t)
    expect(kidsOf(jwks, 'EdDSA').sort()).toEqual([oldKid, rotated.kid].sort())
    const { issuer, audience } = t.kitsune.config.jwt
    for (const token of [before.access_token, after.access_token]) {
      await expect(jwtVerify(token, createLocalJWKSet(jwks), { issuer, audience })).resolves.toBeTruthy()
    }

    const oldRow = await t.kitsune.database.db
      .selectFrom('signing_keys')
      .select(['retired_at', 'verify_until'])
      .where('kid', '=', oldKid)
      .executeTakeFirstOrThrow()
    expect(oldRow.retired_at).not.toBeNull()
    // The retired key must outlive every token it signed.
    expect(oldRow.verify_until?.getTime()).toBeGreaterThan(Number(decodeJwt(before.access_token).exp) * 1000)
  })

  it.skipIf(target.name === 'pglite')(
    'a second instance on the same database verifies tokens signed by a key rotated on the first',
    async () => {
      // `pglite://memory` gives every instance its own database, so this runs on PostgreSQL only.
      const second = await buildTestApp({ target, provisioned: t.provisioned })
      try {
        const rotated = await rotateAccessKey(t)
        expect(second.kitsune.services.keys.current().kid).not.toBe(rotated.kid)
        const { tokens } = await registerAndLogin(t)
        expect(kidOf(tokens.access_token)).toBe(rotated.kid)

        expect(await meStatus(second, tokens.access_token)).toBe(200)
        expect((await jwksOf(second)).keys.map((k) => k.kid)).toContain(rotated.kid)
      } finally {
        await second.close()
      }
    },
  )

  it('HS256 keys cannot be rotated through the key ring', async () => {
    const hs = await buildTestApp({ target, env: { JWT_ALGORITHM: 'HS256', JWT_SECRET: HS256_SECRET } })
    try {
      await expect(hs.kitsune.services.keys.rotate('HS256')).rejects.toMatchObject({ code: 'CONFLICT' })
    } finally {
      await hs.close()
    }
  })
})

describe.each(testTargets())('retired signing keys on $name', (target) => {
  const clock = fixedClock(new Date())
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target, clock })
  })
  afterAll(async () => t?.close())

  it('drop out of the JWKS once every token they signed has expired', async () => {
    const oldKid = t.kitsune.services.keys.current().kid
    const { kid: newKid } = await rotateAccessKey(t)
    expect((await jwksOf(t)).keys.map((k) => k.kid)).toContain(oldKid)

    clock.advance(t.kitsune.config.jwt.accessTokenTtlSeconds + KEY_RELOAD_SECONDS - 1)
    await t.kitsune.services.keys.reload()
    expect((await jwksOf(t)).keys.map((k) => k.kid)).toContain(oldKid)

    clock.advance(3600)
    await t.kitsune.services.keys.reload()
    expect(kidsOf(await jwksOf(t), 'EdDSA')).toEqual([newKid])
  })
})

describe.each(testTargets())('JWT_ALGORITHM variants on $name', (target) => {
  it.each([
    ['ES256', { kty: 'EC', crv: 'P-256' }],
    ['RS256', { kty: 'RSA', e: 'AQAB' }],
  ] as const)('%s issues tokens that /users/me accepts and the JWKS verifies', async (algorithm, shape) => {
    const t = await buildTestApp({ target, env: { JWT_ALGORITHM: algorithm } })
    try {
      const { user, tokens } = await registerAndLogin(t)
      expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: algorithm, typ: 'at+jwt' })
      expect(await meStatus(t, tokens.access_token)).toBe(200)

      const jwks = await jwksOf(t)
      // RS256 access tokens share the ID-token key; any other algorithm has its own beside it.
      expect(jwks.keys.map((k) => k.alg).sort()).toEqual([...new Set([algorithm, 'RS256'])].sort())
      const published = jwks.keys.find((k) => k.alg === algorithm)
      expect(published).toMatchObject({
        ...shape,
        alg: algorithm,
        use: 'sig',
        kid: kidOf(tokens.access_token),
      })
      expect(published).not.toHaveProperty('d')
      if (algorithm === 'RS256')
        expect(Buffer.from(published?.n ?? '', 'base64url').length).toBeGreaterThanOrEqual(256)
      const { issuer, audience } = t.kitsune.config.jwt
      const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), { issuer, audience })
      expect(payload.sub).toBe(user.id)
    } finally {
      await t.close()
    }
  })

  it('HS256 issues tokens that /users/me accepts, publishes no HMAC key, and keeps the secret out of the kid', async () => {
    const t = await buildTestApp({ target, env: { JWT_ALGORITHM: 'HS256', JWT_SECRET: HS256_SECRET } })
    try {
      const { tokens } = await registerAndLogin(t)
      const header = decodeProtectedHeader(tokens.access_token)
      expect(header).toMatchObject({ alg: 'HS256', typ: 'at+jwt' })
      expect(header.kid).not.toContain(HS256_SECRET.slice(0, 8))
      expect(await meStatus(t, tokens.access_token)).toBe(200)
      expect((await jwksOf(t)).keys.map((k) => k.alg)).toEqual(['RS256'])
      const { issuer, audience } = t.kitsune.config.jwt
      const secret = new TextEncoder().encode(HS256_SECRET)
      await expect(jwtVerify(tokens.access_token, secret, { issuer, audience })).resolves.toBeTruthy()
      const rows = await t.kitsune.database.db.selectFrom('signing_keys').select('algorithm').execute()
      expect(rows).toEqual([{ algorithm: 'RS256' }])
    } finally {
      await t.close()
    }
  })
})

describe('JWT_ALGORITHM=HS256 configuration', () => {
  it('refuses to start HS256 with a JWT_SECRET shorter than 32 bytes', () => {
    const env = { NODE_ENV: 'test', SECRET_KEY: TEST_SECRET_KEY, DATABASE_URL: 'pglite://memory' }
    expect(() => loadConfig({ ...env, JWT_ALGORITHM: 'HS256', JWT_SECRET: 'x'.repeat(31) })).toThrow(
      ConfigError,
    )
    expect(() => loadConfig({ ...env, JWT_ALGORITHM: 'HS256' })).toThrow(/JWT_SECRET/)
    expect(loadConfig({ ...env, JWT_ALGORITHM: 'HS256', JWT_SECRET: 'x'.repeat(32) }).jwt.algorithm).toBe(
      'HS256',
    )
  })
})
