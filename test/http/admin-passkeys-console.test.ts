import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Permission } from '../../src/auth/permissions.js'
import { en } from '../../src/web/i18n/en.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerUser, type TestUser } from '../helpers/factories.js'
import { hiddenField, type PageClient, pageClient } from '../helpers/page-client.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'passkeys-console-admin@example.com', password: 'console admin password 1234' }
/** A delegated operator: changes users, but holds less than an administrator. */
const SUPPORT: Permission[] = ['users:read', 'users:write', 'sessions:revoke']

const text = (html: string) =>
  html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')

describe.each(testTargets())('admin console: passkeys of a user ($name)', (target) => {
  let t: TestApp
  let admin: PageClient & { csrf: string }
  let helpdesk: PageClient & { csrf: string }
  let support: PageClient & { csrf: string }
  let supportId: string
  let adminHeaders: { authorization: string }

  const db = () => t.kitsune.database.db

  const signedIn = async (who: { email: string; password: string }) => {
    const browser = pageClient(t)
    const form = await browser.get('/ui/sign-in')
    const csrf = hiddenField(form.body, 'csrf') ?? ''
    const response = await browser.post('/ui/sign-in', { csrf, email: who.email, password: who.password })
    expect(response.statusCode).toBe(303)
    return Object.assign(browser, { csrf })
  }
  const setRoles = async (id: string, roles: string[]) => {
    const response = await t.inject({
      method: 'PUT',
      url: `/api/v1/admin/users/${id}/roles`,
      headers: adminHeaders,
      payload: { roles },
    })
    expect(response.statusCode).toBe(200)
  }
  const createRole = async (name: string, permissions: readonly Permission[]) => {
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/roles',
      headers: adminHeaders,
      payload: { name, permissions },
    })
    expect(created.statusCode).toBe(201)
  }
  const operator = async (
    roles: string[],
  ): Promise<{ user: TestUser; browser: PageClient & { csrf: string } }> => {
    const user = await registerUser(t)
    await setRoles(user.id, roles)
    return { user, browser: await signedIn(user) }
  }
  async function syntheticPasskey(userId: string, name: string): Promise<string> {
    const id = randomUUID()
    await db()
      .insertInto('passkeys')
      .values({
        id,
        user_id: userId,
        credential_id: randomBytes(32).toString('base64url'),
        public_key: randomBytes(44).toString('base64url'),
        sign_count: '0',
        transports: ['internal'],
        aaguid: '00000000-0000-0000-0000-000000000000',
        backup_eligible: true,
        backed_up: true,
        user_verified: true,
        name,
        created_at: new Date(),
      } as never)
      .execute()
    return id
  }
  const passkeysOf = (userId: string) =>
    db().selectFrom('passkeys').select(['id', 'name']).where('user_id', '=', userId).execute()
  const auditOf = (action: string, targetId: string) =>
    db()
      .selectFrom('audit_logs')
      .select(['actor_id', 'metadata'])
      .where('action', '=', action)
      .where('target_id', '=', targetId)
      .execute()

  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    adminHeaders = bearer((await login(t, ADMIN)).access_token)
    await createRole('helpdesk', ['users:read'])
    await createRole('support', SUPPORT)
    admin = await signedIn(ADMIN)
    helpdesk = (await operator(['helpdesk', 'user'])).browser
    const supporter = await operator(['support', 'user'])
    support = supporter.browser
    supportId = supporter.user.id
  })
  afterAll(async () => t?.close())

  it('shows the passkeys to users:read, without remove buttons; removal needs users:write', async () => {
    const user = await registerUser(t)
    const key = await syntheticPasskey(user.id, 'Office YubiKey')
    const page = await helpdesk.get(`/ui/admin/users/${user.id}`)
    expect(page.statusCode).toBe(200)
    const body = text(page.body)
    expect(body).toContain(en['admin.users.passkeys'])
    expect(body).toContain('Office YubiKey')
    expect(page.body).not.toContain(`action="/ui/admin/users/${user.id}/passkeys/remove"`)
    const refused = await helpdesk.post(`/ui/admin/users/${user.id}/passkeys/remove`, {
      csrf: helpdesk.csrf,
      passkey: key,
    })
    expect(refused.statusCode).toBe(403)
    expect(await passkeysOf(user.id)).toHaveLength(1)

    const none = await registerUser(t)
    expect(text((await helpdesk.get(`/ui/admin/users/${none.id}`)).body)).toContain(
      en['admin.users.no_passkeys'],
    )
  })

  it('lets users:write remove a passkey (audited as the operator’s), and refuses unknown ones with a message', async () => {
    const user = await registerUser(t)
    const lost = await syntheticPasskey(user.id, 'Lost phone')
    const kept = await syntheticPasskey(user.id, 'Laptop')
    const page = await support.get(`/ui/admin/users/${user.id}`)
    expect(page.body).toContain(`action="/ui/admin/users/${user.id}/passkeys/remove"`)
    expect(page.body).toContain(`value="${lost}"`)
    // Without the CSRF field nothing happens.
    expect(
      (await support.post(`/ui/admin/users/${user.id}/passkeys/remove`, { passkey: lost })).statusCode,
    ).toBe(403)

    const removed = await support.post(`/ui/admin/users/${user.id}/passkeys/remove`, {
      csrf: support.csrf,
      passkey: lost,
    })
    expect(removed.statusCode).toBe(303)
    expect(removed.headers.location).toBe(`/ui/admin/users/${user.id}?done=passkey_removed`)
    expect((await passkeysOf(user.id)).map((p) => p.id)).toEqual([kept])
    const audited = await auditOf('passkey.removed', lost)
    expect(audited).toHaveLength(1)
    expect(audited[0]?.actor_id).toBe(supportId)
    expect(audited[0]?.metadata).toMatchObject({ user_id: user.id, by_admin: true })
    const after = await support.get(removed.headers.location as string)
    expect(text(after.body)).toContain(en['admin.done.passkey_removed'])
    expect(text(after.body)).not.toContain('Lost phone')

    for (const passkey of [lost, randomUUID(), 'not-a-uuid']) {
      const gone = await support.post(`/ui/admin/users/${user.id}/passkeys/remove`, {
        csrf: support.csrf,
        passkey,
      })
      expect(gone.statusCode, passkey).toBe(303)
      expect(gone.headers.location).toBe(`/ui/admin/users/${user.id}?failed=not_found`)
    }
    // Another user's passkey is not this user's.
    const other = await registerUser(t)
    const theirs = await syntheticPasskey(other.id, 'Theirs')
    const wrongUser = await support.post(`/ui/admin/users/${user.id}/passkeys/remove`, {
      csrf: support.csrf,
      passkey: theirs,
    })
    expect(wrongUser.headers.location).toBe(`/ui/admin/users/${user.id}?failed=not_found`)
    expect(await passkeysOf(other.id)).toHaveLength(1)
  })

  it('keeps the last second factor of an account with two-step on, saying to reset two-step first', async () => {
    const user = await registerUser(t)
    const only = await syntheticPasskey(user.id, 'Only key')
    await db().updateTable('users').set({ mfa_enabled: true }).where('id', '=', user.id).execute()
    const refused = await admin.post(`/ui/admin/users/${user.id}/passkeys/remove`, {
      csrf: admin.csrf,
      passkey: only,
    })
    expect(refused.statusCode).toBe(303)
    expect(refused.headers.location).toBe(`/ui/admin/users/${user.id}?failed=last_second_factor`)
    const shown = await admin.get(refused.headers.location as string)
    expect(shown.statusCode).toBe(200)
    expect(text(shown.body)).toContain(en['admin.failed.last_second_factor'])
    expect(await passkeysOf(user.id)).toHaveLength(1)

    // After the reset of two-step verification, the passkey may go.
    const reset = await admin.post(`/ui/admin/users/${user.id}/mfa`, { csrf: admin.csrf })
    expect(reset.headers.location).toBe(`/ui/admin/users/${user.id}?done=mfa_reset`)
    const removed = await admin.post(`/ui/admin/users/${user.id}/passkeys/remove`, {
      csrf: admin.csrf,
      passkey: only,
    })
    expect(removed.headers.location).toBe(`/ui/admin/users/${user.id}?done=passkey_removed`)
    expect(await passkeysOf(user.id)).toHaveLength(0)
  })

  it('refuses a delegated operator removing an administrator’s passkey, with a message, and audits it', async () => {
    const boss = await registerUser(t)
    await setRoles(boss.id, ['admin', 'user'])
    const key = await syntheticPasskey(boss.id, 'Boss key')
    const refused = await support.post(`/ui/admin/users/${boss.id}/passkeys/remove`, {
      csrf: support.csrf,
      passkey: key,
    })
    expect(refused.statusCode).toBe(403)
    expect(text(refused.body)).toContain(en['admin.forbidden_outranked'])
    expect(await passkeysOf(boss.id)).toHaveLength(1)
    const denied = await db()
      .selectFrom('audit_logs')
      .select(['actor_id', 'metadata'])
      .where('action', '=', 'admin.action_denied')
      .where('target_id', '=', boss.id)
      .execute()
    expect(denied).toHaveLength(1)
    expect(denied[0]?.metadata).toMatchObject({ attempted: 'passkey.removed', target_is_admin: true })

    // An administrator may.
    const removed = await admin.post(`/ui/admin/users/${boss.id}/passkeys/remove`, {
      csrf: admin.csrf,
      passkey: key,
    })
    expect(removed.headers.location).toBe(`/ui/admin/users/${boss.id}?done=passkey_removed`)
  })
})
