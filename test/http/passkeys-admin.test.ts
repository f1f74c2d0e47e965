import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Permission } from '../../src/auth/permissions.js'
import { fixedClock } from '../../src/lib/clock.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin, registerUser, type TestUser } from '../helpers/factories.js'
import {
  audits,
  collectingMailer,
  createFixtureUser,
  fixtures,
  insertRecordedPasskey,
  insertSyntheticPasskey,
  mfaEnabled,
  passkeyRows,
  resetFixtureUser,
} from '../helpers/passkeys.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'pk-admin-admin@example.com', password: 'admin password 1234' }
const LOCAL = { origin: fixtures.origin, rpId: fixtures.rpId }

function expectProblem(response: LightMyRequestResponse, status: number, code: string) {
  expect(response.statusCode, response.body).toBe(status)
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(response.json().code).toBe(code)
}

describe.each(testTargets())('administrators and passkeys on $name', (target) => {
  let t: TestApp
  let user: TestUser
  let adminId: string
  let admin: { authorization: string }
  const clock = fixedClock('2030-01-01T00:00:00Z')
  const mailer = collectingMailer()
  const asAdmin = (request: InjectOptions) => t.inject({ ...request, headers: admin })

  /** A fresh account holding a new role with exactly `permissions`. */
  const operatorWith = async (permissions: Permission[]) => {
    const role = `pk-op-${Math.random().toString(36).slice(2, 8)}`
    expect(
      (await asAdmin({ method: 'POST', url: '/api/v1/admin/roles', payload: { name: role, permissions } }))
        .statusCode,
    ).toBe(201)
    const operator = await registerUser(t)
    const assigned = await asAdmin({
      method: 'PUT',
      url: `/api/v1/admin/users/${operator.id}/roles`,
      payload: { roles: ['user', role] },
    })
    expect(assigned.statusCode, assigned.body).toBe(200)
    return { id: operator.id, headers: bearer((await login(t, operator)).access_token) }
  }

  beforeAll(async () => {
    t = await buildTestApp({
      target,
      clock,
      env: { PUBLIC_URL: fixtures.origin, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
      kitsune: { mailer },
    })
    const tokens = await login(t, ADMIN)
    admin = bearer(tokens.access_token)
    adminId = (await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: admin })).json().id
    user = await createFixtureUser(t)
  })
  afterAll(async () => t?.close())
  beforeEach(async () => resetFixtureUser(t))

  it('lists a user’s passkeys with users:read, without key material; 403 without it', async () => {
    const passkeyId = await insertRecordedPasskey(t, user.id, fixtures.registration, {
      ...LOCAL,
      name: 'Laptop',
    })
    const listed = await asAdmin({ method: 'GET', url: `/api/v1/admin/users/${user.id}/passkeys` })
    expect(listed.statusCode).toBe(200)
    expect(listed.json().items).toEqual([
      expect.objectContaining({ id: passkeyId, name: 'Laptop', last_used_at: null }),
    ])
    expect(Object.keys(listed.json().items[0])).not.toContain('public_key')
    expect(listed.body).not.toContain(fixtures.registration.response.id)

    const plain = await registerAndLogin(t)
    expectProblem(
      await t.inject({
        method: 'GET',
        url: `/api/v1/admin/users/${user.id}/passkeys`,
        headers: bearer(plain.tokens.access_token),
      }),
      403,
      'FORBIDDEN',
    )
    const reader = await operatorWith(['users:read'])
    const read = await t.inject({
      method: 'GET',
      url: `/api/v1/admin/users/${user.id}/passkeys`,
      headers: reader.headers,
    })
    expect(read.statusCode).toBe(200)
    expect(read.json().items).toHaveLength(1)
    expect(
      (await t.inject({ method: 'GET', url: `/api/v1/admin/users/${user.id}/passkeys` })).statusCode,
    ).toBe(401)
    expectProblem(
      await asAdmin({
        method: 'GET',
        url: '/api/v1/admin/users/019a0000-0000-7000-8000-0000000000ff/passkeys',
      }),
      404,
      'NOT_FOUND',
    )
  })

  it('removes a passkey with users:write: 204, audited with by_admin, e-mailed; 403 with users:read only', async () => {
    const keep = await insertRecordedPasskey(t, user.id, fixtures.registration, { ...LOCAL, name: 'Keep me' })
    const drop = await insertRecordedPasskey(t, user.id, fixtures.noUserVerification.registration, {
      ...LOCAL,
      name: 'Lost key',
    })
    await t.kitsune.database.db
      .updateTable('users')
      .set({ mfa_enabled: true })
      .where('id', '=', user.id)
      .execute()

    const reader = await operatorWith(['users:read'])
    expectProblem(
      await t.inject({
        method: 'DELETE',
        url: `/api/v1/admin/users/${user.id}/passkeys/${drop}`,
        headers: reader.headers,
      }),
      403,
      'FORBIDDEN',
    )
    expect(await passkeyRows(t, user.id)).toHaveLength(2)

    const removed = await asAdmin({
      method: 'DELETE',
      url: `/api/v1/admin/users/${user.id}/passkeys/${drop}`,
    })
    expect(removed.statusCode, removed.body).toBe(204)
    expect((await passkeyRows(t, user.id)).map((row) => row.id)).toEqual([keep])
    const audited = (await audits(t, 'passkey.removed')).filter((e) => e.target_id === drop)
    expect(audited).toHaveLength(1)
    expect(audited[0]).toMatchObject({
      actor_id: adminId,
      metadata: { user_id: user.id, name: 'Lost key', by_admin: true },
    })
    await t.kitsune.mailer.idle()
    const notice = mailer.sent.find(
      (m) => m.to === user.email && m.subject === 'A passkey was removed from your account',
    )
    expect(notice?.text).toContain('Lost key')

    // Gone, or never this user's: 404.
    expectProblem(
      await asAdmin({ method: 'DELETE', url: `/api/v1/admin/users/${user.id}/passkeys/${drop}` }),
      404,
      'NOT_FOUND',
    )
    const stranger = await registerUser(t)
    expectProblem(
      await asAdmin({ method: 'DELETE', url: `/api/v1/admin/users/${stranger.id}/passkeys/${keep}` }),
      404,
      'NOT_FOUND',
    )
    // The last second factor of an account with two-step verification on stays.
    expectProblem(
      await asAdmin({ method: 'DELETE', url: `/api/v1/admin/users/${user.id}/passkeys/${keep}` }),
      409,
      'LAST_SECOND_FACTOR',
    )
    expect(await passkeyRows(t, user.id)).toHaveLength(1)
    expect(await mfaEnabled(t, user.id)).toBe(true)
    expectProblem(
      await asAdmin({ method: 'DELETE', url: `/api/v1/admin/users/${user.id}/passkeys/not-a-uuid` }),
      422,
      'VALIDATION_FAILED',
    )
  })

  it('a delegated operator cannot remove an administrator’s passkey (403 TARGET_OUTRANKS_ACTOR), but may a user’s', async () => {
    const adminPasskey = await insertSyntheticPasskey(t, adminId, 'Admin key')
    const operator = await operatorWith(['users:read', 'users:write'])
    const refused = await t.inject({
      method: 'DELETE',
      url: `/api/v1/admin/users/${adminId}/passkeys/${adminPasskey}`,
      headers: operator.headers,
    })
    expectProblem(refused, 403, 'TARGET_OUTRANKS_ACTOR')
    expect((await passkeyRows(t, adminId)).map((row) => row.id)).toEqual([adminPasskey])
    expect((await audits(t, 'passkey.removed')).filter((e) => e.target_id === adminPasskey)).toHaveLength(0)
    const denied = (await audits(t, 'admin.action_denied')).filter(
      (e) => e.actor_id === operator.id && e.target_id === adminId,
    )
    expect(denied).toHaveLength(1)

    const plainPasskey = await insertSyntheticPasskey(t, user.id, 'User key')
    const allowed = await t.inject({
      method: 'DELETE',
      url: `/api/v1/admin/users/${user.id}/passkeys/${plainPasskey}`,
      headers: operator.headers,
    })
    expect(allowed.statusCode, allowed.body).toBe(204)
    const audited = (await audits(t, 'passkey.removed')).filter((e) => e.target_id === plainPasskey)
    expect(audited[0]).toMatchObject({ actor_id: operator.id, metadata: { by_admin: true } })
  })

  it('the audit log API shows the passkey entries to an administrator', async () => {
    const passkeyId = await insertSyntheticPasskey(t, user.id, 'Audit key')
    expect(
      (await asAdmin({ method: 'DELETE', url: `/api/v1/admin/users/${user.id}/passkeys/${passkeyId}` }))
        .statusCode,
    ).toBe(204)
    const response = await asAdmin({ method: 'GET', url: '/api/v1/admin/audit-logs?action=passkey.removed' })
    expect(response.statusCode, response.body).toBe(200)
    const entries = (response.json().items ?? response.json().entries ?? []) as Array<{
      action: string
      target_id: string
    }>
    expect(entries.some((e) => e.action === 'passkey.removed' && e.target_id === passkeyId)).toBe(true)
  })
})
