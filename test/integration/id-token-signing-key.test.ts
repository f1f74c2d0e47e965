import { createLocalJWKSet, importJWK, type JWK, jwtVerify, SignJWT } from 'jose'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSecretBox } from '../../src/auth/secret-box.js'
import { RSA_MODULUS_BITS } from '../../src/auth/signing-keys.js'
import { loadConfig } from '../../src/config/load-config.js'
import { createDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrator.js'
import { fixedClock } from '../../src/lib/clock.js'
import { ID_TOKEN_MAX_TTL_SECONDS, KEY_RELOAD_SECONDS } from '../../src/services/signing-key.service.js'
import { buildTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/build-test-app.js'
import { testTargets } from '../helpers/test-targets.js'

const HS256_SECRET = 'an-hs256-shared-secret-of-at-least-32-bytes'

const jwksOf = async (t: TestApp) =>
  (await t.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: JWK[] }

const kidsOf = (jwks: { keys: JWK[] }, alg: string) =>
  jwks.keys.filter((key) => key.alg === alg).map((key) => key.kid)

const currentRows = (t: TestApp) =>
  t.kitsune.database.db
    .selectFrom('signing_keys')
    .select(['kid', 'algorithm', 'public_jwk', 'private_key_enc'])
    .where('retired_at', 'is', null)
    .orderBy('algorithm')
    .execute()

/** An ID token as an OpenID Provider would sign it with the exported private JWK. */
const signIdToken = async (privateJwk: JWK) =>
  new SignJWT({ nonce: 'n-0S6_WzA2Mj' })
    .setProtectedHeader({ alg: 'RS256', kid: privateJwk.kid as string })
    .setIssuer('http://kitsune.test')
    .setAudience('client-1')
    .setSubject('user-1')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(await importJWK(privateJwk, 'RS256'))

const verifyWith = (token: string, jwks: { keys: JWK[] }) =>
  jwtVerify(token, createLocalJWKSet(jwks), { issuer: 'http://kitsune.test', audience: 'client-1' })

const privateRs256 = (t: TestApp) => {
  const key = t.kitsune.services.keys.privateJwks().find((jwk) => jwk.alg === 'RS256')
  if (!key) throw new Error('no RS256 private key')
  return key
}

describe.each(testTargets())('the RS256 ID-token key on $name', (target) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target })
  })
  afterAll(async () => t?.close())

  it('exists after start beside the EdDSA access-token key, and the JWKS publishes both', async () => {
    const rows = await currentRows(t)
    expect(rows.map((row) => row.algorithm)).toEqual(['EdDSA', 'RS256'])
    const jwks = await jwksOf(t)
    expect(kidsOf(jwks, 'EdDSA')).toEqual([t.kitsune.services.keys.current().kid])
    expect(kidsOf(jwks, 'RS256')).toEqual([rows[1]?.kid])
    const rsa = jwks.keys.find((key) => key.alg === 'RS256')
    expect(rsa).toMatchObject({ kty: 'RSA', e: 'AQAB', use: 'sig', kid: rows[1]?.kid })
    expect(Object.keys(rsa ?? {}).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use'])
    expect(Buffer.from(rsa?.n ?? '', 'base64url').length * 8).toBe(RSA_MODULUS_BITS)
  })

  it('exports private JWKs, current keys first, whose RS256 signatures verify against the published JWKS', async () => {
    const privateJwks = t.kitsune.services.keys.privateJwks()
    const rows = await currentRows(t)
    expect(privateJwks.map((jwk) => [jwk.alg, jwk.kid, jwk.use])).toEqual(
      rows.map((row) => [row.algorithm, row.kid, 'sig']),
    )
    const token = await signIdToken(privateRs256(t))
    const { payload, protectedHeader } = await verifyWith(token, await jwksOf(t))
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: rows[1]?.kid })
    expect(payload.sub).toBe('user-1')
  })

  it('stores the RS256 private key sealed, never as a clear JWK or PEM', async () => {
    const row = (await currentRows(t)).find((r) => r.algorithm === 'RS256')
    if (!row) throw new Error('no RS256 row')
    const { d, p, q } = privateRs256(t)
    expect(row.private_key_enc).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/)
    for (const text of ['"d"', 'PRIVATE KEY', d, p, q]) expect(row.private_key_enc).not.toContain(text)
    expect(JSON.stringify(row.public_jwk)).not.toContain('"d"')
    const opened = JSON.parse(
      createSecretBox(TEST_SECRET_KEY).open(row.private_key_enc, `signing-key:${row.kid}`),
    )
    expect(opened).toMatchObject({ kty: 'RSA', d })
  })

  it('rotate() rotates both keys; the retired ones stay published and their signatures still verify', async () => {
    const before = await currentRows(t)
    const oldPrivate = privateRs256(t)
    const oldIdToken = await signIdToken(oldPrivate)

    const rotated = await t.kitsune.services.keys.rotate()
    expect(rotated.map(({ algorithm, retired }) => ({ algorithm, retired }))).toEqual([
      { algorithm: 'EdDSA', retired: 1 },
      { algorithm: 'RS256', retired: 1 },
    ])
    const after = await currentRows(t)
    expect(after.map((row) => row.kid)).toEqual(rotated.map((r) => r.kid))

    const jwks = await jwksOf(t)
    for (const [i, alg] of ['EdDSA', 'RS256'].entries()) {
      expect(kidsOf(jwks, alg).sort()).toEqual([before[i]?.kid, after[i]?.kid].sort())
    }
    await expect(verifyWith(oldIdToken, jwks)).resolves.toBeTruthy()
    const newIdToken = await signIdToken(privateRs256(t))
    await expect(verifyWith(newIdToken, jwks)).resolves.toMatchObject({
      protectedHeader: { kid: after[1]?.kid },
    })
    // Current keys first, then the retired ones, still with their private halves.
    expect(t.kitsune.services.keys.privateJwks().map((jwk) => jwk.kid)).toEqual([
      after[0]?.kid,
      after[1]?.kid,
      ...(await t.kitsune.database.db
        .selectFrom('signing_keys')
        .select('kid')
        .where('retired_at', 'is not', null)
        .orderBy('created_at', 'desc')
        .orderBy('kid', 'desc')
        .execute()
        .then((rows) => rows.map((row) => row.kid))),
    ])
    expect(t.logText()).not.toContain(oldPrivate.d)
    expect(t.logText()).not.toContain(privateRs256(t).d)
  })

  it('rotate(algorithm) rotates that key only, and refuses an algorithm Kitsune does not sign with', async () => {
    const before = await currentRows(t)
    const rotated = await t.kitsune.services.keys.rotate('RS256')
    expect(rotated).toMatchObject([{ algorithm: 'RS256', retired: 1 }])
    const after = await currentRows(t)
    expect(after.map((row) => row.kid)).toEqual([before[0]?.kid, rotated[0]?.kid])
    await expect(t.kitsune.services.keys.rotate('ES256')).rejects.toMatchObject({ code: 'CONFLICT' })
  })

  it.skipIf(target.name === 'pglite')(
    'two instances starting together on one database create one current RS256 key between them',
    async () => {
      // `pglite://memory` gives every instance its own database, so this runs on PostgreSQL only.
      const provisioned = await target.provision()
      const database = await createDatabase(
        loadConfig({ NODE_ENV: 'test', SECRET_KEY: TEST_SECRET_KEY, ...provisioned.env }).database,
        { info() {}, error() {} },
      )
      await migrateToLatest(database.db)
      await database.close()
      // Holding back writes to the key table makes the race certain: both instances find no key
      // and try to create theirs before either can commit one.
      const holder = new pg.Client({ connectionString: provisioned.env.DATABASE_URL })
      await holder.connect()
      await holder.query('BEGIN')
      await holder.query('LOCK TABLE signing_keys IN EXCLUSIVE MODE')
      let settled = 0
      const starting = [0, 1].map(() =>
        buildTestApp({ target, provisioned }).finally(() => {
          settled++
        }),
      )
      const waitingOnKeys = async () =>
        Number(
          (
            await holder.query(
              `SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE NOT l.granted AND a.query ILIKE '%signing%'`,
            )
          ).rows[0].n,
        )
      while ((await waitingOnKeys()) < 2 && settled < 2)
        await new Promise((resolve) => setTimeout(resolve, 50))
      await holder.query('COMMIT')
      await holder.end()
      const started = await Promise.allSettled(starting)
      const apps = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
      try {
        expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'ok'))).toEqual(['ok', 'ok'])
        const a = apps[0] as TestApp
        const b = apps[1] as TestApp
        const rows = await currentRows(a)
        expect(rows.map((row) => row.algorithm)).toEqual(['EdDSA', 'RS256'])
        expect(b.kitsune.services.keys.privateJwks().map((jwk) => jwk.kid)).toEqual(
          rows.map((row) => row.kid),
        )
        expect(await jwksOf(b)).toEqual(await jwksOf(a))
        await expect(verifyWith(await signIdToken(privateRs256(a)), await jwksOf(b))).resolves.toBeTruthy()
      } finally {
        for (const app of apps) await app.close()
        await provisioned.drop()
      }
    },
  )
})

describe.each(testTargets())('retired RS256 keys on $name', (target) => {
  const clock = fixedClock(new Date())
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target, clock })
  })
  afterAll(async () => t?.close())

  it('stay published for the ID-token lifetime, after the retired access-token key has gone', async () => {
    const oldRsa = kidsOf(await jwksOf(t), 'RS256')
    const rotated = await t.kitsune.services.keys.rotate()
    const newKids = rotated.map((r) => r.kid)
    const { accessTokenTtlSeconds } = t.kitsune.config.jwt
    expect(accessTokenTtlSeconds).toBeLessThan(ID_TOKEN_MAX_TTL_SECONDS)

    // Past the retired EdDSA key's retention (its access tokens have expired).
    const firstStep = accessTokenTtlSeconds + KEY_RELOAD_SECONDS + 60
    clock.advance(firstStep)
    await t.kitsune.services.keys.reload()
    let jwks = await jwksOf(t)
    expect(kidsOf(jwks, 'EdDSA')).toEqual([newKids[0]])
    expect(kidsOf(jwks, 'RS256').sort()).toEqual([...oldRsa, newKids[1]].sort())

    // Just short of an ID token's lifetime plus the reload period since the rotation.
    clock.advance(ID_TOKEN_MAX_TTL_SECONDS + KEY_RELOAD_SECONDS - 1 - firstStep)
    await t.kitsune.services.keys.reload()
    expect(kidsOf(await jwksOf(t), 'RS256')).toContain(oldRsa[0])

    clock.advance(3600)
    await t.kitsune.services.keys.reload()
    jwks = await jwksOf(t)
    expect(kidsOf(jwks, 'RS256')).toEqual([newKids[1]])
    expect(t.kitsune.services.keys.privateJwks().map((jwk) => jwk.kid)).toEqual(newKids)
  })
})

describe.each(testTargets())('the RS256 key with JWT_ALGORITHM=HS256 on $name', (target) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target, env: { JWT_ALGORITHM: 'HS256', JWT_SECRET: HS256_SECRET } })
  })
  afterAll(async () => t?.close())

  it('publishes the RS256 key and never the HMAC secret', async () => {
    const jwks = await jwksOf(t)
    expect(jwks.keys.map((key) => [key.kty, key.alg])).toEqual([['RSA', 'RS256']])
    const secretB64 = Buffer.from(HS256_SECRET).toString('base64url')
    for (const text of [JSON.stringify(jwks), JSON.stringify(t.kitsune.services.keys.privateJwks())]) {
      expect(text).not.toContain(secretB64)
      expect(text).not.toContain(HS256_SECRET)
      expect(text).not.toContain('"oct"')
    }
    expect(t.kitsune.services.keys.privateJwks().map((jwk) => jwk.alg)).toEqual(['RS256'])
    await expect(verifyWith(await signIdToken(privateRs256(t)), jwks)).resolves.toBeTruthy()
  })

  it('rotate() rotates the RS256 key; HS256 still rotates only by changing JWT_SECRET', async () => {
    const hmacKid = t.kitsune.services.keys.current().kid
    const rotated = await t.kitsune.services.keys.rotate()
    expect(rotated).toMatchObject([{ algorithm: 'RS256', retired: 1 }])
    expect(t.kitsune.services.keys.current().kid).toBe(hmacKid)
    expect(kidsOf(await jwksOf(t), 'RS256')).toContain(rotated[0]?.kid)
    await expect(t.kitsune.services.keys.rotate('HS256')).rejects.toMatchObject({ code: 'CONFLICT' })
  })
})
