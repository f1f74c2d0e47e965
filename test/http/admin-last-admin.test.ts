import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'last-admin@example.com', password: 'admin password 1234' }

/** Suites here change the admin set, so each gets its own database. */
describe.each(testTargets())('last-admin protection and user deletion on $name', (target) => {
  let t: TestApp
  let adminId: string
  let admin: { authorization: string }

  const countAudit = async (action: string, targetId: string) => {
    const rows = await t.kitsune.database.db
      .selectFrom('audit_logs')
      .select('id')
      .where('action', '=', action)
      .where('target_id', '=', targetId)
      .execute()
    return rows.length
  }
  const getUser = (id: string, headers = admin) =>
    t.inject({ method: 'GET', url: `/api/v1/admin/users/${id}`, headers })
  const setRoles = (id: string, roles: string[], headers = admin) =>
    t.inject({ method: 'PUT', url: `/api/v1/admin/users/${id}/roles`, headers, payload: { roles } })

  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    admin = bearer((await login(t, ADMIN)).access_token)
    const me = await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: admin })
    adminId = me.json().id
  })
  afterAll(async () => t?.close())

  describe('with a single administrator', () => {
    it('answers 409 LAST_ADMIN when they remove their own admin role, changing and auditing nothing', async () => {
      const response = await setRoles(adminId, ['user'])
      expect(response.statusCode).toBe(409)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().code).toBe('LAST_ADMIN')
      expect((await getUser(adminId)).json().roles).toEqual(['admin', 'user'])
      expect(await countAudit('role.assigned', adminId)).toBe(0)
    })

    it('answers 409 LAST_ADMIN when they deactivate themselves; their token keeps working', async () => {
      const response = await t.inject({
        method: 'PATCH',
        url: `/api/v1/admin/users/${adminId}`,
        headers: admin,
        payload: { is_active: false },
      })
      expect(response.statusCode).toBe(409)
      expect(response.json().code).toBe('LAST_ADMIN')
      const after = await getUser(adminId)
      expect(after.statusCode).toBe(200)
      expect(after.json().is_active).toBe(true)
      expect(await countAudit('user.updated', adminId)).toBe(0)
    })

    it('answers 409 LAST_ADMIN when they delete themselves', async () => {
      const response = await t.inject({
        method: 'DELETE',
        url: `/api/v1/admin/users/${adminId}`,
        headers: admin,
      })
      expect(response.statusCode).toBe(409)
      expect(response.json().code).toBe('LAST_ADMIN')
      expect((await getUser(adminId)).statusCode).toBe(200)
      expect(await countAudit('user.deleted', adminId)).toBe(0)
    })

    it('answers 409 LAST_ADMIN when they delete their own account through /users/me', async () => {
      const response = await t.inject({
        method: 'DELETE',
        url: '/api/v1/users/me',
        headers: admin,
        payload: { password: ADMIN.password },
      })
      expect(response.statusCode).toBe(409)
      expect(response.json().code).toBe('LAST_ADMIN')
      expect((await getUser(adminId)).statusCode).toBe(200)
      expect(await countAudit('user.deleted', adminId)).toBe(0)
    })
  })

  describe('with two administrators', () => {
    it('counts an inactive administrator as none', async () => {
      const second = await createAdmin()
      const deactivate = await t.inject({
        method: 'PATCH',
        url: `/api/v1/admin/users/${second.id}`,
        headers: admin,
        payload: { is_active: false },
      })
      expect(deactivate.statusCode).toBe(200)
      expect((await setRoles(adminId, ['user'])).json().code).toBe('LAST_ADMIN')
    })

    it('lets one be demoted, who loses admin access at once; the other is then protected', async () => {
      const second = await createAdmin()
      const secondToken = bearer((await login(t, second)).access_token)
      const demoted = await setRoles(second.id, ['user'], secondToken)
      expect(demoted.statusCode).toBe(200)
      expect(demoted.json().roles).toEqual(['user'])
      expect((await getUser(second.id, secondToken)).statusCode).toBe(403)
      expect((await setRoles(adminId, ['user'])).json().code).toBe('LAST_ADMIN')
    })

    it('lets one be deleted', async () => {
      const second = await createAdmin()
      const response = await t.inject({
        method: 'DELETE',
        url: `/api/v1/admin/users/${second.id}`,
        headers: admin,
      })
      expect(response.statusCode).toBe(204)
    })
  })

  describe('DELETE /api/v1/admin/users/:id', () => {
    it('removes the user row and sessions but keeps their audit entries, actor_id unchanged', async () => {
      const { user, tokens } = await registerAndLogin(t)
      const db = t.kitsune.database.db
      const ownEntries = await db
        .selectFrom('audit_logs')
        .select('id')
        .where('actor_id', '=', user.id)
        .execute()
      expect(ownEntries.length).toBeGreaterThanOrEqual(2)
      const response = await t.inject({
        method: 'DELETE',
        url: `/api/v1/admin/users/${user.id}`,
        headers: admin,
      })
      expect(response.statusCode).toBe(204)
      expect(await db.selectFrom('users').select('id').where('id', '=', user.id).execute()).toEqual([])
      expect(await db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toEqual(
        [],
      )
      const kept = await db.selectFrom('audit_logs').select('id').where('actor_id', '=', user.id).execute()
      expect(kept.map((row) => row.id).sort()).toEqual(ownEntries.map((row) => row.id).sort())
      const me = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(tokens.access_token),
      })
      expect(me.statusCode).toBe(401)
      const verify = await t.inject({ method: 'GET', url: '/api/v1/admin/audit-logs/verify', headers: admin })
      expect(verify.json().ok).toBe(true)
    })
  })

  async function createAdmin() {
    const email = uniqueEmail('admin')
    const password = 'second admin password'
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/users',
      headers: admin,
      payload: { email, password, roles: ['admin', 'user'] },
    })
    expect(response.statusCode).toBe(201)
    return { id: response.json().id as string, email, password }
  }
})
