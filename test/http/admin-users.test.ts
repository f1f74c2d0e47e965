import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerUser, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'users-admin@example.com', password: 'admin password 1234' }
const tag = () => randomBytes(4).toString('hex')

describe.each(testTargets())('admin user management on $name', (target) => {
  let t: TestApp
  let admin: { authorization: string }

  const list = (query: Record<string, string>) =>
    t.inject({ method: 'GET', url: '/api/v1/admin/users', query, headers: admin })
  const listIds = async (query: Record<string, string>) => {
    const response = await list(query)
    expect(response.statusCode).toBe(200)
    return (response.json().items as Array<{ id: string }>).map((user) => user.id)
  }

  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    admin = bearer((await login(t, ADMIN)).access_token)
  })
  afterAll(async () => t?.close())

  describe('GET /api/v1/admin/users', () => {
    it('filters by role and by is_active', async () => {
      const prefix = `flt${tag()}`
      const role = `tester-${tag()}`
      const created = await t.inject({
        method: 'POST',
        url: '/api/v1/admin/roles',
        headers: admin,
        payload: { name: role, permissions: [] },
      })
      expect(created.statusCode).toBe(201)
      const [holder, inactive, plain] = await Promise.all(
        [1, 2, 3].map((n) => registerUser(t, { email: `${prefix}-${n}@example.com` })),
      )
      await t.inject({
        method: 'PUT',
        url: `/api/v1/admin/users/${holder?.id}/roles`,
        headers: admin,
        payload: { roles: ['user', role] },
      })
      await t.inject({
        method: 'PATCH',
        url: `/api/v1/admin/users/${inactive?.id}`,
        headers: admin,
        payload: { is_active: false },
      })
      expect(await listIds({ role })).toEqual([holder?.id])
      expect(await listIds({ q: prefix, is_active: 'false' })).toEqual([inactive?.id])
      expect((await listIds({ q: prefix, is_active: 'true' })).sort()).toEqual([holder?.id, plain?.id].sort())
      expect(await listIds({ role: 'admin' })).toHaveLength(1)

      // Verified and two-step filters.
      await t.inject({
        method: 'PATCH',
        url: `/api/v1/admin/users/${plain?.id}`,
        headers: admin,
        payload: { email_verified: true },
      })
      await t.kitsune.database.db
        .updateTable('users')
        .set({ mfa_enabled: true })
        .where('id', '=', holder?.id ?? '')
        .execute()
      expect(await listIds({ q: prefix, email_verified: 'true' })).toEqual([plain?.id])
      expect((await listIds({ q: prefix, email_verified: 'false' })).sort()).toEqual(
        [holder?.id, inactive?.id].sort(),
      )
      expect(await listIds({ q: prefix, mfa_enabled: 'true' })).toEqual([holder?.id])
      expect(await listIds({ q: prefix, mfa_enabled: 'true', email_verified: 'true' })).toEqual([])
    })

    it.each([
      ['limit=101', { limit: '101' }],
      ['limit=0', { limit: '0' }],
      ['an unknown parameter', { sort: 'email' }],
      ['a cursor that is not one', { cursor: 'bm90LWEtdXVpZA' }],
    ])('answers 422 for %s', async (_name, query) => {
      const response = await list(query)
      expect(response.statusCode).toBe(422)
      expect(response.headers['content-type']).toContain('application/problem+json')
    })

    it('accepts limit=100', async () => {
      expect((await list({ limit: '100' })).statusCode).toBe(200)
    })

    it('pages newest first with no duplicate and no gap while users register between pages', async () => {
      const prefix = `page${tag()}`
      const original: string[] = []
      for (let n = 0; n < 12; n++)
        original.push((await registerUser(t, { email: `${prefix}-${n}@example.com` })).id)
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const response = await list({ q: prefix, limit: '5', ...(cursor ? { cursor } : {}) })
        expect(response.statusCode).toBe(200)
        const body = response.json() as { items: Array<{ id: string }>; next_cursor: string | null }
        seen.push(...body.items.map((user) => user.id))
        cursor = body.next_cursor
        pages++
        await registerUser(t, { email: `${prefix}-late-${pages}@example.com` })
      } while (cursor && pages < 10)
      expect(pages).toBe(3)
      expect(seen).toEqual([...original].reverse())
    })
  })

  describe('GET /api/v1/admin/users/:id', () => {
    it('returns the public user', async () => {
      const user = await registerUser(t, { full_name: 'Grace Hopper' })
      const response = await t.inject({
        method: 'GET',
        url: `/api/v1/admin/users/${user.id}`,
        headers: admin,
      })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({ id: user.id, email: user.email, roles: ['user'] })
      expect(response.json()).not.toHaveProperty('password_hash')
    })

    it('answers 404 for an unknown id and 422 for a malformed one', async () => {
      const unknown = await t.inject({
        method: 'GET',
        url: `/api/v1/admin/users/${randomUUID()}`,
        headers: admin,
      })
      expect(unknown.statusCode).toBe(404)
      expect(unknown.json().code).toBe('NOT_FOUND')
      const malformed = await t.inject({ method: 'GET', url: '/api/v1/admin/users/42', headers: admin })
      expect(malformed.statusCode).toBe(422)
    })
  })

  describe('POST /api/v1/admin/users', () => {
    it('creates a user who can log in, with the default role', async () => {
      const email = uniqueEmail('created')
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/admin/users',
        headers: admin,
        payload: { email, password: 'created password', full_name: 'New Person', email_verified: true },
      })
      expect(response.statusCode).toBe(201)
      expect(response.json()).toMatchObject({ email, roles: ['user'], is_active: true, email_verified: true })
      expect((await login(t, { email, password: 'created password' })).access_token).toBeTruthy()
    })

    it('answers 409 EMAIL_TAKEN for an e-mail already registered, in another case', async () => {
      const user = await registerUser(t)
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/admin/users',
        headers: admin,
        payload: { email: user.email.toUpperCase(), password: 'another password' },
      })
      expect(response.statusCode).toBe(409)
      expect(response.json().code).toBe('EMAIL_TAKEN')
    })

    it.each([
      ['an unknown field', { password_hash: 'x' }, '/password_hash'],
      ['a short password', { password: 'short' }, '/password'],
      ['an unknown role', { roles: ['no-such-role'] }, '/roles'],
    ])('answers 422 for %s and creates nobody', async (_name, extra, field) => {
      const email = uniqueEmail('rejected')
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/admin/users',
        headers: admin,
        payload: { email, password: 'long enough password', ...extra },
      })
      expect(response.statusCode).toBe(422)
      expect(response.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]))
      expect(await listIds({ q: email })).toEqual([])
    })
  })

  describe('PATCH /api/v1/admin/users/:id', () => {
    it('changes full_name and email_verified', async () => {
      const user = await registerUser(t)
      const response = await t.inject({
        method: 'PATCH',
        url: `/api/v1/admin/users/${user.id}`,
        headers: admin,
        payload: { full_name: '  Katherine Johnson ', email_verified: true },
      })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({ full_name: 'Katherine Johnson', email_verified: true })
    })

    it.each([
      ['password', { password: 'a new passphrase 1234' }],
      ['roles', { roles: ['admin'] }],
    ])('answers 422 for the field %s and changes nothing', async (_name, payload) => {
      const user = await registerUser(t)
      const response = await t.inject({
        method: 'PATCH',
        url: `/api/v1/admin/users/${user.id}`,
        headers: admin,
        payload,
      })
      expect(response.statusCode).toBe(422)
      const after = await t.inject({ method: 'GET', url: `/api/v1/admin/users/${user.id}`, headers: admin })
      expect(after.json()).toMatchObject({ email: user.email, roles: ['user'] })
    })

    it('answers 404 for an unknown id', async () => {
      const response = await t.inject({
        method: 'PATCH',
        url: `/api/v1/admin/users/${randomUUID()}`,
        headers: admin,
        payload: { full_name: 'Nobody' },
      })
      expect(response.statusCode).toBe(404)
    })
  })

  describe('DELETE /api/v1/admin/users/:id', () => {
    it('deletes the user, then answers 404 for them', async () => {
      const user = await registerUser(t)
      const url = `/api/v1/admin/users/${user.id}`
      expect((await t.inject({ method: 'DELETE', url, headers: admin })).statusCode).toBe(204)
      expect((await t.inject({ method: 'GET', url, headers: admin })).statusCode).toBe(404)
      expect((await t.inject({ method: 'DELETE', url, headers: admin })).statusCode).toBe(404)
    })
  })
})
