import { createHmac, createPublicKey, randomUUID } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  generateKeyPair,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUnitOfWork } from '../../src/db/unit-of-work.js'
import { fixedClock } from '../../src/lib/clock.js'
import { createRepositories } from '../../src/repositories/repositories.js'
import { createAuthStateService } from '../../src/services/auth-state.service.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin, registerUser } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

type Claims = Record<string, unknown>
type Header = Record<string, unknown>

const me = (t: TestApp, headers: Record<string, string> = {}) =>
  t.inject({ method: 'GET', url: '/api/v1/users/me', headers })

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const unb64 = (part: string | undefined) => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'))
const nowSeconds = () => Math.floor(Date.now() / 1000)

function expectInvalidToken(response: LightMyRequestResponse) {
  expect(response.statusCode).toBe(401)
  expect(response.headers['content-type']).toContain('application/problem+json')
  expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
  expect(response.json()).toMatchObject({ status: 401, code: 'INVALID_TOKEN' })
}

/** Claims as Kitsune would issue them for a real session, then `overrides` (undefined drops a claim). */
function claimsFor(t: TestApp, accessToken: string, overrides: Claims = {}): Claims {
  const { sub, sid, roles } = decodeJwt(accessToken)
  const iat = nowSeconds()
  const { issuer, audience } = t.kitsune.config.jwt
  const claims: Claims = { iss: issuer, aud: audience, sub, sid, roles, jti: randomUUID(), iat, nbf: iat }
  claims.exp = iat + 300
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete claims[name]
    else claims[name] = value
  }
  return claims
}

/**
 * Signs with Kitsune's own current private key: a rejection can then only come from the altered
 * claim or header, never from the signature.
 */
async function signWithServiceKey(t: TestApp, claims: Claims, header: Header = {}): Promise<string> {
  const key = t.kitsune.services.keys.current()
  if (!key.privateKey) throw new Error('the current key cannot sign')
  const protectedHeader = { alg: key.algorithm, kid: key.kid, typ: 'at+jwt', ...header }
  return new SignJWT(claims).setProtectedHeader(protectedHeader as { alg: string }).sign(key.privateKey)
}

/** HS256 by hand, so any byte string can serve as the HMAC secret. */
function hs256(header: Header, claims: Claims, secret: string | Buffer): string {
  const input = `${b64(header)}.${b64(claims)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

describe.each(testTargets())('access tokens on $name', (target) => {
  let t: TestApp
  let accessToken: string
  beforeAll(async () => {
    t = await buildTestApp({ target })
    ;({
      tokens: { access_token: accessToken },
    } = await registerAndLogin(t))
  })
  afterAll(async () => t?.close())

  it('accepts a token signed with the service key and the expected claims (control for the forgeries)', async () => {
    const response = await me(t, bearer(await signWithServiceKey(t, claimsFor(t, accessToken))))
    expect(response.statusCode).toBe(200)
    expect(response.json().id).toBe(decodeJwt(accessToken).sub)
  })

  it.each<[string, Claims, Header]>([
    [
      'expired a minute ago',
      { iat: nowSeconds() - 960, nbf: nowSeconds() - 960, exp: nowSeconds() - 60 },
      {},
    ],
    ['not valid for another minute (nbf)', { nbf: nowSeconds() + 60 }, {}],
    ['from another issuer', { iss: 'https://evil.example' }, {}],
    ['for another audience', { aud: 'another-service' }, {}],
    ['without an sid claim', { sid: undefined }, {}],
    ['without an exp claim', { exp: undefined }, {}],
    ['with an unknown kid', {}, { kid: 'no-such-kid' }],
    ['without a kid', {}, { kid: undefined }],
    ['typed as a plain JWT instead of at+jwt', {}, { typ: 'JWT' }],
  ])('answers 401 INVALID_TOKEN for a token %s', async (_name, claims, header) => {
    expectInvalidToken(
      await me(t, bearer(await signWithServiceKey(t, claimsFor(t, accessToken, claims), header))),
    )
  })

  it('answers 401 INVALID_TOKEN for a token signed by another key under the current kid', async () => {
    const stranger = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const { kid } = t.kitsune.services.keys.current()
    const token = await new SignJWT(claimsFor(t, accessToken))
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .sign(stranger.privateKey)
    expectInvalidToken(await me(t, bearer(token)))
  })

  it('answers 401 INVALID_TOKEN for alg "none" with an empty signature', async () => {
    const { kid } = t.kitsune.services.keys.current()
    const token = `${b64({ alg: 'none', kid, typ: 'at+jwt' })}.${b64(claimsFor(t, accessToken))}.`
    expectInvalidToken(await me(t, bearer(token)))
  })

  describe('HS256 forged with the published public key as the HMAC secret', () => {
    const publishedKey = async () => {
      const jwks = (await t.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as {
        keys: JWK[]
      }
      const jwk = jwks.keys.find((k) => k.kid === t.kitsune.services.keys.current().kid)
      if (!jwk) throw new Error('current key is not published')
      return jwk
    }
    it.each<[string, (jwk: JWK) => string | Buffer]>([
      [
        'SPKI PEM',
        (jwk) => createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }),
      ],
      ['DER', (jwk) => createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' })],
      ['JWK JSON', (jwk) => JSON.stringify(jwk)],
      ['raw x bytes', (jwk) => Buffer.from(jwk.x ?? '', 'base64url')],
    ])('answers 401 INVALID_TOKEN when the secret is the key as %s', async (_name, secretOf) => {
      const jwk = await publishedKey()
      const token = hs256(
        { alg: 'HS256', kid: jwk.kid, typ: 'at+jwt' },
        claimsFor(t, accessToken),
        secretOf(jwk),
      )
      expectInvalidToken(await me(t, bearer(token)))
    })
  })

  it.each<[string, (claims: Claims, otherUserId: string) => Claims]>([
    ['roles raised to admin', (claims) => ({ ...claims, roles: ['admin'] })],
    ['sub switched to another user', (claims, otherUserId) => ({ ...claims, sub: otherUserId })],
    ['exp pushed a day later', (claims) => ({ ...claims, exp: Number(claims.exp) + 86_400 })],
  ])(
    'answers 401 INVALID_TOKEN for an issued token whose payload was tampered with: %s',
    async (_n, tamper) => {
      const { tokens } = await registerAndLogin(t)
      const other = await registerUser(t)
      expect((await me(t, bearer(tokens.access_token))).statusCode).toBe(200)
      const [header, payload, signature] = tokens.access_token.split('.')
      const forged = `${header}.${b64(tamper(unb64(payload), other.id))}.${signature}`
      expectInvalidToken(await me(t, bearer(forged)))
    },
  )

  it.each([
    ['a word', 'Bearer not-a-jwt'],
    ['three garbage segments', 'Bearer a.b.c'],
    ['a token cut short', () => `Bearer ${accessToken.slice(0, -10)}`],
    ['a token missing its signature', () => `Bearer ${accessToken.split('.').slice(0, 2).join('.')}`],
    [
      'a header that is not JSON',
      () =>
        `Bearer ${Buffer.from('{nope').toString('base64url')}.${accessToken.split('.').slice(1).join('.')}`,
    ],
    ['the Basic scheme', 'Basic dXNlcjpwYXNz'],
    ['an empty Bearer value', 'Bearer '],
    ['two tokens', () => `Bearer ${accessToken} ${accessToken}`],
  ])('answers 401 INVALID_TOKEN for a malformed Authorization header: %s', async (_name, value) => {
    const authorization = typeof value === 'function' ? value() : value
    expectInvalidToken(await me(t, { authorization }))
  })

  it('answers 401 UNAUTHENTICATED with a Bearer challenge when the Authorization header is missing', async () => {
    const response = await me(t)
    expect(response.statusCode).toBe(401)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/)
    expect(response.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' })
  })

  it('issues tokens that verify with jose over the published JWKS, issuer and audience', async () => {
    const response = await t.inject({ method: 'GET', url: '/.well-known/jwks.json' })
    expect(response.statusCode).toBe(200)
    const jwks = response.json() as { keys: JWK[] }
    for (const key of jwks.keys) expect(Object.keys(key)).not.toEqual(expect.arrayContaining(['d']))
    const { issuer, audience } = t.kitsune.config.jwt
    const { payload, protectedHeader } = await jwtVerify(accessToken, createLocalJWKSet(jwks), {
      issuer,
      audience,
      typ: 'at+jwt',
    })
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: t.kitsune.services.keys.current().kid })
    expect(payload).toMatchObject({ iss: 'http://kitsune.test', aud: 'kitsune', roles: ['user'] })
    expect(Object.keys(payload).sort()).toEqual([
      'aud',
      'exp',
      'iat',
      'iss',
      'jti',
      'nbf',
      'roles',
      'sid',
      'sub',
    ])
    expect(decodeProtectedHeader(accessToken).kid).toBe(protectedHeader.kid)
  })

  it('rejects the token of a user deactivated after it was issued, and refuses their login', async () => {
    const { user, tokens } = await registerAndLogin(t)
    // This first request also caches the user's state in the store, so the update below is only
    // seen if the invalidation reaches that cache.
    expect((await me(t, bearer(tokens.access_token))).statusCode).toBe(200)

    // Deactivated below the HTTP layer on purpose (this pins the token check itself, apart from
    // any admin route): in one unit of work, mark the user's cached auth state dirty with
    // AuthStateService.invalidate (it rewrites the entry after the commit) and run the UPDATE in
    // the same transaction, as a writer must. The service keeps no state of its own (it lives in
    // the store), so one built here over the app's database and store acts like the app's own.
    const { database, store, clock, config } = t.kitsune
    const uow = createUnitOfWork(
      database.db,
      (executor) => ({ ...createRepositories(executor), executor }),
      (error) => {
        throw error
      },
    )
    const authState = createAuthStateService({
      uow,
      store,
      clock,
      accessTokenTtlSeconds: config.jwt.accessTokenTtlSeconds,
    })
    await uow.run(async ({ executor }, tx) => {
      await authState.invalidate(tx, { userIds: [user.id] })
      await sql`UPDATE users SET is_active = false WHERE id = ${user.id}`.execute(executor)
    })

    expectInvalidToken(await me(t, bearer(tokens.access_token)))
    const relogin = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: user.password },
    })
    expect(relogin.statusCode).toBe(401)
    expect(relogin.json().code).toBe('INVALID_CREDENTIALS')
  })
})

describe.each(testTargets())('access token expiry with an injected clock on $name', (target) => {
  const clock = fixedClock(new Date())
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target, clock })
  })
  afterAll(async () => t?.close())

  it('accepts an issued token until its exp, then answers 401 INVALID_TOKEN', async () => {
    const user = await registerUser(t)
    const tokens = await login(t, user)
    const { exp, iat } = decodeJwt(tokens.access_token)
    expect(Number(exp) - Number(iat)).toBe(t.kitsune.config.jwt.accessTokenTtlSeconds)
    clock.advance(Number(exp) - Number(iat) - 1)
    expect((await me(t, bearer(tokens.access_token))).statusCode).toBe(200)
    clock.advance(60)
    expectInvalidToken(await me(t, bearer(tokens.access_token)))
  })
})
