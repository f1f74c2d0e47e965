import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as oidc from 'openid-client'
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createMailer } from '../../src/mail/mailer.js'
import { en } from '../../src/web/i18n/en.js'
import { es } from '../../src/web/i18n/es.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { chromiumBinary, launchChromium, RECORD_CSP_VIOLATIONS } from '../helpers/chromium.js'
import { registerUser } from '../helpers/factories.js'
import { type AdvancingClock, enrolMfa, TOTP_STEP_SECONDS, totpAt } from '../helpers/mfa.js'
import { createClient, freePort } from '../helpers/oidc.js'
import { type RelyingParty, startRelyingParty } from '../helpers/relying-party.js'
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js'
import { pgliteTarget } from '../helpers/test-targets.js'

const AXE_SOURCE = readFileSync(join(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8')
const SCREENSHOTS = join(process.cwd(), 'test-results/screenshots')
const DESKTOP = { width: 1000, height: 760 }
const PHONE = { width: 360, height: 740 }
const MFA_ACR = 'urn:kitsune:acr:mfa'

/** A violation the browser reported, with the document it was reported in. */
interface CspViolation {
  url: string
  directive?: string
  blocked?: string
  source?: string
  sample?: string
  message?: string
}

/**
 * The TOTP codes the test computes: half a step behind the server's real clock for the enrolment's
 * confirmation (the previous step, accepted with ±1 of drift), then, after enrolMfa moves it two
 * steps on, half a step ahead (the next step): a fresh step the sign-in can use at once.
 */
function codeClock(): AdvancingClock {
  let offsetMs = -TOTP_STEP_SECONDS * 1000
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance(seconds) {
      offsetMs += seconds * 1000
    },
  }
}

describe.skipIf(chromiumBinary.skip)(
  `OpenID sign-in through Kitsune's pages in Chromium${chromiumBinary.note}`,
  () => {
    let t: TestApp
    let smtp: TestSmtpServer
    let rp: RelyingParty
    let browser: Browser
    let issuer: string
    let firstConfig: oidc.Configuration
    let deviceConfig: oidc.Configuration
    const violations: CspViolation[] = []
    beforeEach(() => {
      violations.length = 0
    })

    beforeAll(async () => {
      smtp = await startSmtpServer()
      const port = await freePort()
      issuer = `http://localhost:${port}`
      const mailer = createMailer({
        smtpUrl: smtp.url,
        from: 'Kitsune <no-reply@kitsune.test>',
        logBodies: false,
        retryDelaysMs: [200, 400, 800],
        logger: { info: () => {}, warn: () => {}, error: () => {} },
      })
      t = await buildTestApp({
        target: pgliteTarget,
        env: { PUBLIC_URL: issuer, SMTP_URL: smtp.url },
        kitsune: { mailer },
      })
      await t.app.listen({ port, host: '127.0.0.1' })
      rp = await startRelyingParty(issuer)

      const first = await createClient(t, {
        client_name: 'Example Notes',
        redirect_uris: [rp.redirectUri],
        scope: 'openid profile email',
        first_party: true,
      })
      const third = await createClient(t, {
        client_name: 'Photo Printer',
        redirect_uris: [rp.redirectUri],
        scope: 'openid profile email',
        first_party: false,
      })
      const device = await createClient(t, {
        client_name: 'Living Room TV',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
        scope: 'openid email',
        first_party: true,
      })
      firstConfig = await rp.addClient('first', first.clientId, first.clientSecret)
      await rp.addClient('third', third.clientId, third.clientSecret)
      deviceConfig = await rp.addClient('device', device.clientId, device.clientSecret)

      browser = await launchChromium()
      mkdirSync(SCREENSHOTS, { recursive: true })
    })

    afterAll(async () => {
      await browser?.close()
      await rp?.close()
      await t?.close()
      await smtp?.stop()
    })

    /**
     * A browser context whose CSP violations all land in `violations`: the securitypolicyviolation
     * events (RECORD_CSP_VIOLATIONS, forwarded out of the page before it navigates away) and the
     * messages Chromium writes to the console for them (those come with JavaScript disabled too).
     */
    const withContext = async (
      options: BrowserContextOptions,
      use: (page: Page, context: BrowserContext) => Promise<void>,
    ) => {
      const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB', ...options })
      try {
        await context.exposeBinding(
          'reportCspViolation',
          ({ frame }, violation: Omit<CspViolation, 'url'>) => {
            violations.push({ url: frame.url(), ...violation })
          },
        )
        await context.addInitScript(
          `${RECORD_CSP_VIOLATIONS}
        document.addEventListener('securitypolicyviolation', (event) => {
          window.reportCspViolation({
            directive: event.effectiveDirective,
            blocked: event.blockedURI,
            source: event.sourceFile + ':' + event.lineNumber,
            sample: event.sample,
          })
        })`,
        )
        context.on('console', (message) => {
          if (/Content Security Policy/i.test(message.text()))
            violations.push({ url: message.page()?.url() ?? '', message: message.text() })
        })
        const page = await context.newPage()
        await use(page, context)
      } finally {
        await context.close()
      }
    }

    const onKitsune = (url: string) => url.startsWith(`${issuer}/`)
    const kitsuneViolations = () => violations.filter((v) => onKitsune(v.url) || v.url === '')

    /** Waits for the page to reach `where`; on a timeout, says where it is and what the browser blocked. */
    const landOn = async (page: Page, where: (url: URL) => boolean, what: string) => {
      try {
        await page.waitForURL(where, { timeout: 10_000, waitUntil: 'load' })
      } catch {
        const text = (
          (await page
            .locator('main')
            .textContent({ timeout: 1000 })
            .catch(() => null)) ?? ''
        ).slice(0, 500)
        throw new Error(
          `never reached ${what}; still at ${page.url()}\n${text}\nCSP violations: ${JSON.stringify(violations)}\n` +
            `relying party: ${JSON.stringify(rp.failures)}`,
        )
      }
    }
    const atPath = (path: string) => (url: URL) => url.origin === issuer && url.pathname === path
    const atCallback = (url: URL) => url.origin === rp.origin && url.pathname === '/callback'

    /**
     * axe-core on the page as it is (no serious or critical violation), a screenshot at 1000 px,
     * and nothing wider than a 360 px screen. axe is evaluated through the DevTools protocol, which
     * the page's CSP does not govern, so the page keeps its policy.
     */
    const inspect = async (page: Page, name: string) => {
      expect(onKitsune(page.url()), `${name} is one of Kitsune's pages`).toBe(true)
      await page.evaluate(AXE_SOURCE)
      const { violations: found, passes } = (await page.evaluate(async () => {
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
      const serious = found
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}) at ${JSON.stringify(v.nodes.map((n) => n.target))}`)
      expect(serious, `axe on ${name}`).toEqual([])

      await page.screenshot({ path: join(SCREENSHOTS, `oidc-${name}.png`), fullPage: true })
      await page.setViewportSize(PHONE)
      expect(
        await page.evaluate(() => document.documentElement.scrollWidth),
        `${name} at 360 px`,
      ).toBeLessThanOrEqual(PHONE.width)
      await page.setViewportSize(DESKTOP)
    }

    const heading = (page: Page) => page.locator('h1').textContent()

    /** Fills Kitsune's sign-in form and submits it. */
    const signIn = async (page: Page, user: { email: string; password: string }) => {
      await page.getByLabel(en['sign_in.email_label']).fill(user.email)
      await page.getByLabel(en['sign_in.password_label']).fill(user.password)
      await page.getByRole('button', { name: en['sign_in.submit'] }).click()
    }

    const expectSignedInAt = async (page: Page, email: string) => {
      await landOn(page, atCallback, "the application's callback")
      expect(await page.locator('#signed-in').textContent()).toBe(`Signed in as ${email}`)
    }

    it('signs in with e-mail and password for a first-party application, then connects a device and signs out', async () => {
      const user = await registerUser(t)
      await withContext({}, async (page) => {
        await page.goto(rp.startUrl('first'))
        await landOn(page, atPath('/ui/sign-in'), 'the sign-in page')
        expect(await heading(page)).toBe(en['sign_in.title'])
        expect(await page.locator('main').textContent()).toContain('Example Notes')
        await inspect(page, 'sign-in')

        // The sign-up page, from the sign-in page's link, keeps the application's sign-in.
        await page.getByRole('link', { name: en['sign_in.sign_up'] }).click()
        await landOn(page, atPath('/ui/sign-up'), 'the sign-up page')
        expect(new URL(page.url()).searchParams.get('interaction')).toBeTruthy()
        expect(await heading(page)).toBe(en['sign_up.title'])
        await inspect(page, 'sign-up')
        await page.getByRole('link', { name: en['sign_up.have_account'] }).click()
        await landOn(page, atPath('/ui/sign-in'), 'the sign-in page again')

        await signIn(page, user)
        await expectSignedInAt(page, user.email)
        expect(await page.locator('#acr').textContent()).toBe('urn:kitsune:acr:pwd')

        await page.goto(`${issuer}/ui/account`)
        expect(await heading(page)).toBe(en['account.title'])
        expect(await page.locator('main').textContent()).toContain(user.email)
        await inspect(page, 'account')

        // A device (a TV) asks for a code; the person enters it on /ui/device, already signed in.
        const authorization = await oidc.initiateDeviceAuthorization(deviceConfig, { scope: 'openid email' })
        expect(authorization.verification_uri).toBe(`${issuer}/ui/device`)
        await page.goto(authorization.verification_uri)
        expect(await heading(page)).toBe(en['device.title'])
        await inspect(page, 'device')
        await page.getByLabel(en['device.code_label']).fill(authorization.user_code)
        await page.getByRole('button', { name: en['device.submit'] }).click()
        await page.getByRole('heading', { name: en['device.confirm_title'] }).waitFor({ timeout: 10_000 })
        expect(await page.locator('main').textContent()).toContain('Living Room TV')
        await inspect(page, 'device-confirm')
        await page.getByRole('button', { name: en['device.confirm_submit'] }).click()
        await page.getByRole('heading', { name: en['device.done_title'] }).waitFor({ timeout: 10_000 })
        const tokens = await oidc.genericGrantRequest(
          deviceConfig,
          'urn:ietf:params:oauth:grant-type:device_code',
          {
            device_code: authorization.device_code,
          },
        )
        expect(tokens.claims()?.sub).toBe(user.id)

        await page.goto(`${issuer}/ui/sign-out`)
        expect(await heading(page)).toBe(en['sign_out.title'])
        expect(await page.locator('main').textContent()).toContain(user.email)
        await inspect(page, 'sign-out')
        await page.getByRole('button', { name: en['sign_out.submit'] }).click()
        await landOn(page, atPath('/ui/sign-out/done'), 'the signed-out page')
        await page.goto(`${issuer}/ui/account`)
        await landOn(page, atPath('/ui/sign-in'), 'the sign-in page after signing out')
      })
      expect(kitsuneViolations()).toEqual([])
    })

    it('asks for the second factor on the MFA step when the application sends acr_values for it', async () => {
      const clock = codeClock()
      const { user, secret } = await enrolMfa(t, clock)
      await withContext({}, async (page) => {
        await page.goto(rp.startUrl('first', { acr_values: MFA_ACR }))
        await landOn(page, atPath('/ui/sign-in'), 'the sign-in page')
        await signIn(page, user)
        await page.getByRole('heading', { name: en['mfa.title'] }).waitFor({ timeout: 10_000 })
        expect(new URL(page.url()).pathname).toBe('/ui/sign-in')
        await inspect(page, 'mfa')
        await page.getByLabel(en['mfa.code_label']).fill(totpAt(clock, secret))
        await page.getByRole('button', { name: en['mfa.submit'] }).click()
        await expectSignedInAt(page, user.email)
        expect(await page.locator('#acr').textContent()).toBe(MFA_ACR)
        expect(await page.locator('#amr').textContent()).toBe('pwd otp')
      })
      expect(kitsuneViolations()).toEqual([])
    })

    it('signs in with JavaScript disabled', async () => {
      const user = await registerUser(t)
      await withContext({ javaScriptEnabled: false }, async (page) => {
        await page.goto(rp.startUrl('first'))
        await landOn(page, atPath('/ui/sign-in'), 'the sign-in page')
        await signIn(page, user)
        await expectSignedInAt(page, user.email)
      })
      expect(kitsuneViolations()).toEqual([])
    })

    it('asks for consent for a third-party application, and remembers it', async () => {
      // A readable address: this page's screenshot is the one the documentation shows.
      const user = await registerUser(t, { email: 'ada@example.com', full_name: 'Ada Lovelace' })
      await withContext({}, async (page) => {
        await page.goto(rp.startUrl('third'))
        await landOn(page, atPath('/ui/sign-in'), 'the sign-in page')
        await signIn(page, user)
        await landOn(page, atPath('/ui/consent'), 'the consent page')
        expect(await heading(page)).toBe(en['consent.title'].replace('{client}', 'Photo Printer'))
        const text = await page.locator('main').textContent()
        expect(text).toContain(user.email)
        expect(text).toContain(en['consent.scope_email'])
        await inspect(page, 'consent')
        await page.getByRole('button', { name: en['consent.allow'] }).click()
        await expectSignedInAt(page, user.email)

        // Allowed once: the next sign-in from the same application goes straight back.
        await page.goto(rp.startUrl('third'))
        await expectSignedInAt(page, user.email)
      })
      expect(kitsuneViolations()).toEqual([])
    })

    it("resets the password from the e-mail's link, then signs in with the new one", async () => {
      const user = await registerUser(t)
      const newPassword = 'a long new passphrase for the printer'
      await withContext({}, async (page) => {
        await page.goto(`${issuer}/ui/forgot-password`)
        expect(await heading(page)).toBe(en['forgot.title'])
        await inspect(page, 'forgot-password')
        await page.getByLabel(en['forgot.email_label']).fill(user.email)
        await page.getByRole('button', { name: en['forgot.submit'] }).click()
        await landOn(page, atPath('/ui/forgot-password/sent'), 'the link-sent page')

        const mail = await smtp.waitForMail((m) => m.to.includes(user.email) && /reset/i.test(m.subject))
        const link = mail.text.match(/https?:\/\/\S+/)?.[0] ?? ''
        expect(link.startsWith(`${issuer}/ui/reset-password?token=`), link).toBe(true)
        await page.goto(link)
        expect(await heading(page)).toBe(en['reset.title'])
        await inspect(page, 'reset-password')
        await page.getByLabel(en['reset.new_label'], { exact: true }).fill(newPassword)
        await page.getByLabel(en['reset.confirm_label']).fill(newPassword)
        await page.getByRole('button', { name: en['reset.submit'] }).click()
        await landOn(page, atPath('/ui/reset-password/done'), 'the password-changed page')

        await page.goto(rp.startUrl('first'))
        await landOn(page, atPath('/ui/sign-in'), 'the sign-in page')
        await signIn(page, user)
        expect(await page.locator('.error-summary').textContent()).toContain(en['sign_in.error_invalid'])
        await signIn(page, { email: user.email, password: newPassword })
        await expectSignedInAt(page, user.email)
      })
      expect(kitsuneViolations()).toEqual([])
    })

    it('shows the error page, not a redirect, for a redirect_uri the client never registered', async () => {
      await withContext({}, async (page) => {
        const url = oidc.buildAuthorizationUrl(firstConfig, {
          redirect_uri: 'http://127.0.0.1:9/not-registered',
          scope: 'openid',
          code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
          state: oidc.randomState(),
        })
        const response = await page.goto(url.href)
        expect(response?.status()).toBe(400)
        expect(page.url()).toBe(url.href)
        expect(await heading(page)).toBe(en['oidc_error.title'])
        expect(await page.locator('main').textContent()).toContain('redirect_uri')
        await inspect(page, 'error')
      })
      expect(kitsuneViolations()).toEqual([])
    })

    // Browsers check every redirect after a form submission against the form-action of the page
    // that held the form: the pages of an application's sign-in allow its redirect URIs there.
    it('lets the sign-in form end in a redirect to the application, with the CSP Kitsune sends', async () => {
      const user = await registerUser(t)
      await withContext({}, async (page) => {
        await page.goto(rp.startUrl('first'))
        await landOn(page, atPath('/ui/sign-in'), 'the sign-in page')
        await signIn(page, user)
        // Either the application's page, or the browser's report of what it blocked.
        await expect
          .poll(() => atCallback(new URL(page.url())) || kitsuneViolations().length > 0, {
            timeout: 10_000,
          })
          .toBe(true)
        expect(kitsuneViolations()).toEqual([])
        await expectSignedInAt(page, user.email)
      })
    })

    it('shows the sign-in page in Spanish for ui_locales=es', async () => {
      await withContext({}, async (page) => {
        await page.goto(rp.startUrl('first', { ui_locales: 'es' }))
        await landOn(page, atPath('/ui/sign-in'), 'the sign-in page')
        expect(await page.locator('html').getAttribute('lang')).toBe('es')
        expect(await heading(page)).toBe(es['sign_in.title'])
        expect(await page.getByLabel(es['sign_in.password_label']).count()).toBe(1)
        await inspect(page, 'sign-in.es')
      })
      expect(kitsuneViolations()).toEqual([])
    })
  },
)
