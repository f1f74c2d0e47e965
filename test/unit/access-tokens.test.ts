import { decodeProtectedHeader, SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { type AccessTokens, createAccessTokens, type KeySource } from '../../src/auth/access-tokens.js'
import {
  generateKeyMaterial,
  hmacSigningKey,
  importKeyMaterial,
  type SigningKey,
} from '../../src/auth/signing-keys.js'
import type { JwtAlgorithm } from '../../src/config/config.schema.js'
import { AppError } from '../../src/errors/app-error.js'
import { epochSeconds, fixedClock } from '../../src/lib/clock.js'

const ISSUER = 'https://issuer.test'
const AUDIENCE = 'kitsune'
const TTL = 900
const SUBJECT = { userId: 'user-1', sessionId: 'session-1', roles: ['user'] }

const ringOf = (...keys: SigningKey[]): KeySource => ({
  current: () => keys[0] as SigningKey,
  find: async (kid) => keys.find((key) => key.kid === kid),
})

async function newKey(algorithm: Exclude<JwtAlgorithm, 'HS256'> = 'EdDSA'): Promise<SigningKey> {
  const material = await generateKeyMaterial(algorithm)
  return importKeyMaterial(material.kid, algorithm, material.publicJwk, material.privateJwk)
}

async function expectInvalid(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(AppError)
  expect((error as AppError).code).toBe('INVALID_TOKEN')
}

describe('access tokens', () => {
  const clock = fixedClock('2030-01-01T00:00:00Z')
  let key: SigningKey
  let tokens: AccessTokens
  const make = (keys: KeySource, algorithm: JwtAlgorithm = 'EdDSA') =>
    createAccessTokens({ keys, algorithm, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: TTL, clock })

  beforeAll(async () => {
    key = await newKey()
    tokens = make(ringOf(key))
  })

  /** A token with every claim Kitsune sets, signed by `key`, then `overrides` (undefined drops). */
  const sign = (overrides: Record<string, unknown> = {}, signer: SigningKey = key) => {
    const iat = epochSeconds(clock.now())
    const claims: Record<string, unknown> = {
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'user-1',
      sid: 'session-1',
      jti: 'jti-1',
      roles: ['user'],
      iat,
      nbf: iat,
      exp: iat + TTL,
    }
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete claims[name]
      else claims[name] = value
    }
    return new SignJWT(claims)
      .setProtectedHeader({ alg: signer.algorithm, kid: signer.kid, typ: 'at+jwt' })
      .sign(signer.privateKey as NonNullable<SigningKey['privateKey']>)
  }

  it('issues a token that verifies back to its subject, session and roles', async () => {
    const issued = await tokens.issue(SUBJECT)
    expect(decodeProtectedHeader(issued.token)).toEqual({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' })
    expect(issued.expiresIn).toBe(TTL)
    const claims = await tokens.verify(issued.token)
    expect(claims).toEqual(issued.claims)
    expect(claims).toMatchObject({ sub: 'user-1', sid: 'session-1', roles: ['user'] })
    expect(claims.exp - claims.iat).toBe(TTL)
  })

  it('gives every token its own jti', async () => {
    const [a, b] = await Promise.all([tokens.issue(SUBJECT), tokens.issue(SUBJECT)])
    expect(a.claims.jti).not.toBe(b.claims.jti)
  })

  it('tolerates a few seconds of clock skew around exp and nbf, but not a minute', async () => {
    const now = epochSeconds(clock.now())
    await expect(tokens.verify(await sign({ exp: now - 2 }))).resolves.toBeTruthy()
    await expect(tokens.verify(await sign({ nbf: now + 2 }))).resolves.toBeTruthy()
    await expectInvalid(tokens.verify(await sign({ exp: now - 60 })))
    await expectInvalid(tokens.verify(await sign({ nbf: now + 60 })))
  })

  it.each([
    ['sid', { sid: undefined }],
    ['jti', { jti: undefined }],
    ['nbf', { nbf: undefined }],
    ['iat', { iat: undefined }],
    ['sub', { sub: undefined }],
  ])('rejects a token without %s', async (_claim, overrides) => {
    await expectInvalid(tokens.verify(await sign(overrides)))
  })

  it.each([
    ['a string', 'admin'],
    ['an array with a non-string', ['user', 1]],
    ['missing', undefined],
  ])('rejects roles that are %s', async (_name, roles) => {
    await expectInvalid(tokens.verify(await sign({ roles })))
  })

  it('rejects a token whose kid names a key the ring no longer holds', async () => {
    const retired = await newKey()
    const token = await sign({}, retired)
    await expect(make(ringOf(key, retired)).verify(token)).resolves.toBeTruthy()
    await expectInvalid(tokens.verify(token))
  })

  it('rejects an ES256 token when the service is configured for EdDSA, even if its key is in the ring', async () => {
    const es = await newKey('ES256')
    await expectInvalid(make(ringOf(key, es)).verify(await sign({}, es)))
  })

  describe('HS256', () => {
    const secret = 'a-shared-secret-that-is-32-bytes-long!'

    it('round-trips with the shared secret and rejects a token made with another secret', async () => {
      const hs = make(ringOf(hmacSigningKey(secret)), 'HS256')
      const issued = await hs.issue(SUBJECT)
      expect(decodeProtectedHeader(issued.token).alg).toBe('HS256')
      await expect(hs.verify(issued.token)).resolves.toMatchObject({ sub: 'user-1' })

      const other = hmacSigningKey(`${secret}-other`)
      const forged = await sign({}, { ...other, kid: hmacSigningKey(secret).kid })
      await expectInvalid(hs.verify(forged))
    })

    it('derives a stable kid that does not reveal the secret', () => {
      const { kid, publicJwk } = hmacSigningKey(secret)
      expect(kid).toBe(hmacSigningKey(secret).kid)
      expect(kid).not.toBe(hmacSigningKey(`${secret}x`).kid)
      expect(kid).not.toContain(secret.slice(0, 6))
      expect(publicJwk).toBeUndefined()
    })

    it('rejects an HS256 token when the service is configured for EdDSA', async () => {
      const hmac = hmacSigningKey(secret)
      await expectInvalid(tokens.verify(await sign({}, { ...hmac, kid: key.kid })))
    })
  })
})
