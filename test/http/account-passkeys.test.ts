import { randomBytes, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isoBase64URL } from '@simplewebauthn/server/helpers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from '../../src/db/kysely.js'
import { PASSKEY_SCRIPT } from '../../src/web/assets/assets.js'
import { en } from '../../src/web/i18n/en.js'
import { es } from '../../src/web/i18n/es.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { registerUser, type TestUser } from '../helpers/factories.js'
import { offsetClock } from '../helpers/oidc.js'
import { hiddenField, type PageClient, pageClient } from '../helpers/page-client.js'
import { testTargets } from '../helpers/test-targets.js'

/** A ceremony recorded from Chromium's virtual authenticator (rpId localhost, origin http://localhost:8000). */
const fx = JSON.parse(
  readFileSync(new URL('../fixtures/webauthn/ceremonies.json', import.meta.url), 'utf8'),
) as {
  origin: string
  userId: string
  userName: string
  registration: { challenge: string; response: { id: string } }
}

const PAGE = '/ui/account/passkeys'

const text = (html: string) =>
  html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')

describe.each(testTargets())('account console: passkeys ($name)', (target) => {
  let t: TestApp
  const clock = offsetClock()
  /** The challenge the next registration options get (the recorded one, to replay the ceremony). */
  let nextChallenge: string | undefined

  beforeAll(async () => {
    t = await buildTestApp({
      target,
      clock,
      env: { PUBLIC_URL: fx.origin },
      kitsune: {
        passkeyChallenges: () => {
          const challenge = nextChallenge
          nextChallenge = undefined
          return challenge ? isoBase64URL.toBuffer(challenge) : Uint8Array.from(randomBytes(32))
        },
      },
    })
  })
  afterAll(async () => t?.close())

  const db = () => t.kitsune.database.db

  async function signedIn(user: TestUser): Promise<PageClient & { csrf: string }> {
    const browser = pageClient(t)
    const form = await browser.get('/ui/sign-in')
    const csrf = hiddenField(form.body, 'csrf') ?? ''
    const response = await browser.post('/ui/sign-in', { csrf, email: user.email, password: user.password })
    expect(response.statusCode).toBe(303)
    // __Host- prefixed when the cookie is secure (PUBLIC_URL on localhost counts as a secure context).
    expect(browser.cookie('kitsune-session') ?? browser.cookie('__Host-kitsune-session')).toBeTruthy()
    return Object.assign(browser, { csrf })
  }

  /** The account the recording was made for: its id is the recorded user handle. */
  async function fixtureUser(): Promise<TestUser> {
    const throwaway = await registerUser(t)
    await sql`
      INSERT INTO users (id, email, password_hash, created_at, updated_at, password_changed_at)
      SELECT ${fx.userId}, ${fx.userName}, password_hash, now(), now(), now()
      FROM users WHERE id = ${throwaway.id}`.execute(db())
    await sql`INSERT INTO user_roles (user_id, role_name) VALUES (${fx.userId}, 'user')`.execute(db())
    return { id: fx.userId, email: fx.userName, password: throwaway.password }
  }

  /** A passkey row with made-up key material (listing, renaming and removing never check it). */
  async function syntheticPasskey(userId: string, name: string, synced = false): Promise<string> {
    const id = randomUUID()
    await db()
      .insertInto('passkeys')
      .values({
        id,
        user_id: userId,
        credential_id: randomBytes(32).toString('base64url'),
        public_key: randomBytes(44).toString('base64url'),
        sign_count: '0',
        transports: ['usb'],
        aaguid: '00000000-0000-0000-0000-000000000000',
        backup_eligible: synced,
        backed_up: synced,
        user_verified: true,
        name,
        created_at: new Date(),
      } as never)
      .execute()
    return id
  }

  const passkeysOf = (userId: string) =>
    db()
      .selectFrom('passkeys')
      .select(['id', 'name', 'credential_id'])
      .where('user_id', '=', userId)
      .execute()
  const mfaOf = async (userId: string) =>
    (await db().selectFrom('users').select('mfa_enabled').where('id', '=', userId).executeTakeFirst())
      ?.mfa_enabled
  const auditOf = (action: string, targetId: string) =>
    db()
      .selectFrom('audit_logs')
      .select(['actor_id', 'target_id', 'metadata'])
      .where('action', '=', action)
      .where('target_id', '=', targetId)
      .execute()

  it('needs a sign-in, and a recent one, for the page, its actions and its options', async () => {
    const anonymous = pageClient(t)
    const response = await anonymous.get(PAGE)
    expect(response.statusCode).toBe(303)
    expect(response.headers.location).toBe(`/ui/sign-in?return_to=${PAGE}`)
    const form = await anonymous.get('/ui/sign-in')
    const csrf = hiddenField(form.body, 'csrf') ?? ''
    const options = await anonymous.post(`${PAGE}/options`, { csrf, name: '' })
    expect(options.statusCode).toBe(401)
    expect(options.headers['content-type']).toMatch(/^application\/json/)

    const user = await registerUser(t)
    const passkeyId = await syntheticPasskey(user.id, 'Old key')
    const browser = await signedIn(user)
    expect((await browser.get(PAGE)).statusCode).toBe(200)
    clock.advance(11 * 60)
    const stale = await browser.get(PAGE)
    expect(stale.statusCode).toBe(303)
    expect(stale.headers.location).toBe(`/ui/sign-in?return_to=${PAGE}&reauth=1`)
    for (const [path, fields] of [
      [PAGE, { name: 'New name', credential: '{}' }],
      [`${PAGE}/${passkeyId}/rename`, { name: 'New name' }],
      [`${PAGE}/${passkeyId}/remove`, {}],
    ] as const) {
      const posted = await browser.post(path, { csrf: browser.csrf, ...fields })
      expect(posted.statusCode, path).toBe(303)
      expect(posted.headers.location, path).toBe(`/ui/sign-in?return_to=${PAGE}&reauth=1`)
    }
    // The options come through the page's script: JSON, not a redirect to an HTML page.
    const staleOptions = await browser.post(`${PAGE}/options`, { csrf: browser.csrf, name: '' })
    expect(staleOptions.statusCode).toBe(403)
    expect(staleOptions.json()).toMatchObject({ code: 'REAUTHENTICATION_REQUIRED' })
    expect(await passkeysOf(user.id)).toEqual([expect.objectContaining({ id: passkeyId, name: 'Old key' })])
  })

  it('lists the passkeys with the ceremony form, loads the script and allows it in its CSP only', async () => {
    const user = await registerUser(t)
    await syntheticPasskey(user.id, 'Work laptop', true)
    await syntheticPasskey(user.id, 'Red key', false)
    const browser = await signedIn(user)
    const page = await browser.get(PAGE)
    expect(page.statusCode).toBe(200)
    const csp = String(page.headers['content-security-policy'])
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("connect-src 'self'")
    expect(page.body).toContain(`<script src="${PASSKEY_SCRIPT.path}" defer>`)
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)/)
    expect(page.body).not.toContain('style=')
    const body = text(page.body)
    expect(body).toContain('Work laptop')
    expect(body).toContain('Red key')
    expect(body).toContain(en['account.passkey_synced'])
    expect(body).toContain(en['account.passkey_device_bound'])
    expect(body).toContain(en['account.passkey_never_used'])
    expect(body).toContain(en['account.passkeys_mfa_note'])
    expect(page.body).toContain('data-passkey="register"')
    expect(page.body).toContain(`action="${PAGE}"`)
    expect(page.body).toContain(`data-options-url="${PAGE}/options"`)
    expect(page.body).toContain('name="credential"')
    expect(page.body).toContain('name="name"')
    expect(page.body).toContain('data-passkey-nojs')
    expect(page.body).toContain(`href="${PAGE}" aria-current="page"`)
    expect(page.body.match(/action="\/ui\/account\/passkeys\/[0-9a-f-]{36}\/rename"/g)).toHaveLength(2)
    expect(page.body.match(/action="\/ui\/account\/passkeys\/[0-9a-f-]{36}\/remove"/g)).toHaveLength(2)

    // Other console pages load no script and keep the CSP without one.
    for (const path of ['/ui/account', '/ui/account/two-factor']) {
      const other = await browser.get(path)
      expect(other.statusCode).toBe(200)
      expect(other.body).toContain(`href="${PAGE}"`)
      expect(String(other.headers['content-security-policy'])).not.toContain('script-src')
      expect(other.body).not.toContain('<script')
    }

    const spanish = await browser.get(`${PAGE}?ui_locales=es`)
    expect(text(spanish.body)).toContain(es['account.passkeys_title'])
    expect(text(spanish.body)).toContain(es['account.passkey_add_submit'])
    expect(spanish.body).toContain(`data-options-url="${PAGE}/options?ui_locales=es"`)
  })

  it('renames and removes a passkey (audited), and refuses bad names and passkeys of other accounts', async () => {
    const user = await registerUser(t)
    const first = await syntheticPasskey(user.id, 'First')
    const second = await syntheticPasskey(user.id, 'Second')
    const stranger = await registerUser(t)
    const theirs = await syntheticPasskey(stranger.id, 'Not yours')
    const browser = await signedIn(user)

    const renamed = await browser.post(`${PAGE}/${first}/rename`, { csrf: browser.csrf, name: '  Phone ' })
    expect(renamed.statusCode).toBe(303)
    expect(renamed.headers.location).toBe(`${PAGE}?done=renamed`)
    expect((await passkeysOf(user.id)).find((p) => p.id === first)?.name).toBe('Phone')
    const audited = await auditOf('passkey.renamed', first)
    expect(audited).toHaveLength(1)
    expect(audited[0]?.actor_id).toBe(user.id)
    expect(text((await browser.get(`${PAGE}?done=renamed`)).body)).toContain(
      en['account.done_passkey_renamed'],
    )

    for (const name of ['   ', 'x'.repeat(65)]) {
      const bad = await browser.post(`${PAGE}/${second}/rename`, { csrf: browser.csrf, name })
      expect(bad.statusCode).toBe(422)
      expect(bad.body).toContain(`id="rename-${second}-error"`)
      expect(text(bad.body)).toContain(en['account.error_passkey_name'])
    }
    expect((await passkeysOf(user.id)).find((p) => p.id === second)?.name).toBe('Second')

    for (const id of [theirs, randomUUID(), 'not-a-uuid']) {
      const renameOther = await browser.post(`${PAGE}/${id}/rename`, { csrf: browser.csrf, name: 'Mine now' })
      expect(renameOther.statusCode, id).toBe(404)
      expect(text(renameOther.body)).toContain(en['account.error_passkey_not_found'])
      const removeOther = await browser.post(`${PAGE}/${id}/remove`, { csrf: browser.csrf })
      expect(removeOther.statusCode, id).toBe(404)
    }
    expect(await passkeysOf(stranger.id)).toEqual([
      expect.objectContaining({ id: theirs, name: 'Not yours' }),
    ])

    // Without the CSRF field nothing happens.
    expect((await browser.post(`${PAGE}/${second}/remove`, {})).statusCode).toBe(403)

    const removed = await browser.post(`${PAGE}/${second}/remove`, { csrf: browser.csrf })
    expect(removed.statusCode).toBe(303)
    expect(removed.headers.location).toBe(`${PAGE}?done=removed`)
    expect((await passkeysOf(user.id)).map((p) => p.id)).toEqual([first])
    const removal = await auditOf('passkey.removed', second)
    expect(removal).toHaveLength(1)
    expect(removal[0]?.actor_id).toBe(user.id)
    const after = await browser.get(`${PAGE}?done=removed`)
    expect(text(after.body)).toContain(en['account.done_passkey_removed'])
    expect(text(after.body)).not.toContain('Second')
  })

  it('refuses to remove the last second factor while two-step verification is on, and says what to do', async () => {
    const user = await registerUser(t)
    const only = await syntheticPasskey(user.id, 'Only key')
    const browser = await signedIn(user)
    await db().updateTable('users').set({ mfa_enabled: true }).where('id', '=', user.id).execute()
    const refused = await browser.post(`${PAGE}/${only}/remove`, { csrf: browser.csrf })
    expect(refused.statusCode).toBe(409)
    expect(text(refused.body)).toContain(en['account.error_passkey_last_factor'])
    expect(text(refused.body)).toContain('Only key')
    expect(await passkeysOf(user.id)).toHaveLength(1)
    expect(await auditOf('passkey.removed', only)).toHaveLength(0)
  })

  it('adds a passkey through the page (a recorded ceremony), which turns two-step on; the two-step page follows', async () => {
    const user = await fixtureUser()
    const browser = await signedIn(user)
    expect(await mfaOf(user.id)).toBe(false)

    // Not JSON, or JSON that is no authenticator answer: the page again, never a 500.
    for (const credential of ['', '{not json', '[]', '"text"', '{"id":"x"}']) {
      const bad = await browser.post(PAGE, { csrf: browser.csrf, credential, name: 'Laptop' })
      expect(bad.statusCode, credential).toBe(422)
      expect(text(bad.body)).toContain(en['account.error_passkey_unreadable'])
      expect(bad.body).toContain('value="Laptop"')
    }
    // An answer to no ceremony of this session (the recorded one before its options were asked).
    const unasked = await browser.post(PAGE, {
      csrf: browser.csrf,
      credential: JSON.stringify(fx.registration.response),
      name: 'Laptop',
    })
    expect(unasked.statusCode).toBe(422)
    expect(text(unasked.body)).toContain(en['account.error_passkey_invalid'])

    nextChallenge = fx.registration.challenge
    const options = await browser.post(`${PAGE}/options`, { csrf: browser.csrf, name: 'Laptop' })
    expect(options.statusCode, options.body).toBe(200)
    expect(options.headers['cache-control']).toBe('no-store')
    const json = options.json()
    expect(json.challenge).toBe(fx.registration.challenge)
    expect(json.user.id).toBe(isoBase64URL.fromUTF8String(fx.userId))
    expect(json.rp.id).toBe('localhost')

    const tooLong = await browser.post(PAGE, {
      csrf: browser.csrf,
      credential: JSON.stringify(fx.registration.response),
      name: 'x'.repeat(65),
    })
    expect(tooLong.statusCode).toBe(422)
    expect(tooLong.body).toContain('id="name-error"')
    expect(await passkeysOf(user.id)).toHaveLength(0)

    const added = await browser.post(PAGE, {
      csrf: browser.csrf,
      credential: JSON.stringify(fx.registration.response),
      name: 'Laptop',
    })
    expect(added.statusCode, added.body).toBe(303)
    expect(added.headers.location).toBe(`${PAGE}?done=added`)
    const rows = await passkeysOf(user.id)
    expect(rows).toEqual([
      expect.objectContaining({ name: 'Laptop', credential_id: fx.registration.response.id }),
    ])
    expect(await auditOf('passkey.registered', rows[0]?.id ?? '')).toHaveLength(1)
    expect(await mfaOf(user.id)).toBe(true)
    const shown = await browser.get(`${PAGE}?done=added`)
    expect(shown.statusCode).toBe(200)
    expect(text(shown.body)).toContain(en['account.done_passkey_added'])
    expect(text(shown.body)).toContain('Laptop')

    // The same authenticator again: refused, next to the form.
    nextChallenge = fx.registration.challenge
    expect((await browser.post(`${PAGE}/options`, { csrf: browser.csrf, name: '' })).statusCode).toBe(200)
    const again = await browser.post(PAGE, {
      csrf: browser.csrf,
      credential: JSON.stringify(fx.registration.response),
      name: '',
    })
    expect(again.statusCode).toBe(409)
    expect(text(again.body)).toContain(en['account.error_passkey_exists'])

    // Two-step is on through the passkey only: the page says so, links here, offers an app,
    // and turns off with the password.
    const twoStep = await browser.get('/ui/account/two-factor')
    expect(text(twoStep.body)).toContain(en['account.two_factor_on_passkeys'])
    expect(twoStep.body).toContain(`href="${PAGE}"`)
    expect(twoStep.body).toContain('action="/ui/account/two-factor/setup"')
    expect(twoStep.body).not.toContain('name="disable_code"')
    expect(twoStep.body).not.toContain('action="/ui/account/two-factor/recovery-codes"')
    const setup = await browser.post('/ui/account/two-factor/setup', { csrf: browser.csrf })
    expect(setup.statusCode).toBe(200)
    expect(setup.body).toContain('src="data:image/svg+xml;base64,')

    // The passkey is the last factor while two-step is on.
    const last = await browser.post(`${PAGE}/${rows[0]?.id}/remove`, { csrf: browser.csrf })
    expect(last.statusCode).toBe(409)
    expect(text(last.body)).toContain(en['account.error_passkey_last_factor'])

    const missing = await browser.post('/ui/account/two-factor/disable', { csrf: browser.csrf })
    expect(missing.statusCode).toBe(422)
    expect(missing.body).toContain('id="disable_password-error"')
    const off = await browser.post('/ui/account/two-factor/disable', {
      csrf: browser.csrf,
      disable_password: user.password,
    })
    expect(off.statusCode).toBe(303)
    expect(off.headers.location).toBe('/ui/account/two-factor?done=disabled')
    expect(await mfaOf(user.id)).toBe(false)
    // Two-step off: the passkey may go now.
    const removed = await browser.post(`${PAGE}/${rows[0]?.id}/remove`, { csrf: browser.csrf })
    expect(removed.statusCode).toBe(303)
    expect(await passkeysOf(user.id)).toHaveLength(0)
  })
})
