import * as oidc from 'openid-client'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { en } from '../../src/web/i18n/en.js'
import { bearer, login, registerUser, type TestUser } from '../helpers/factories.js'
import {
  browser,
  createClient,
  discover,
  memoryMailer,
  type OidcTestServer,
  redeemCode,
  signInThroughPages,
  startAuthorization,
  startOidcServerWith,
  storedCount,
} from '../helpers/oidc.js'
import { testTargets } from '../helpers/test-targets.js'

const REDIRECT = 'http://127.0.0.1:9/callback'
const ADMIN = { email: 'oidc-refusals-admin@example.com', password: 'admin passphrase 2031' }
const CODE_TTL_SECONDS = 60

const paramsOf = (url: string | undefined) => new URL(url ?? 'http://invalid.test').searchParams

describe.each(testTargets())('OpenID Provider refusals ($name)', (target) => {
  let t: OidcTestServer
  const mailer = memoryMailer()

  beforeAll(async () => {
    t = await startOidcServerWith(target, {
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
      kitsune: { mailer },
    })
  })
  afterAll(async () => t?.close())
  afterEach(() => {
    vi.useRealTimers()
  })

  const confidentialClient = async (extra: Parameters<typeof createClient>[1] = {}) => {
    const { clientId, clientSecret } = await createClient(t, {
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid email offline_access',
      first_party: true,
      ...extra,
    })
    return {
      clientId,
      clientSecret: clientSecret as string,
      config: await discover(t.issuer, clientId, clientSecret),
    }
  }

  /** Signs `user` in through the pages for a fresh confidential client; returns everything a test needs. */
  const signedIn = async (user: TestUser) => {
    const client = await confidentialClient()
    const b = browser(t.issuer)
    const pending = await startAuthorization(client.config, {
      redirect_uri: REDIRECT,
      scope: 'openid email offline_access',
    })
    const tokens = await redeemCode(client.config, await signInThroughPages(b, pending.url, user), pending)
    expect(tokens.refresh_token).toBeTruthy()
    expect((await oidc.tokenIntrospection(client.config, tokens.access_token)).active).toBe(true)
    return { ...client, b, tokens, refreshToken: tokens.refresh_token as string }
  }

  /** The tokens of that sign-in no longer work: introspection, refresh and userinfo all refuse. */
  const expectDead = async (config: oidc.Configuration, tokens: { access: string; refresh: string }) => {
    expect(await oidc.tokenIntrospection(config, tokens.access)).toEqual({ active: false })
    expect(await oidc.tokenIntrospection(config, tokens.refresh)).toEqual({ active: false })
    await expect(oidc.refreshTokenGrant(config, tokens.refresh)).rejects.toMatchObject({
      error: 'invalid_grant',
    })
    await expect(oidc.fetchUserInfo(config, tokens.access, oidc.skipSubjectCheck)).rejects.toMatchObject({
      status: 401,
    })
  }

  /** A prompt=none authorization in browser `b`: the error it answers at the redirect URI, never a code. */
  const silentError = async (config: oidc.Configuration, b: ReturnType<typeof browser>) => {
    const pending = await startAuthorization(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      prompt: 'none',
    })
    const page = await b.open(pending.url.href)
    expect(page.redirectedTo).toBeDefined()
    expect(paramsOf(page.redirectedTo).get('code')).toBeNull()
    return paramsOf(page.redirectedTo).get('error')
  }

  describe('the authorization request', () => {
    it('answers an unregistered redirect_uri with an error page of its own, never a redirect', async () => {
      const { config } = await confidentialClient()
      const pending = await startAuthorization(config, {
        redirect_uri: 'http://127.0.0.1:9/elsewhere',
        scope: 'openid',
      })
      const response = await fetch(pending.url, { redirect: 'manual', headers: { accept: 'text/html' } })
      expect(response.status).toBe(400)
      expect(response.headers.get('location')).toBeNull()
      expect(response.headers.get('content-type')).toMatch(/^text\/html/)
      const html = await response.text()
      expect(html).toContain(en['oidc_error.title'])
      expect(html).toContain('invalid_redirect_uri')
    })

    it.each([
      ['a public client', { token_endpoint_auth_method: 'none' }],
      ['a confidential client', {}],
    ])(
      'refuses %s without a PKCE code_challenge (invalid_request at the redirect URI)',
      async (_kind, extra) => {
        const { clientId, clientSecret } = await createClient(t, {
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code'],
          scope: 'openid',
          first_party: true,
          ...extra,
        })
        const config = await discover(t.issuer, clientId, clientSecret ?? undefined)
        const state = oidc.randomState()
        const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state })
        const page = await browser(t.issuer).open(url.href)
        expect(page.redirectedTo).toBeDefined()
        const callback = new URL(page.redirectedTo as string)
        expect(callback.origin + callback.pathname).toBe(REDIRECT)
        expect(callback.searchParams.get('error')).toBe('invalid_request')
        expect(callback.searchParams.get('error_description')).toMatch(/PKCE|code_challenge/)
        expect(callback.searchParams.get('code')).toBeNull()
        expect(callback.searchParams.get('state')).toBe(state)
      },
    )

    it('refuses the plain PKCE method: S256 only', async () => {
      const { config } = await confidentialClient()
      const verifier = oidc.randomPKCECodeVerifier()
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        code_challenge: verifier,
        code_challenge_method: 'plain',
      })
      const page = await browser(t.issuer).open(url.href)
      expect(paramsOf(page.redirectedTo).get('error')).toBe('invalid_request')
      expect(paramsOf(page.redirectedTo).get('code')).toBeNull()
    })

    it('answers prompt=none without a session with login_required at the redirect URI', async () => {
      const { config } = await confidentialClient()
      const pending = await startAuthorization(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        prompt: 'none',
      })
      const page = await browser(t.issuer).open(pending.url.href)
      expect(page.redirectedTo).toBeDefined()
      const callback = new URL(page.redirectedTo as string)
      expect(callback.origin + callback.pathname).toBe(REDIRECT)
      expect(callback.searchParams.get('error')).toBe('login_required')
      expect(callback.searchParams.get('code')).toBeNull()
      await expect(redeemCode(config, callback, pending)).rejects.toMatchObject({ error: 'login_required' })
    })

    it('answers prompt=none for a third-party client not yet allowed with consent_required', async () => {
      const user = await registerUser(t)
      const { config } = await confidentialClient()
      const b = browser(t.issuer)
      const first = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid' })
      await signInThroughPages(b, first.url, user)
      const outside = await confidentialClient({ first_party: false })
      expect(await silentError(outside.config, b)).toBe('consent_required')
    })
  })

  describe('the token endpoint', () => {
    it('refuses a code redeemed twice and ends what its first redemption issued', async () => {
      const user = await registerUser(t)
      const { clientId, config } = await confidentialClient()
      const pending = await startAuthorization(config, {
        redirect_uri: REDIRECT,
        scope: 'openid offline_access',
      })
      const callback = await signInThroughPages(browser(t.issuer), pending.url, user)
      const tokens = await redeemCode(config, callback, pending)
      expect(tokens.refresh_token).toBeTruthy()
      expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(true)

      await expect(redeemCode(config, callback, pending)).rejects.toMatchObject({
        error: 'invalid_grant',
        status: 400,
      })
      await expectDead(config, { access: tokens.access_token, refresh: tokens.refresh_token as string })
      expect(await storedCount(t, 'Grant', clientId)).toBe(0)
      expect(await storedCount(t, 'AccessToken', clientId)).toBe(0)
    })

    it(`refuses a code older than its ${CODE_TTL_SECONDS} s lifetime, and redeems one just younger`, async () => {
      const user = await registerUser(t)
      const { config } = await confidentialClient()
      const b = browser(t.issuer)

      // Both the engine and Kitsune's storage read the time from Date, which only the token call
      // sees moved forward (timers stay real, so the HTTP round trip runs normally).
      const young = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid' })
      const youngCallback = await signInThroughPages(b, young.url, user)
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + (CODE_TTL_SECONDS - 10) * 1000 })
      const fresh = await redeemCode(config, youngCallback, young)
      vi.useRealTimers()
      expect(fresh.claims()?.sub).toBe(user.id)

      const old = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid' })
      const oldCallback = await signInThroughPages(b, old.url, user)
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + (CODE_TTL_SECONDS + 1) * 1000 })
      const expired = redeemCode(config, oldCallback, old)
      await expect(expired).rejects.toMatchObject({ error: 'invalid_grant', status: 400 })
      vi.useRealTimers()
    })

    it('refuses a wrong client secret with invalid_client (401), and the code survives for the real client', async () => {
      const user = await registerUser(t)
      const { clientId, config } = await confidentialClient()
      const pending = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid' })
      const callback = await signInThroughPages(browser(t.issuer), pending.url, user)
      const impostor = await discover(t.issuer, clientId, 'not-the-secret')
      // openid-client reports the 401's WWW-Authenticate challenge, which names the error.
      const refused = await redeemCode(impostor, callback, pending).then(
        () => undefined,
        (error: unknown) => error as { status?: number; cause?: unknown },
      )
      expect(refused?.status).toBe(401)
      expect(refused?.cause).toEqual([
        expect.objectContaining({ parameters: expect.objectContaining({ error: 'invalid_client' }) }),
      ])
      // The body a client without challenge parsing reads: RFC 6749 section 5.2.
      const raw = await fetch(config.serverMetadata().token_endpoint as string, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:wrong`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: callback.searchParams.get('code') ?? '',
          redirect_uri: REDIRECT,
          code_verifier: pending.verifier,
        }),
      })
      expect(raw.status).toBe(401)
      expect(await raw.json()).toMatchObject({ error: 'invalid_client' })
      const tokens = await redeemCode(config, callback, pending)
      expect(tokens.claims()?.sub).toBe(user.id)
      await expect(oidc.clientCredentialsGrant(impostor)).rejects.toMatchObject({ status: 401 })
    })
  })

  describe('tokens end with the account and its sessions', () => {
    it('a deactivated user: refresh, introspection and userinfo refuse, and the page will not sign them in', async () => {
      const user = await registerUser(t)
      const { config, b: signedInBrowser, tokens, refreshToken } = await signedIn(user)
      const admin = bearer((await login(t, ADMIN)).access_token)
      const patched = await t.inject({
        method: 'PATCH',
        url: `/api/v1/admin/users/${user.id}`,
        headers: admin,
        payload: { is_active: false },
      })
      expect(patched.statusCode).toBe(200)
      expect(patched.json().is_active).toBe(false)

      await expectDead(config, { access: tokens.access_token, refresh: refreshToken })
      // The browser that signed them in gets no silent sign-in either.
      expect(await silentError(config, signedInBrowser)).toBe('login_required')

      const pending = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid' })
      const b = browser(t.issuer)
      const form = await b.open(pending.url.href)
      expect(form.url).toContain('/ui/sign-in')
      const refused = await b.submit(form, '/ui/sign-in', { email: user.email, password: user.password })
      expect(refused.redirectedTo).toBeUndefined()
      expect(refused.status).toBe(401)
      expect(refused.html).toContain(en['sign_in.error_invalid'])
      expect(refused.html).toContain('name="password"')
    })

    it('logout-all ends the tokens of a page sign-in', async () => {
      const user = await registerUser(t)
      const { config, b, tokens, refreshToken } = await signedIn(user)
      const api = await login(t, user)
      const out = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/logout-all',
        headers: bearer(api.access_token),
      })
      expect(out.statusCode).toBe(204)
      await expectDead(config, { access: tokens.access_token, refresh: refreshToken })
      expect(await silentError(config, b)).toBe('login_required')
    })

    it('a password reset through the JSON API ends the tokens of a page sign-in', async () => {
      const user = await registerUser(t)
      const { config, b, tokens, refreshToken } = await signedIn(user)
      const asked = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/password/forgot',
        payload: { email: user.email },
      })
      expect(asked.statusCode).toBe(202)
      await t.kitsune.mailer.idle()
      const mail = mailer.messages.filter((message) => message.to === user.email).at(-1)
      const token = new URL(
        /\bhttps?:\/\/\S+reset-password\?token=\S+/.exec(mail?.text ?? '')?.[0] ?? 'x:',
      ).searchParams.get('token')
      expect(token).toBeTruthy()
      const reset = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/password/reset',
        payload: { token, new_password: 'a brand new passphrase 2031' },
      })
      expect(reset.statusCode).toBe(204)
      await expectDead(config, { access: tokens.access_token, refresh: refreshToken })
      expect(await silentError(config, b)).toBe('login_required')
    })

    it('signing out of Kitsune on /ui/sign-out ends the tokens of that sign-in', async () => {
      const user = await registerUser(t)
      const { config, b, tokens, refreshToken } = await signedIn(user)
      const other = await signedIn(user)
      const page = await b.open(`${t.issuer}/ui/sign-out`)
      expect(page.status).toBe(200)
      const done = await b.submit(page, '/ui/sign-out')
      expect(done.status).toBe(200)
      expect(done.url).toContain('/ui/sign-out/done')
      await expectDead(config, { access: tokens.access_token, refresh: refreshToken })
      // Another browser's sign-in is not this session's: its tokens live on.
      expect((await oidc.tokenIntrospection(other.config, other.tokens.access_token)).active).toBe(true)
      const refreshed = await oidc.refreshTokenGrant(other.config, other.refreshToken)
      expect(refreshed.access_token).toBeTruthy()
      // The browser itself is signed out: the next authorization asks for the password again.
      const pending = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid' })
      const again = await b.open(pending.url.href)
      expect(again.redirectedTo).toBeUndefined()
      expect(again.html).toContain('name="password"')
    })
  })
})
