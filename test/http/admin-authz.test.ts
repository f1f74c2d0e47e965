import { randomUUID } from 'node:crypto'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PERMISSIONS, type Permission } from '../../src/auth/permissions.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin, registerUser } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'authz-admin@example.com', password: 'admin password 1234' }

interface AdminRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  /** As the OpenAPI document spells it. */
  path: string
  permission: Permission
  payload?: Record<string, unknown>
}

/**
 * Every route under /api/v1/admin with the permission API.md gives it. Harmless arguments: an
 * unknown id or role name, so an allowed call answers 404/422 and changes nothing.
 */
const ADMIN_ROUTES: AdminRoute[] = [
  { method: 'GET', path: '/api/v1/admin/users', permission: 'users:read' },
  { method: 'POST', path: '/api/v1/admin/users', permission: 'users:write', payload: {} },
  { method: 'GET', path: '/api/v1/admin/users/{id}', permission: 'users:read' },
  { method: 'PATCH', path: '/api/v1/admin/users/{id}', permission: 'users:write', payload: {} },
  { method: 'DELETE', path: '/api/v1/admin/users/{id}', permission: 'users:delete' },
  {
    method: 'PUT',
    path: '/api/v1/admin/users/{id}/roles',
    permission: 'roles:assign',
    payload: { roles: ['user'] },
  },
  { method: 'POST', path: '/api/v1/admin/users/{id}/sessions/revoke', permission: 'sessions:revoke' },
  { method: 'DELETE', path: '/api/v1/admin/users/{id}/mfa', permission: 'users:write' },
  { method: 'GET', path: '/api/v1/admin/users/{id}/passkeys', permission: 'users:read' },
  { method: 'DELETE', path: '/api/v1/admin/users/{id}/passkeys/{pid}', permission: 'users:write' },
  { method: 'GET', path: '/api/v1/admin/roles', permission: 'roles:read' },
  { method: 'POST', path: '/api/v1/admin/roles', permission: 'roles:write', payload: {} },
  { method: 'PATCH', path: '/api/v1/admin/roles/{name}', permission: 'roles:write', payload: {} },
  { method: 'DELETE', path: '/api/v1/admin/roles/{name}', permission: 'roles:write' },
  { method: 'GET', path: '/api/v1/admin/audit-logs', permission: 'audit:read' },
  { method: 'GET', path: '/api/v1/admin/audit-logs/verify', permission: 'audit:read' },
  { method: 'GET', path: '/api/v1/admin/clients', permission: 'clients:read' },
  { method: 'POST', path: '/api/v1/admin/clients', permission: 'clients:write', payload: {} },
  { method: 'GET', path: '/api/v1/admin/clients/{id}', permission: 'clients:read' },
  { method: 'PATCH', path: '/api/v1/admin/clients/{id}', permission: 'clients:write', payload: {} },
  { method: 'DELETE', path: '/api/v1/admin/clients/{id}', permission: 'clients:write' },
  { method: 'POST', path: '/api/v1/admin/clients/{id}/secret', permission: 'clients:write' },
  { method: 'POST', path: '/api/v1/admin/clients/initial-tokens', permission: 'clients:write', payload: {} },
  { method: 'GET', path: '/api/v1/admin/webhooks', permission: 'webhooks:read' },
  { method: 'POST', path: '/api/v1/admin/webhooks', permission: 'webhooks:write', payload: {} },
  { method: 'GET', path: '/api/v1/admin/webhooks/{id}', permission: 'webhooks:read' },
  { method: 'PATCH', path: '/api/v1/admin/webhooks/{id}', permission: 'webhooks:write', payload: {} },
  { method: 'DELETE', path: '/api/v1/admin/webhooks/{id}', permission: 'webhooks:write' },
  { method: 'GET', path: '/api/v1/admin/webhooks/{id}/deliveries', permission: 'webhooks:read' },
  {
    method: 'POST',
    path: '/api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/retry',
    permission: 'webhooks:write',
  },
]

const label = (route: AdminRoute) => `${route.method} ${route.path}`

function requestFor(route: AdminRoute, headers: Record<string, string> = {}): InjectOptions {
  const url = route.path
    .replace('{id}', randomUUID())
    .replace('{pid}', randomUUID())
    .replace('{delivery_id}', randomUUID())
    .replace('{name}', 'no-such-role')
  return {
    method: route.method,
    url,
    headers,
    ...(route.payload ? { payload: route.payload } : {}),
  }
}

describe.each(testTargets())('admin route authorization on $name', (target) => {
  let t: TestApp
  let adminToken: string
  let userToken: string
  /** For each permission: a token whose role grants only it, and one whose role grants all but it. */
  const only = new Map<Permission, string>()
  const allBut = new Map<Permission, string>()

  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    adminToken = (await login(t, ADMIN)).access_token
    userToken = (await registerAndLogin(t)).tokens.access_token
    for (const [index, permission] of PERMISSIONS.entries()) {
      for (const [kind, permissions, tokens] of [
        ['only', [permission], only],
        ['allbut', PERMISSIONS.filter((p) => p !== permission), allBut],
      ] as const) {
        const role = `${kind}-${index}`
        const created = await t.inject({
          method: 'POST',
          url: '/api/v1/admin/roles',
          headers: bearer(adminToken),
          payload: { name: role, permissions },
        })
        expect(created.statusCode).toBe(201)
        const user = await registerUser(t)
        const assigned = await t.inject({
          method: 'PUT',
          url: `/api/v1/admin/users/${user.id}/roles`,
          headers: bearer(adminToken),
          payload: { roles: ['user', role] },
        })
        expect(assigned.statusCode).toBe(200)
        tokens.set(permission, (await login(t, user)).access_token)
      }
    }
  })
  afterAll(async () => t?.close())

  it('lists every admin route of the OpenAPI document in the table, and no other', async () => {
    const response = await t.inject({ method: 'GET', url: '/openapi.json' })
    expect(response.statusCode).toBe(200)
    const paths = response.json().paths as Record<string, Record<string, unknown>>
    const documented = Object.entries(paths)
      .filter(([path]) => path.startsWith('/api/v1/admin'))
      .flatMap(([path, operations]) =>
        Object.keys(operations)
          .filter((key) => ['get', 'post', 'put', 'patch', 'delete'].includes(key))
          .map((method) => `${method.toUpperCase()} ${path.replace(/\/$/, '')}`),
      )
    expect([...new Set(documented)].sort()).toEqual(ADMIN_ROUTES.map(label).sort())
  })

  describe.each(ADMIN_ROUTES.map((route) => [label(route), route] as const))('%s', (_name, route) => {
    it('answers 401 problem+json without a token', async () => {
      const response = await t.inject(requestFor(route))
      expect(response.statusCode).toBe(401)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().code).toBe('UNAUTHENTICATED')
    })

    it('answers 401 for a malformed bearer token', async () => {
      const response = await t.inject(requestFor(route, bearer('not-a-jwt')))
      expect(response.statusCode).toBe(401)
      expect(response.json().code).toBe('INVALID_TOKEN')
    })

    it('answers 403 problem+json FORBIDDEN for a plain user', async () => {
      const response = await t.inject(requestFor(route, bearer(userToken)))
      expect(response.statusCode).toBe(403)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json()).toMatchObject({ status: 403, code: 'FORBIDDEN' })
    })

    it('lets an admin through', async () => {
      const response = await t.inject(requestFor(route, bearer(adminToken)))
      expect([401, 403]).not.toContain(response.statusCode)
      expect(response.statusCode).toBeLessThan(500)
    })

    it(`lets through a role granting only ${route.permission}`, async () => {
      const response = await t.inject(requestFor(route, bearer(only.get(route.permission) as string)))
      expect([401, 403]).not.toContain(response.statusCode)
      expect(response.statusCode).toBeLessThan(500)
    })

    it(`refuses a role granting every permission except ${route.permission}`, async () => {
      const response = await t.inject(requestFor(route, bearer(allBut.get(route.permission) as string)))
      expect(response.statusCode).toBe(403)
      expect(response.json().code).toBe('FORBIDDEN')
    })
  })
})
