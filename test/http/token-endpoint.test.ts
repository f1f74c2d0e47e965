import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, registerAndLogin, registerUser, type TestTokens } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const FORM = 'application/x-www-form-urlencoded'

const postForm = (t: TestApp, url: string, fields: Record<string, string>) =>
  t.inject({
    method: 'POST',
    url,
    headers: { 'content-type': FORM },
    payload: new URLSearchParams(fields).toString(),
  })

const token = (t: TestApp, fields: Record<string, string>) => postForm(t, '/api/v1/auth/token', fields)

describe.each(testTargets())('OAuth2 token endpoint on $name', (target) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target })
  })
  afterAll(async () => t?.close())

  describe('grant_type=password', () => {
    it('returns a TokenPair whose access token opens /users/me', async () => {
      const user = await registerUser(t)
      const response = await token(t, {
        grant_type: 'password',
        username: user.email,
        password: user.password,
      })
      expect(response.statusCode).toBe(200)
      expect(response.headers['cache-control']).toBe('no-store')
      const pair = response.json() as TestTokens
      expect(pair).toMatchObject({ token_type: 'bearer', expires_in: 900, refresh_expires_in: 30 * 86_400 })
      expect(pair.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      const me = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(pair.access_token),
      })
      expect(me.statusCode).toBe(200)
      expect(me.json().id).toBe(user.id)
    })

    it('answers 400 invalid_grant (RFC 6749 body, not problem+json) for a wrong password', async () => {
      const user = await registerUser(t)
      const response = await token(t, {
        grant_type: 'password',
        username: user.email,
        password: 'not the password',
      })
      expect(response.statusCode).toBe(400)
      expect(response.headers['content-type']).toContain('application/json')
      expect(response.headers['cache-control']).toBe('no-store')
      expect(response.json()).toEqual({ error: 'invalid_grant', error_description: expect.any(String) })
    })

    it('answers the same invalid_grant for an unknown username', async () => {
      const response = await token(t, {
        grant_type: 'password',
        username: 'nobody-here@example.com',
        password: 'whatever password',
      })
      expect(response.statusCode).toBe(400)
      expect(response.json().error).toBe('invalid_grant')
    })

    it.each([
      ['no password', { grant_type: 'password', username: 'someone@example.com' }],
      ['no username', { grant_type: 'password', password: 'some password' }],
      ['no grant_type', { username: 'someone@example.com', password: 'some password' }],
      ['an unknown field', { grant_type: 'password', username: 'a@example.com', password: 'p', role: 'x' }],
    ])('answers 400 invalid_request for %s', async (_name, fields) => {
      const response = await token(t, fields)
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ error: 'invalid_request' })
    })

    it('answers 400 unsupported_grant_type for an unknown grant', async () => {
      const response = await token(t, { grant_type: 'client_credentials' })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ error: 'unsupported_grant_type' })
    })
  })

  describe('grant_type=refresh_token', () => {
    it('rotates like /auth/refresh: the new pair works and the old refresh token is invalid_grant', async () => {
      const { tokens } = await registerAndLogin(t)
      const rotated = await token(t, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
      expect(rotated.statusCode).toBe(200)
      const pair = rotated.json() as TestTokens
      expect(pair.refresh_token).not.toBe(tokens.refresh_token)
      const me = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(pair.access_token),
      })
      expect(me.statusCode).toBe(200)

      const again = await token(t, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
      expect(again.statusCode).toBe(400)
      expect(again.json()).toMatchObject({ error: 'invalid_grant' })
    })

    it('treats a replayed refresh token as reuse: the rotated pair dies as well', async () => {
      const { tokens } = await registerAndLogin(t)
      const pair = (
        await token(t, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
      ).json() as TestTokens
      await token(t, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
      const me = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(pair.access_token),
      })
      expect(me.statusCode).toBe(401)
      const next = await token(t, { grant_type: 'refresh_token', refresh_token: pair.refresh_token })
      expect(next.json()).toMatchObject({ error: 'invalid_grant' })
    })

    it('answers 400 invalid_request without a refresh_token', async () => {
      const response = await token(t, { grant_type: 'refresh_token' })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ error: 'invalid_request' })
    })
  })

  describe('form bodies elsewhere', () => {
    it.each(['/api/v1/auth/login', '/api/v1/auth/refresh', '/api/v1/auth/register'])(
      'answers 415 problem+json to a form body on %s',
      async (url) => {
        const response = await postForm(t, url, { email: 'a@example.com', password: 'long enough password' })
        expect(response.statusCode).toBe(415)
        expect(response.headers['content-type']).toContain('application/problem+json')
        expect(response.json()).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' })
      },
    )

    it('answers 415 to a form body on an authenticated route', async () => {
      const { tokens } = await registerAndLogin(t)
      const response = await t.inject({
        method: 'PATCH',
        url: '/api/v1/users/me',
        headers: { ...bearer(tokens.access_token), 'content-type': FORM },
        payload: 'full_name=Mallory',
      })
      expect(response.statusCode).toBe(415)
      expect(response.json().code).toBe('UNSUPPORTED_MEDIA_TYPE')
    })
  })
})
