import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PERMISSIONS, type Permission } from '../../src/auth/permissions.js'
import { fixedClock } from '../../src/lib/clock.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin } from '../helpers/factories.js'
import { enrolMfa } from '../helpers/mfa.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'target-authz-admin@example.com', password: 'admin password 1234' }
/** The delegated operator: every permission that changes a user, but not audit:read nor roles:*. */
const SUPPORT: Permission[] = ['users:read', 'users:write', 'users:delete', 'roles:assign', 'sessions:revoke']

interface Snapshot {
  user: { is_active: boolean; full_name: string | null; mfa_enabled: boolean; roles: string[] } | undefined
  liveSessions: number
  totpFactors: number
}

interface UserChange {
  route: string
  /** The audit action the change records when it happens. */
  attempted: string
  request(id: string, targetRoles: string[]): InjectOptions
  status: number
  /** What the change did, seen in the database. */
  applied(after: Snapshot): void
}

/** Every admin route that changes an existing user, with a change the escalation rule allows. */
const CHANGES: UserChange[] = [
  {
    route: 'PATCH /api/v1/admin/users/{id}',
    attempted: 'user.updated',
    request: (id) => ({ method: 'PATCH', url: `/api/v1/admin/users/${id}`, payload: { is_active: false } }),
    status: 200,
    applied: (after) => expect(after.user?.is_active).toBe(false),
  },
  {
    route: 'DELETE /api/v1/admin/users/{id}',
    attempted: 'user.deleted',
    request: (id) => ({ method: 'DELETE', url: `/api/v1/admin/users/${id}` }),
    status: 204,
    applied: (after) => expect(after.user).toBeUndefined(),
  },
  {
    route: 'PUT /api/v1/admin/users/{id}/roles',
    // Adds a role the actor holds and keeps every other: only the target rule can refuse it.
    attempted: 'role.assigned',
    request: (id, roles) => ({
      method: 'PUT',
      url: `/api/v1/admin/users/${id}/roles`,
      payload: { roles: [...roles, 'support'] },
    }),
    status: 200,
    applied: (after) => expect(after.user?.roles).toContain('support'),
  },
  {
    route: 'POST /api/v1/admin/users/{id}/sessions/revoke',
    attempted: 'session.revoked',
    request: (id) => ({ method: 'POST', url: `/api/v1/admin/users/${id}/sessions/revoke` }),
    status: 204,
    applied: (after) => expect(after.liveSessions).toBe(0),
  },
  {
    route: 'DELETE /api/v1/admin/users/{id}/mfa',
    attempted: 'mfa.disabled',
    request: (id) => ({ method: 'DELETE', url: `/api/v1/admin/users/${id}/mfa` }),
    status: 204,
    applied: (after) => {
      expect(after.user?.mfa_enabled).toBe(false)
      expect(after.totpFactors).toBe(0)
    },
  },
]

/**
 * A delegated operator may change another account only when every permission it holds is theirs
 * too; an administrator only an administrator may change. A refusal is 403, audited, and changes
 * nothing.
 */
describe.each(testTargets())('changing an account that outranks the actor on $name', (target) => {
  let t: TestApp
  const clock = fixedClock('2030-01-01T00:00:00Z')
  let admin: { authorization: string }
  let support: { id: string; headers: { authorization: string } }

  const db = () => t.kitsune.database.db
  const asAdmin = (request: InjectOptions) => t.inject({ ...request, headers: admin })

  const createRole = async (name: string, permissions: readonly Permission[]) => {
    const created = await asAdmin({
      method: 'POST',
      url: '/api/v1/admin/roles',
      payload: { name, permissions },
    })
    expect(created.statusCode).toBe(201)
  }
  const setRoles = async (id: string, roles: string[]) => {
    const response = await asAdmin({
      method: 'PUT',
      url: `/api/v1/admin/users/${id}/roles`,
      payload: { roles },
    })
    expect(response.statusCode).toBe(200)
  }
  /** A fresh account with a live session, TOTP enrolled, and `roles`. */
  const accountWith = async (roles: string[]) => {
    const enrolled = await enrolMfa(t, clock)
    await setRoles(enrolled.user.id, roles)
    return { id: enrolled.user.id, headers: enrolled.headers, roles }
  }
  const snapshot = async (id: string): Promise<Snapshot> => {
    const user = await db()
      .selectFrom('users')
      .select(['is_active', 'full_name', 'mfa_enabled'])
      .where('id', '=', id)
      .executeTakeFirst()
    const roles = await db().selectFrom('user_roles').select('role_name').where('user_id', '=', id).execute()
    const sessions = await db()
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', id)
      .where('revoked_at', 'is', null)
      .execute()
    const factors = await db().selectFrom('mfa_totp').select('user_id').where('user_id', '=', id).execute()
    return {
      user: user && { ...user, roles: roles.map((r) => r.role_name).sort() },
      liveSessions: sessions.length,
      totpFactors: factors.length,
    }
  }
  const audited = (action: string, targetId: string) =>
    db()
      .selectFrom('audit_logs')
      .select(['actor_id', 'target_type', 'target_id', 'request_id', 'metadata'])
      .where('action', '=', action)
      .where('target_id', '=', targetId)
      .execute()

  const expectRefused = async (
    actor: { id: string; headers: { authorization: string } },
    account: { id: string; roles: string[] },
    change: UserChange,
  ) => {
    const before = await snapshot(account.id)
    const recordedBefore = (await audited(change.attempted, account.id)).length
    const response = await t.inject({ ...change.request(account.id, account.roles), headers: actor.headers })
    expect(response.statusCode).toBe(403)
    expect(response.headers['content-type']).toContain('application/problem+json')
    const problem = response.json()
    expect(problem).toMatchObject({
      status: 403,
      code: 'TARGET_OUTRANKS_ACTOR',
      type: 'https://kitsune.dev/problems/target-outranks-actor',
    })
    expect(await snapshot(account.id)).toEqual(before)
    expect(await audited(change.attempted, account.id)).toHaveLength(recordedBefore)
    const denied = await audited('admin.action_denied', account.id)
    expect(denied).toHaveLength(1)
    expect(denied[0]).toMatchObject({
      actor_id: actor.id,
      target_type: 'user',
      request_id: problem.request_id,
      metadata: { attempted: change.attempted },
    })
    return { problem, metadata: denied[0]?.metadata as Record<string, unknown> }
  }

  beforeAll(async () => {
    t = await buildTestApp({
      target,
      clock,
      // Each MFA enrolment moves the clock a minute on; the suite's tokens must outlive them all.
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ACCESS_TOKEN_TTL: '12h' },
    })
    admin = bearer((await login(t, ADMIN)).access_token)
    await createRole('support', SUPPORT)
    await createRole('helpdesk', ['users:read'])
    await createRole('auditor', ['audit:read'])
    await createRole('everything', PERMISSIONS)
    const { user, tokens } = await registerAndLogin(t)
    await setRoles(user.id, ['support', 'user'])
    support = { id: user.id, headers: bearer(tokens.access_token) }
  })
  afterAll(async () => t?.close())

  describe.each(CHANGES)('$route', (change) => {
    it('refuses a support role acting on an administrator: 403, audited, nothing changed', async () => {
      const other = await accountWith(['admin', 'user'])
      const { problem, metadata } = await expectRefused(support, other, change)
      expect(problem.detail).toMatch(/administrator/)
      expect(metadata).toMatchObject({
        target_is_admin: true,
        missing: PERMISSIONS.filter((p) => !SUPPORT.includes(p)),
      })
    })

    it('refuses a support role acting on a peer holding a permission it lacks', async () => {
      const peer = await accountWith(['auditor', 'user'])
      const { problem, metadata } = await expectRefused(support, peer, change)
      expect(problem.detail).toContain('audit:read')
      expect(metadata).toMatchObject({ target_is_admin: false, missing: ['audit:read'] })
    })

    it('lets a support role act on a peer with fewer permissions', async () => {
      const peer = await accountWith(['helpdesk', 'user'])
      const response = await t.inject({ ...change.request(peer.id, peer.roles), headers: support.headers })
      expect(response.statusCode).toBe(change.status)
      change.applied(await snapshot(peer.id))
      expect(await audited(change.attempted, peer.id)).toContainEqual(
        expect.objectContaining({ actor_id: support.id }),
      )
      expect(await audited('admin.action_denied', peer.id)).toEqual([])
    })
  })

  it('lets only an administrator change an administrator, not a role granting every permission', async () => {
    const everything = await accountWith(['everything', 'user'])
    const other = await accountWith(['admin', 'user'])
    const [patch] = CHANGES
    if (!patch) throw new Error('no PATCH change')
    await expectRefused(everything, other, patch)
    const peer = await accountWith(['auditor', 'user'])
    const response = await t.inject({ ...patch.request(peer.id, peer.roles), headers: everything.headers })
    expect(response.statusCode).toBe(200)
  })

  it('still lets an administrator change another administrator', async () => {
    const other = await accountWith(['admin', 'user'])
    const response = await asAdmin({ method: 'POST', url: `/api/v1/admin/users/${other.id}/sessions/revoke` })
    expect(response.statusCode).toBe(204)
    expect((await snapshot(other.id)).liveSessions).toBe(0)
    expect(await audited('admin.action_denied', other.id)).toEqual([])
  })

  it('answers 404 for an unknown account, before any permission comparison', async () => {
    const response = await t.inject({
      method: 'PATCH',
      url: '/api/v1/admin/users/01900000-0000-7000-8000-000000000000',
      headers: support.headers,
      payload: { full_name: 'Nobody' },
    })
    expect(response.statusCode).toBe(404)
  })
})
