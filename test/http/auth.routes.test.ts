import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerUser, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

describe.each(testTargets())('auth routes on $name', (target) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target })
  })
  afterAll(async () => t?.close())

  describe('POST /api/v1/auth/register', () => {
    it('creates the user with the default role and no secret in the body', async () => {
      const email = uniqueEmail()
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email, password: 'long enough password', full_name: 'Ada Lovelace' },
      })
      expect(response.statusCode).toBe(201)
      const body = response.json()
      expect(body).toMatchObject({
        email,
        full_name: 'Ada Lovelace',
        is_active: true,
        email_verified: false,
        mfa_enabled: false,
        roles: ['user'],
      })
      expect(Object.keys(body).sort()).toEqual(
        [
          'created_at',
          'email',
          'email_verified',
          'full_name',
          'id',
          'is_active',
          'mfa_enabled',
          'roles',
          'updated_at',
        ].sort(),
      )
      const row = await t.kitsune.database.db
        .selectFrom('users')
        .select(['email', 'password_hash'])
        .where('id', '=', body.id)
        .executeTakeFirstOrThrow()
      expect(row.email).toBe(email)
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    })

    it('answers 409 for an e-mail differing only in case or surrounding spaces', async () => {
      const email = uniqueEmail()
      await registerUser(t, { email })
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: `  ${email.toUpperCase()}  `, password: 'another password' },
      })
      expect(response.statusCode).toBe(409)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json()).toMatchObject({
        status: 409,
        code: 'EMAIL_TAKEN',
        type: 'https://kitsune.dev/problems/email-taken',
      })
    })

    it.each([
      ['an invalid e-mail', { email: 'not-an-email', password: 'long enough password' }, '/email'],
      ['a 7-character password', { email: uniqueEmail(), password: '1234567' }, '/password'],
      ['a 257-character password', { email: uniqueEmail(), password: 'x'.repeat(257) }, '/password'],
      ['a role field', { email: uniqueEmail(), password: 'long enough password', role: 'admin' }, '/role'],
      [
        'an is_superuser field',
        { email: uniqueEmail(), password: 'long enough password', is_superuser: true },
        '/is_superuser',
      ],
    ])('answers 422 for %s, pointing at the field, and writes nothing', async (_name, payload, field) => {
      const before = await countUsers(t)
      const response = await t.inject({ method: 'POST', url: '/api/v1/auth/register', payload })
      expect(response.statusCode).toBe(422)
      expect(response.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]))
      expect(await countUsers(t)).toBe(before)
    })

    it('accepts a 256-character password', async () => {
      const user = await registerUser(t, { password: 'y'.repeat(256) })
      expect((await login(t, user)).access_token).toBeTruthy()
    })
  })

  describe('POST /api/v1/auth/login', () => {
    it('returns a bearer token pair that opens /users/me', async () => {
      const user = await registerUser(t)
      const tokens = await login(t, { email: ` ${user.email.toUpperCase()} `, password: user.password })
      expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 900, refresh_expires_in: 30 * 86_400 })
      expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      const me = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(tokens.access_token),
      })
      expect(me.statusCode).toBe(200)
      expect(me.json().id).toBe(user.id)
      expect(me.headers['cache-control']).toBe('no-store')
    })

    it('gives identical status and body for a wrong password and an unknown e-mail', async () => {
      const user = await registerUser(t)
      const wrong = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: user.email, password: 'wrong password!' },
      })
      const unknown = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: uniqueEmail(), password: 'wrong password!' },
      })
      expect(wrong.statusCode).toBe(401)
      expect(unknown.statusCode).toBe(401)
      const strip = (body: Record<string, unknown>) => ({ ...body, request_id: undefined })
      expect(strip(wrong.json())).toEqual(strip(unknown.json()))
      expect(wrong.json().code).toBe('INVALID_CREDENTIALS')
    })

    it('never writes the password or the tokens to the log', async () => {
      const user = await registerUser(t)
      const tokens = await login(t, user)
      await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(tokens.access_token) })
      const logs = t.logText()
      expect(logs).not.toContain(user.password)
      expect(logs).not.toContain(tokens.access_token)
      expect(logs).not.toContain(tokens.refresh_token)
    })
  })
})

async function countUsers(t: TestApp): Promise<number> {
  const row = await t.kitsune.database.db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
