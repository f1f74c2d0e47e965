import { randomBytes, randomUUID } from 'node:crypto'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin, registerUser, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'audit-admin@example.com', password: 'admin password 1234' }
const UA = { 'user-agent': 'kitsune-audit-test/1.0' }

type Entry = Record<string, unknown> & { id: string; metadata: Record<string, unknown> }

const sidOf = (accessToken: string) =>
  (JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as { sid: string }).sid

/** One audit entry per state-changing action, written with the change, never without it. */
describe.each(testTargets())('audit entries on $name', (target) => {
  let t: TestApp
  let adminId: string
  let admin: Record<string, string>

  const send = (options: InjectOptions) =>
    t.inject({ ...options, headers: { ...UA, ...(options.headers as Record<string, string>) } })
  const entries = async (query: Record<string, string>): Promise<Entry[]> => {
    const response = await t.inject({ method: 'GET', url: '/api/v1/admin/audit-logs', query, headers: admin })
    expect(response.statusCode).toBe(200)
    return response.json().items
  }
  const countAll = async () => {
    const row = await t.kitsune.database.db
      .selectFrom('audit_logs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }
  /** Exactly one entry of `action` about `targetId`, carrying the request's context. */
  const expectOne = async (
    action: string,
    targetId: string,
    response: LightMyRequestResponse,
    expected: Record<string, unknown>,
  ) => {
    const found = await entries({ action, target_id: targetId })
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({
      action,
      target_id: targetId,
      ip: '127.0.0.1',
      user_agent: UA['user-agent'],
      request_id: response.headers['x-request-id'],
      ...expected,
    })
    expect(response.headers['x-request-id']).toBeTruthy()
    return found[0] as Entry
  }

  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    const tokens = await login(t, ADMIN)
    admin = { ...bearer(tokens.access_token) }
    adminId = (await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: admin })).json().id
  })
  afterAll(async () => t?.close())

  it('answers 422 naming the parameter for a date-time that does not exist (a leap second, 31 February)', async () => {
    for (const [name, value] of [
      ['from', '9999-12-31T23:59:60Z'],
      ['to', '2026-02-31T00:00:00Z'],
    ] as const) {
      const response = await t.inject({
        method: 'GET',
        url: '/api/v1/admin/audit-logs',
        query: { [name]: value },
        headers: admin,
      })
      expect(response.statusCode).toBe(422)
      expect(response.json().errors[0].field).toBe(`/query/${name}`)
    }
  })

  it('records the bootstrap admin as user.created with no actor', async () => {
    const [entry] = await entries({ action: 'user.created', target_id: adminId })
    expect(entry).toMatchObject({ actor_id: null, target_type: 'user', metadata: { bootstrap: true } })
  })

  it('records user.registered with the new user as actor and target', async () => {
    const response = await send({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: uniqueEmail(), password: 'long enough password' },
    })
    const id = response.json().id
    await expectOne('user.registered', id, response, { actor_id: id, target_type: 'user' })
  })

  it('records user.login against the new session', async () => {
    const user = await registerUser(t)
    const response = await send({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: user.password },
    })
    expect(response.statusCode).toBe(200)
    const sid = sidOf(response.json().access_token)
    await expectOne('user.login', sid, response, { actor_id: user.id, target_type: 'session' })
  })

  it('records user.login_failed with the reason and never the password', async () => {
    const user = await registerUser(t)
    const wrong = `wrong-${randomBytes(6).toString('hex')}`
    const response = await send({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: wrong },
    })
    expect(response.statusCode).toBe(401)
    const entry = await expectOne('user.login_failed', user.id, response, {
      actor_id: user.id,
      metadata: { email: user.email, reason: 'bad_password' },
    })
    expect(JSON.stringify(entry)).not.toContain(wrong)
    expect(JSON.stringify(entry)).not.toContain(user.password)
  })

  it('records user.login_failed for an unknown e-mail with no actor', async () => {
    const email = uniqueEmail('ghost')
    const response = await send({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: 'some password' },
    })
    expect(response.statusCode).toBe(401)
    const found = (await entries({ action: 'user.login_failed' })).filter((e) => e.metadata.email === email)
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ actor_id: null, request_id: response.headers['x-request-id'] })
    expect(JSON.stringify(found[0])).not.toContain('some password')
  })

  it('records user.logout against the ended session', async () => {
    const { user, tokens } = await registerAndLogin(t)
    const response = await send({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(tokens.access_token),
    })
    expect(response.statusCode).toBe(204)
    await expectOne('user.logout', sidOf(tokens.access_token), response, { actor_id: user.id })
  })

  it('records session.revoked for an administrator ending a user’s sessions', async () => {
    const { user } = await registerAndLogin(t)
    const response = await send({
      method: 'POST',
      url: `/api/v1/admin/users/${user.id}/sessions/revoke`,
      headers: admin,
    })
    expect(response.statusCode).toBe(204)
    await expectOne('session.revoked', user.id, response, { actor_id: adminId, metadata: { all: true } })
  })

  it('records token.refresh_reused when a used refresh token comes back', async () => {
    const { user, tokens } = await registerAndLogin(t)
    const refresh = () =>
      send({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: tokens.refresh_token } })
    expect((await refresh()).statusCode).toBe(200)
    const reused = await refresh()
    expect(reused.statusCode).toBe(401)
    await expectOne('token.refresh_reused', sidOf(tokens.access_token), reused, { actor_id: user.id })
  })

  it('records password.changed without either password', async () => {
    const { user, tokens } = await registerAndLogin(t)
    const response = await send({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers: bearer(tokens.access_token),
      payload: { current_password: user.password, new_password: 'a brand new password' },
    })
    expect(response.statusCode).toBe(204)
    const entry = await expectOne('password.changed', user.id, response, { actor_id: user.id })
    expect(JSON.stringify(entry)).not.toContain('a brand new password')
    expect(JSON.stringify(entry)).not.toContain(user.password)
  })

  it('records user.created, user.updated and user.deleted for administrator changes', async () => {
    const created = await send({
      method: 'POST',
      url: '/api/v1/admin/users',
      headers: admin,
      payload: { email: uniqueEmail(), password: 'long enough password' },
    })
    const id = created.json().id
    await expectOne('user.created', id, created, { actor_id: adminId, metadata: { roles: ['user'] } })
    const url = `/api/v1/admin/users/${id}`
    const updated = await send({ method: 'PATCH', url, headers: admin, payload: { full_name: 'Renamed' } })
    await expectOne('user.updated', id, updated, { actor_id: adminId, metadata: { fields: ['full_name'] } })
    const deleted = await send({ method: 'DELETE', url, headers: admin })
    expect(deleted.statusCode).toBe(204)
    await expectOne('user.deleted', id, deleted, { actor_id: adminId, target_type: 'user' })
  })

  it('records role.changed for each change to a role and role.assigned with before and after', async () => {
    const name = `aud-${randomBytes(4).toString('hex')}`
    const created = await send({
      method: 'POST',
      url: '/api/v1/admin/roles',
      headers: admin,
      payload: { name, permissions: ['users:read'] },
    })
    expect(created.statusCode).toBe(201)
    const [entry] = await entries({ action: 'role.changed', target_id: name })
    expect(entry).toMatchObject({ actor_id: adminId, target_type: 'role', metadata: { change: 'created' } })
    const user = await registerUser(t)
    const assigned = await send({
      method: 'PUT',
      url: `/api/v1/admin/users/${user.id}/roles`,
      headers: admin,
      payload: { roles: [name, 'user'] },
    })
    await expectOne('role.assigned', user.id, assigned, {
      actor_id: adminId,
      metadata: { before: ['user'], after: [name, 'user'].sort() },
    })
  })

  describe('writes no entry when the action fails', () => {
    it.each<[string, () => InjectOptions | Promise<InjectOptions>, number]>([
      [
        'register with a taken e-mail',
        async () => ({
          method: 'POST',
          url: '/api/v1/auth/register',
          payload: { email: (await registerUser(t)).email, password: 'long enough password' },
        }),
        409,
      ],
      [
        'the last admin removing their own admin role',
        () => ({
          method: 'PUT',
          url: `/api/v1/admin/users/${adminId}/roles`,
          headers: admin,
          payload: { roles: ['user'] },
        }),
        409,
      ],
      [
        'creating a role with a taken name',
        () => ({
          method: 'POST',
          url: '/api/v1/admin/roles',
          headers: admin,
          payload: { name: 'user', permissions: [] },
        }),
        409,
      ],
      [
        'updating an unknown user',
        () => ({ method: 'PATCH', url: `/api/v1/admin/users/${randomUUID()}`, headers: admin, payload: {} }),
        404,
      ],
      [
        'creating a user with an unknown role',
        () => ({
          method: 'POST',
          url: '/api/v1/admin/users',
          headers: admin,
          payload: { email: uniqueEmail(), password: 'long enough password', roles: ['nope'] },
        }),
        422,
      ],
    ])('%s', async (_name, request, status) => {
      const options = await request()
      const before = await countAll()
      expect((await send(options)).statusCode).toBe(status)
      expect(await countAll()).toBe(before)
    })
  })
})
