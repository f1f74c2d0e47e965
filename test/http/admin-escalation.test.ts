import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Permission } from '../../src/auth/permissions.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'escalation-admin@example.com', password: 'admin password 1234' }

/**
 * A delegated permission must not be a path to more power than it grants (Keycloak: a user
 * managing others can only map roles they hold themselves). Only an admin makes an admin.
 */
describe.each(testTargets())(
  'no privilege escalation through delegated admin permissions on $name',
  (target) => {
    let t: TestApp
    let admin: { authorization: string }

    /** A fresh non-admin user whose only extra role grants exactly `permissions`. */
    const delegate = async (permissions: Permission[]) => {
      const role = `deleg-${randomBytes(4).toString('hex')}`
      const created = await t.inject({
        method: 'POST',
        url: '/api/v1/admin/roles',
        headers: admin,
        payload: { name: role, permissions },
      })
      expect(created.statusCode).toBe(201)
      const { user, tokens } = await registerAndLogin(t)
      const assigned = await t.inject({
        method: 'PUT',
        url: `/api/v1/admin/users/${user.id}/roles`,
        headers: admin,
        payload: { roles: ['user', role] },
      })
      expect(assigned.statusCode).toBe(200)
      return { id: user.id, role, headers: bearer(tokens.access_token) }
    }
    const rolesOf = async (id: string) =>
      (await t.inject({ method: 'GET', url: `/api/v1/admin/users/${id}`, headers: admin })).json().roles

    beforeAll(async () => {
      t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
      admin = bearer((await login(t, ADMIN)).access_token)
    })
    afterAll(async () => t?.close())

    it('refuses with 403 a roles:assign holder granting themselves admin', async () => {
      const holder = await delegate(['roles:assign'])
      const response = await t.inject({
        method: 'PUT',
        url: `/api/v1/admin/users/${holder.id}/roles`,
        headers: holder.headers,
        payload: { roles: ['admin', 'user', holder.role] },
      })
      expect(response.statusCode).toBe(403)
      expect(await rolesOf(holder.id)).toEqual([holder.role, 'user'].sort())
    })

    it('still lets a roles:assign holder assign a role they hold themselves', async () => {
      const holder = await delegate(['roles:assign'])
      const { user } = await registerAndLogin(t)
      const response = await t.inject({
        method: 'PUT',
        url: `/api/v1/admin/users/${user.id}/roles`,
        headers: holder.headers,
        payload: { roles: ['user', holder.role] },
      })
      expect(response.statusCode).toBe(200)
    })

    it('refuses with 403 a users:write holder creating an admin account', async () => {
      const holder = await delegate(['users:write'])
      const email = uniqueEmail('shadow-admin')
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/admin/users',
        headers: holder.headers,
        payload: { email, password: 'shadow admin password', roles: ['admin', 'user'] },
      })
      expect(response.statusCode).toBe(403)
      const found = await t.inject({
        method: 'GET',
        url: '/api/v1/admin/users',
        query: { q: email },
        headers: admin,
      })
      expect(found.json().items).toEqual([])
    })
  },
)
