import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'access-admin@example.com', password: 'admin password 1234' }

/** What an administrator's change does to the target user's existing tokens and sessions. */
describe.each(testTargets())('admin changes to a user take effect at once on $name', (target) => {
  let t: TestApp
  let admin: { authorization: string }

  const meStatus = async (accessToken: string) =>
    (await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(accessToken) })).statusCode
  const refreshStatus = async (refreshToken: string) =>
    (
      await t.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: refreshToken },
      })
    ).statusCode
  const liveSessions = async (userId: string) => {
    const rows = await t.kitsune.database.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute()
    return rows.length
  }
  const setRoles = (userId: string, roles: string[]) =>
    t.inject({
      method: 'PUT',
      url: `/api/v1/admin/users/${userId}/roles`,
      headers: admin,
      payload: { roles },
    })

  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    admin = bearer((await login(t, ADMIN)).access_token)
  })
  afterAll(async () => t?.close())

  describe('PATCH is_active=false', () => {
    it('rejects the user’s existing token on the next request and ends their sessions', async () => {
      const { user, tokens } = await registerAndLogin(t)
      await login(t, user)
      expect(await meStatus(tokens.access_token)).toBe(200)
      expect(await liveSessions(user.id)).toBe(2)
      const response = await t.inject({
        method: 'PATCH',
        url: `/api/v1/admin/users/${user.id}`,
        headers: admin,
        payload: { is_active: false },
      })
      expect(response.statusCode).toBe(200)
      expect(response.json().is_active).toBe(false)
      expect(await meStatus(tokens.access_token)).toBe(401)
      expect(await liveSessions(user.id)).toBe(0)
      expect(await refreshStatus(tokens.refresh_token)).toBe(401)
      const relogin = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: user.email, password: user.password },
      })
      expect(relogin.statusCode).toBe(401)
    })

    it('lets the user log in again after reactivation', async () => {
      const { user } = await registerAndLogin(t)
      const url = `/api/v1/admin/users/${user.id}`
      await t.inject({ method: 'PATCH', url, headers: admin, payload: { is_active: false } })
      await t.inject({ method: 'PATCH', url, headers: admin, payload: { is_active: true } })
      expect(await meStatus((await login(t, user)).access_token)).toBe(200)
    })
  })

  describe('PUT /api/v1/admin/users/:id/roles', () => {
    it('gives a plain user admin power on their very next request with the same token, and takes it back', async () => {
      const { user, tokens } = await registerAndLogin(t)
      const adminRoute = {
        method: 'GET' as const,
        url: '/api/v1/admin/users',
        headers: bearer(tokens.access_token),
      }
      expect((await t.inject(adminRoute)).statusCode).toBe(403)
      const promoted = await setRoles(user.id, ['admin', 'user'])
      expect(promoted.statusCode).toBe(200)
      expect(promoted.json().roles).toEqual(['admin', 'user'])
      expect((await t.inject(adminRoute)).statusCode).toBe(200)
      expect((await setRoles(user.id, ['user'])).statusCode).toBe(200)
      expect((await t.inject(adminRoute)).statusCode).toBe(403)
    })

    it('answers 422 for an unknown role and leaves the roles as they were', async () => {
      const { user } = await registerAndLogin(t)
      const response = await setRoles(user.id, ['user', 'no-such-role'])
      expect(response.statusCode).toBe(422)
      expect(response.json().errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ field: '/roles' })]),
      )
      const after = await t.inject({ method: 'GET', url: `/api/v1/admin/users/${user.id}`, headers: admin })
      expect(after.json().roles).toEqual(['user'])
    })

    it('answers 404 for an unknown user', async () => {
      expect((await setRoles(randomUUID(), ['user'])).statusCode).toBe(404)
    })

    it('answers 422 for an unknown field', async () => {
      const { user } = await registerAndLogin(t)
      const response = await t.inject({
        method: 'PUT',
        url: `/api/v1/admin/users/${user.id}/roles`,
        headers: admin,
        payload: { roles: ['user'], permissions: ['users:read'] },
      })
      expect(response.statusCode).toBe(422)
    })
  })

  describe('POST /api/v1/admin/users/:id/sessions/revoke', () => {
    it('kills every access and refresh token of the user at once', async () => {
      const { user, tokens } = await registerAndLogin(t)
      const second = await login(t, user)
      const response = await t.inject({
        method: 'POST',
        url: `/api/v1/admin/users/${user.id}/sessions/revoke`,
        headers: admin,
      })
      expect(response.statusCode).toBe(204)
      expect(await meStatus(tokens.access_token)).toBe(401)
      expect(await meStatus(second.access_token)).toBe(401)
      expect(await refreshStatus(second.refresh_token)).toBe(401)
      expect(await liveSessions(user.id)).toBe(0)
      // The account itself stays usable.
      expect(await meStatus((await login(t, user)).access_token)).toBe(200)
    })

    it('leaves other users’ sessions alone', async () => {
      const target = await registerAndLogin(t)
      const bystander = await registerAndLogin(t)
      await t.inject({
        method: 'POST',
        url: `/api/v1/admin/users/${target.user.id}/sessions/revoke`,
        headers: admin,
      })
      expect(await meStatus(bystander.tokens.access_token)).toBe(200)
    })

    it('answers 404 for an unknown user', async () => {
      const response = await t.inject({
        method: 'POST',
        url: `/api/v1/admin/users/${randomUUID()}/sessions/revoke`,
        headers: admin,
      })
      expect(response.statusCode).toBe(404)
    })
  })
})
