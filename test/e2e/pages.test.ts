import { mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailer } from '../../src/mail/mailer.js'
import { en } from '../../src/web/i18n/en.js'
import { es } from '../../src/web/i18n/es.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { chromiumBinary, launchChromium, RECORD_CSP_VIOLATIONS } from '../helpers/chromium.js'
import { login, registerUser } from '../helpers/factories.js'
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js'
import { pgliteTarget } from '../helpers/test-targets.js'

const AXE_PATH = join(process.cwd(), 'node_modules/axe-core/axe.min.js')
const SCREENSHOTS = join(process.cwd(), 'test-results/screenshots')
const WIDTHS = { phone: 360, desktop: 1280 } as const

/** The pages to check, by a name for their screenshot; every one is reachable with a GET. */
const PAGES: Record<string, string> = {
  'forgot-password': '/ui/forgot-password',
  'forgot-password-sent': '/ui/forgot-password/sent',
  'reset-password': '/ui/reset-password?token=not-checked-until-posted',
  'reset-password-done': '/ui/reset-password/done',
  'reset-password-invalid-link': '/ui/reset-password',
  'verify-email': '/ui/verify-email?token=not-checked-until-posted',
  'verify-email-done': '/ui/verify-email/done',
  error: '/ui/error',
  'not-found': '/ui/no-such-page',
}

/** A port nothing listens on now, so PUBLIC_URL (and so the e-mailed links) can name it. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe.skipIf(chromiumBinary.skip)(`hosted pages in Chromium${chromiumBinary.note}`, () => {
  let t: TestApp
  let smtp: TestSmtpServer
  let browser: Browser
  let base: string

  beforeAll(async () => {
    smtp = await startSmtpServer()
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    const mailer = createMailer({
      smtpUrl: smtp.url,
      from: 'Kitsune <no-reply@kitsune.test>',
      logBodies: false,
      retryDelaysMs: [200, 400, 800],
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    })
    t = await buildTestApp({
      target: pgliteTarget,
      env: { PUBLIC_URL: base, SMTP_URL: smtp.url },
      kitsune: { mailer },
    })
    await t.app.listen({ port, host: '127.0.0.1' })
    browser = await launchChromium()
    mkdirSync(SCREENSHOTS, { recursive: true })
  })
  afterAll(async () => {
    await browser?.close()
    await t?.close()
    await smtp?.stop()
  })

  const withContext = async (
    options: Parameters<Browser['newContext']>[0],
    use: (page: Page, context: BrowserContext) => Promise<void>,
  ) => {
    const context = await browser.newContext(options)
    try {
      await use(await context.newPage(), context)
    } finally {
      await context.close()
    }
  }

  it('completes a password reset from the e-mailed link with JavaScript disabled', async () => {
    const user = await registerUser(t)
    await withContext({ javaScriptEnabled: false, viewport: { width: 360, height: 740 } }, async (page) => {
      await page.goto(`${base}/ui/forgot-password`)
      await page.getByLabel(en['forgot.email_label']).fill(user.email)
      await page.getByRole('button', { name: en['forgot.submit'] }).click()
      await expect.poll(() => page.locator('h1').textContent()).toBe(en['forgot.sent_title'])

      const mail = await smtp.waitForMail(
        (m) => m.to.includes(user.email) && m.subject === 'Reset your password',
      )
      const link = mail.text.match(/http:\/\/\S+/)?.[0] ?? ''
      expect(link.startsWith(`${base}/ui/reset-password?token=`)).toBe(true)
      await page.goto(link)
      expect(await page.locator('h1').textContent()).toBe(en['reset.title'])

      // A mismatch first: the form comes back with the summary focused and the link still usable.
      await page.getByLabel(en['reset.new_label'], { exact: true }).fill('a long new passphrase')
      await page.getByLabel(en['reset.confirm_label']).fill('a different passphrase')
      await page.getByRole('button', { name: en['reset.submit'] }).click()
      await expect.poll(() => page.title()).toBe(`Error: ${en['reset.title']} – Kitsune`)
      expect(await page.locator('.error-summary').textContent()).toContain(en['reset.error_mismatch'])
      await page.getByRole('link', { name: en['reset.error_mismatch'] }).click()
      expect(await page.locator('#confirm_password:focus').count()).toBe(1)

      await page.getByLabel(en['reset.new_label'], { exact: true }).fill('a long new passphrase')
      await page.getByLabel(en['reset.confirm_label']).fill('a long new passphrase')
      await page.getByRole('button', { name: en['reset.submit'] }).click()
      await expect.poll(() => page.locator('h1').textContent()).toBe(en['reset.done_title'])
      expect(page.url()).toBe(`${base}/ui/reset-password/done`)
    })
    await login(t, { email: user.email, password: 'a long new passphrase' })
    await expect(login(t, user)).rejects.toThrow(/401/)
  })

  it('loads every page with its stylesheet, no CSP violation, and the error summary focused on load', async () => {
    await withContext({}, async (page) => {
      await page.addInitScript(RECORD_CSP_VIOLATIONS)
      for (const path of Object.values(PAGES)) {
        await page.goto(`${base}${path}`)
        // The stylesheet applied: the page background is the stylesheet's, not the browser's white.
        const background = await page.evaluate(
          () => getComputedStyle(document.body.parentElement as Element).backgroundColor,
        )
        expect(background, path).toBe('rgb(250, 247, 242)')
        expect(await page.evaluate('window.cspViolations'), path).toEqual([])
      }
      await page.goto(`${base}/ui/forgot-password`)
      await page.getByRole('button', { name: en['forgot.submit'] }).click()
      await page.locator('.error-summary').waitFor()
      expect(await page.evaluate(() => document.activeElement?.className)).toBe('error-summary')
      expect(await page.evaluate('window.cspViolations')).toEqual([])
    })
  })

  it('has no serious or critical axe-core violation on any page, in English and Spanish', async () => {
    // axe is a script: CSP is bypassed for this context only, to inject it.
    for (const locale of ['en-GB', 'es-ES']) {
      await withContext({ bypassCSP: true, locale }, async (page) => {
        const check = async (name: string) => {
          await page.addScriptTag({ path: AXE_PATH })
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
          // axe ran its rules on a real page (a blank one passes next to none).
          expect(passes, name).toBeGreaterThan(10)
          const serious = violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => `${v.id} (${v.impact}) at ${JSON.stringify(v.nodes.map((n) => n.target))}`)
          expect(serious, `${name} in ${locale}`).toEqual([])
        }
        for (const [name, path] of Object.entries(PAGES)) {
          await page.goto(`${base}${path}`)
          await check(name)
        }
        await page.goto(`${base}/ui/reset-password?token=x`)
        await page.locator('button[type=submit]').click()
        await page.locator('.error-summary').waitFor()
        await check('reset-password with errors')
      })
    }
  })

  it('saves a screenshot of every page at 360 px and desktop width, in English and Spanish', async () => {
    const catalogues = { en, es }
    for (const [lang, catalogue] of Object.entries(catalogues)) {
      for (const [size, width] of Object.entries(WIDTHS)) {
        await withContext(
          {
            javaScriptEnabled: false,
            locale: lang,
            viewport: { width, height: size === 'phone' ? 740 : 900 },
          },
          async (page) => {
            const shoot = async (name: string) => {
              // Nothing overflows sideways at this width.
              expect(
                await page.evaluate(() => document.documentElement.scrollWidth),
                `${name} ${width}`,
              ).toBeLessThanOrEqual(width)
              await page.screenshot({
                path: join(SCREENSHOTS, `${name}.${lang}.${width}.png`),
                fullPage: true,
              })
            }
            for (const [name, path] of Object.entries(PAGES)) {
              await page.goto(`${base}${path}`)
              expect(await page.locator('html').getAttribute('lang')).toBe(lang)
              await shoot(name)
            }
            await page.goto(`${base}/ui/reset-password?token=x`)
            await page.getByLabel(catalogue['reset.new_label'], { exact: true }).fill('short')
            await page.getByRole('button', { name: catalogue['reset.submit'] }).click()
            await page.locator('.error-summary').waitFor()
            await shoot('reset-password-errors')
            await page.goto(`${base}/ui/forgot-password`)
            await page.getByLabel(catalogue['forgot.email_label']).fill('not-an-address')
            await page.getByRole('button', { name: catalogue['forgot.submit'] }).click()
            await page.locator('.error-summary').waitFor()
            await shoot('forgot-password-errors')
          },
        )
      }
    }
  })
})
