import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PERMISSIONS } from '../../src/auth/permissions.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'roles-admin@example.com', password: 'admin password 1234' }
const roleName = () => `role-${randomBytes(4).toString('hex')}`

describe.each(testTargets())('admin roles on $name', (target) => {
  let t: TestApp
  let admin: { authorization: string }

  const createRole = (payload: Record<string, unknown>) =>
    t.inject({ method: 'POST', url: '/api/v1/admin/roles', headers: admin, payload })
  const patchRole = (name: string, payload: Record<string, unknown>) =>
    t.inject({ method: 'PATCH', url: `/api/v1/admin/roles/${name}`, headers: admin, payload })
  const deleteRole = (name: string) =>
    t.inject({ method: 'DELETE', url: `/api/v1/admin/roles/${name}`, headers: admin })
  const listRoles = async () => {
    const response = await t.inject({ method: 'GET', url: '/api/v1/admin/roles', headers: admin })
    expect(response.statusCode).toBe(200)
    return response.json().items as Array<{ name: string; built_in: boolean; permissions: string[] }>
  }
  /** A fresh user holding `role` (and `user`), logged in. */
  const holderOf = async (role: string) => {
    const { user, tokens } = await registerAndLogin(t)
    const assigned = await t.inject({
      method: 'PUT',
      url: `/api/v1/admin/users/${user.id}/roles`,
      headers: admin,
      payload: { roles: ['user', role] },
    })
    expect(assigned.statusCode).toBe(200)
    return bearer(tokens.access_token)
  }
  const status = async (headers: { authorization: string }, method: 'GET' | 'POST', url: string) =>
    (await t.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) })).statusCode

  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    admin = bearer((await login(t, ADMIN)).access_token)
  })
  afterAll(async () => t?.close())

  it('lists the built-in roles, admin with every permission', async () => {
    const roles = await listRoles()
    expect(roles.find((role) => role.name === 'admin')).toMatchObject({
      built_in: true,
      permissions: [...PERMISSIONS],
    })
    expect(roles.find((role) => role.name === 'user')).toMatchObject({ built_in: true })
  })

  it('creates, updates and deletes a custom role', async () => {
    const name = roleName()
    const created = await createRole({
      name,
      description: 'Support desk',
      permissions: ['users:write', 'users:read', 'users:read'],
    })
    expect(created.statusCode).toBe(201)
    expect(created.json()).toEqual({
      name,
      description: 'Support desk',
      built_in: false,
      permissions: ['users:read', 'users:write'],
    })
    const updated = await patchRole(name, { description: 'Read only', permissions: ['audit:read'] })
    expect(updated.statusCode).toBe(200)
    expect(updated.json()).toMatchObject({ description: 'Read only', permissions: ['audit:read'] })
    expect((await listRoles()).find((role) => role.name === name)?.permissions).toEqual(['audit:read'])
    expect((await deleteRole(name)).statusCode).toBe(204)
    expect((await listRoles()).map((role) => role.name)).not.toContain(name)
    expect((await deleteRole(name)).statusCode).toBe(404)
  })

  it('answers 409 ROLE_EXISTS for a duplicate name, keeping the first role', async () => {
    const name = roleName()
    await createRole({ name, permissions: ['users:read'] })
    const response = await createRole({ name, permissions: ['audit:read'] })
    expect(response.statusCode).toBe(409)
    expect(response.json().code).toBe('ROLE_EXISTS')
    expect((await listRoles()).find((role) => role.name === name)?.permissions).toEqual(['users:read'])
  })

  it.each([
    ['an unknown permission', { permissions: ['users:read', 'users:frobnicate'] }],
    ['an unknown field', { permissions: [], built_in: true }],
    ['a name with capitals and spaces', { name: 'Bad Name', permissions: [] }],
  ])('answers 422 for %s and creates nothing', async (_label, payload) => {
    const name = roleName()
    const response = await createRole({ name, ...payload })
    expect(response.statusCode).toBe(422)
    expect(response.headers['content-type']).toContain('application/problem+json')
    const names = (await listRoles()).map((role) => role.name)
    expect(names).not.toContain(name)
    expect(names).not.toContain('Bad Name')
  })

  it('answers 422 when an update names an unknown permission', async () => {
    const name = roleName()
    await createRole({ name, permissions: ['users:read'] })
    expect((await patchRole(name, { permissions: ['root'] })).statusCode).toBe(422)
    expect((await listRoles()).find((role) => role.name === name)?.permissions).toEqual(['users:read'])
  })

  it('answers 404 when updating an unknown role', async () => {
    expect((await patchRole('no-such-role', { description: 'x' })).statusCode).toBe(404)
  })

  it.each(['admin', 'user'])(
    'refuses with 409 BUILT_IN_ROLE to delete the built-in %s role',
    async (name) => {
      const response = await deleteRole(name)
      expect(response.statusCode).toBe(409)
      expect(response.json().code).toBe('BUILT_IN_ROLE')
      expect((await listRoles()).map((role) => role.name)).toContain(name)
    },
  )

  it("refuses with 409 to change the admin role's permissions", async () => {
    const response = await patchRole('admin', { permissions: ['users:read'] })
    expect(response.statusCode).toBe(409)
    expect((await listRoles()).find((role) => role.name === 'admin')?.permissions).toEqual([...PERMISSIONS])
  })

  describe('a custom role with exactly users:read', () => {
    it('lets its holder list users but not create them nor read the audit log', async () => {
      const name = roleName()
      await createRole({ name, permissions: ['users:read'] })
      const holder = await holderOf(name)
      expect(await status(holder, 'GET', '/api/v1/admin/users')).toBe(200)
      expect(await status(holder, 'POST', '/api/v1/admin/users')).toBe(403)
      expect(await status(holder, 'GET', '/api/v1/admin/audit-logs')).toBe(403)
      expect(await status(holder, 'GET', '/api/v1/admin/roles')).toBe(403)
    })

    it("applies a change of the role's permissions on the holder's next request", async () => {
      const name = roleName()
      await createRole({ name, permissions: ['users:read'] })
      const holder = await holderOf(name)
      expect(await status(holder, 'GET', '/api/v1/admin/audit-logs')).toBe(403)
      expect((await patchRole(name, { permissions: ['audit:read'] })).statusCode).toBe(200)
      expect(await status(holder, 'GET', '/api/v1/admin/audit-logs')).toBe(200)
      expect(await status(holder, 'GET', '/api/v1/admin/users')).toBe(403)
    })

    it("removes the role's power from its holders when it is deleted", async () => {
      const name = roleName()
      await createRole({ name, permissions: ['users:read'] })
      const holder = await holderOf(name)
      expect(await status(holder, 'GET', '/api/v1/admin/users')).toBe(200)
      expect((await deleteRole(name)).statusCode).toBe(204)
      expect(await status(holder, 'GET', '/api/v1/admin/users')).toBe(403)
      const me = await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: holder })
      expect(me.json().roles).toEqual(['user'])
    })
  })
})
