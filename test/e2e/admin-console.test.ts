import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { en } from '../../src/web/i18n/en.js'
import { es } from '../../src/web/i18n/es.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { chromiumBinary, launchChromium, RECORD_CSP_VIOLATIONS } from '../helpers/chromium.js'
import { freePort } from '../helpers/oidc.js'
import { pgliteTarget } from '../helpers/test-targets.js'

const AXE_SOURCE = readFileSync(join(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8')
const SCREENSHOTS = join(process.cwd(), 'test-results/screenshots')
const DESKTOP = { width: 1100, height: 800 }
const PHONE = { width: 360, height: 740 }
const ADMIN = { email: 'admin@example.com', password: 'console admin password 1234' }

describe.skipIf(chromiumBinary.skip)(`the admin console in Chromium${chromiumBinary.note}`, () => {
  let t: TestApp
  let browser: Browser
  let origin: string
  let userId: string
  let clientId: string
  const cspMessages: string[] = []

  beforeAll(async () => {
    const port = await freePort()
    origin = `http://localhost:${port}`
    t = await buildTestApp({
      target: pgliteTarget,
      env: { PUBLIC_URL: origin, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
    })
    await t.app.listen({ port, host: '127.0.0.1' })
    browser = await launchChromium()
    mkdirSync(SCREENSHOTS, { recursive: true })
  })

  afterAll(async () => {
    await browser?.close()
    await t?.close()
  })

  const withPage = async (options: BrowserContextOptions, use: (page: Page) => Promise<void>) => {
    const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB', ...options })
    context.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspMessages.push(message.text())
    })
    try {
      context.setDefaultTimeout(10_000)
      await use(await context.newPage())
    } finally {
      await context.close()
    }
  }

  const signIn = async (page: Page, path: string, who = ADMIN) => {
    await page.goto(`${origin}${path}`)
    expect(new URL(page.url()).pathname).toBe('/ui/sign-in')
    await page.getByLabel(en['sign_in.email_label']).fill(who.email)
    await page.getByLabel(en['sign_in.password_label']).fill(who.password)
    await page.getByRole('button', { name: en['sign_in.submit'] }).click()
    await page.waitForURL((url) => url.pathname === path, { timeout: 10_000 })
  }

  /** axe-core (no serious or critical violation), a screenshot, and nothing wider than the window (desktop, 360 px). */
  const inspect = async (page: Page, name: string) => {
    await page.evaluate(AXE_SOURCE)
    const { violations, passes } = (await page.evaluate(async () => {
      const axe = (
        window as unknown as { axe: { run(): Promise<{ violations: unknown[]; passes: unknown[] }> } }
      ).axe
      const results = await axe.run()
      return { violations: results.violations, passes: results.passes.length }
    })) as {
      violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }>
      passes: number
    }
    expect(passes, `axe ran its rules on ${name}`).toBeGreaterThan(10)
    const serious = violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}) at ${JSON.stringify(v.nodes.map((n) => n.target))}`)
    expect(serious, `axe on ${name}`).toEqual([])
    await page.screenshot({ path: join(SCREENSHOTS, `admin-${name}.png`), fullPage: true })
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth),
      `${name} at desktop width`,
    ).toBeLessThanOrEqual(DESKTOP.width)
    await page.setViewportSize(PHONE)
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth),
      `${name} at 360 px`,
    ).toBeLessThanOrEqual(PHONE.width)
    await page.setViewportSize(DESKTOP)
  }

  it('with JavaScript off: creates a user, gives them a role, and shows both audit entries', async () => {
    await withPage({ javaScriptEnabled: false }, async (page) => {
      await signIn(page, '/ui/admin')
      expect(await page.locator('h1').textContent()).toBe(en['admin.overview.title'])

      // A role to give: created through the roles screen.
      await page.getByRole('link', { name: en['admin.nav.roles'], exact: true }).click()
      await page.getByRole('link', { name: en['admin.roles.create'] }).click()
      await page.getByLabel(en['admin.roles.name_label'], { exact: true }).fill('support')
      await page
        .getByLabel(en['admin.roles.description_label'], { exact: true })
        .fill('Answers questions about accounts')
      await page.getByLabel('users:read').check()
      await page.getByRole('button', { name: en['admin.roles.create_submit'] }).click()
      expect(await page.locator('main').textContent()).toContain(en['admin.done.role_created'])

      await page.getByRole('link', { name: en['admin.nav.users'], exact: true }).click()
      await page.getByRole('link', { name: en['admin.users.create'] }).click()
      await page.getByLabel(en['admin.users.email_label'], { exact: true }).fill('grace@example.com')
      await page.getByLabel(en['admin.users.name_label'], { exact: true }).fill('Grace Hopper')
      await page
        .getByLabel(en['admin.users.password_label'], { exact: true })
        .fill('a long enough password 42')
      await page.getByRole('button', { name: en['admin.users.create_submit'] }).click()
      expect(await page.locator('h1').textContent()).toBe('grace@example.com')
      expect(await page.locator('main').textContent()).toContain(en['admin.done.user_created'])
      userId = new URL(page.url()).pathname.split('/')[4] as string

      await page.getByLabel(en['admin.users.add_role_label'], { exact: true }).selectOption('support')
      await page.getByRole('button', { name: en['admin.users.add_role'] }).click()
      expect(await page.locator('main').textContent()).toContain(en['admin.done.role_added'])
      await page.screenshot({ path: join(SCREENSHOTS, 'admin-no-js-user.png'), fullPage: true })

      await page.getByRole('link', { name: en['admin.users.audit_trail'] }).click()
      const rows = await page.locator('tbody tr').allTextContents()
      expect(rows.some((row) => row.includes('role.assigned'))).toBe(true)
      expect(rows.some((row) => row.includes('user.created'))).toBe(true)
      await page.screenshot({ path: join(SCREENSHOTS, 'admin-no-js-audit-trail.png'), fullPage: true })

      // An application: the secret is on the result page, once.
      await page.getByRole('link', { name: en['admin.nav.clients'], exact: true }).click()
      await page.getByRole('link', { name: en['admin.clients.create'] }).click()
      await page.getByLabel(en['admin.clients.name_label'], { exact: true }).fill('Example Notes')
      await page
        .getByLabel(en['admin.clients.redirect_uris_label'], { exact: true })
        .fill('https://notes.example.com/callback')
      await page.getByRole('button', { name: en['admin.clients.create_submit'] }).click()
      const secret = await page.getByLabel(en['admin.clients.client_secret'], { exact: true }).inputValue()
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
      clientId = await page.getByLabel(en['admin.clients.client_id'], { exact: true }).inputValue()
    })
    expect(cspMessages).toEqual([])
  })

  it('passes axe on every admin page, in English and Spanish, at desktop and 360 px widths', async () => {
    const [entry] = await t.kitsune.services.audit.list({ limit: 1 })
    const webhook = await t.kitsune.services.webhooks.create(null, {
      url: 'https://93.184.215.14/kitsune-events',
      events: ['user.created', 'user.deleted'],
      description: 'CRM sync',
    })
    const pages: Array<[string, string]> = [
      ['overview', '/ui/admin'],
      ['users', '/ui/admin/users'],
      ['user-new', '/ui/admin/users/new'],
      ['user-detail', `/ui/admin/users/${userId}`],
      ['user-deactivate', `/ui/admin/users/${userId}/confirm/deactivate`],
      ['user-delete', `/ui/admin/users/${userId}/confirm/delete`],
      ['user-sessions', `/ui/admin/users/${userId}/confirm/sessions`],
      ['roles', '/ui/admin/roles'],
      ['role-new', '/ui/admin/roles/new'],
      ['role', '/ui/admin/roles/support'],
      ['role-built-in', '/ui/admin/roles/admin'],
      ['role-delete', '/ui/admin/roles/support/delete'],
      ['clients', '/ui/admin/clients'],
      ['client-new', '/ui/admin/clients/new'],
      ['client', `/ui/admin/clients/${clientId}`],
      ['client-rotate', `/ui/admin/clients/${clientId}/rotate`],
      ['client-delete', `/ui/admin/clients/${clientId}/delete`],
      ['audit', '/ui/admin/audit'],
      ['audit-entry', `/ui/admin/audit/${entry?.seq}`],
      ['audit-verify', '/ui/admin/audit/verify'],
      ['webhooks', '/ui/admin/webhooks'],
      ['webhook-new', '/ui/admin/webhooks/new'],
      ['webhook', `/ui/admin/webhooks/${webhook.id}`],
      ['webhook-delete', `/ui/admin/webhooks/${webhook.id}/delete`],
    ]
    await withPage({}, async (page) => {
      await signIn(page, '/ui/admin')
      // The result page of a registration (a POST's answer, the secret shown once).
      await page.goto(`${origin}/ui/admin/clients/new`)
      await page.getByLabel(en['admin.clients.name_label'], { exact: true }).fill('Photo Printer')
      await page
        .getByLabel(en['admin.clients.redirect_uris_label'], { exact: true })
        .fill('https://photos.example.com/callback')
      await page.getByRole('button', { name: en['admin.clients.create_submit'] }).click()
      await page.getByLabel(en['admin.clients.client_secret'], { exact: true }).waitFor()
      await inspect(page, 'client-created')
      for (const [locale, catalogue] of [
        ['en', en],
        ['es', es],
      ] as const) {
        for (const [name, path] of pages) {
          const response = await page.goto(`${origin}${path}${locale === 'es' ? '?ui_locales=es' : ''}`)
          expect(response?.status(), `${name} (${locale})`).toBe(200)
          expect(await page.locator('html').getAttribute('lang')).toBe(locale)
          expect(await page.locator('nav[aria-label] a').first().textContent()).toBe(
            catalogue['admin.nav.overview'],
          )
          await inspect(page, `${name}${locale === 'es' ? '-es' : ''}`)
        }
      }
    })
    expect(cspMessages).toEqual([])
  })

  it('copies a new client secret with its button when JavaScript runs, and shows no button without it', async () => {
    const register = async (page: Page, name: string) => {
      await page.goto(`${origin}/ui/admin/clients/new`)
      await page.getByLabel(en['admin.clients.name_label'], { exact: true }).fill(name)
      await page
        .getByLabel(en['admin.clients.redirect_uris_label'], { exact: true })
        .fill('https://copy.example.com/callback')
      await page.getByRole('button', { name: en['admin.clients.create_submit'] }).click()
      return page.getByLabel(en['admin.clients.client_secret'], { exact: true }).inputValue()
    }

    await withPage({}, async (page) => {
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin })
      await page.addInitScript(RECORD_CSP_VIOLATIONS)
      await signIn(page, '/ui/admin')
      const secret = await register(page, 'Clipboard Notes')
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
      const button = page.getByRole('button', { name: en['admin.clients.copy_secret'], exact: true })
      await button.waitFor({ state: 'visible' })
      expect(
        await page.getByRole('button', { name: en['admin.clients.copy_id'], exact: true }).isVisible(),
      ).toBe(true)
      await button.click()
      const status = page.locator('#client_secret-copy-status')
      expect(await status.getAttribute('role')).toBe('status')
      await expect.poll(() => status.textContent()).toBe(en['admin.copied'])
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret)
      // From the keyboard too, and announced again.
      await page.getByRole('button', { name: en['admin.clients.copy_id'], exact: true }).focus()
      await page.keyboard.press('Enter')
      await expect.poll(() => page.locator('#client_id-copy-status').textContent()).toBe(en['admin.copied'])
      expect(await status.textContent()).toBe('')
      const clientId = await page.getByLabel(en['admin.clients.client_id'], { exact: true }).inputValue()
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(clientId)
      await inspect(page, 'client-created-copied')
      expect(await page.evaluate('window.cspViolations')).toEqual([])
    })

    await withPage({ javaScriptEnabled: false }, async (page) => {
      await signIn(page, '/ui/admin')
      expect(await register(page, 'No Script Notes')).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(await page.locator('button[data-copy-target]').count()).toBe(2)
      for (const button of await page.locator('button[data-copy-target]').all())
        expect(await button.isVisible()).toBe(false)
      expect(await page.getByRole('button', { name: en['admin.clients.copy_secret'] }).count()).toBe(0)
      expect(await page.locator('main').textContent()).toContain(en['admin.clients.copy_hint'])
    })
    expect(cspMessages).toEqual([])
  })

  it('as a support role that may only read users: no write screens or buttons, and forged posts get 403', async () => {
    const adminId = (await t.kitsune.services.userAdmin.list({ q: ADMIN.email })).items[0]?.id as string
    const principal = { userId: adminId, sessionId: '', roles: ['admin'], tokenExpiresAt: 0 }
    const ctx = { ip: '127.0.0.1', userAgent: 'test', requestId: 'test' }
    await t.kitsune.services.rbac.create(principal, { name: 'helpdesk', permissions: ['users:read'] }, ctx)
    const helper = { email: 'helpdesk@example.com', password: 'helpdesk password 1234' }
    const created = await t.kitsune.services.userAdmin.create(
      principal,
      { ...helper, roles: ['helpdesk'], email_verified: true },
      ctx,
    )
    expect(created.roles).toEqual(['helpdesk'])
    await withPage({}, async (page) => {
      await signIn(page, '/ui/admin', helper)
      const nav = await page.locator('nav[aria-label] a').allTextContents()
      expect(nav).toEqual([en['admin.nav.overview'], en['admin.nav.users']])
      await page.getByRole('link', { name: en['admin.nav.users'], exact: true }).click()
      expect(await page.getByRole('link', { name: en['admin.users.create'] }).count()).toBe(0)
      await page.getByRole('link', { name: 'grace@example.com' }).click()
      expect(await page.locator('h1').textContent()).toBe('grace@example.com')
      // The only form on the page is the sign-out: no edit, role, session or account action.
      expect(await page.locator('main form').count()).toBe(0)
      expect(await page.locator('main a.button').count()).toBe(0)
      await inspect(page, 'support-user')

      for (const path of ['/ui/admin/roles', '/ui/admin/clients', '/ui/admin/audit', '/ui/admin/users/new']) {
        const response = await page.goto(`${origin}${path}`)
        expect(response?.status(), path).toBe(403)
      }
      await inspect(page, 'forbidden')
      const csrf = (await page.context().cookies()).find((c) => c.name === 'kitsune-csrf')?.value ?? ''
      const forged = await page.request.post(`${origin}/ui/admin/users/${userId}/deactivate`, {
        form: { csrf },
      })
      expect(forged.status()).toBe(403)
      expect((await t.kitsune.services.userAdmin.get(userId)).is_active).toBe(true)
    })
  })

  it('works from the keyboard alone: skip link, sections, search, a user', async () => {
    await withPage({}, async (page) => {
      await signIn(page, '/ui/admin')
      const active = () =>
        page.evaluate(() => {
          const element = document.activeElement as HTMLElement | null
          return { text: element?.textContent?.trim() ?? '', id: element?.id ?? '' }
        })
      const tabTo = async (found: (a: { text: string; id: string }) => boolean, what: string) => {
        for (let i = 0; i < 40; i++) {
          if (found(await active())) return
          await page.keyboard.press('Tab')
        }
        throw new Error(`Tab never reached ${what}`)
      }
      await page.keyboard.press('Tab')
      expect((await active()).text).toBe(en['layout.skip_link'])
      await tabTo((a) => a.text === en['admin.nav.users'], 'the Users section')
      await page.keyboard.press('Enter')
      await page.waitForURL((url) => url.pathname === '/ui/admin/users')
      await tabTo((a) => a.id === 'q', 'the search field')
      await page.keyboard.type('grace')
      await page.keyboard.press('Enter')
      await page.waitForURL((url) => url.searchParams.get('q') === 'grace')
      await tabTo((a) => a.text === 'grace@example.com', 'the user found')
      await page.keyboard.press('Enter')
      await page.waitForURL((url) => url.pathname === `/ui/admin/users/${userId}`)
      expect(await page.locator('h1').textContent()).toBe('grace@example.com')
    })
  })
})
