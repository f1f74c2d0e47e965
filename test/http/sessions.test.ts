import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/lib/clock.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin, registerUser, type TestTokens } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

/** The session id (`sid` claim) an access token is bound to. */
function sidOf(accessToken: string): string {
  const payload = accessToken.split('.')[1] ?? ''
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sid: string }).sid
}

const meStatus = async (t: TestApp, accessToken: string) =>
  (await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(accessToken) })).statusCode

const refresh = (t: TestApp, refreshToken: string) =>
  t.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: refreshToken } })

/** Both halves of the pair are dead: the access token and the refresh token answer 401. */
async function expectPairDead(t: TestApp, tokens: TestTokens) {
  expect(await meStatus(t, tokens.access_token)).toBe(401)
  expect((await refresh(t, tokens.refresh_token)).statusCode).toBe(401)
}

describe.each(testTargets())('session lifecycle on $name', (target) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target })
  })
  afterAll(async () => t?.close())

  describe('POST /api/v1/auth/refresh', () => {
    it('rotates: the new pair works and the old refresh token answers 401 problem+json', async () => {
      const { tokens } = await registerAndLogin(t)
      const rotated = await refresh(t, tokens.refresh_token)
      expect(rotated.statusCode).toBe(200)
      const pair = rotated.json() as TestTokens
      expect(pair).toMatchObject({ token_type: 'bearer', expires_in: 900 })
      expect(pair.refresh_token).not.toBe(tokens.refresh_token)
      expect(sidOf(pair.access_token)).toBe(sidOf(tokens.access_token))
      expect(await meStatus(t, pair.access_token)).toBe(200)

      const again = await refresh(t, tokens.refresh_token)
      expect(again.statusCode).toBe(401)
      expect(again.headers['content-type']).toContain('application/problem+json')
      expect(again.json()).toMatchObject({ status: 401, code: 'INVALID_TOKEN' })
    })

    it('revokes the whole session when a used refresh token is presented again, and logs it', async () => {
      const { user, tokens } = await registerAndLogin(t)
      const sessionId = sidOf(tokens.access_token)
      const second = (await refresh(t, tokens.refresh_token)).json() as TestTokens
      const third = (await refresh(t, second.refresh_token)).json() as TestTokens
      expect(await meStatus(t, third.access_token)).toBe(200)

      const replay = await refresh(t, tokens.refresh_token)
      expect(replay.statusCode).toBe(401)
      expect(replay.json().code).toBe('INVALID_TOKEN')
      await expectPairDead(t, third)

      const row = await t.kitsune.database.db
        .selectFrom('sessions')
        .select(['revoked_at', 'revoke_reason'])
        .where('id', '=', sessionId)
        .executeTakeFirstOrThrow()
      expect(row.revoked_at).toBeInstanceOf(Date)
      expect(row.revoke_reason).toBe('refresh_token_reused')

      const line = t.logs.find((l) => l.event === 'token.refresh_reused' && l.session_id === sessionId)
      expect(line).toMatchObject({ level: 'warn', user_id: user.id, session_id: sessionId })
    })

    it('logs a replay with its user_id even when the session had already ended (logout)', async () => {
      const { user, tokens } = await registerAndLogin(t)
      const second = (await refresh(t, tokens.refresh_token)).json() as TestTokens
      await t.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(second.access_token) })
      expect((await refresh(t, tokens.refresh_token)).statusCode).toBe(401)
      const sessionId = sidOf(tokens.access_token)
      const line = t.logs.find((l) => l.event === 'token.refresh_reused' && l.session_id === sessionId)
      expect(line).toMatchObject({ level: 'warn', user_id: user.id })
    })

    it('answers 401 for an unknown refresh token', async () => {
      const response = await refresh(t, 'x'.repeat(43))
      expect(response.statusCode).toBe(401)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().code).toBe('INVALID_TOKEN')
    })
  })

  describe('logout', () => {
    it('POST /logout answers 204 and kills its access and refresh tokens at once', async () => {
      const { tokens } = await registerAndLogin(t)
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(tokens.access_token),
      })
      expect(response.statusCode).toBe(204)
      await expectPairDead(t, tokens)
    })

    it('POST /logout with another own refresh token ends that session too', async () => {
      const user = await registerUser(t)
      const a = await login(t, user)
      const b = await login(t, user)
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(a.access_token),
        payload: { refresh_token: b.refresh_token },
      })
      expect(response.statusCode).toBe(204)
      await expectPairDead(t, a)
      await expectPairDead(t, b)
    })

    it('POST /logout-all ends every session of the user but not those of others', async () => {
      const user = await registerUser(t)
      const a = await login(t, user)
      const b = await login(t, user)
      const other = await registerAndLogin(t)
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/logout-all',
        headers: bearer(b.access_token),
      })
      expect(response.statusCode).toBe(204)
      await expectPairDead(t, a)
      await expectPairDead(t, b)
      expect(await meStatus(t, other.tokens.access_token)).toBe(200)
    })
  })

  describe('/api/v1/users/me/sessions', () => {
    it('lists live sessions with ip and user agent, marking only the caller’s as current', async () => {
      const user = await registerUser(t)
      const a = await login(t, user, { 'user-agent': 'agent-A/1.0' })
      const b = await login(t, user, { 'user-agent': 'agent-B/2.0' })
      const ended = await login(t, user, { 'user-agent': 'agent-C/3.0' })
      await t.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(ended.access_token) })

      const response = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me/sessions',
        headers: bearer(a.access_token),
      })
      expect(response.statusCode).toBe(200)
      const items = response.json().items as Array<Record<string, unknown>>
      expect(items).toHaveLength(2)
      const byId = new Map(items.map((item) => [item.id, item]))
      expect(byId.get(sidOf(a.access_token))).toMatchObject({
        current: true,
        ip: '127.0.0.1',
        user_agent: 'agent-A/1.0',
      })
      expect(byId.get(sidOf(b.access_token))).toMatchObject({
        current: false,
        ip: '127.0.0.1',
        user_agent: 'agent-B/2.0',
      })
    })

    it('DELETE /sessions/{id} ends that session and leaves the caller’s alive', async () => {
      const user = await registerUser(t)
      const a = await login(t, user)
      const b = await login(t, user)
      const response = await t.inject({
        method: 'DELETE',
        url: `/api/v1/users/me/sessions/${sidOf(b.access_token)}`,
        headers: bearer(a.access_token),
      })
      expect(response.statusCode).toBe(204)
      await expectPairDead(t, b)
      expect(await meStatus(t, a.access_token)).toBe(200)
    })

    it("DELETE /sessions/{id} answers 404 for another user's session, which stays alive", async () => {
      const caller = await registerAndLogin(t)
      const victim = await registerAndLogin(t)
      const response = await t.inject({
        method: 'DELETE',
        url: `/api/v1/users/me/sessions/${sidOf(victim.tokens.access_token)}`,
        headers: bearer(caller.tokens.access_token),
      })
      expect(response.statusCode).toBe(404)
      expect(response.json().code).toBe('NOT_FOUND')
      expect(await meStatus(t, victim.tokens.access_token)).toBe(200)
      expect((await refresh(t, victim.tokens.refresh_token)).statusCode).toBe(200)
    })
  })

  describe('POST /api/v1/users/me/password', () => {
    it('answers 401 for a wrong current password and changes nothing', async () => {
      const user = await registerUser(t)
      const a = await login(t, user)
      const b = await login(t, user)
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/users/me/password',
        headers: bearer(a.access_token),
        payload: { current_password: 'not the password', new_password: 'a brand new password' },
      })
      expect(response.statusCode).toBe(401)
      expect(response.json().code).toBe('INVALID_CREDENTIALS')
      expect(await meStatus(t, b.access_token)).toBe(200)
      expect((await login(t, user)).access_token).toBeTruthy()
    })

    it('ends every other session, keeps the current one, and swaps the password', async () => {
      const user = await registerUser(t)
      const current = await login(t, user)
      const other = await login(t, user)
      const newPassword = 'a brand new password'
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/users/me/password',
        headers: bearer(current.access_token),
        payload: { current_password: user.password, new_password: newPassword },
      })
      expect(response.statusCode).toBe(204)
      await expectPairDead(t, other)
      expect(await meStatus(t, current.access_token)).toBe(200)
      expect((await refresh(t, current.refresh_token)).statusCode).toBe(200)

      const oldLogin = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: user.email, password: user.password },
      })
      expect(oldLogin.statusCode).toBe(401)
      expect((await login(t, { email: user.email, password: newPassword })).access_token).toBeTruthy()
    })
  })

  describe('DELETE /api/v1/users/me', () => {
    it('answers 401 for a wrong password and keeps the account', async () => {
      const { tokens } = await registerAndLogin(t)
      const response = await t.inject({
        method: 'DELETE',
        url: '/api/v1/users/me',
        headers: bearer(tokens.access_token),
        payload: { password: 'not the password' },
      })
      expect(response.statusCode).toBe(401)
      expect(await meStatus(t, tokens.access_token)).toBe(200)
    })

    it('deletes the account with the password: 204, the token dies and the user row is gone', async () => {
      const { user, tokens } = await registerAndLogin(t)
      const response = await t.inject({
        method: 'DELETE',
        url: '/api/v1/users/me',
        headers: bearer(tokens.access_token),
        payload: { password: user.password },
      })
      expect(response.statusCode).toBe(204)
      await expectPairDead(t, tokens)
      const row = await t.kitsune.database.db
        .selectFrom('users')
        .select('id')
        .where('id', '=', user.id)
        .executeTakeFirst()
      expect(row).toBeUndefined()
    })
  })

  describe('session expiry (injected clock)', () => {
    const clock = fixedClock('2030-01-01T00:00:00Z')
    let timed: TestApp
    beforeAll(async () => {
      timed = await buildTestApp({ target, clock })
    })
    afterAll(async () => timed?.close())

    it('refreshes until the session expires (30 days), then answers 401', async () => {
      const { tokens } = await registerAndLogin(timed)
      clock.advance(29 * 86_400)
      const rotated = await refresh(timed, tokens.refresh_token)
      expect(rotated.statusCode).toBe(200)
      const pair = rotated.json() as TestTokens
      expect(pair.refresh_expires_in).toBe(86_400)

      clock.advance(86_400 + 1)
      const expired = await refresh(timed, pair.refresh_token)
      expect(expired.statusCode).toBe(401)
      expect(expired.json().code).toBe('INVALID_TOKEN')
    })
  })
})
