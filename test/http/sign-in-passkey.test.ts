import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { en } from '../../src/web/i18n/en.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { registerUser, type TestUser } from '../helpers/factories.js'
import { hiddenField, type PageClient, pageClient } from '../helpers/page-client.js'
import {
  audits,
  challengeQueue,
  createFixtureUser,
  fixtures,
  insertRecordedPasskey,
  passkeyRows,
  resetFixtureUser,
} from '../helpers/passkeys.js'
import { testTargets } from '../helpers/test-targets.js'

const LOCAL = { origin: fixtures.origin, rpId: fixtures.rpId }
const escaped = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')

/**
 * The sign-in pages' passkey ceremonies, replaying ceremonies recorded in Chromium (the browser
 * side, the script, is exercised in test/e2e/passkeys.test.ts): passwordless, the MFA step, the
 * challenge bound to the browser that asked for it, and bad answers.
 */
describe.each(testTargets())('sign-in pages with a passkey on $name', (target) => {
  let t: TestApp
  let user: TestUser
  const challenges = challengeQueue()

  beforeAll(async () => {
    t = await buildTestApp({
      target,
      env: { PUBLIC_URL: fixtures.origin },
      kitsune: { passkeyChallenges: challenges.next },
    })
    user = await createFixtureUser(t)
  })
  afterAll(async () => {
    await t?.close()
  })
  beforeEach(async () => {
    challenges.clear()
    await resetFixtureUser(t)
    await insertRecordedPasskey(t, user.id, fixtures.registration, LOCAL)
    // The first second factor turns two-step verification on, as registering through the API does.
    await t.kitsune.database.db
      .updateTable('users')
      .set({ mfa_enabled: true })
      .where('id', '=', user.id)
      .execute()
  })

  /** A browser on the sign-in page: its cookies and the page's CSRF token. */
  const onSignInPage = async (): Promise<PageClient & { csrf: string; html: string }> => {
    const browser = pageClient(t)
    const page = await browser.get('/ui/sign-in')
    expect(page.statusCode).toBe(200)
    return Object.assign(browser, { csrf: hiddenField(page.body, 'csrf') ?? '', html: page.body })
  }

  const sessionMethods = async () =>
    (
      await t.kitsune.database.db
        .selectFrom('sessions')
        .select('amr')
        .where('user_id', '=', user.id)
        .where('revoked_at', 'is', null)
        .execute()
    ).map((row) => row.amr)

  it('signs in without a password: options for any passkey, then the answer opens a browser session', async () => {
    const browser = await onSignInPage()
    expect(browser.html).toContain('data-passkey="sign-in"')
    expect(browser.html).toContain('data-options-url="/ui/sign-in/passkey/options"')
    challenges.push(fixtures.authentications[0]?.challenge ?? '')
    const options = await browser.post('/ui/sign-in/passkey/options', { csrf: browser.csrf })
    expect(options.statusCode).toBe(200)
    expect(options.headers['content-type']).toMatch(/^application\/json/)
    expect(options.json()).toMatchObject({
      challenge: fixtures.authentications[0]?.challenge,
      rpId: 'localhost',
      allowCredentials: [],
      userVerification: 'required',
      timeout: 300_000,
    })
    const signedIn = await browser.post('/ui/sign-in/passkey', {
      csrf: browser.csrf,
      credential: JSON.stringify(fixtures.authentications[0]?.response),
    })
    expect(signedIn.statusCode, signedIn.body).toBe(303)
    expect(signedIn.headers.location).toBe('/ui/account')
    expect(browser.cookie('__Host-kitsune-session')).toBeTruthy()
    expect(await sessionMethods()).toEqual([['hwk', 'user']])
    expect((await browser.get('/ui/account')).statusCode).toBe(200)
    const [row] = await passkeyRows(t, user.id)
    expect(row?.sign_count).toBe('2')
    expect((await audits(t, 'passkey.used')).at(-1)?.metadata).toMatchObject({
      user_id: user.id,
      purpose: 'passwordless',
      user_verified: true,
    })
  })

  it('refuses an answer posted by another browser than the one its challenge was issued to', async () => {
    const asking = await onSignInPage()
    const other = await onSignInPage()
    challenges.push(fixtures.authentications[0]?.challenge ?? '')
    expect((await asking.post('/ui/sign-in/passkey/options', { csrf: asking.csrf })).statusCode).toBe(200)
    const refused = await other.post('/ui/sign-in/passkey', {
      csrf: other.csrf,
      credential: JSON.stringify(fixtures.authentications[0]?.response),
    })
    expect(refused.statusCode).toBe(401)
    expect(refused.body).toContain(escaped(en['passkey.error']))
    expect(other.cookie('__Host-kitsune-session')).toBeUndefined()
    expect(await sessionMethods()).toEqual([])
    expect((await audits(t, 'user.login_failed')).at(-1)?.metadata).toMatchObject({
      method: 'passkey',
      reason: 'challenge_mismatch',
    })
    // Taken, so spent: the browser that asked cannot use it afterwards either.
    const late = await asking.post('/ui/sign-in/passkey', {
      csrf: asking.csrf,
      credential: JSON.stringify(fixtures.authentications[0]?.response),
    })
    expect(late.statusCode).toBe(401)
  })

  it('offers the passkey at the MFA step after the password, and the passkey finishes the sign-in', async () => {
    const browser = await onSignInPage()
    const step = await browser.post('/ui/sign-in', {
      csrf: browser.csrf,
      email: user.email,
      password: user.password,
    })
    expect(step.statusCode).toBe(200)
    expect(step.body).toContain(`<h1>${en['mfa.title']}</h1>`)
    expect(step.body).toContain('data-passkey="second-factor"')
    // Two-step is on through the passkey alone: no code field.
    expect(step.body).not.toContain('name="code"')
    expect(step.headers['content-security-policy']).toContain("script-src 'self'")
    const mfaToken = hiddenField(step.body, 'mfa_token') ?? ''
    expect(mfaToken).not.toBe('')
    expect(hiddenField(step.body, 'methods')).toBe('passkey')

    challenges.push(fixtures.authentications[0]?.challenge ?? '')
    const options = await browser.post('/ui/sign-in/passkey/options', {
      csrf: browser.csrf,
      mfa_token: mfaToken,
      methods: 'passkey',
    })
    expect(options.statusCode).toBe(200)
    const [row] = await passkeyRows(t, user.id)
    expect(options.json().allowCredentials).toEqual([
      { id: row?.credential_id, type: 'public-key', transports: ['internal'] },
    ])
    expect(options.json().userVerification).toBe('preferred')
    const signedIn = await browser.post('/ui/sign-in/passkey', {
      csrf: browser.csrf,
      mfa_token: mfaToken,
      methods: 'passkey',
      credential: JSON.stringify(fixtures.authentications[0]?.response),
    })
    expect(signedIn.statusCode, signedIn.body).toBe(303)
    expect(signedIn.headers.location).toBe('/ui/account')
    expect(await sessionMethods()).toEqual([['pwd', 'hwk', 'user']])
    expect((await audits(t, 'passkey.used')).at(-1)?.metadata).toMatchObject({ purpose: 'second_factor' })
  })

  it('answers a garbled credential with the sign-in page and an error, never a 500', async () => {
    const browser = await onSignInPage()
    for (const credential of ['', 'not json', '{"id":1}', '[]', 'null', JSON.stringify({ response: {} })]) {
      const response = await browser.post('/ui/sign-in/passkey', { csrf: browser.csrf, credential })
      expect([400, 401], `${credential} → ${response.statusCode}`).toContain(response.statusCode)
      expect(response.headers['content-type']).toMatch(/^text\/html/)
      expect(response.body).toContain(escaped(en['passkey.error']))
    }
    // Without the CSRF field, nothing is looked at.
    const forged = await browser.post('/ui/sign-in/passkey', { credential: '{}' })
    expect(forged.statusCode).toBe(403)
    expect(await sessionMethods()).toEqual([])
  })
})

describe('sign-in pages on an IP-address PUBLIC_URL', () => {
  it('hide the passkey button and warn at start that passkeys cannot work there', async () => {
    const [target] = testTargets()
    if (!target) throw new Error('no test target')
    const t = await buildTestApp({ target, env: { PUBLIC_URL: 'http://127.0.0.1:8000' } })
    try {
      await registerUser(t)
      const page = await pageClient(t).get('/ui/sign-in')
      expect(page.statusCode).toBe(200)
      expect(page.body).not.toContain('data-passkey')
      expect(page.body).not.toMatch(/<script/i)
      expect(page.headers['content-security-policy']).not.toContain('script-src')
      const warning = t.logs.find((line) => String(line.msg).startsWith('passkeys cannot work'))
      expect(warning).toMatchObject({ level: 'warn', webauthn_rp_id: '127.0.0.1' })
    } finally {
      await t.close()
    }
  })
})
