import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { en } from '../../src/web/i18n/en.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { chromiumBinary, launchChromium } from '../helpers/chromium.js'
import { login } from '../helpers/factories.js'
import { enrolMfa } from '../helpers/mfa.js'
import { freePort, memoryMailer, offsetClock } from '../helpers/oidc.js'
import { pgliteTarget } from '../helpers/test-targets.js'

const DESKTOP = { width: 1100, height: 800 }
const ADMIN = { email: 'tasks-admin@example.com', password: 'tasks admin password 1234' }
const PAGE_SIZE = 25
const PAGED_USERS = 30
const CTX = { ip: '127.0.0.1', userAgent: 'e2e', requestId: 'e2e' }

/**
 * Every task of the admin console, done by an administrator in Chromium: what the page says after
 * each step, and what the database holds.
 */
describe.skipIf(chromiumBinary.skip)(`admin console tasks in Chromium${chromiumBinary.note}`, () => {
  let t: TestApp
  let browser: Browser
  let origin: string
  let adminId: string
  const mailer = memoryMailer()
  const clock = offsetClock()
  const cspMessages: string[] = []

  beforeAll(async () => {
    const port = await freePort()
    origin = `http://localhost:${port}`
    t = await buildTestApp({
      target: pgliteTarget,
      clock,
      env: { PUBLIC_URL: origin, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
      kitsune: { mailer },
    })
    await t.app.listen({ port, host: '127.0.0.1' })
    adminId = (await t.kitsune.services.userAdmin.list({ q: ADMIN.email })).items[0]?.id as string
    const principal = { userId: adminId, sessionId: '', roles: ['admin'], tokenExpiresAt: 0 }
    await t.kitsune.services.rbac.create(
      principal,
      { name: 'helpdesk', description: 'Answers questions', permissions: ['users:read'] },
      CTX,
    )
    // More users than a page holds, all matching one search.
    for (let i = 0; i < PAGED_USERS; i++)
      await t.kitsune.services.userAdmin.create(
        principal,
        {
          email: `paging-${String(i).padStart(2, '0')}@paging.example`,
          full_name: `Paging Person ${i}`,
          password: 'a paging password 1234',
          roles: i % 10 === 0 ? ['user', 'helpdesk'] : ['user'],
          email_verified: true,
        },
        CTX,
      )
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await t?.close()
  })

  const db = () => t.kitsune.database.db

  const withPage = async (options: BrowserContextOptions, use: (page: Page) => Promise<void>) => {
    const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB', ...options })
    context.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspMessages.push(message.text())
    })
    context.setDefaultTimeout(10_000)
    try {
      await use(await context.newPage())
    } finally {
      await context.close()
    }
  }

  const signIn = async (page: Page, path = '/ui/admin') => {
    await page.goto(`${origin}${path}`)
    expect(new URL(page.url()).pathname).toBe('/ui/sign-in')
    await page.getByLabel(en['sign_in.email_label']).fill(ADMIN.email)
    await page.getByLabel(en['sign_in.password_label']).fill(ADMIN.password)
    await page.getByRole('button', { name: en['sign_in.submit'] }).click()
    await page.waitForURL((url) => url.pathname === path)
  }

  const heading = (page: Page) => page.locator('h1').textContent()
  const main = async (page: Page) => ((await page.locator('main').textContent()) ?? '').replace(/\s+/g, ' ')
  const nav = (page: Page, key: keyof typeof en) =>
    page.getByRole('navigation').getByRole('link', { name: en[key], exact: true }).click()
  const rows = (page: Page) => page.locator('main table tbody tr').allTextContents()
  const done = async (page: Page, key: keyof typeof en) => {
    await page.waitForURL((url) => url.search.includes('done='))
    expect(await main(page)).toContain(en[key])
  }
  const roleNamed = async (name: string) =>
    (await t.kitsune.services.rbac.list()).find((role) => role.name === name)
  const userRow = (id: string) =>
    db()
      .selectFrom('users')
      .select(['email', 'full_name', 'email_verified', 'is_active', 'mfa_enabled'])
      .where('id', '=', id)
      .executeTakeFirst()
  const liveSessions = async (id: string) =>
    (
      await db()
        .selectFrom('sessions')
        .select('id')
        .where('user_id', '=', id)
        .where('revoked_at', 'is', null)
        .execute()
    ).length
  const audited = async (action: string, targetId: string) =>
    (
      await db()
        .selectFrom('audit_logs')
        .select('id')
        .where('action', '=', action)
        .where('target_id', '=', targetId)
        .execute()
    ).length

  it('shows the overview’s counts, matching the database', async () => {
    await withPage({}, async (page) => {
      await signIn(page)
      expect(await heading(page)).toBe(en['admin.overview.title'])
      const count = (key: keyof typeof en) =>
        page.locator(`dl dt:text-is("${en[key]}") + dd`).first().textContent()
      const users = await db().selectFrom('users').select('id').execute()
      expect(await count('admin.overview.users')).toBe(String(users.length))
      const sessions = await db()
        .selectFrom('sessions')
        .select('id')
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', new Date())
        .execute()
      expect(Number(await count('admin.overview.sessions'))).toBe(sessions.length)
      expect(Number(await count('admin.overview.sign_ins'))).toBeGreaterThanOrEqual(1)
      expect(await count('admin.overview.failed_sign_ins')).toMatch(/^\d+$/)
    })
  })

  it('searches users by part of an address, filters them, pages forward and back, and opens one', async () => {
    await withPage({}, async (page) => {
      await signIn(page, '/ui/admin')
      await nav(page, 'admin.nav.users')
      expect(await heading(page)).toBe(en['admin.users.title'])
      await page.getByLabel(en['admin.users.q_label'], { exact: true }).fill('ging-')
      await page.getByRole('button', { name: en['admin.users.search'], exact: true }).click()
      await page.waitForURL((url) => url.searchParams.get('q') === 'ging-')
      expect(await page.locator('main table caption').textContent()).toBe(en['admin.users.caption_filtered'])
      const first = await rows(page)
      expect(first).toHaveLength(PAGE_SIZE)
      for (const row of first) expect(row).toContain('@paging.example')

      await page.getByRole('link', { name: en['admin.next'] }).click()
      await page.waitForURL((url) => url.searchParams.has('cursor'))
      const second = await rows(page)
      expect(second).toHaveLength(PAGED_USERS - PAGE_SIZE)
      for (const row of second) expect(first).not.toContain(row)
      expect(await page.getByRole('link', { name: en['admin.next'] }).count()).toBe(0)
      await page.getByRole('link', { name: en['admin.previous'] }).click()
      await page.waitForLoadState()
      expect(await rows(page)).toEqual(first)

      // Filter by role: only the three paging users holding helpdesk.
      await page.getByLabel(en['admin.users.role_filter'], { exact: true }).selectOption('helpdesk')
      await page.getByRole('button', { name: en['admin.users.search'], exact: true }).click()
      await page.waitForURL((url) => url.searchParams.get('role') === 'helpdesk')
      const helpdesk = await rows(page)
      expect(helpdesk).toHaveLength(3)
      for (const row of helpdesk) expect(row).toContain('helpdesk')
      // Deactivated only: nobody yet.
      await page.getByLabel(en['admin.users.role_filter'], { exact: true }).selectOption('')
      await page.getByLabel(en['admin.users.active_filter'], { exact: true }).selectOption('no')
      await page.getByRole('button', { name: en['admin.users.search'], exact: true }).click()
      await page.waitForURL((url) => url.searchParams.get('active') === 'no')
      expect(await main(page)).toContain(en['admin.users.none'])

      await page.goto(`${origin}/ui/admin/users?q=paging-07`)
      await page.getByRole('link', { name: 'paging-07@paging.example' }).click()
      expect(await heading(page)).toBe('paging-07@paging.example')
      expect(await main(page)).toContain('Paging Person 7')
    })
  })

  it('creates a user, resends the verification, edits, changes the address, gives and takes a role, ends sessions, deactivates, activates, opens the audit trail and deletes', async () => {
    const password = 'a created user password 42'
    await withPage({}, async (page) => {
      await signIn(page)
      await nav(page, 'admin.nav.users')
      await page.getByRole('link', { name: en['admin.users.create'] }).click()
      expect(await heading(page)).toBe(en['admin.users.new_title'])
      await page.getByLabel(en['admin.users.email_label'], { exact: true }).fill('marie@example.com')
      await page.getByLabel(en['admin.users.name_label'], { exact: true }).fill('Marie Curie')
      await page.getByLabel(en['admin.users.password_label'], { exact: true }).fill(password)
      await page.getByRole('button', { name: en['admin.users.create_submit'] }).click()
      await done(page, 'admin.done.user_created')
      expect(await heading(page)).toBe('marie@example.com')
      const id = new URL(page.url()).pathname.split('/')[4] as string
      expect(await userRow(id)).toMatchObject({
        email: 'marie@example.com',
        full_name: 'Marie Curie',
        email_verified: false,
        is_active: true,
      })

      // Unverified: the verification link again, caught in the mailbox.
      const before = mailer.messages.length
      await page.getByRole('button', { name: en['admin.users.resend'] }).click()
      await done(page, 'admin.done.verification_sent')
      await t.kitsune.mailer.idle()
      const sent = mailer.messages.slice(before).filter((m) => m.to === 'marie@example.com')
      expect(sent.map((m) => m.subject)).toContain('Confirm your e-mail address')
      expect(sent.at(-1)?.text).toContain(`${origin}/`)

      await page.getByLabel(en['admin.users.name_label'], { exact: true }).fill('Marie Skłodowska-Curie')
      await page.getByLabel(en['admin.users.mark_verified'], { exact: true }).check()
      await page.getByRole('button', { name: en['admin.users.save'] }).click()
      await done(page, 'admin.done.user_updated')
      expect(await userRow(id)).toMatchObject({ full_name: 'Marie Skłodowska-Curie', email_verified: true })
      expect(await page.getByRole('button', { name: en['admin.users.resend'] }).count()).toBe(0)

      await page
        .getByLabel(en['admin.users.new_email_label'], { exact: true })
        .fill('marie.curie@example.com')
      await page.getByRole('button', { name: en['admin.users.change_email_submit'] }).click()
      await done(page, 'admin.done.email_changed')
      expect(await heading(page)).toBe('marie.curie@example.com')
      expect(await userRow(id)).toMatchObject({ email: 'marie.curie@example.com', email_verified: false })

      await page.getByLabel(en['admin.users.add_role_label'], { exact: true }).selectOption('helpdesk')
      await page.getByRole('button', { name: en['admin.users.add_role'] }).click()
      await done(page, 'admin.done.role_added')
      expect((await t.kitsune.services.userAdmin.get(id)).roles).toContain('helpdesk')
      await page
        .getByRole('button', { name: en['admin.users.remove_role'].replace('{role}', 'helpdesk') })
        .click()
      await done(page, 'admin.done.role_removed')
      expect((await t.kitsune.services.userAdmin.get(id)).roles).not.toContain('helpdesk')

      // Two sessions of theirs, listed, then ended.
      await login(t, { email: 'marie.curie@example.com', password }, { 'user-agent': 'curl/8.5.0' })
      await login(t, { email: 'marie.curie@example.com', password }, { 'user-agent': 'curl/8.5.0' })
      await page.reload()
      expect(await liveSessions(id)).toBe(2)
      expect(await page.locator('main table tbody tr', { hasText: 'curl/8.5.0' }).count()).toBe(2)
      await page.getByRole('link', { name: en['admin.users.end_sessions'] }).click()
      expect(await heading(page)).toBe(
        en['admin.users.confirm_sessions_title'].replace('{email}', 'marie.curie@example.com'),
      )
      await page.getByRole('button', { name: en['admin.users.confirm_sessions_submit'] }).click()
      await done(page, 'admin.done.sessions_ended')
      expect(await liveSessions(id)).toBe(0)
      expect(await main(page)).toContain(en['admin.users.no_sessions'])

      await page.getByRole('link', { name: en['admin.users.deactivate'] }).click()
      expect(await heading(page)).toBe(
        en['admin.users.confirm_deactivate_title'].replace('{email}', 'marie.curie@example.com'),
      )
      await page.getByRole('button', { name: en['admin.users.confirm_deactivate_submit'] }).click()
      await done(page, 'admin.done.user_deactivated')
      expect((await userRow(id))?.is_active).toBe(false)
      const refused = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'marie.curie@example.com', password },
      })
      expect(refused.statusCode).not.toBe(200)
      await page.getByRole('button', { name: en['admin.users.activate'] }).click()
      await done(page, 'admin.done.user_activated')
      expect((await userRow(id))?.is_active).toBe(true)

      await page.getByRole('link', { name: en['admin.users.audit_trail'] }).click()
      await page.waitForURL((url) => url.pathname === '/ui/admin/audit')
      expect(new URL(page.url()).searchParams.get('target')).toBe(id)
      const trail = (await rows(page)).join('\n')
      for (const action of ['user.created', 'user.updated', 'role.assigned', 'session.revoked'])
        expect(trail, action).toContain(action)
      // The edit, the address, the deactivation and the activation.
      expect(trail.match(/user\.updated/g)).toHaveLength(4)
      await page.goBack()

      await page.getByRole('link', { name: en['admin.users.delete'] }).click()
      expect(await heading(page)).toBe(
        en['admin.users.confirm_delete_title'].replace('{email}', 'marie.curie@example.com'),
      )
      const typed = page.getByLabel(
        en['admin.users.confirm_delete_label'].replace('{email}', 'marie.curie@example.com'),
        { exact: true },
      )
      await typed.fill('someone-else@example.com')
      await page.getByRole('button', { name: en['admin.users.confirm_delete_submit'] }).click()
      await page.locator('.error-summary').waitFor()
      expect(await main(page)).toContain(en['admin.users.confirm_delete_mismatch'])
      expect(await userRow(id)).toBeDefined()
      await typed.fill('marie.curie@example.com')
      await page.getByRole('button', { name: en['admin.users.confirm_delete_submit'] }).click()
      await done(page, 'admin.done.user_deleted')
      expect(new URL(page.url()).pathname).toBe('/ui/admin/users')
      expect(await userRow(id)).toBeUndefined()
      expect(await audited('user.deleted', id)).toBe(1)
    })
  })

  it('removes two-factor authentication from a user who enrolled', async () => {
    const { user } = await enrolMfa(t, clock)
    expect((await userRow(user.id))?.mfa_enabled).toBe(true)
    await withPage({}, async (page) => {
      await signIn(page, `/ui/admin/users/${user.id}`)
      expect(await heading(page)).toBe(user.email)
      await page.getByRole('link', { name: en['admin.users.reset_mfa'] }).click()
      expect(await heading(page)).toBe(en['admin.users.confirm_mfa_title'].replace('{email}', user.email))
      await page.getByRole('button', { name: en['admin.users.confirm_mfa_submit'] }).click()
      await done(page, 'admin.done.mfa_reset')
      expect(await page.getByRole('link', { name: en['admin.users.reset_mfa'] }).count()).toBe(0)
    })
    expect((await userRow(user.id))?.mfa_enabled).toBe(false)
    await t.kitsune.mailer.idle()
    expect(mailer.messages.filter((m) => m.to === user.email).map((m) => m.subject)).toContain(
      'Two-factor authentication is off',
    )
  })

  it('with JavaScript off: creates a role, edits its permissions and deletes it', async () => {
    await withPage({ javaScriptEnabled: false }, async (page) => {
      await signIn(page)
      await nav(page, 'admin.nav.roles')
      await page.getByRole('link', { name: en['admin.roles.create'] }).click()
      await page.getByLabel(en['admin.roles.name_label'], { exact: true }).fill('auditors')
      await page.getByLabel(en['admin.roles.description_label'], { exact: true }).fill('Read the log')
      await page.getByLabel('audit:read').check()
      await page.getByRole('button', { name: en['admin.roles.create_submit'] }).click()
      await done(page, 'admin.done.role_created')
      expect(await heading(page)).toBe(en['admin.roles.role_title'].replace('{name}', 'auditors'))
      expect((await roleNamed('auditors'))?.permissions).toEqual(['audit:read'])

      await page.getByLabel('users:read').check()
      await page.getByRole('button', { name: en['admin.roles.save'] }).click()
      await done(page, 'admin.done.role_updated')
      expect([...((await roleNamed('auditors'))?.permissions ?? [])].sort()).toEqual([
        'audit:read',
        'users:read',
      ])

      await page.getByRole('link', { name: en['admin.roles.delete'] }).click()
      expect(await heading(page)).toBe(en['admin.roles.confirm_delete_title'].replace('{name}', 'auditors'))
      await page.getByRole('button', { name: en['admin.roles.confirm_delete_submit'] }).click()
      await done(page, 'admin.done.role_deleted')
      expect(await main(page)).not.toContain('auditors')
    })
    expect(await db().selectFrom('roles').select('name').where('name', '=', 'auditors').execute()).toEqual([])
  })

  it('registers an application (secret shown once), edits it, rotates the secret and deletes it', async () => {
    await withPage({}, async (page) => {
      await signIn(page)
      await nav(page, 'admin.nav.clients')
      await page.getByRole('link', { name: en['admin.clients.create'] }).click()
      await page.getByLabel(en['admin.clients.name_label'], { exact: true }).fill('Lab Notebook')
      await page
        .getByLabel(en['admin.clients.redirect_uris_label'], { exact: true })
        .fill('https://lab.example.com/callback')
      await page.getByRole('button', { name: en['admin.clients.create_submit'] }).click()
      expect(await heading(page)).toBe(en['admin.clients.created_title'].replace('{name}', 'Lab Notebook'))
      expect(await main(page)).toContain(en['admin.clients.secret_once'])
      const secret = await page.getByLabel(en['admin.clients.client_secret'], { exact: true }).inputValue()
      const clientId = await page.getByLabel(en['admin.clients.client_id'], { exact: true }).inputValue()
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect((await t.kitsune.services.clients.findForEngine(clientId))?.client_secret).toBe(secret)

      await page.getByRole('link', { name: en['admin.clients.to_client'] }).click()
      expect(await heading(page)).toBe('Lab Notebook')
      expect(await page.content()).not.toContain(secret)
      await page
        .getByLabel(en['admin.clients.redirect_uris_label'], { exact: true })
        .fill('https://lab.example.com/callback\nhttps://lab.example.com/second')
      await page.getByLabel('refresh_token', { exact: true }).check()
      await page.getByLabel('profile', { exact: true }).check()
      await page.getByLabel('email', { exact: true }).check()
      await page.getByRole('button', { name: en['admin.clients.save'] }).click()
      await done(page, 'admin.done.client_updated')
      expect(await t.kitsune.services.clients.get(clientId)).toMatchObject({
        redirect_uris: ['https://lab.example.com/callback', 'https://lab.example.com/second'],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile email',
      })

      await page.getByRole('link', { name: en['admin.clients.rotate'] }).click()
      expect(await heading(page)).toBe(
        en['admin.clients.confirm_rotate_title'].replace('{name}', 'Lab Notebook'),
      )
      await page.getByRole('button', { name: en['admin.clients.confirm_rotate_submit'] }).click()
      expect(await heading(page)).toBe(en['admin.clients.rotated_title'].replace('{name}', 'Lab Notebook'))
      const rotated = await page.getByLabel(en['admin.clients.client_secret'], { exact: true }).inputValue()
      expect(rotated).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(rotated).not.toBe(secret)
      expect((await t.kitsune.services.clients.findForEngine(clientId))?.client_secret).toBe(rotated)

      await page.getByRole('link', { name: en['admin.clients.to_client'] }).click()
      await page.getByRole('link', { name: en['admin.clients.delete'] }).click()
      expect(await heading(page)).toBe(
        en['admin.clients.confirm_delete_title'].replace('{name}', 'Lab Notebook'),
      )
      await page.getByRole('button', { name: en['admin.clients.confirm_delete_submit'] }).click()
      await done(page, 'admin.done.client_deleted')
      expect(await main(page)).not.toContain('Lab Notebook')
      expect(await t.kitsune.services.clients.findForEngine(clientId)).toBeUndefined()
      for (const action of ['client.created', 'client.updated', 'client.secret_rotated', 'client.deleted'])
        expect(await audited(action, clientId), action).toBe(1)
    })
    expect(cspMessages).toEqual([])
  })

  it('filters the audit log by action, actor and time, opens an entry and checks the chain', async () => {
    const local = (d: Date) => d.toISOString().slice(0, 16)
    await withPage({}, async (page) => {
      await signIn(page)
      await nav(page, 'admin.nav.audit')
      expect(await heading(page)).toBe(en['admin.audit.title'])
      await page.getByLabel(en['admin.audit.action_label'], { exact: true }).selectOption('user.created')
      await page.getByLabel(en['admin.audit.actor_label'], { exact: true }).fill(ADMIN.email)
      await page
        .getByLabel(en['admin.audit.from_label'], { exact: true })
        .fill(local(new Date(Date.now() - 3_600_000)))
      await page
        .getByLabel(en['admin.audit.to_label'], { exact: true })
        .fill(local(new Date(Date.now() + 3_600_000)))
      await page.getByRole('button', { name: en['admin.audit.apply'], exact: true }).click()
      await page.waitForURL((url) => url.searchParams.get('action') === 'user.created')
      expect(await page.locator('main table caption').textContent()).toBe(en['admin.audit.caption_filtered'])
      const found = await rows(page)
      const expected = await db()
        .selectFrom('audit_logs')
        .select('id')
        .where('action', '=', 'user.created')
        .where('actor_id', '=', adminId)
        .execute()
      // 30 paging users and Marie, all made by the administrator (one page holds 50).
      expect(found).toHaveLength(expected.length)
      expect(found.length).toBeGreaterThanOrEqual(PAGED_USERS + 1)
      for (const row of found) expect(row).toContain('user.created')

      // The same filters over a day long past: nothing.
      await page.getByLabel(en['admin.audit.from_label'], { exact: true }).fill('2001-01-01T00:00')
      await page.getByLabel(en['admin.audit.to_label'], { exact: true }).fill('2001-01-02T00:00')
      await page.getByRole('button', { name: en['admin.audit.apply'], exact: true }).click()
      await page.waitForURL((url) => url.searchParams.get('from')?.startsWith('2001') === true)
      expect(await main(page)).toContain(en['admin.audit.none'])

      // An entry, opened from the unfiltered log.
      await nav(page, 'admin.nav.audit')
      const link = page.locator('main table tbody tr a').first()
      const label = (await link.textContent()) ?? ''
      const seq = label.replace(/\D/g, '')
      await link.click()
      expect(await heading(page)).toBe(en['admin.audit.entry_title'].replace('{seq}', seq))
      expect(await main(page)).toContain(en['admin.audit.request_id'])

      await nav(page, 'admin.nav.audit')
      await page.getByRole('link', { name: en['admin.audit.verify'] }).click()
      expect(await heading(page)).toBe(en['admin.audit.verify_title'])
      const [newest] = await t.kitsune.services.audit.list({ limit: 1 })
      const total = (await db().selectFrom('audit_logs').select('id').execute()).length
      expect(await main(page)).toContain(
        en['admin.audit.verify_ok']
          .replace('{seq}', String(newest?.seq))
          .replace('{checked}', total.toLocaleString('en')),
      )
    })
  })
})
