import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { en } from '../../src/web/i18n/en.js'
import { es } from '../../src/web/i18n/es.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { login, registerUser, type TestUser } from '../helpers/factories.js'
import { totpAt, wrongCode } from '../helpers/mfa.js'
import { createClient, offsetClock } from '../helpers/oidc.js'
import { hiddenField, type PageClient, pageClient } from '../helpers/page-client.js'
import { testTargets } from '../helpers/test-targets.js'

const COOKIE = 'kitsune-session'

/** The text of a page without its markup and with entities decoded, to look for a message in it. */
const text = (html: string) =>
  html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')

describe.each(testTargets())('account console at /ui/account ($name)', (target) => {
  let t: TestApp
  const clock = offsetClock()
  beforeAll(async () => {
    t = await buildTestApp({ target, clock })
  })
  afterAll(async () => t?.close())

  const db = () => t.kitsune.database.db

  /** A browser signed in to the pages as `user`; `csrf` is its form token. */
  async function signedIn(user: TestUser): Promise<PageClient & { csrf: string }> {
    const browser = pageClient(t)
    const form = await browser.get('/ui/sign-in')
    const csrf = hiddenField(form.body, 'csrf') ?? ''
    const response = await browser.post('/ui/sign-in', { csrf, email: user.email, password: user.password })
    expect(response.statusCode).toBe(303)
    expect(browser.cookie(COOKIE)).toBeTruthy()
    return Object.assign(browser, { csrf })
  }

  const auditOf = (action: string, userId: string) =>
    db()
      .selectFrom('audit_logs')
      .select(['actor_id', 'target_id', 'metadata', 'ip', 'user_agent'])
      .where('action', '=', action)
      .where((eb) => eb.or([eb('actor_id', '=', userId), eb('target_id', '=', userId)]))
      .execute()

  const sessionIdOf = (browser: PageClient) => (browser.cookie(COOKIE) ?? '').split('.')[0] ?? ''

  it('sends a browser without a sign-in to the sign-in page, coming back to the page it asked for', async () => {
    const browser = pageClient(t)
    for (const path of [
      '/ui/account',
      '/ui/account/profile',
      '/ui/account/sessions',
      '/ui/account/activity',
      '/ui/account/password',
      '/ui/account/two-factor',
      '/ui/account/delete',
    ]) {
      const response = await browser.get(path)
      expect(response.statusCode, path).toBe(303)
      expect(response.headers.location, path).toBe(`/ui/sign-in?return_to=${path}`)
    }
    const response = await browser.get('/ui/account?ui_locales=es')
    expect(response.headers.location).toBe('/ui/sign-in?return_to=/ui/account&ui_locales=es')
    // A form posted without a sign-in (with a valid CSRF token) changes nothing and goes to sign in.
    const form = await browser.get('/ui/sign-in')
    const posted = await browser.post('/ui/account/sessions/end-all', {
      csrf: hiddenField(form.body, 'csrf') ?? '',
    })
    expect(posted.statusCode).toBe(303)
    expect(posted.headers.location).toBe('/ui/sign-in?return_to=/ui/account/sessions')
  })

  it('shows who is signed in, every section and a sign-out form, in English and Spanish', async () => {
    const user = await registerUser(t, { full_name: 'Ada Lovelace' })
    const browser = await signedIn(user)
    const page = await browser.get('/ui/account')
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain(user.email)
    expect(page.body).toContain('Ada Lovelace')
    for (const path of ['profile', 'email', 'password', 'sessions', 'two-factor', 'activity', 'delete'])
      expect(page.body).toContain(`href="/ui/account/${path}"`)
    expect(page.body).toContain('action="/ui/sign-out"')
    expect(page.body).toContain('aria-current="page"')
    const spanish = await browser.get('/ui/account?ui_locales=es')
    expect(spanish.body).toContain(es['account.nav_sessions'])
    expect(spanish.body).toContain('href="/ui/account/sessions?ui_locales=es"')
  })

  it('saves the name (users.updateMe, audited) and reports a name that is too long on its field', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    const saved = await browser.post('/ui/account/profile', {
      csrf: browser.csrf,
      full_name: '  Grace Hopper ',
    })
    expect(saved.statusCode).toBe(303)
    expect(saved.headers.location).toBe('/ui/account/profile?done=saved')
    const row = await db()
      .selectFrom('users')
      .select('full_name')
      .where('id', '=', user.id)
      .executeTakeFirst()
    expect(row?.full_name).toBe('Grace Hopper')
    expect(await auditOf('user.updated', user.id)).toHaveLength(1)
    const shown = await browser.get('/ui/account/profile?done=saved')
    expect(text(shown.body)).toContain(en['account.done_profile'])
    expect(shown.body).toContain('value="Grace Hopper"')

    const long = await browser.post('/ui/account/profile', { csrf: browser.csrf, full_name: 'x'.repeat(201) })
    expect(long.statusCode).toBe(422)
    expect(long.body).toContain('id="full_name-error"')
    expect(text(long.body)).toContain(en['account.error_name_long'])

    const cleared = await browser.post('/ui/account/profile', { csrf: browser.csrf, full_name: '' })
    expect(cleared.statusCode).toBe(303)
    const after = await db()
      .selectFrom('users')
      .select('full_name')
      .where('id', '=', user.id)
      .executeTakeFirst()
    expect(after?.full_name).toBeNull()
  })

  it('refuses a form without its CSRF token or with another browser’s', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    const bare = await browser.post('/ui/account/profile', { full_name: 'Mallory' })
    expect(bare.statusCode).toBe(403)
    const other = await pageClient(t).get('/ui/sign-in')
    const foreign = await browser.post('/ui/account/profile', {
      csrf: hiddenField(other.body, 'csrf') ?? '',
      full_name: 'Mallory',
    })
    expect(foreign.statusCode).toBe(403)
    const crossSite = await browser.post(
      '/ui/account/sessions/end-all',
      { csrf: browser.csrf },
      { 'sec-fetch-site': 'cross-site' },
    )
    expect(crossSite.statusCode).toBe(403)
    const row = await db()
      .selectFrom('users')
      .select('full_name')
      .where('id', '=', user.id)
      .executeTakeFirst()
    expect(row?.full_name).toBeNull()
  })

  it('shows the e-mail address and its change form', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    const page = await browser.get('/ui/account/email')
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain(user.email)
    expect(page.body).toContain('name="new_email"')
  })

  it('asks for an e-mail change through emailChange.request: errors on their fields, then audited', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    const page = await browser.get('/ui/account/email')
    expect(page.body).toContain('name="new_email"')
    const newEmail = `new-${user.email}`
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ new_email: '', password: user.password }, 422, 'new_email'],
      [{ new_email: 'not-an-address', password: user.password }, 422, 'new_email'],
      [{ new_email: user.email.toUpperCase(), password: user.password }, 422, 'new_email'],
      [{ new_email: newEmail, password: '' }, 422, 'password'],
      [{ new_email: newEmail, password: 'not the password' }, 401, 'password'],
    ]
    for (const [fields, status, field] of cases) {
      const response = await browser.post('/ui/account/email', { csrf: browser.csrf, ...fields })
      expect(response.statusCode, JSON.stringify(fields)).toBe(status)
      expect(response.body).toContain(`id="${field}-error"`)
    }
    expect(await auditOf('email.change_requested', user.id)).toHaveLength(0)
    const sent = await browser.post('/ui/account/email', {
      csrf: browser.csrf,
      new_email: newEmail,
      password: user.password,
    })
    expect(sent.statusCode).toBe(303)
    expect(sent.headers.location).toBe('/ui/account/email?done=sent')
    expect(text((await browser.get('/ui/account/email?done=sent')).body)).toContain(
      en['account.done_email_sent'],
    )
    expect(await auditOf('email.change_requested', user.id)).toHaveLength(1)
    // The address changes only when the link is used.
    const row = await db().selectFrom('users').select('email').where('id', '=', user.id).executeTakeFirst()
    expect(row?.email).toBe(user.email)

    await db()
      .updateTable('sessions')
      .set({ auth_time: new Date(clock.now().getTime() - 11 * 60_000) })
      .where('id', '=', sessionIdOf(browser))
      .execute()
    expect((await browser.get('/ui/account/email')).headers.location).toBe(
      '/ui/sign-in?return_to=/ui/account/email&reauth=1',
    )
  })

  it('asks for the password again when the sign-in is older than 10 minutes, then comes back', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    expect((await browser.get('/ui/account/password')).statusCode).toBe(200)
    // Age the browser's sign-in in the database: 11 minutes ago.
    await db()
      .updateTable('sessions')
      .set({ auth_time: new Date(clock.now().getTime() - 11 * 60_000) })
      .where('id', '=', sessionIdOf(browser))
      .execute()
    for (const path of ['/ui/account/password', '/ui/account/two-factor', '/ui/account/delete']) {
      const response = await browser.get(path)
      expect(response.statusCode, path).toBe(303)
      expect(response.headers.location, path).toBe(`/ui/sign-in?return_to=${path}&reauth=1`)
    }
    // A form posted with a stale sign-in changes nothing.
    const posted = await browser.post('/ui/account/password', {
      csrf: browser.csrf,
      current_password: user.password,
      new_password: 'a brand new passphrase',
      confirm_password: 'a brand new passphrase',
    })
    expect(posted.headers.location).toBe('/ui/sign-in?return_to=/ui/account/password&reauth=1')
    expect(await auditOf('password.changed', user.id)).toHaveLength(0)
    // Pages that change nothing sensitive still open.
    expect((await browser.get('/ui/account/sessions')).statusCode).toBe(200)

    const again = await browser.get('/ui/sign-in?return_to=/ui/account/password&reauth=1')
    expect(again.statusCode).toBe(200)
    const back = await browser.post('/ui/sign-in', {
      csrf: browser.csrf,
      email: user.email,
      password: user.password,
      return_to: '/ui/account/password',
    })
    expect(back.headers.location).toBe('/ui/account/password')
    expect((await browser.get('/ui/account/password')).statusCode).toBe(200)
  })

  it('changes the password: errors on their fields, then the change ends the other sessions only', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    const api = await login(t, user)
    const wrong = await browser.post('/ui/account/password', {
      csrf: browser.csrf,
      current_password: 'not the password',
      new_password: 'a brand new passphrase',
      confirm_password: 'a brand new passphrase',
    })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.body).toContain('id="current_password-error"')
    const common = await browser.post('/ui/account/password', {
      csrf: browser.csrf,
      current_password: user.password,
      new_password: 'password123',
      confirm_password: 'password123',
    })
    expect(common.statusCode).toBe(422)
    expect(common.body).toContain('id="new_password-error"')
    expect(text(common.body)).toContain(en['reset.error_common'])
    const mismatch = await browser.post('/ui/account/password', {
      csrf: browser.csrf,
      current_password: user.password,
      new_password: 'a brand new passphrase',
      confirm_password: 'another passphrase',
    })
    expect(mismatch.statusCode).toBe(422)
    expect(mismatch.body).toContain('id="confirm_password-error"')

    const changed = await browser.post('/ui/account/password', {
      csrf: browser.csrf,
      current_password: user.password,
      new_password: 'a brand new passphrase',
      confirm_password: 'a brand new passphrase',
    })
    expect(changed.statusCode).toBe(303)
    expect(changed.headers.location).toBe('/ui/account/password?done=changed')
    expect(text((await browser.get('/ui/account/password?done=changed')).body)).toContain(
      en['account.done_password'],
    )
    // This browser stays signed in; the API session ended.
    expect((await browser.get('/ui/account')).statusCode).toBe(200)
    const me = await t.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: { authorization: `Bearer ${api.access_token}` },
    })
    expect(me.statusCode).toBe(401)
    await login(t, { email: user.email, password: 'a brand new passphrase' })
    const audit = await auditOf('password.changed', user.id)
    expect(audit).toHaveLength(1)
    expect(audit[0]?.metadata).toMatchObject({ sessions_ended: 1 })
  })

  it('lists sessions with device, IP and applications; ends one, the others, then all', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    await login(t, user, {
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    })
    await login(t, user, { 'user-agent': 'curl/8.5.0' })
    const page = await browser.get('/ui/account/sessions')
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('<caption>')
    expect(text(page.body)).toContain('Firefox on Linux')
    expect(text(page.body)).toContain(en['account.this_session'])
    expect(page.body).toContain('127.0.0.1')
    const live = await t.kitsune.services.sessions.list({
      userId: user.id,
      sessionId: sessionIdOf(browser),
      roles: [],
      tokenExpiresAt: 0,
    })
    expect(live).toHaveLength(3)
    const firefox = live.find((s) => s.user_agent?.includes('Firefox'))
    if (!firefox) throw new Error('no Firefox session')
    for (const s of live) if (!s.current) expect(page.body).toContain(`value="${s.id}"`)
    expect(page.body).not.toContain(`name="session_id" value="${sessionIdOf(browser)}"`)

    const ended = await browser.post('/ui/account/sessions/end', {
      csrf: browser.csrf,
      session_id: firefox.id,
    })
    expect(ended.headers.location).toBe('/ui/account/sessions?done=ended')
    const row = await db()
      .selectFrom('sessions')
      .select('revoked_at')
      .where('id', '=', firefox.id)
      .executeTakeFirst()
    expect(row?.revoked_at).not.toBeNull()
    expect(await auditOf('session.revoked', user.id)).toHaveLength(1)
    const again = await browser.post('/ui/account/sessions/end', {
      csrf: browser.csrf,
      session_id: firefox.id,
    })
    expect(again.headers.location).toBe('/ui/account/sessions?done=gone')

    // Another person's session id is not found, and stays live.
    const other = await registerUser(t)
    await login(t, other)
    const [otherSession] = await db()
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', other.id)
      .execute()
    const foreign = await browser.post('/ui/account/sessions/end', {
      csrf: browser.csrf,
      session_id: otherSession?.id ?? '',
    })
    expect(foreign.headers.location).toBe('/ui/account/sessions?done=gone')
    const otherRow = await db()
      .selectFrom('sessions')
      .select('revoked_at')
      .where('id', '=', otherSession?.id ?? '')
      .executeTakeFirst()
    expect(otherRow?.revoked_at).toBeNull()

    const others = await browser.post('/ui/account/sessions/end-others', { csrf: browser.csrf })
    expect(others.headers.location).toBe('/ui/account/sessions?done=others')
    const remaining = await db()
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .execute()
    expect(remaining.map((s) => s.id)).toEqual([sessionIdOf(browser)])
    expect(text((await browser.get('/ui/account/sessions?done=others')).body)).toContain(
      en['account.no_other_sessions'],
    )

    const all = await browser.post('/ui/account/sessions/end-all', { csrf: browser.csrf })
    expect(all.statusCode).toBe(303)
    expect(all.headers.location).toBe('/ui/account/signed-out')
    expect(browser.cookie(COOKIE)).toBe('')
    expect((await browser.get('/ui/account/signed-out')).statusCode).toBe(200)
    const none = await db()
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .execute()
    expect(none).toHaveLength(0)
    const logoutAll = await auditOf('user.logout', user.id)
    expect(logoutAll.some((entry) => (entry.metadata as { all?: boolean }).all === true)).toBe(true)
  })

  it('shows the applications each session signed in to, lists those allowed and revokes one (audited)', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    const { clientId } = await createClient(t, {
      client_name: 'Photo Album',
      redirect_uris: ['https://rp.example/callback'],
      scope: 'openid profile',
    })
    await t.kitsune.services.oidcGrants.consentGiven(
      { userId: user.id, clientId, scopes: ['openid', 'profile'], remember: true },
      { ip: '127.0.0.1', userAgent: null, requestId: 'test' },
    )
    // A grant the engine made from this browser's session: the session's row names the application.
    await db()
      .insertInto('oidc_payloads')
      .values({
        model: 'Grant',
        id: `grant-${user.id}`,
        payload: JSON.stringify({ accountId: user.id, clientId }),
        client_id: clientId,
        session_id: sessionIdOf(browser),
        user_id: user.id,
        expires_at: new Date(clock.now().getTime() + 3_600_000),
        grant_id: null,
        uid: null,
        user_code: null,
        consumed_at: null,
      })
      .execute()
    const page = await browser.get('/ui/account/sessions')
    const currentRow = page.body.match(/<tr class="current">([\s\S]*?)<\/tr>/)?.[1] ?? ''
    expect(text(currentRow)).toContain('Photo Album')
    expect(text(page.body)).toContain('Photo Album')
    expect(page.body).toContain(`value="${clientId}"`)
    const revoked = await browser.post('/ui/account/applications/revoke', {
      csrf: browser.csrf,
      client_id: clientId,
    })
    expect(revoked.headers.location).toBe('/ui/account/sessions?done=revoked')
    expect(await t.kitsune.services.oidcGrants.consents(user.id)).toEqual([])
    expect(await auditOf('oidc.consent_revoked', user.id)).toHaveLength(1)
    const gone = await browser.post('/ui/account/applications/revoke', {
      csrf: browser.csrf,
      client_id: clientId,
    })
    expect(gone.headers.location).toBe('/ui/account/sessions?done=consent-gone')
    expect(text((await browser.get('/ui/account/sessions')).body)).toContain(en['account.no_consents'])
  })

  it('enrols TOTP (QR and key, recovery codes once with a text file), regenerates codes, and turns it off', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    const status = await browser.get('/ui/account/two-factor')
    expect(text(status.body)).toContain(en['account.two_factor_off'])
    const setup = await browser.post('/ui/account/two-factor/setup', { csrf: browser.csrf })
    expect(setup.statusCode).toBe(200)
    expect(setup.body).toContain('src="data:image/svg+xml;base64,')
    const secret = (setup.body.match(/<p class="code account-key">([A-Z2-7 ]+)<\/p>/)?.[1] ?? '').replace(
      / /g,
      '',
    )
    expect(secret.length).toBeGreaterThanOrEqual(16)

    const wrong = await browser.post('/ui/account/two-factor/confirm', {
      csrf: browser.csrf,
      code: wrongCode(totpAt(clock, secret)),
    })
    expect(wrong.statusCode).toBe(422)
    expect(wrong.body).toContain('id="code-error"')
    // A wrong code gets a fresh key.
    const secret2 = (wrong.body.match(/<p class="code account-key">([A-Z2-7 ]+)<\/p>/)?.[1] ?? '').replace(
      / /g,
      '',
    )
    expect(secret2).not.toBe(secret)

    const confirmed = await browser.post('/ui/account/two-factor/confirm', {
      csrf: browser.csrf,
      code: totpAt(clock, secret2),
    })
    expect(confirmed.statusCode).toBe(200)
    const codes = [...confirmed.body.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1])
    expect(codes).toHaveLength(10)
    const download = confirmed.body.match(
      /href="data:text\/plain;charset=utf-8;base64,([^"]+)" download="([^"]+)"/,
    )
    expect(download?.[2]).toBe('recovery-codes.txt')
    const file = Buffer.from(download?.[1] ?? '', 'base64').toString('utf8')
    for (const code of codes) expect(file).toContain(code)
    const enabled = await db()
      .selectFrom('users')
      .select('mfa_enabled')
      .where('id', '=', user.id)
      .executeTakeFirst()
    expect(enabled?.mfa_enabled).toBe(true)
    expect(await auditOf('mfa.enabled', user.id)).toHaveLength(1)
    expect(text((await browser.get('/ui/account/two-factor')).body)).toContain(en['account.two_factor_on'])

    clock.advance(60)
    const badRegen = await browser.post('/ui/account/two-factor/recovery-codes', {
      csrf: browser.csrf,
      regenerate_code: wrongCode(totpAt(clock, secret2)),
    })
    expect(badRegen.statusCode).toBe(422)
    expect(badRegen.body).toContain('id="regenerate_code-error"')
    const regen = await browser.post('/ui/account/two-factor/recovery-codes', {
      csrf: browser.csrf,
      regenerate_code: totpAt(clock, secret2),
    })
    expect(regen.statusCode).toBe(200)
    expect(text(regen.body)).toContain(en['account.done_regenerated'])
    const fresh = [...regen.body.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1])
    expect(fresh).toHaveLength(10)
    expect(fresh).not.toEqual(codes)

    const missing = await browser.post('/ui/account/two-factor/disable', { csrf: browser.csrf })
    expect(missing.statusCode).toBe(422)
    const badPassword = await browser.post('/ui/account/two-factor/disable', {
      csrf: browser.csrf,
      disable_password: 'not the password',
    })
    expect(badPassword.statusCode).toBe(401)
    expect(badPassword.body).toContain('id="disable_password-error"')
    const off = await browser.post('/ui/account/two-factor/disable', {
      csrf: browser.csrf,
      disable_password: user.password,
    })
    expect(off.headers.location).toBe('/ui/account/two-factor?done=disabled')
    const disabled = await db()
      .selectFrom('users')
      .select('mfa_enabled')
      .where('id', '=', user.id)
      .executeTakeFirst()
    expect(disabled?.mfa_enabled).toBe(false)
    expect(await auditOf('mfa.disabled', user.id)).toHaveLength(1)
  })

  it('turns TOTP off with a current code too', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    const setup = await browser.post('/ui/account/two-factor/setup', { csrf: browser.csrf })
    const secret = (setup.body.match(/<p class="code account-key">([A-Z2-7 ]+)<\/p>/)?.[1] ?? '').replace(
      / /g,
      '',
    )
    await browser.post('/ui/account/two-factor/confirm', { csrf: browser.csrf, code: totpAt(clock, secret) })
    clock.advance(60)
    const wrong = await browser.post('/ui/account/two-factor/disable', {
      csrf: browser.csrf,
      disable_code: wrongCode(totpAt(clock, secret)),
    })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.body).toContain('id="disable_code-error"')
    const off = await browser.post('/ui/account/two-factor/disable', {
      csrf: browser.csrf,
      disable_code: totpAt(clock, secret),
    })
    expect(off.statusCode).toBe(303)
    const row = await db()
      .selectFrom('users')
      .select('mfa_enabled')
      .where('id', '=', user.id)
      .executeTakeFirst()
    expect(row?.mfa_enabled).toBe(false)
  })

  it('shows the person’s own security activity, newest first, with failed sign-ins, paged', async () => {
    const user = await registerUser(t)
    const stranger = await registerUser(t)
    await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: 'not the password' },
      headers: { 'user-agent': 'curl/8.5.0' },
    })
    const browser = await signedIn(user)
    await login(t, stranger)
    const first = await browser.get('/ui/account/activity')
    expect(first.statusCode).toBe(200)
    const body = text(first.body)
    expect(body).toContain(en['account.event_user.login'])
    expect(body).toContain(en['account.event_user.login_failed'])
    expect(body).toContain(en['account.event_user.registered'])
    expect(first.body).toContain('<caption>')
    expect(first.body).toContain('127.0.0.1')
    // Newest first: the sign-in comes before the failure before it.
    expect(body.indexOf(en['account.event_user.login'])).toBeLessThan(
      body.indexOf(en['account.event_user.login_failed']),
    )
    // Nothing of another person's.
    const strangerIds = await db()
      .selectFrom('audit_logs')
      .select('id')
      .where('actor_id', '=', stranger.id)
      .execute()
    for (const row of strangerIds) expect(first.body).not.toContain(row.id)

    for (let i = 0; i < 30; i++)
      await browser.post('/ui/account/profile', { csrf: browser.csrf, full_name: `Name ${i}` })
    const page1 = await browser.get('/ui/account/activity')
    const rows1 = page1.body.match(/<tr[ >]/g)?.length ?? 0
    expect(rows1).toBe(26) // the header row and 25 entries
    const older = page1.body.match(/href="\/ui\/account\/activity\?before=(\d+)"/)?.[1]
    expect(older).toBeTruthy()
    const page2 = await browser.get(`/ui/account/activity?before=${older}`)
    expect(page2.statusCode).toBe(200)
    expect(text(page2.body)).toContain(en['account.event_user.registered'])
    expect(page2.body).toContain('href="/ui/account/activity"')
    expect(page2.body).not.toMatch(/activity\?before=/)
  })

  it('deletes the account after the password and the typed word, ends its sessions, and says goodbye', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    await login(t, user)
    const page = await browser.get('/ui/account/delete')
    expect(page.statusCode).toBe(200)
    expect(text(page.body)).toContain(en['account.delete_intro'])
    const noWord = await browser.post('/ui/account/delete', {
      csrf: browser.csrf,
      password: user.password,
      confirm: 'yes',
    })
    expect(noWord.statusCode).toBe(422)
    expect(noWord.body).toContain('id="confirm-error"')
    const badPassword = await browser.post('/ui/account/delete', {
      csrf: browser.csrf,
      password: 'not the password',
      confirm: 'DELETE',
    })
    expect(badPassword.statusCode).toBe(401)
    expect(badPassword.body).toContain('id="password-error"')
    expect(
      await db().selectFrom('users').select('id').where('id', '=', user.id).executeTakeFirst(),
    ).toBeDefined()

    const deleted = await browser.post('/ui/account/delete', {
      csrf: browser.csrf,
      password: user.password,
      confirm: 'DELETE',
    })
    expect(deleted.statusCode).toBe(303)
    expect(deleted.headers.location).toBe('/ui/account/deleted')
    expect(browser.cookie(COOKIE)).toBe('')
    expect(
      await db().selectFrom('users').select('id').where('id', '=', user.id).executeTakeFirst(),
    ).toBeUndefined()
    const live = await db()
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .execute()
    expect(live).toHaveLength(0)
    expect(await auditOf('user.deleted', user.id)).toHaveLength(1)
    const goodbye = await browser.get('/ui/account/deleted')
    expect(goodbye.statusCode).toBe(200)
    expect(text(goodbye.body)).toContain(en['account.deleted_title'])
    expect((await browser.get('/ui/account')).headers.location).toBe('/ui/sign-in?return_to=/ui/account')
  })

  it('takes the Spanish confirmation word on a Spanish page', async () => {
    const user = await registerUser(t)
    const browser = await signedIn(user)
    const english = await browser.post('/ui/account/delete?ui_locales=es', {
      csrf: browser.csrf,
      password: user.password,
      confirm: 'DELETE',
    })
    expect(english.statusCode).toBe(422)
    expect(text(english.body)).toContain(es['account.error_confirm_word'].replace('{word}', 'ELIMINAR'))
    const deleted = await browser.post('/ui/account/delete?ui_locales=es', {
      csrf: browser.csrf,
      password: user.password,
      confirm: 'eliminar',
    })
    expect(deleted.headers.location).toBe('/ui/account/deleted?ui_locales=es')
  })
})
