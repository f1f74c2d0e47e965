import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailer, type Mailer } from '../../src/mail/mailer.js'
import { en } from '../../src/web/i18n/en.js'
import { es } from '../../src/web/i18n/es.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerUser } from '../helpers/factories.js'
import { hiddenField, type PageClient, pageClient } from '../helpers/page-client.js'
import { startSmtpServer, type TestSmtpServer, tokenFromMail } from '../helpers/smtp.js'
import { type TestTarget, testTargets } from '../helpers/test-targets.js'

const CSRF_COOKIE = '__Host-kitsune-csrf'
const RESET_SUBJECT = 'Reset your password'
const VERIFY_SUBJECT = 'Confirm your e-mail address'

let smtp: TestSmtpServer
beforeAll(async () => {
  smtp = await startSmtpServer()
})
afterAll(async () => smtp?.stop())

/** Kitsune mailing to the test SMTP server, so tokens travel by e-mail and never through the log. */
async function buildMailingApp(target: TestTarget, env: Record<string, string> = {}) {
  let t: TestApp | undefined
  const log = () => t?.kitsune.logger.child({ component: 'mail' })
  const mailer: Mailer = createMailer({
    smtpUrl: smtp.url,
    from: 'Kitsune <no-reply@kitsune.test>',
    // Bodies hold tokens; SMTP mode must keep them out of the log even when this is on.
    logBodies: true,
    retryDelaysMs: [200, 400, 800],
    logger: {
      info: (obj, msg) => log()?.info(obj, msg),
      warn: (obj, msg) => log()?.warn(obj, msg),
      error: (obj, msg) => log()?.error(obj, msg),
    },
  })
  t = await buildTestApp({
    target,
    env: { SMTP_URL: smtp.url, PUBLIC_URL: 'https://kitsune.test', ...env },
    kitsune: { mailer },
  })
  return t
}

/** The page path and query of an e-mail's link (`https://kitsune.test/ui/…?token=…`). */
async function linkFromMail(to: string, subject: string): Promise<{ url: string; token: string }> {
  const mail = await smtp.waitForMail((m) => m.to.includes(to) && m.subject === subject)
  const link = new URL(mail.text.match(/https:\/\/\S+/)?.[0] ?? '')
  expect(link.origin).toBe('https://kitsune.test')
  return { url: link.pathname + link.search, token: tokenFromMail(mail) }
}

const csrfOf = (browser: PageClient) => browser.cookie(CSRF_COOKIE) ?? ''

describe.each(testTargets())('page flows on $name', (target: TestTarget) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildMailingApp(target)
  })
  afterAll(async () => t?.close())

  const me = async (email: string, password: string) =>
    (
      await t.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer((await login(t, { email, password })).access_token),
      })
    ).json() as { email_verified: boolean }

  describe('password reset from the e-mailed link', () => {
    it('asks for a link, sets a new password, and only the new one signs in', async () => {
      const user = await registerUser(t)
      const browser = pageClient(t)

      const form = await browser.get('/ui/forgot-password')
      expect(form.statusCode).toBe(200)
      const asked = await browser.post('/ui/forgot-password', {
        csrf: hiddenField(form.body, 'csrf') ?? '',
        email: user.email,
      })
      expect(asked.statusCode).toBe(303)
      expect(asked.headers.location).toBe('/ui/forgot-password/sent')
      const sent = await browser.get(asked.headers.location as string)
      expect(sent.body).toContain(en['forgot.sent_title'])

      const { url, token } = await linkFromMail(user.email, RESET_SUBJECT)
      expect(url).toMatch(/^\/ui\/reset-password\?token=/)
      const page = await browser.get(url)
      expect(page.statusCode).toBe(200)
      expect(hiddenField(page.body, 'token')).toBe(token)
      // Only in the hidden field: not in a link, the form's action or anywhere else.
      expect(page.body.split(token)).toHaveLength(2)

      const done = await browser.post('/ui/reset-password', {
        csrf: csrfOf(browser),
        token,
        new_password: 'a brand new passphrase',
        confirm_password: 'a brand new passphrase',
      })
      expect(done.statusCode).toBe(303)
      expect(done.headers.location).toBe('/ui/reset-password/done')
      const success = await browser.get(done.headers.location as string)
      expect(success.body).toContain(en['reset.done_title'])
      expect(success.body).toContain('href="/ui/sign-in"')

      await expect(login(t, user)).rejects.toThrow(/401/)
      await login(t, { email: user.email, password: 'a brand new passphrase' })

      const again = await browser.post('/ui/reset-password', {
        csrf: csrfOf(browser),
        token,
        new_password: 'yet another passphrase',
        confirm_password: 'yet another passphrase',
      })
      expect(again.statusCode).toBe(400)
      expect(again.body).toContain(en['link.invalid_title'])
      expect(again.body).toContain('href="/ui/forgot-password"')
    })

    it('answers an unknown address exactly as a known one', async () => {
      const browser = pageClient(t)
      await browser.get('/ui/forgot-password')
      const response = await browser.post('/ui/forgot-password', {
        csrf: csrfOf(browser),
        email: 'nobody-here@example.com',
      })
      expect(response.statusCode).toBe(303)
      expect(response.headers.location).toBe('/ui/forgot-password/sent')
    })

    it.each([
      ['', en['forgot.error_email_missing']],
      ['not-an-address', en['forgot.error_email_invalid']],
    ])('shows "%s" back on the form with an error summary linked to the field', async (email, message) => {
      const browser = pageClient(t)
      await browser.get('/ui/forgot-password')
      const response = await browser.post('/ui/forgot-password', { csrf: csrfOf(browser), email })
      expect(response.statusCode).toBe(422)
      expect(response.body).toContain(`<title>Error: ${en['forgot.title']} – Kitsune</title>`)
      expect(response.body).toContain(`<li><a href="#email">${message}</a></li>`)
      expect(response.body).toMatch(/class="error-summary" role="alert"[^>]*autofocus/)
      expect(response.body).toMatch(
        /<input id="email"[^>]*aria-invalid="true" aria-describedby="email-error"/,
      )
    })

    it('keeps the form and the token for a mismatch, a short or a common password, and the link still works', async () => {
      const user = await registerUser(t)
      const browser = pageClient(t)
      await browser.get('/ui/forgot-password')
      await browser.post('/ui/forgot-password', { csrf: csrfOf(browser), email: user.email })
      const { url, token } = await linkFromMail(user.email, RESET_SUBJECT)
      await browser.get(url)
      const attempt = (new_password: string, confirm_password: string) =>
        browser.post('/ui/reset-password', { csrf: csrfOf(browser), token, new_password, confirm_password })

      const cases: Array<[string, string, string, string]> = [
        ['long enough one', 'long enough two', 'confirm_password', en['reset.error_mismatch']],
        ['short', 'short', 'new_password', en['reset.error_too_short'].replace('{min}', '8')],
        ['', '', 'new_password', en['reset.error_new_missing']],
        ['iloveyou', 'iloveyou', 'new_password', en['reset.error_common']],
        [user.email, user.email, 'new_password', en['reset.error_is_email']],
      ]
      for (const [password, confirmation, field, message] of cases) {
        const response = await attempt(password, confirmation)
        expect(response.statusCode).toBe(422)
        expect(response.body).toContain(`<a href="#${field}">${message}</a>`)
        expect(hiddenField(response.body, 'token')).toBe(token)
        // The passwords typed are never sent back.
        if (password) expect(response.body).not.toContain(`value="${password}"`)
      }
      expect((await attempt('finally a good one', 'finally a good one')).statusCode).toBe(303)
    })

    it('speaks Spanish through the whole flow when the link says ui_locales=es', async () => {
      const user = await registerUser(t)
      const browser = pageClient(t)
      await browser.get('/ui/forgot-password')
      await browser.post('/ui/forgot-password', { csrf: csrfOf(browser), email: user.email })
      const { token } = await linkFromMail(user.email, RESET_SUBJECT)
      const page = await browser.get(`/ui/reset-password?token=${token}&ui_locales=es`)
      expect(page.body).toContain('<html lang="es">')
      expect(page.body).toContain(`<h1>${es['reset.title']}</h1>`)
      expect(page.body).toContain('action="/ui/reset-password?ui_locales=es"')
      const mismatch = await browser.post('/ui/reset-password?ui_locales=es', {
        csrf: csrfOf(browser),
        token,
        new_password: 'long enough one',
        confirm_password: 'long enough two',
      })
      expect(mismatch.body).toContain(`<title>Error: ${es['reset.title']} – Kitsune</title>`)
      expect(mismatch.body).toContain(es['reset.error_mismatch'])
      const done = await browser.post('/ui/reset-password?ui_locales=es', {
        csrf: csrfOf(browser),
        token,
        new_password: 'una frase nueva y larga',
        confirm_password: 'una frase nueva y larga',
      })
      expect(done.headers.location).toBe('/ui/reset-password/done?ui_locales=es')
      const success = await browser.get(done.headers.location as string)
      expect(success.body).toContain(es['reset.done_title'])
      expect(success.body).toContain('href="/ui/sign-in?ui_locales=es"')
    })

    it('never writes the token to a log line', async () => {
      const user = await registerUser(t)
      const browser = pageClient(t)
      await browser.get('/ui/forgot-password')
      await browser.post('/ui/forgot-password', { csrf: csrfOf(browser), email: user.email })
      const { url, token } = await linkFromMail(user.email, RESET_SUBJECT)
      await browser.get(url)
      await browser.get(`/ui/reset-password/unknown?token=${token}`)
      await browser.post('/ui/reset-password', {
        csrf: 'wrong',
        token,
        new_password: 'x',
        confirm_password: 'y',
      })
      await browser.post('/ui/reset-password', {
        csrf: csrfOf(browser),
        token,
        new_password: 'the final passphrase',
        confirm_password: 'the final passphrase',
      })
      const routes = t.logs.filter((line) => line.msg === 'request').map((line) => line.route)
      expect(routes).toContain('/ui/reset-password')
      expect(t.logText()).not.toContain(token)
    })
  })

  describe('e-mail verification from the e-mailed link', () => {
    it('shows a button on GET, confirms on POST, and the link then is spent', async () => {
      const user = await registerUser(t)
      const { url, token } = await linkFromMail(user.email, VERIFY_SUBJECT)
      expect(url).toMatch(/^\/ui\/verify-email\?token=/)
      const browser = pageClient(t)
      // A mail scanner fetching the link twice consumes nothing.
      await browser.get(url)
      const page = await browser.get(url)
      expect(page.statusCode).toBe(200)
      expect(page.body).toContain(`<button class="button" type="submit">${en['verify.submit']}</button>`)
      expect(hiddenField(page.body, 'token')).toBe(token)
      expect((await me(user.email, user.password)).email_verified).toBe(false)

      const confirmed = await browser.post('/ui/verify-email', { csrf: csrfOf(browser), token })
      expect(confirmed.statusCode).toBe(303)
      expect(confirmed.headers.location).toBe('/ui/verify-email/done')
      expect((await browser.get('/ui/verify-email/done')).body).toContain(en['verify.done_title'])
      expect((await me(user.email, user.password)).email_verified).toBe(true)

      const spent = await browser.post('/ui/verify-email', { csrf: csrfOf(browser), token })
      expect(spent.statusCode).toBe(400)
      expect(spent.body).toContain(en['link.invalid_title'])
      expect(t.logText()).not.toContain(token)
    })

    it('answers an unknown token with the invalid-link page', async () => {
      const browser = pageClient(t)
      await browser.get('/ui/verify-email?token=not-a-real-token')
      const response = await browser.post('/ui/verify-email', {
        csrf: csrfOf(browser),
        token: 'not-a-real-token',
      })
      expect(response.statusCode).toBe(400)
      expect(response.body).toContain(en['link.invalid_verify_body'])
    })
  })

  describe('CSRF', () => {
    const TOKEN_SHAPED = 'A'.repeat(43)
    it.each([
      ['no cookie and no field', undefined, undefined],
      ['a field but no cookie', undefined, TOKEN_SHAPED],
      ['a cookie but no field', TOKEN_SHAPED, undefined],
      ['a field that differs from the cookie', TOKEN_SHAPED, `${'B'.repeat(42)}A`],
      ['a cookie Kitsune never issues, matched by the field', 'x', 'x'],
    ])('refuses a reset with %s (403) and changes nothing', async (_case, cookie, field) => {
      const user = await registerUser(t)
      const browser = pageClient(t)
      await browser.get('/ui/forgot-password')
      await browser.post('/ui/forgot-password', { csrf: csrfOf(browser), email: user.email })
      const { token } = await linkFromMail(user.email, RESET_SUBJECT)

      const attacker = pageClient(t)
      if (cookie !== undefined) attacker.setCookie(CSRF_COOKIE, cookie)
      const fields: Record<string, string> = {
        token,
        new_password: 'hijacked passphrase',
        confirm_password: 'hijacked passphrase',
      }
      if (field !== undefined) fields.csrf = field
      const response = await attacker.post('/ui/reset-password', fields)
      expect(response.statusCode).toBe(403)
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(response.body).toContain(en['error.csrf_title'])

      await login(t, user)
      await expect(login(t, { email: user.email, password: 'hijacked passphrase' })).rejects.toThrow(/401/)
      // The link still works for its owner.
      await browser.get(`/ui/reset-password?token=${token}`)
      const owner = await browser.post('/ui/reset-password', {
        csrf: csrfOf(browser),
        token,
        new_password: 'the owner chose this',
        confirm_password: 'the owner chose this',
      })
      expect(owner.statusCode).toBe(303)
    })

    it('refuses a verification without the browser’s token and leaves the address unverified', async () => {
      const user = await registerUser(t)
      const { token } = await linkFromMail(user.email, VERIFY_SUBJECT)
      const response = await pageClient(t).post('/ui/verify-email', { token })
      expect(response.statusCode).toBe(403)
      expect((await me(user.email, user.password)).email_verified).toBe(false)
    })

    it('refuses a form another site sent (Sec-Fetch-Site: cross-site) even with the right token', async () => {
      const browser = pageClient(t)
      await browser.get('/ui/forgot-password')
      const fields = { csrf: csrfOf(browser), email: 'someone@example.com' }
      expect(
        (await browser.post('/ui/forgot-password', fields, { 'sec-fetch-site': 'cross-site' })).statusCode,
      ).toBe(403)
      expect(
        (await browser.post('/ui/forgot-password', fields, { 'sec-fetch-site': 'same-origin' })).statusCode,
      ).toBe(303)
    })

    it('gives a browser refused for lacking a cookie a fresh one, so reloading the form works', async () => {
      const browser = pageClient(t)
      const refused = await browser.post('/ui/forgot-password', { email: 'someone@example.com' })
      expect(refused.statusCode).toBe(403)
      expect(browser.cookie(CSRF_COOKIE)).toMatch(/^[A-Za-z0-9_-]{43}$/)
    })
  })
})

describe.each(testTargets())('page rate limits on $name', (target: TestTarget) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildMailingApp(target, { RATE_LIMIT_FORGOT: '2/1m' })
  })
  afterAll(async () => t?.close())

  it('limits the forgot-password form like the JSON API, with an error page and Retry-After', async () => {
    const browser = pageClient(t)
    await browser.get('/ui/forgot-password')
    const ask = () =>
      browser.post(
        '/ui/forgot-password',
        { csrf: csrfOf(browser), email: 'limit@example.com' },
        { 'accept-language': 'es' },
      )
    expect((await ask()).statusCode).toBe(303)
    expect((await ask()).statusCode).toBe(303)
    const limited = await ask()
    expect(limited.statusCode).toBe(429)
    expect(limited.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(limited.headers['content-security-policy']).toContain("style-src 'self'")
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect(limited.body).toContain('<html lang="es">')
    expect(limited.body).toContain(es['error.rate_limited_title'])
    // The page itself (GET) is not under the form's tighter limit.
    expect((await browser.get('/ui/forgot-password')).statusCode).toBe(200)
  })
})
