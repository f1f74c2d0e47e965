import { readFileSync } from 'node:fs'
import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MailMessage } from '../../src/mail/mailer.js'
import { en } from '../../src/web/i18n/en.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { chromiumBinary, launchChromium, RECORD_CSP_VIOLATIONS } from '../helpers/chromium.js'
import { login, registerUser, type TestUser } from '../helpers/factories.js'
import { createClient, freePort, memoryMailer, offsetClock } from '../helpers/oidc.js'
import { type RelyingParty, startRelyingParty } from '../helpers/relying-party.js'
import { pgliteTarget } from '../helpers/test-targets.js'
import { totp } from '../helpers/totp.js'

const DESKTOP = { width: 1100, height: 800 }
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
const NEW_PASSWORD = 'a brand new passphrase for the browser'

/**
 * Every task of the account console, done by one person in Chromium from start to finish: what the
 * page says after each step, and what the database holds.
 */
describe.skipIf(chromiumBinary.skip)(`account console tasks in Chromium${chromiumBinary.note}`, () => {
  let t: TestApp
  let browser: Browser
  let base: string
  let user: TestUser
  let rp: RelyingParty
  const originalEmail = { value: '' }
  const mailer = memoryMailer()
  const clock = offsetClock()

  beforeAll(async () => {
    const port = await freePort()
    // localhost: another site than the relying party's http://127.0.0.1:<port>.
    base = `http://localhost:${port}`
    t = await buildTestApp({ target: pgliteTarget, clock, env: { PUBLIC_URL: base }, kitsune: { mailer } })
    await t.app.listen({ port, host: '127.0.0.1' })
    rp = await startRelyingParty(base)
    browser = await launchChromium()
    user = await registerUser(t, { full_name: 'Ada Lovelace' })
    originalEmail.value = user.email
  })
  afterAll(async () => {
    await browser?.close()
    await rp?.close()
    await t?.close()
  })

  const db = () => t.kitsune.database.db

  const withPage = async (options: BrowserContextOptions, use: (page: Page) => Promise<void>) => {
    const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB', ...options })
    context.setDefaultTimeout(10_000)
    await context.addInitScript(RECORD_CSP_VIOLATIONS)
    try {
      await use(await context.newPage())
    } finally {
      await context.close()
    }
  }

  const path = (page: Page) => new URL(page.url()).pathname
  const heading = (page: Page) => page.locator('h1').textContent()
  const main = async (page: Page) => ((await page.locator('main').textContent()) ?? '').replace(/\s+/g, ' ')
  const sessionIdOf = async (page: Page) =>
    (await page.context().cookies()).find((c) => c.name.endsWith('kitsune-session'))?.value.split('.')[0] ??
    ''

  const signIn = async (page: Page, to = '/ui/account') => {
    await page.goto(`${base}${to}`)
    expect(path(page)).toBe('/ui/sign-in')
    await page.getByLabel(en['sign_in.email_label']).fill(user.email)
    await page.getByLabel(en['sign_in.password_label']).fill(user.password)
    await page.getByRole('button', { name: en['sign_in.submit'] }).click()
    await page.waitForURL((url) => url.pathname === to)
  }

  const nav = (page: Page, name: keyof typeof en) =>
    page.getByRole('navigation').getByRole('link', { name: en[name], exact: true }).click()

  const account = () =>
    db()
      .selectFrom('users')
      .select(['email', 'full_name', 'mfa_enabled', 'password_hash'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow()

  const liveSessions = () =>
    db()
      .selectFrom('sessions')
      .select(['id', 'user_agent'])
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .execute()

  const auditCount = async (action: string) =>
    (
      await db()
        .selectFrom('audit_logs')
        .select('id')
        .where('action', '=', action)
        .where((eb) => eb.or([eb('actor_id', '=', user.id), eb('target_id', '=', user.id)]))
        .execute()
    ).length

  const lastMailTo = async (to: string, pathPart: string): Promise<URL> => {
    await t.kitsune.mailer.idle()
    const mail = mailer.messages.filter((m: MailMessage) => m.to === to && m.text.includes(pathPart)).at(-1)
    if (!mail) throw new Error(`no mail to ${to} with a link to ${pathPart}`)
    const link = mail.text.match(/https?:\/\/\S+/g)?.find((u) => u.includes(pathPart)) ?? ''
    return new URL(link)
  }

  /** Every entry of the activity page, following "Older entries" to the end. */
  const activityText = async (page: Page) => {
    let events = ''
    for (let pages = 0; pages < 10; pages++) {
      events += (await page.locator('table tbody').textContent()) ?? ''
      const older = page.getByRole('link', { name: en['account.activity_older'] })
      if ((await older.count()) === 0) break
      await older.click()
    }
    return events
  }

  it('changes the name on the profile page', async () => {
    await withPage({}, async (page) => {
      await signIn(page)
      expect(await heading(page)).toBe(en['account.title'])
      await nav(page, 'account.nav_profile')
      expect(await heading(page)).toBe(en['account.profile_title'])
      await page.getByLabel(en['account.name_label']).fill('Ada King')
      await page.getByRole('button', { name: en['account.profile_submit'] }).click()
      await page.locator('.notice').waitFor()
      expect(await main(page)).toContain(en['account.done_profile'])
      expect(await page.getByLabel(en['account.name_label']).inputValue()).toBe('Ada King')
      expect(await page.evaluate('window.cspViolations')).toEqual([])
    })
    expect((await account()).full_name).toBe('Ada King')
    expect(await auditCount('user.updated')).toBe(1)
  })

  it('changes the e-mail address from the mailed link, then undoes it from the old address’s link', async () => {
    const newEmail = `new-${user.email}`
    await withPage({}, async (page) => {
      await signIn(page)
      await nav(page, 'account.nav_email')
      expect(await heading(page)).toBe(en['account.email_title'])
      await page.getByLabel(en['account.new_email_label']).fill(newEmail)
      await page.getByLabel(en['account.current_password_label']).fill(user.password)
      await page.getByRole('button', { name: en['account.email_submit'] }).click()
      await page.waitForURL((url) => url.search.includes('done=sent'))
      expect(await main(page)).toContain(en['account.done_email_sent'])
      expect((await account()).email).toBe(user.email)
      expect(await auditCount('email.change_requested')).toBe(1)

      // The confirmation link, opened from the new address's inbox in this browser.
      const confirm = await lastMailTo(newEmail, '/ui/email-change')
      expect(confirm.origin).toBe(base)
      await page.goto(confirm.href)
      expect(await heading(page)).toBe(en['email_change.title'])
      await page.getByRole('button', { name: en['email_change.submit'] }).click()
      await page.waitForURL((url) => url.pathname === '/ui/email-change/done')
      expect(await heading(page)).toBe(en['email_change.done_title'])
      expect((await account()).email).toBe(newEmail)
      expect(await auditCount('email.changed')).toBe(1)
      await page.goto(`${base}/ui/account/email`)
      expect(await main(page)).toContain(en['account.email_current'].replace('{email}', newEmail))

      // "This was not me": the link in the notice to the old address.
      const undo = await lastMailTo(originalEmail.value, '/ui/email-change/undo')
      await page.goto(undo.href)
      expect(await heading(page)).toBe(en['email_change.undo_title'])
      await page.getByRole('button', { name: en['email_change.undo_submit'] }).click()
      await page.waitForURL((url) => url.pathname === '/ui/email-change/undo/done')
      expect(await heading(page)).toBe(en['email_change.undo_done_title'])
      expect(await main(page)).toContain(en['email_change.undo_done_body'])

      // Every session ended: this browser is signed out too.
      await page.goto(`${base}/ui/account`)
      expect(path(page)).toBe('/ui/sign-in')
    })
    expect((await account()).email).toBe(originalEmail.value)
    expect(await liveSessions()).toEqual([])
    expect(await auditCount('email.change_undone')).toBe(1)
  })

  it('changes the password, signing in again when the sign-in is old', async () => {
    const api = await login(t, user, { 'user-agent': 'curl/8.5.0' })
    await withPage({}, async (page) => {
      await signIn(page)
      const before = (await account()).password_hash
      // Eleven minutes later the page asks for the password again, then comes back.
      clock.advance(11 * 60)
      await nav(page, 'account.nav_password')
      await page.waitForURL((url) => url.pathname === '/ui/sign-in')
      expect(new URL(page.url()).searchParams.get('reauth')).toBe('1')
      await page.getByLabel(en['sign_in.password_label']).fill(user.password)
      const email = page.getByLabel(en['sign_in.email_label'])
      if (await email.isEditable()) await email.fill(user.email)
      await page.getByRole('button', { name: en['sign_in.submit'] }).click()
      await page.waitForURL((url) => url.pathname === '/ui/account/password')
      expect(await heading(page)).toBe(en['account.password_title'])

      await page.getByLabel(en['account.current_password_label']).fill(user.password)
      await page.getByLabel(en['account.new_password_label'], { exact: true }).fill(NEW_PASSWORD)
      await page.getByLabel(en['account.confirm_password_label']).fill(NEW_PASSWORD)
      await page.getByRole('button', { name: en['account.password_submit'] }).click()
      await page.waitForURL((url) => url.search.includes('done=changed'))
      expect(await main(page)).toContain(en['account.done_password'])
      expect((await account()).password_hash).not.toBe(before)
      // This browser stays signed in; the API session ended.
      const live = await liveSessions()
      expect(live.map((s) => s.id)).toEqual([await sessionIdOf(page)])
    })
    const me = await t.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: { authorization: `Bearer ${api.access_token}` },
    })
    expect(me.statusCode).toBe(401)
    user.password = NEW_PASSWORD
    await login(t, user)
    expect(await auditCount('password.changed')).toBe(1)
  })

  it('ends another session, then every other session, and revokes an application’s access', async () => {
    // A third-party application, which asks for consent when it signs this person in.
    const { clientId, clientSecret } = await createClient(t, {
      client_name: 'Photo Album',
      redirect_uris: [rp.redirectUri],
      scope: 'openid profile email',
      first_party: false,
    })
    await rp.addClient('album', clientId, clientSecret)
    await withPage({}, async (page) => {
      await signIn(page)
      const mine = await sessionIdOf(page)
      await login(t, user, { 'user-agent': FIREFOX })
      await login(t, user, { 'user-agent': 'curl/8.5.0' })
      expect((await liveSessions()).length).toBeGreaterThanOrEqual(3)

      // Sign in to the application from this browser, allowing it on the consent page.
      await page.goto(rp.startUrl('album'))
      await page.waitForURL((url) => url.pathname === '/ui/consent')
      expect(await heading(page)).toBe(en['consent.title'].replace('{client}', 'Photo Album'))
      await page.getByRole('button', { name: en['consent.allow'] }).click()
      await page.waitForURL((url) => url.origin === rp.origin && url.pathname === '/callback')
      expect(await page.locator('#signed-in').textContent()).toBe(`Signed in as ${user.email}`)
      expect(await t.kitsune.services.oidcGrants.consents(user.id)).toHaveLength(1)
      await page.goto(`${base}/ui/account`)

      await nav(page, 'account.nav_sessions')
      expect(await heading(page)).toBe(en['account.sessions_title'])
      const current = (await page.locator('tr.current').textContent()) ?? ''
      expect(current).toContain(en['account.this_session'])
      expect(current).toContain('Photo Album')
      const firefox = page.locator('tbody tr', { hasText: 'Firefox on Linux' })
      expect(await firefox.count()).toBe(1)
      await firefox.getByRole('button').click()
      await page.waitForURL((url) => url.search.includes('done=ended'))
      expect(await main(page)).toContain(en['account.done_session_ended'])
      expect(await page.locator('tbody tr', { hasText: 'Firefox on Linux' }).count()).toBe(0)
      const afterOne = await liveSessions()
      expect(afterOne.some((s) => s.user_agent?.includes('Firefox'))).toBe(false)
      expect(afterOne.length).toBeGreaterThanOrEqual(2)

      await page.getByRole('button', { name: en['account.end_others_submit'] }).click()
      await page.waitForURL((url) => url.search.includes('done=others'))
      expect(await main(page)).toContain(en['account.done_others_ended'])
      expect(await main(page)).toContain(en['account.no_other_sessions'])
      expect((await liveSessions()).map((s) => s.id)).toEqual([mine])

      // The application this person allowed, and its access revoked.
      expect(await main(page)).toContain('Photo Album')
      await page.getByRole('button', { name: `${en['account.revoke']} (Photo Album)` }).click()
      await page.waitForURL((url) => url.search.includes('done=revoked'))
      expect(await main(page)).toContain(en['account.done_revoked'])
      expect(await main(page)).toContain(en['account.no_consents'])
    })
    expect(await t.kitsune.services.oidcGrants.consents(user.id)).toEqual([])
    expect(await auditCount('session.revoked')).toBeGreaterThanOrEqual(1)
    expect(await auditCount('oidc.consent_granted')).toBe(1)
    expect(await auditCount('oidc.consent_revoked')).toBe(1)
  })

  it('turns on two-step verification, keeps the recovery codes, makes new ones and turns it off', async () => {
    await withPage({}, async (page) => {
      await signIn(page)
      await nav(page, 'account.nav_two_factor')
      expect(await main(page)).toContain(en['account.two_factor_off'])
      await page.getByRole('button', { name: en['account.enrol_start'] }).click()
      await expect.poll(() => heading(page)).toBe(en['account.enrol_title'])
      const secret = ((await page.locator('.account-key').textContent()) ?? '').replace(/\s/g, '')
      expect(secret).toMatch(/^[A-Z2-7]{16,}$/)
      await page.getByLabel(en['account.code_label']).fill(totp(secret, clock.now().getTime()))
      await page.getByRole('button', { name: en['account.enrol_submit'] }).click()
      await expect.poll(() => heading(page)).toBe(en['account.codes_title'])
      const codes = await page.locator('.recovery-codes code').allTextContents()
      expect(codes).toHaveLength(10)
      const download = page.waitForEvent('download')
      await page.getByRole('link', { name: en['account.codes_download'] }).click()
      const saved = readFileSync((await (await download).path()) ?? '', 'utf8')
      for (const code of codes) expect(saved).toContain(code)
      expect((await account()).mfa_enabled).toBe(true)
      await page.getByRole('link', { name: en['account.codes_done'] }).click()
      await page.waitForURL((url) => url.pathname === '/ui/account/two-factor')
      expect(await main(page)).toContain(en['account.two_factor_on'])

      // A later step's code (the enrolment's code is spent).
      clock.advance(60)
      await page.locator('#regenerate_code').fill(totp(secret, clock.now().getTime()))
      await page.getByRole('button', { name: en['account.regenerate_submit'] }).click()
      await page.locator('.recovery-codes').waitFor()
      expect(await main(page)).toContain(en['account.done_regenerated'])
      const fresh = await page.locator('.recovery-codes code').allTextContents()
      expect(fresh).toHaveLength(10)
      expect(fresh).not.toEqual(codes)

      await page.goto(`${base}/ui/account/two-factor`)
      clock.advance(60)
      await page.locator('#disable_code').fill(totp(secret, clock.now().getTime()))
      await page.getByRole('button', { name: en['account.disable_submit'] }).click()
      await page.waitForURL((url) => url.search.includes('done=disabled'))
      expect(await main(page)).toContain(en['account.done_disabled'])
      expect(await main(page)).toContain(en['account.two_factor_off'])
    })
    expect((await account()).mfa_enabled).toBe(false)
    expect(await auditCount('mfa.enabled')).toBe(1)
    expect(await auditCount('mfa.disabled')).toBe(1)
  })

  it('lists every step above on the security activity page', async () => {
    await withPage({}, async (page) => {
      await signIn(page)
      await nav(page, 'account.nav_activity')
      expect(await heading(page)).toBe(en['account.activity_title'])
      const events = await activityText(page)
      for (const key of [
        'account.event_user.registered',
        'account.event_user.login',
        'account.event_user.updated',
        'account.event_email.change_requested',
        'account.event_email.changed',
        'account.event_email.change_undone',
        'account.event_password.changed',
        'account.event_session.revoked',
        'account.event_oidc.consent_granted',
        'account.event_oidc.consent_revoked',
        'account.event_mfa.enabled',
        'account.event_mfa.disabled',
      ] as const)
        expect(events, key).toContain(en[key])
    })
  })

  it('names the making of new recovery codes in words on the activity page', async () => {
    await withPage({}, async (page) => {
      await signIn(page, '/ui/account/activity')
      const events = await activityText(page)
      expect(events).not.toContain(
        en['account.event_other'].replace('{action}', 'mfa.recovery_codes_regenerated'),
      )
    })
  })

  it('with JavaScript off: deletes the account with the password and the typed word, and says goodbye', async () => {
    await withPage({ javaScriptEnabled: false }, async (page) => {
      await signIn(page)
      await nav(page, 'account.nav_delete')
      expect(await heading(page)).toBe(en['account.delete_title'])
      await page.getByLabel(en['account.delete_password_label']).fill(user.password)
      await page.getByLabel(en['account.delete_confirm_label'].replace('{word}', 'DELETE')).fill('DELETE')
      await page.getByRole('button', { name: en['account.delete_submit'] }).click()
      await page.waitForURL((url) => url.pathname === '/ui/account/deleted')
      expect(await heading(page)).toBe(en['account.deleted_title'])
      await page.goto(`${base}/ui/account`)
      expect(path(page)).toBe('/ui/sign-in')
    })
    expect(
      await db().selectFrom('users').select('id').where('id', '=', user.id).executeTakeFirst(),
    ).toBeUndefined()
    expect(await db().selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toEqual(
      [],
    )
  })
})
