import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContextOptions, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { en } from '../../src/web/i18n/en.js'
import { es } from '../../src/web/i18n/es.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { chromiumBinary, launchChromium, RECORD_CSP_VIOLATIONS } from '../helpers/chromium.js'
import { login, registerUser, type TestUser } from '../helpers/factories.js'
import { wrongCode } from '../helpers/mfa.js'
import { createClient, freePort } from '../helpers/oidc.js'
import { pgliteTarget } from '../helpers/test-targets.js'
import { totp } from '../helpers/totp.js'

const AXE_SOURCE = readFileSync(join(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8')
const SCREENSHOTS = join(process.cwd(), 'test-results/screenshots')
const DESKTOP = { width: 1100, height: 800 }
const PHONE = { width: 360, height: 740 }
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'

type Catalogue = Readonly<Record<keyof typeof en, string>>

describe.skipIf(chromiumBinary.skip)(`account console in Chromium${chromiumBinary.note}`, () => {
  let t: TestApp
  let browser: Browser
  let base: string
  let clientId: string

  beforeAll(async () => {
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    t = await buildTestApp({ target: pgliteTarget, env: { PUBLIC_URL: base } })
    await t.app.listen({ port, host: '127.0.0.1' })
    clientId = (
      await createClient(t, {
        client_name: 'Photo Printer',
        redirect_uris: ['https://printer.example/callback'],
        scope: 'openid profile email',
      })
    ).clientId
    browser = await launchChromium()
    mkdirSync(SCREENSHOTS, { recursive: true })
  })
  afterAll(async () => {
    await browser?.close()
    await t?.close()
  })

  const withPage = async (options: BrowserContextOptions, use: (page: Page) => Promise<void>) => {
    const context = await browser.newContext({ viewport: DESKTOP, ...options })
    await context.addInitScript(RECORD_CSP_VIOLATIONS)
    try {
      await use(await context.newPage())
    } finally {
      await context.close()
    }
  }

  const path = (page: Page) => new URL(page.url()).pathname
  const heading = (page: Page) => page.locator('h1').textContent()

  /** Presses Tab until `target` has the focus (the keyboard alone reaches it), then checks the focus is visible. */
  const tabTo = async (page: Page, target: Locator) => {
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab')
      if (await target.evaluate((el) => el === document.activeElement)) {
        const outline = await target.evaluate((el) => getComputedStyle(el).outlineStyle)
        expect(outline, 'the focused element shows its focus').not.toBe('none')
        return
      }
    }
    throw new Error(`Tab never reached ${target}`)
  }

  const signIn = async (page: Page, user: TestUser, catalogue: Catalogue = en) => {
    await page.goto(`${base}/ui/account`)
    expect(path(page)).toBe('/ui/sign-in')
    await page.getByLabel(catalogue['sign_in.email_label']).fill(user.email)
    await page.getByLabel(catalogue['sign_in.password_label']).fill(user.password)
    await page.getByRole('button', { name: catalogue['sign_in.submit'] }).click()
    await page.waitForURL((url) => url.pathname === '/ui/account')
  }

  it('walks sign-in → account → TOTP enrolment → sign-out with the keyboard alone', async () => {
    const user = await registerUser(t, { full_name: 'Keyboard User' })
    await withPage({ locale: 'en-GB' }, async (page) => {
      await page.goto(`${base}/ui/account`)
      expect(path(page)).toBe('/ui/sign-in')
      await tabTo(page, page.getByLabel(en['sign_in.email_label']))
      await page.keyboard.type(user.email)
      await tabTo(page, page.getByLabel(en['sign_in.password_label']))
      await page.keyboard.type(user.password)
      await page.keyboard.press('Enter')
      await page.waitForURL((url) => url.pathname === '/ui/account')
      expect(await heading(page)).toBe(en['account.title'])

      await tabTo(
        page,
        page.getByRole('navigation').getByRole('link', { name: en['account.nav_two_factor'] }),
      )
      await page.keyboard.press('Enter')
      await page.waitForURL((url) => url.pathname === '/ui/account/two-factor')
      await tabTo(page, page.getByRole('button', { name: en['account.enrol_start'] }))
      await page.keyboard.press('Enter')
      await expect.poll(() => heading(page)).toBe(en['account.enrol_title'])
      expect(await page.getByRole('img', { name: en['account.enrol_qr_alt'] }).count()).toBe(1)

      const secret = ((await page.locator('.account-key').textContent()) ?? '').replace(/\s/g, '')
      await tabTo(page, page.getByLabel(en['account.code_label']))
      await page.keyboard.type(totp(secret, Date.now()))
      await page.keyboard.press('Enter')
      await expect.poll(() => heading(page)).toBe(en['account.codes_title'])
      const codes = await page.locator('.recovery-codes code').allTextContents()
      expect(codes).toHaveLength(10)

      // The text file comes from this page itself (a data: URL): the codes are not kept in clear.
      const download = page.waitForEvent('download')
      await tabTo(page, page.getByRole('link', { name: en['account.codes_download'] }))
      await page.keyboard.press('Enter')
      const file = await download
      expect(file.suggestedFilename()).toBe('recovery-codes.txt')
      const saved = readFileSync((await file.path()) ?? '', 'utf8')
      for (const code of codes) expect(saved).toContain(code)

      await tabTo(page, page.getByRole('link', { name: en['account.codes_done'] }))
      await page.keyboard.press('Enter')
      await page.waitForURL((url) => url.pathname === '/ui/account/two-factor')
      expect(await page.locator('main').textContent()).toContain(en['account.two_factor_on'])

      await tabTo(page, page.getByRole('navigation').getByRole('link', { name: en['account.nav_overview'] }))
      await page.keyboard.press('Enter')
      await page.waitForURL((url) => url.pathname === '/ui/account')
      await tabTo(page, page.getByRole('button', { name: en['sign_out.submit'] }))
      await page.keyboard.press('Enter')
      await page.waitForURL((url) => url.pathname === '/ui/sign-out/done')
      expect(await heading(page)).toBe(en['sign_out.done_title'])
      expect(await page.evaluate('window.cspViolations')).toEqual([])
    })
    const row = await t.kitsune.database.db
      .selectFrom('users')
      .select('mfa_enabled')
      .where('id', '=', user.id)
      .executeTakeFirst()
    expect(row?.mfa_enabled).toBe(true)
  })

  it('has no serious or critical axe-core violation on any account page, in English and Spanish, and fits 360 px', async () => {
    for (const [lang, catalogue] of [
      ['en', en],
      ['es', es],
    ] as const) {
      const user = await registerUser(t, { full_name: lang === 'en' ? 'Ada Lovelace' : 'Ada Lovelace' })
      // Something to show: two other sessions, an application allowed, a failed sign-in.
      await login(t, user, { 'user-agent': FIREFOX })
      await login(t, user, { 'user-agent': IPHONE })
      await t.kitsune.services.oidcGrants.consentGiven(
        { userId: user.id, clientId, scopes: ['openid', 'profile', 'email'], remember: true },
        { ip: '127.0.0.1', userAgent: FIREFOX, requestId: 'e2e' },
      )
      await t.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: user.email, password: 'not the password' },
        headers: { 'user-agent': IPHONE },
      })

      await withPage({ locale: lang === 'en' ? 'en-GB' : 'es-ES' }, async (page) => {
        const inspect = async (name: string) => {
          expect(await page.locator('html').getAttribute('lang'), name).toBe(lang)
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
          expect(serious, `axe on ${name} in ${lang}`).toEqual([])
          expect(await page.evaluate('window.cspViolations'), name).toEqual([])
          await page.screenshot({
            path: join(SCREENSHOTS, `account-${name}.${lang}.${DESKTOP.width}.png`),
            fullPage: true,
          })
          expect(
            await page.evaluate(() => document.documentElement.scrollWidth),
            `${name} at ${DESKTOP.width} px in ${lang}`,
          ).toBeLessThanOrEqual(DESKTOP.width)
          await page.setViewportSize(PHONE)
          expect(
            await page.evaluate(() => document.documentElement.scrollWidth),
            `${name} at 360 px in ${lang}`,
          ).toBeLessThanOrEqual(PHONE.width)
          await page.screenshot({
            path: join(SCREENSHOTS, `account-${name}.${lang}.${PHONE.width}.png`),
            fullPage: true,
          })
          await page.setViewportSize(DESKTOP)
        }

        await signIn(page, user, catalogue)
        // The application signed in through this browser's session (a grant the engine would make).
        const cookie = (await page.context().cookies()).find((c) => c.name.endsWith('kitsune-session'))
        await t.kitsune.database.db
          .insertInto('oidc_payloads')
          .values({
            model: 'Grant',
            id: `grant-${user.id}`,
            payload: JSON.stringify({ accountId: user.id, clientId }),
            client_id: clientId,
            session_id: cookie?.value.split('.')[0] ?? null,
            user_id: user.id,
            expires_at: new Date(Date.now() + 3_600_000),
            grant_id: null,
            uid: null,
            user_code: null,
            consumed_at: null,
          })
          .execute()
        for (const [name, target] of [
          ['overview', '/ui/account'],
          ['profile', '/ui/account/profile'],
          ['email', '/ui/account/email'],
          ['password', '/ui/account/password'],
          ['sessions', '/ui/account/sessions'],
          ['two-factor-off', '/ui/account/two-factor'],
          ['passkeys', '/ui/account/passkeys'],
          ['activity', '/ui/account/activity'],
          ['delete', '/ui/account/delete'],
        ] as const) {
          await page.goto(`${base}${target}`)
          expect(path(page), name).toBe(target)
          if (name === 'sessions')
            expect(await page.locator('tr.current').textContent()).toContain('Photo Printer')
          await inspect(name)
        }

        // The forms' results and errors.
        await page.goto(`${base}/ui/account/profile`)
        await page.getByLabel(catalogue['account.name_label']).fill('Ada King')
        await page.getByRole('button', { name: catalogue['account.profile_submit'] }).click()
        await page.locator('.notice').waitFor()
        await inspect('profile-saved')

        await page.goto(`${base}/ui/account/password`)
        await page.getByLabel(catalogue['account.new_password_label'], { exact: true }).fill('short')
        await page.getByRole('button', { name: catalogue['account.password_submit'] }).click()
        await page.locator('.error-summary').waitFor()
        expect(await page.evaluate(() => document.activeElement?.className)).toBe('error-summary')
        await inspect('password-errors')

        await page.goto(`${base}/ui/account/delete`)
        await page.getByRole('button', { name: catalogue['account.delete_submit'] }).click()
        await page.locator('.error-summary').waitFor()
        await inspect('delete-errors')

        await page.goto(`${base}/ui/account/two-factor`)
        await page.getByRole('button', { name: catalogue['account.enrol_start'] }).click()
        await expect.poll(() => heading(page)).toBe(catalogue['account.enrol_title'])
        await inspect('two-factor-enrol')
        let secret = ((await page.locator('.account-key').textContent()) ?? '').replace(/\s/g, '')
        await page.getByLabel(catalogue['account.code_label']).fill(wrongCode(totp(secret, Date.now())))
        await page.getByRole('button', { name: catalogue['account.enrol_submit'] }).click()
        await page.locator('.error-summary').waitFor()
        await inspect('two-factor-enrol-errors')
        secret = ((await page.locator('.account-key').textContent()) ?? '').replace(/\s/g, '')
        await page.getByLabel(catalogue['account.code_label']).fill(totp(secret, Date.now()))
        await page.getByRole('button', { name: catalogue['account.enrol_submit'] }).click()
        await expect.poll(() => heading(page)).toBe(catalogue['account.codes_title'])
        await inspect('recovery-codes')
        await page.getByRole('link', { name: catalogue['account.codes_done'] }).click()
        await page.waitForURL((url) => url.pathname === '/ui/account/two-factor')
        await inspect('two-factor-on')

        await page.goto(`${base}/ui/account/sessions`)
        await page.getByRole('button', { name: catalogue['account.revoke'] }).click()
        await page.locator('.notice').waitFor()
        await inspect('sessions-revoked')
        await page.getByRole('button', { name: catalogue['account.end_others_submit'] }).click()
        await page.locator('.notice').waitFor()
        await page.getByRole('button', { name: catalogue['account.end_all_submit'] }).click()
        await page.waitForURL((url) => url.pathname === '/ui/account/signed-out')
        await inspect('signed-out-everywhere')
        await page.goto(`${base}/ui/account/deleted`)
        await inspect('deleted')
      })
    }
  })

  it('deletes an account from the browser and says goodbye', async () => {
    const user = await registerUser(t)
    await withPage({ locale: 'en-GB', viewport: PHONE }, async (page) => {
      await signIn(page, user)
      await page.getByRole('navigation').getByRole('link', { name: en['account.nav_delete'] }).click()
      await page.getByLabel(en['account.delete_password_label']).fill(user.password)
      await page.getByLabel(en['account.delete_confirm_label'].replace('{word}', 'DELETE')).fill('DELETE')
      await page.getByRole('button', { name: en['account.delete_submit'] }).click()
      await page.waitForURL((url) => url.pathname === '/ui/account/deleted')
      expect(await heading(page)).toBe(en['account.deleted_title'])
    })
    const row = await t.kitsune.database.db
      .selectFrom('users')
      .select('id')
      .where('id', '=', user.id)
      .executeTakeFirst()
    expect(row).toBeUndefined()
  })
})
