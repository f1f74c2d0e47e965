import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Principal } from '../../src/services/request-context.js'
import { CONSOLE_SCRIPT } from '../../src/web/assets/assets.js'
import { PAGE_CSP, pageCspWithScripts } from '../../src/web/csp.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { registerUser, uniqueEmail } from '../helpers/factories.js'
import { hiddenField, type PageClient, pageClient } from '../helpers/page-client.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'console-admin@example.com', password: 'console admin password 1234' }
const CTX = { ip: '127.0.0.1', userAgent: 'test', requestId: 'test' }

describe.each(testTargets())('admin console pages ($name)', (target) => {
  let t: TestApp
  let adminId: string
  let admin: PageClient

  /** A browser signed in through the pages as `who`. */
  const signedIn = async (who: { email: string; password: string }) => {
    const browser = pageClient(t)
    const form = await browser.get('/ui/sign-in')
    const response = await browser.post('/ui/sign-in', {
      csrf: hiddenField(form.body, 'csrf') ?? '',
      email: who.email,
      password: who.password,
    })
    expect(response.statusCode).toBe(303)
    return browser
  }
  /** Posts a form the way the page's own form would: with the page's CSRF token. */
  const submit = async (browser: PageClient, url: string, fields: Record<string, string> = {}) => {
    const page = await browser.get('/ui/admin')
    const csrf = hiddenField(page.body, 'csrf') ?? browser.cookie('kitsune-csrf') ?? ''
    return browser.post(url, { csrf, ...fields })
  }
  const adminPrincipal = (): Principal => ({
    userId: adminId,
    sessionId: '',
    roles: ['admin'],
    tokenExpiresAt: 0,
  })
  const userRow = (id: string) =>
    t.kitsune.database.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
  const auditRows = (action: string, targetId: string) =>
    t.kitsune.services.audit.list({ action, target_id: targetId, limit: 20 })

  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    const found = await t.kitsune.services.userAdmin.list({ q: ADMIN.email })
    adminId = found.items[0]?.id as string
    admin = await signedIn(ADMIN)
  })
  afterAll(async () => t?.close())

  it('sends a signed-out browser to the sign-in page, coming back to the page it asked for', async () => {
    const browser = pageClient(t)
    const overview = await browser.get('/ui/admin')
    expect(overview.statusCode).toBe(303)
    expect(overview.headers.location).toBe('/ui/sign-in?return_to=/ui/admin')
    const search = await browser.get('/ui/admin/users?q=ada&role=user')
    expect(search.headers.location).toBe('/ui/sign-in?return_to=/ui/admin/users?q=ada%26role=user')
    const form = await browser.get(String(search.headers.location))
    expect(hiddenField(form.body, 'return_to')).toBe('/ui/admin/users?q=ada&amp;role=user')
  })

  it('filters users by verified address and two-factor', async () => {
    const tag = uniqueEmail('filter').split('@')[0] as string
    const [plain, verified, withMfa] = await Promise.all(
      ['a', 'b', 'c'].map((n) => registerUser(t, { email: `${tag}-${n}@example.com` })),
    )
    await t.kitsune.database.db
      .updateTable('users')
      .set({ email_verified: true })
      .where('id', '=', verified?.id ?? '')
      .execute()
    await t.kitsune.database.db
      .updateTable('users')
      .set({ mfa_enabled: true })
      .where('id', '=', withMfa?.id ?? '')
      .execute()
    const listed = async (query: string) => {
      const response = await admin.get(`/ui/admin/users?q=${tag}&${query}`)
      expect(response.statusCode).toBe(200)
      return [plain, verified, withMfa]
        .filter((user) => response.body.includes(user?.email ?? '-'))
        .map((u) => u?.email)
    }
    expect(await listed('verified=yes')).toEqual([verified?.email])
    expect(await listed('verified=no')).toEqual([plain?.email, withMfa?.email])
    expect(await listed('mfa=yes')).toEqual([withMfa?.email])
    expect(await listed('mfa=no&verified=no')).toEqual([plain?.email])
  })

  it('refuses a signed-in person without any admin permission with 403', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    for (const path of ['/ui/admin', '/ui/admin/users', '/ui/admin/audit']) {
      const response = await browser.get(path)
      expect(response.statusCode, path).toBe(403)
    }
    const forged = await submit(browser, '/ui/admin/users/new', {
      email: uniqueEmail(),
      password: 'x'.repeat(16),
    })
    expect(forged.statusCode).toBe(403)
  })

  it('shows the overview: counts, health and version', async () => {
    const response = await admin.get('/ui/admin')
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe('no-store')
    const html = response.body
    expect(html).toContain('Active sessions')
    expect(html).toContain('Sign-ins in the last 24 hours')
    expect(html).toContain('Failed sign-ins in the last 24 hours')
    expect(html).toContain('Database')
    expect(html).toContain('0.1.0')
    for (const section of ['/ui/admin/users', '/ui/admin/roles', '/ui/admin/clients', '/ui/admin/audit'])
      expect(html).toContain(`href="${section}"`)
    // No SMTP_URL here: e-mails go to the log, and the overview says so.
    expect(html).toContain('<dt>E-mail</dt><dd class="status status-log">Log only</dd>')
    expect(html).toContain('SMTP_URL is not set: e-mails are written to the log, not sent.')
    const spanish = await admin.get('/ui/admin', { 'accept-language': 'es' })
    expect(spanish.body).toContain(
      '<dt>Correo electrónico</dt><dd class="status status-log">Solo en el registro</dd>',
    )
  })

  it('shows a mail server that does not answer on the overview, while /health/ready stays 200 without mail', async () => {
    // Nothing listens on port 1: the connection is refused at once.
    const unreachable = await buildTestApp({
      target,
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, SMTP_URL: 'smtp://127.0.0.1:1' },
    })
    try {
      const browser = pageClient(unreachable)
      const form = await browser.get('/ui/sign-in')
      const signIn = await browser.post('/ui/sign-in', {
        csrf: hiddenField(form.body, 'csrf') ?? '',
        email: ADMIN.email,
        password: ADMIN.password,
      })
      expect(signIn.statusCode).toBe(303)
      const overview = await browser.get('/ui/admin')
      expect(overview.statusCode).toBe(200)
      expect(overview.body).toContain('<dt>E-mail</dt><dd class="status status-down">Not answering</dd>')
      expect(overview.body).toContain('The SMTP server did not answer')
      const ready = await unreachable.inject({ method: 'GET', url: '/health/ready' })
      expect(ready.statusCode).toBe(200)
      expect(Object.keys(ready.json().checks).sort()).toEqual(['database', 'migrations', 'redis'])
    } finally {
      await unreachable.close()
    }
  })

  it('creates a user, finds them, edits them, gives and takes a role, and audits each step', async () => {
    const email = uniqueEmail('console')
    const created = await submit(admin, '/ui/admin/users/new', {
      email,
      full_name: 'Ada Console',
      password: 'a long enough password 42',
      'role.user': 'on',
    })
    expect(created.statusCode).toBe(303)
    const location = String(created.headers.location)
    expect(location).toMatch(/^\/ui\/admin\/users\/[0-9a-f-]{36}\?done=user_created$/)
    const id = location.split('/')[4]?.split('?')[0] as string
    expect((await userRow(id))?.email).toBe(email)
    expect(await auditRows('user.created', id)).toHaveLength(1)
    expect((await auditRows('user.created', id))[0]?.actor_id).toBe(adminId)

    const detail = await admin.get(location)
    expect(detail.statusCode).toBe(200)
    expect(detail.body).toContain('The user was created.')
    expect(detail.body).toContain(`action="/ui/admin/users/${id}/edit"`)
    expect(detail.body).toContain(`href="/ui/admin/audit?target=${id}"`)

    const list = await admin.get(`/ui/admin/users?q=${encodeURIComponent(email.slice(0, 12))}`)
    expect(list.body).toContain('<caption>Users matching the search, newest first</caption>')
    expect(list.body).toContain(email)

    const edited = await submit(admin, `/ui/admin/users/${id}/edit`, {
      full_name: 'Ada Lovelace',
      email_verified: 'on',
    })
    expect(edited.headers.location).toBe(`/ui/admin/users/${id}?done=user_updated`)
    expect(await userRow(id)).toMatchObject({ full_name: 'Ada Lovelace', email_verified: true })

    const newEmail = uniqueEmail('renamed')
    const changed = await submit(admin, `/ui/admin/users/${id}/email`, { new_email: newEmail })
    expect(changed.headers.location).toBe(`/ui/admin/users/${id}?done=email_changed`)
    expect(await userRow(id)).toMatchObject({ email: newEmail, email_verified: false })
    const taken = await submit(admin, `/ui/admin/users/${id}/email`, { new_email: ADMIN.email })
    expect(taken.headers.location).toBe(`/ui/admin/users/${id}?failed=email_taken`)
    expect((await userRow(id))?.email).toBe(newEmail)

    await t.kitsune.services.rbac.create(
      adminPrincipal(),
      { name: 'editors', permissions: ['users:read'] },
      CTX,
    )
    const added = await submit(admin, `/ui/admin/users/${id}/roles/add`, { role: 'editors' })
    expect(added.headers.location).toBe(`/ui/admin/users/${id}?done=role_added`)
    expect((await t.kitsune.services.userAdmin.get(id)).roles).toEqual(['editors', 'user'])
    const removed = await submit(admin, `/ui/admin/users/${id}/roles/remove`, { role: 'editors' })
    expect(removed.headers.location).toBe(`/ui/admin/users/${id}?done=role_removed`)
    expect((await t.kitsune.services.userAdmin.get(id)).roles).toEqual(['user'])
    expect(await auditRows('role.assigned', id)).toHaveLength(2)

    const unknown = await submit(admin, `/ui/admin/users/${id}/roles/add`, { role: 'no-such-role' })
    expect(unknown.headers.location).toBe(`/ui/admin/users/${id}?failed=invalid`)

    const trail = await admin.get(`/ui/admin/audit?target=${id}`)
    expect(trail.body).toContain('role.assigned')
    expect(trail.body).toContain('user.created')
  })

  it('deactivates and activates, ends sessions, resends verification, refuses an MFA reset with none', async () => {
    const user = await registerUser(t)
    await signedIn(user)
    const confirm = await admin.get(`/ui/admin/users/${user.id}/confirm/deactivate`)
    expect(confirm.statusCode).toBe(200)
    expect(confirm.body).toContain('cannot sign in any more')
    const off = await submit(admin, `/ui/admin/users/${user.id}/deactivate`)
    expect(off.headers.location).toBe(`/ui/admin/users/${user.id}?done=user_deactivated`)
    expect((await userRow(user.id))?.is_active).toBe(false)
    const on = await submit(admin, `/ui/admin/users/${user.id}/activate`)
    expect(on.headers.location).toBe(`/ui/admin/users/${user.id}?done=user_activated`)
    expect((await userRow(user.id))?.is_active).toBe(true)
    expect(await auditRows('user.updated', user.id)).toHaveLength(2)

    await signedIn(user)
    const ended = await submit(admin, `/ui/admin/users/${user.id}/sessions`)
    expect(ended.headers.location).toBe(`/ui/admin/users/${user.id}?done=sessions_ended`)
    const live = await t.kitsune.database.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .execute()
    expect(live).toHaveLength(0)
    expect(await auditRows('session.revoked', user.id)).toHaveLength(1)

    const resent = await submit(admin, `/ui/admin/users/${user.id}/resend`)
    expect(resent.headers.location).toBe(`/ui/admin/users/${user.id}?done=verification_sent`)

    const mfa = await submit(admin, `/ui/admin/users/${user.id}/mfa`)
    expect(mfa.headers.location).toBe(`/ui/admin/users/${user.id}?failed=mfa_not_enabled`)
    const shown = await admin.get(String(mfa.headers.location))
    expect(shown.body).toContain('This account has no second factor to remove.')
  })

  it('deletes a user only with the typed address', async () => {
    const user = await registerUser(t)
    const wrong = await submit(admin, `/ui/admin/users/${user.id}/delete`, {
      confirm: 'someone-else@example.com',
    })
    expect(wrong.statusCode).toBe(422)
    expect(await userRow(user.id)).toBeDefined()
    const right = await submit(admin, `/ui/admin/users/${user.id}/delete`, {
      confirm: user.email.toUpperCase(),
    })
    expect(right.headers.location).toBe('/ui/admin/users?done=user_deleted')
    expect(await userRow(user.id)).toBeUndefined()
    expect(await auditRows('user.deleted', user.id)).toHaveLength(1)
    expect((await admin.get(`/ui/admin/users/${user.id}`)).statusCode).toBe(404)
  })

  it('creates, edits and deletes a role; built-in roles stay read-only', async () => {
    const created = await submit(admin, '/ui/admin/roles/new', {
      name: 'auditors',
      description: 'Reads the log',
      'perm.audit:read': 'on',
    })
    expect(created.headers.location).toBe('/ui/admin/roles/auditors?done=role_created')
    const roleOf = async (name: string) => (await t.kitsune.services.rbac.list()).find((r) => r.name === name)
    expect((await roleOf('auditors'))?.permissions).toEqual(['audit:read'])
    const edited = await submit(admin, '/ui/admin/roles/auditors', {
      description: 'Reads the log and users',
      'perm.audit:read': 'on',
      'perm.users:read': 'on',
    })
    expect(edited.headers.location).toBe('/ui/admin/roles/auditors?done=role_updated')
    expect((await roleOf('auditors'))?.permissions).toEqual(['audit:read', 'users:read'])

    const bad = await submit(admin, '/ui/admin/roles/new', { name: 'X y' })
    expect(bad.statusCode).toBe(422)

    const builtIn = await admin.get('/ui/admin/roles/user')
    expect(builtIn.body).not.toContain('action="/ui/admin/roles/user"')
    const forcedBuiltIn = await submit(admin, '/ui/admin/roles/user', { 'perm.users:delete': 'on' })
    expect(forcedBuiltIn.headers.location).toBe('/ui/admin/roles/user?failed=built_in_role')

    const confirm = await admin.get('/ui/admin/roles/auditors/delete')
    expect(confirm.body).toContain('Everyone holding auditors loses it')
    const deleted = await submit(admin, '/ui/admin/roles/auditors/delete')
    expect(deleted.headers.location).toBe('/ui/admin/roles?done=role_deleted')
    expect(await roleOf('auditors')).toBeUndefined()
    expect(await auditRows('role.changed', 'auditors')).toHaveLength(3)
  })

  it('registers an application (secret shown once), edits it, rotates its secret and deletes it', async () => {
    const created = await submit(admin, '/ui/admin/clients/new', {
      client_name: 'Console Notes',
      redirect_uris: 'https://notes.example.com/callback\r\nhttps://notes.example.com/cb2',
      'grant.authorization_code': 'on',
      'grant.refresh_token': 'on',
      'scope.openid': 'on',
      'scope.email': 'on',
      token_endpoint_auth_method: 'client_secret_basic',
      application_type: 'web',
    })
    expect(created.statusCode).toBe(201)
    expect(created.headers['cache-control']).toBe('no-store')
    const clientId = created.body.match(/id="client_id" type="text" readonly value="([^"]+)"/)?.[1] as string
    const secret = created.body.match(/id="client_secret" type="text" readonly value="([^"]+)"/)?.[1]
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const stored = await t.kitsune.services.clients.get(clientId)
    expect(stored).toMatchObject({
      client_name: 'Console Notes',
      redirect_uris: ['https://notes.example.com/callback', 'https://notes.example.com/cb2'],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid email',
      first_party: false,
    })
    expect((await t.kitsune.services.clients.findForEngine(clientId))?.client_secret).toBe(secret)
    const detail = await admin.get(`/ui/admin/clients/${clientId}`)
    expect(detail.body).not.toContain(secret)

    const invalid = await submit(admin, `/ui/admin/clients/${clientId}`, {
      client_name: 'Console Notes',
      redirect_uris: 'http://not-loopback.example.com/cb',
      'grant.authorization_code': 'on',
      'scope.openid': 'on',
    })
    expect(invalid.statusCode).toBe(422)
    const edited = await submit(admin, `/ui/admin/clients/${clientId}`, {
      client_name: 'Console Notes 2',
      redirect_uris: 'https://notes.example.com/callback',
      'grant.authorization_code': 'on',
      'scope.openid': 'on',
      'scope.profile': 'on',
      first_party: 'on',
    })
    expect(edited.headers.location).toBe(`/ui/admin/clients/${clientId}?done=client_updated`)
    expect(await t.kitsune.services.clients.get(clientId)).toMatchObject({
      client_name: 'Console Notes 2',
      scope: 'openid profile',
      first_party: true,
    })

    const rotated = await submit(admin, `/ui/admin/clients/${clientId}/rotate`)
    expect(rotated.statusCode).toBe(200)
    const second = rotated.body.match(/id="client_secret" type="text" readonly value="([^"]+)"/)?.[1]
    expect(second).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(second).not.toBe(secret)
    expect((await t.kitsune.services.clients.findForEngine(clientId))?.client_secret).toBe(second)

    const deleted = await submit(admin, `/ui/admin/clients/${clientId}/delete`)
    expect(deleted.headers.location).toBe('/ui/admin/clients?done=client_deleted')
    expect(await t.kitsune.services.clients.findForEngine(clientId)).toBeUndefined()
    for (const action of ['client.created', 'client.updated', 'client.secret_rotated', 'client.deleted'])
      expect(await auditRows(action, clientId), action).toHaveLength(1)
  })

  it('loads the console script (copy buttons) on the secret pages only, whose CSP alone allows it', async () => {
    const scriptTag = `<script src="${CONSOLE_SCRIPT.path}" defer></script>`
    const created = await submit(admin, '/ui/admin/clients/new', {
      client_name: 'Copy Notes',
      redirect_uris: 'https://copy.example.com/callback',
      'grant.authorization_code': 'on',
      'scope.openid': 'on',
      token_endpoint_auth_method: 'client_secret_basic',
    })
    expect(created.statusCode).toBe(201)
    const clientId = created.body.match(/id="client_id" type="text" readonly value="([^"]+)"/)?.[1] as string
    const rotated = await submit(admin, `/ui/admin/clients/${clientId}/rotate`)
    expect(rotated.statusCode).toBe(200)
    for (const [name, response] of [
      ['created', created],
      ['rotated', rotated],
    ] as const) {
      expect(response.headers['content-security-policy'], name).toBe(pageCspWithScripts(PAGE_CSP))
      expect(response.headers['content-security-policy'], name).toContain("script-src 'self';")
      expect(response.body, name).toContain(scriptTag)
      expect(response.body.match(/<script/g), name).toHaveLength(1)
      // Hidden until the script shows them: without JavaScript no button that does nothing.
      for (const field of ['client_id', 'client_secret'])
        expect(response.body, `${name} ${field}`).toMatch(
          new RegExp(
            `<button type="button" class="button secondary copy-button" data-copy-target="${field}"[^>]* hidden>`,
          ),
        )
      expect(response.body, name).not.toMatch(/\son[a-z]+=/i)
    }

    for (const path of [
      '/ui/admin',
      '/ui/admin/users',
      '/ui/admin/users/new',
      '/ui/admin/roles',
      '/ui/admin/clients',
      '/ui/admin/clients/new',
      `/ui/admin/clients/${clientId}`,
      `/ui/admin/clients/${clientId}/rotate`,
      '/ui/admin/audit',
      '/ui/account',
    ]) {
      const response = await admin.get(path)
      expect(response.statusCode, path).toBe(200)
      expect(response.headers['content-security-policy'], path).toBe(PAGE_CSP)
      expect(response.body, path).not.toMatch(/<script/i)
    }
    const refused = await submit(admin, '/ui/admin/clients/new', { client_name: 'No URIs' })
    expect(refused.statusCode).toBe(422)
    expect(refused.headers['content-security-policy']).toBe(PAGE_CSP)

    const script = await admin.get(CONSOLE_SCRIPT.path)
    expect(script.statusCode).toBe(200)
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(script.body).toBe(CONSOLE_SCRIPT.body)
  })

  it('filters the audit log, shows an entry, and states the chain check plainly', async () => {
    const filtered = await admin.get(
      `/ui/admin/audit?action=user.login&actor=${encodeURIComponent(ADMIN.email)}`,
    )
    expect(filtered.statusCode).toBe(200)
    expect(filtered.body).toContain('<caption>Audit entries matching the filters, newest first</caption>')
    const seq = filtered.body.match(/href="\/ui\/admin\/audit\/(\d+)"/)?.[1]
    expect(seq).toBeDefined()
    const entry = await admin.get(`/ui/admin/audit/${seq}`)
    expect(entry.statusCode).toBe(200)
    expect(entry.body).toContain('user.login')
    expect(entry.body).toContain(adminId)

    const badTime = await admin.get('/ui/admin/audit?from=yesterday')
    expect(badTime.statusCode).toBe(422)
    const ranged = await admin.get('/ui/admin/audit?from=2000-01-01T00:00&to=2000-01-02')
    expect(ranged.body).toContain('No entry matches.')

    const verified = await admin.get('/ui/admin/audit/verify')
    expect(verified.body).toMatch(/The chain is valid up to entry \d+: all \d+ entries check out/)
    expect((await admin.get('/ui/admin/audit/999999999')).statusCode).toBe(404)
  })

  it('pages through users with next and previous links', async () => {
    for (let i = 0; i < 27; i++)
      await t.kitsune.services.userAdmin.create(
        adminPrincipal(),
        { email: uniqueEmail('paging'), password: 'a long enough password 42' },
        CTX,
      )
    const first = await admin.get('/ui/admin/users?q=paging-')
    const next = first.body.match(/<a href="([^"]+)" rel="next">/)?.[1]?.replace(/&amp;/g, '&')
    expect(next).toBeDefined()
    expect(first.body).not.toContain('rel="prev"')
    const second = await admin.get(String(next))
    expect(second.statusCode).toBe(200)
    const prev = second.body.match(/<a href="([^"]+)" rel="prev">/)?.[1]?.replace(/&amp;/g, '&')
    expect(prev).toBeDefined()
    const back = await admin.get(String(prev))
    const emails = (html: string) => [...html.matchAll(/>(paging-[0-9a-f]+@example\.com)</g)].map((m) => m[1])
    expect(emails(back.body)).toEqual(emails(first.body))
    expect(emails(second.body).length).toBeGreaterThan(0)
    expect(emails(second.body)).not.toContain(emails(first.body)[0])
  })

  it('never echoes a flash it does not know', async () => {
    const response = await admin.get('/ui/admin?done=%3Cscript%3Ealert(1)%3C/script%3E&failed=boom')
    expect(response.statusCode).toBe(200)
    expect(response.body).not.toContain('alert(1)')
    expect(response.body).not.toContain('boom')
  })

  it('gives a support role (users:read only) read screens without write buttons, and refuses its forged posts', async () => {
    await t.kitsune.services.rbac.create(
      adminPrincipal(),
      { name: 'support', permissions: ['users:read'] },
      CTX,
    )
    const supportUser = await registerUser(t)
    await t.kitsune.services.userAdmin.setRoles(adminPrincipal(), supportUser.id, ['support', 'user'], CTX)
    const target = await registerUser(t, { full_name: 'Target Person' })
    const support = await signedIn(supportUser)

    const overview = await support.get('/ui/admin')
    expect(overview.statusCode).toBe(200)
    expect(overview.body).toContain('href="/ui/admin/users"')
    for (const hidden of ['/ui/admin/roles', '/ui/admin/clients', '/ui/admin/audit', '/ui/admin/users/new'])
      expect(overview.body).not.toContain(`href="${hidden}"`)

    const list = await support.get('/ui/admin/users')
    expect(list.statusCode).toBe(200)
    expect(list.body).not.toContain('Create a user')
    const detail = await support.get(`/ui/admin/users/${target.id}`)
    expect(detail.statusCode).toBe(200)
    expect(detail.body).toContain(target.email)
    expect(detail.body).not.toMatch(/<form method="post"(?! action="\/ui\/sign-out")/)
    expect(detail.body).not.toContain('/confirm/')
    expect(detail.body).not.toContain('/ui/admin/audit?target=')

    for (const path of ['/ui/admin/roles', '/ui/admin/clients', '/ui/admin/audit', '/ui/admin/users/new'])
      expect((await support.get(path)).statusCode, path).toBe(403)

    const forged: Array<[string, Record<string, string>]> = [
      [`/ui/admin/users/${target.id}/edit`, { full_name: 'Changed' }],
      [`/ui/admin/users/${target.id}/deactivate`, {}],
      [`/ui/admin/users/${target.id}/email`, { new_email: uniqueEmail() }],
      [`/ui/admin/users/${target.id}/delete`, { confirm: target.email }],
      [`/ui/admin/users/${target.id}/roles/add`, { role: 'admin' }],
      [`/ui/admin/users/${target.id}/sessions`, {}],
      ['/ui/admin/users/new', { email: uniqueEmail(), password: 'a long enough password 42' }],
      ['/ui/admin/roles/new', { name: 'sneaky', 'perm.users:write': 'on' }],
      ['/ui/admin/roles/support', { 'perm.users:write': 'on' }],
      ['/ui/admin/clients/new', { client_name: 'Sneaky', redirect_uris: 'https://x.example.com/cb' }],
    ]
    for (const [path, fields] of forged) {
      const response = await submit(support, path, fields)
      expect(response.statusCode, path).toBe(403)
    }
    expect(await userRow(target.id)).toMatchObject({ full_name: 'Target Person', is_active: true })
    expect((await t.kitsune.services.userAdmin.get(target.id)).roles).toEqual(['user'])
    expect((await t.kitsune.services.rbac.list()).find((r) => r.name === 'sneaky')).toBeUndefined()
  })
})
