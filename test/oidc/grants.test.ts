import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose'
import * as oidc from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { en } from '../../src/web/i18n/en.js'
import { bearer, login, registerUser, type TestUser } from '../helpers/factories.js'
import { auditEntries, TOTP_STEP_SECONDS, totpAt } from '../helpers/mfa.js'
import {
  browser,
  createClient,
  discover,
  type OidcTestServer,
  offsetClock,
  redeemCode,
  signInThroughPages,
  startAuthorization,
  startOidcServerWith,
  storedCount,
} from '../helpers/oidc.js'
import { testTargets } from '../helpers/test-targets.js'

const REDIRECT = 'http://127.0.0.1:9/callback'
const API = 'https://api.example.test'
const ACR_MFA = 'urn:kitsune:acr:mfa'
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

const paramsOf = (url: URL | string | undefined) => new URL(url ?? 'http://invalid.test').searchParams

describe.each(testTargets())('OpenID grants with a real relying party ($name)', (target) => {
  let t: OidcTestServer
  const clock = offsetClock()

  beforeAll(async () => {
    t = await startOidcServerWith(target, { clock, env: { OIDC_RESOURCES: API } })
  })
  afterAll(async () => t?.close())

  /** A confidential, first-party authorization-code client. */
  const codeClient = async (extra: Parameters<typeof createClient>[1] = {}) => {
    const { clientId, clientSecret } = await createClient(t, {
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access roles',
      first_party: true,
      ...extra,
    })
    return { clientId, config: await discover(t.issuer, clientId, clientSecret) }
  }

  const jwks = async () => {
    const response = await fetch(`${t.issuer}/.well-known/jwks.json`)
    expect(response.status).toBe(200)
    return createLocalJWKSet((await response.json()) as JSONWebKeySet)
  }

  /** Enrols TOTP for an existing account through the JSON API; returns the base32 secret. */
  const enrolTotp = async (user: TestUser) => {
    const headers = bearer((await login(t, user)).access_token)
    const begun = await t.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp', headers })
    expect(begun.statusCode).toBe(200)
    const secret = begun.json().secret as string
    const confirmed = await t.inject({
      method: 'POST',
      url: '/api/v1/users/me/mfa/totp/confirm',
      headers,
      payload: { code: totpAt(clock, secret) },
    })
    expect(confirmed.statusCode).toBe(200)
    // The confirmation used this step's code: move on so the next sign-in has a fresh one.
    clock.advance(2 * TOTP_STEP_SECONDS)
    return secret
  }

  describe('public client on a loopback redirect', () => {
    it('runs code + PKCE with refresh; a reused refresh token fails and ends the whole grant', async () => {
      const user = await registerUser(t)
      const { clientId } = await createClient(t, {
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        scope: 'openid email offline_access',
        first_party: true,
      })
      const config = await discover(t.issuer, clientId)
      const pending = await startAuthorization(config, {
        redirect_uri: REDIRECT,
        scope: 'openid email offline_access',
      })
      const callback = await signInThroughPages(browser(t.issuer), pending.url, user)
      expect(callback.origin + callback.pathname).toBe(REDIRECT)
      const tokens = await redeemCode(config, callback, pending)
      expect(tokens.claims()?.sub).toBe(user.id)
      expect(tokens.refresh_token).toBeTruthy()
      const first = tokens.refresh_token as string

      expect(await storedCount(t, 'Grant', clientId)).toBe(1)
      const second = await oidc.refreshTokenGrant(config, first)
      expect(second.refresh_token).toBeTruthy()
      expect(second.refresh_token).not.toBe(first)
      expect(second.claims()?.sub).toBe(user.id)
      const info = await oidc.fetchUserInfo(config, second.access_token, user.id)
      expect(info.email).toBe(user.email)

      // The rotated-out token again: refused, and the grant it belongs to is revoked.
      await expect(oidc.refreshTokenGrant(config, first)).rejects.toMatchObject({ error: 'invalid_grant' })
      await expect(oidc.refreshTokenGrant(config, second.refresh_token as string)).rejects.toMatchObject({
        error: 'invalid_grant',
      })
      expect(await storedCount(t, 'Grant', clientId)).toBe(0)
      expect(await storedCount(t, 'RefreshToken', clientId)).toBe(0)
      const userinfoAfter = await fetch(`${t.issuer}/oidc/me`, {
        headers: { authorization: `Bearer ${second.access_token}` },
      })
      expect(userinfoAfter.status).toBe(401)
    })
  })

  describe('client credentials', () => {
    const machineClient = async () => {
      const { clientId, clientSecret } = await createClient(t, {
        grant_types: ['client_credentials'],
      })
      expect(clientSecret).toBeTruthy()
      return { clientId, config: await discover(t.issuer, clientId, clientSecret) }
    }

    it('issues an access token to a confidential client', async () => {
      const { clientId, config } = await machineClient()
      const tokens = await oidc.clientCredentialsGrant(config)
      expect(tokens.token_type.toLowerCase()).toBe('bearer')
      expect(tokens.access_token).toBeTruthy()
      expect(tokens.refresh_token).toBeUndefined()
      expect(tokens.id_token).toBeUndefined()
      const introspected = await oidc.tokenIntrospection(config, tokens.access_token)
      expect(introspected).toMatchObject({ active: true, client_id: clientId })
      expect(introspected.sub).toBeUndefined()
    })

    it('issues an RFC 9068 JWT for a configured resource, verifiable with the published keys', async () => {
      const { clientId, config } = await machineClient()
      const tokens = await oidc.clientCredentialsGrant(config, { resource: API })
      expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt')
      const { payload, protectedHeader } = await jwtVerify(tokens.access_token, await jwks(), {
        issuer: t.issuer,
        audience: API,
        typ: 'at+jwt',
      })
      expect(protectedHeader.kid).toBeTruthy()
      expect(payload.aud).toBe(API)
      expect(payload.client_id).toBe(clientId)
      expect(typeof payload.exp).toBe('number')
      expect(typeof payload.jti).toBe('string')
    })

    it('refuses a resource that is not configured with invalid_target', async () => {
      const { config } = await machineClient()
      await expect(
        oidc.clientCredentialsGrant(config, { resource: 'https://elsewhere.example.test' }),
      ).rejects.toMatchObject({ error: 'invalid_target', status: 400 })
    })
  })

  describe('authorization code for an API resource', () => {
    it('gives a JWT access token for the resource, with roles and permissions when roles was granted', async () => {
      const user = await registerUser(t)
      const { config } = await codeClient()
      const pending = await startAuthorization(config, {
        redirect_uri: REDIRECT,
        scope: 'openid roles',
        resource: API,
      })
      const callback = await signInThroughPages(browser(t.issuer), pending.url, user)
      const tokens = await redeemCode(config, callback, pending)
      expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt')
      const { payload } = await jwtVerify(tokens.access_token, await jwks(), {
        issuer: t.issuer,
        audience: API,
        typ: 'at+jwt',
      })
      expect(payload.sub).toBe(user.id)
      expect(payload.roles).toEqual(['user'])
      expect(Array.isArray(payload.permissions)).toBe(true)
    })

    it('leaves roles and permissions out when the roles scope was not asked for', async () => {
      const user = await registerUser(t)
      const { config } = await codeClient()
      const pending = await startAuthorization(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        resource: API,
      })
      const callback = await signInThroughPages(browser(t.issuer), pending.url, user)
      const tokens = await redeemCode(config, callback, pending)
      const { payload } = await jwtVerify(tokens.access_token, await jwks(), {
        issuer: t.issuer,
        audience: API,
        typ: 'at+jwt',
      })
      expect(payload.sub).toBe(user.id)
      expect(payload.roles).toBeUndefined()
      expect(payload.permissions).toBeUndefined()
    })
  })

  describe('device authorization', () => {
    it('signs a device in after the person confirms its code in a browser', async () => {
      const user = await registerUser(t)
      const { clientId } = await createClient(t, {
        grant_types: [DEVICE_GRANT, 'refresh_token'],
        token_endpoint_auth_method: 'none',
        scope: 'openid offline_access',
        first_party: true,
      })
      const config = await discover(t.issuer, clientId)
      const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid offline_access' })
      expect(device.user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/)
      expect(new URL(device.verification_uri).href).toBe(`${t.issuer}/ui/device`)
      const polling = oidc.pollDeviceAuthorizationGrant(config, device)
      polling.catch(() => {})

      const b = browser(t.issuer)
      const complete = device.verification_uri_complete ?? `${device.verification_uri}`
      // Opening the complete URI carries the code; without JavaScript the person presses Continue.
      let page = await b.open(complete)
      expect(page.status).toBe(200)
      page = await b.submit(page, '/ui/device')
      expect(page.html).toContain(en['device.confirm_title'])
      expect(page.html).toContain(device.user_code)
      page = await b.submit(page, '/ui/device', { confirm: 'yes' })
      expect(page.url).toContain('/ui/sign-in')
      page = await b.submit(page, '/ui/sign-in', { email: user.email, password: user.password })
      expect(page.redirectedTo).toBeUndefined()
      expect(page.status).toBe(200)
      expect(page.html).toContain(en['device.done_title'])

      const tokens = await polling
      expect(tokens.claims()?.sub).toBe(user.id)
      expect(tokens.refresh_token).toBeTruthy()
      const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id)
      expect(info.sub).toBe(user.id)
    })

    it('lets the person cancel: the device is told access_denied', async () => {
      const { clientId } = await createClient(t, {
        grant_types: [DEVICE_GRANT],
        token_endpoint_auth_method: 'none',
        scope: 'openid',
        first_party: true,
      })
      const config = await discover(t.issuer, clientId)
      const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' })
      const polling = oidc.pollDeviceAuthorizationGrant(config, device)
      polling.catch(() => {})
      const b = browser(t.issuer)
      const entry = await b.open(device.verification_uri)
      const confirm = await b.submit(entry, '/ui/device', { user_code: device.user_code })
      expect(confirm.html).toContain(en['device.confirm_title'])
      // The second form on the confirmation page is Cancel.
      await b.submit(confirm, '/ui/device', { abort: 'yes', confirm: '' })
      await expect(polling).rejects.toMatchObject({ error: 'access_denied' })
    })
  })

  describe('third-party client consent', () => {
    it('shows the consent page; deny answers access_denied, allow a code, and the consent is remembered', async () => {
      const user = await registerUser(t)
      const { clientId, config } = await codeClient({ first_party: false, client_name: 'Outside App' })
      const scope = 'openid email profile'

      // Deny.
      const denied = await startAuthorization(config, { redirect_uri: REDIRECT, scope })
      const b = browser(t.issuer)
      let page = await b.open(denied.url.href)
      page = await b.submit(page, '/ui/sign-in', { email: user.email, password: user.password })
      expect(page.url).toContain('/ui/consent')
      expect(page.html).toContain('Outside App')
      expect(page.html).toContain(en['consent.scope_email'])
      const deny = await b.submit(page, '/ui/consent', { decision: 'deny' })
      expect(deny.redirectedTo).toBeDefined()
      expect(paramsOf(deny.redirectedTo).get('error')).toBe('access_denied')
      expect(paramsOf(deny.redirectedTo).get('code')).toBeNull()
      await expect(redeemCode(config, new URL(deny.redirectedTo as string), denied)).rejects.toMatchObject({
        error: 'access_denied',
      })
      expect(await auditEntries(t, 'oidc.consent_granted', clientId)).toHaveLength(0)

      // Allow (the session is still there: only the consent page is shown).
      const allowed = await startAuthorization(config, { redirect_uri: REDIRECT, scope })
      page = await b.open(allowed.url.href)
      expect(page.url).toContain('/ui/consent')
      const allow = await b.submit(page, '/ui/consent', { decision: 'allow' })
      expect(paramsOf(allow.redirectedTo).get('code')).toBeTruthy()
      const tokens = await redeemCode(config, new URL(allow.redirectedTo as string), allowed)
      expect(tokens.claims()?.sub).toBe(user.id)

      const audit = await auditEntries(t, 'oidc.consent_granted', clientId)
      expect(audit).toHaveLength(1)
      expect(audit[0]?.actor_id).toBe(user.id)
      expect(audit[0]?.metadata).toMatchObject({ remembered: true })
      const remembered = await t.kitsune.database.db
        .selectFrom('oidc_consents')
        .select('scopes')
        .where('user_id', '=', user.id)
        .where('client_id', '=', clientId)
        .executeTakeFirst()
      expect([...(remembered?.scopes ?? [])].sort()).toEqual(['email', 'openid', 'profile'])
      expect(audit[0]?.metadata).toMatchObject({
        scopes: expect.arrayContaining(['openid', 'email', 'profile']),
      })

      // A new browser: sign-in is asked for, consent is not.
      const again = await startAuthorization(config, { redirect_uri: REDIRECT, scope })
      const other = browser(t.issuer)
      const form = await other.open(again.url.href)
      expect(form.url).toContain('/ui/sign-in')
      const done = await other.submit(form, '/ui/sign-in', { email: user.email, password: user.password })
      expect(done.redirectedTo).toBeDefined()
      expect(paramsOf(done.redirectedTo).get('code')).toBeTruthy()
      const second = await redeemCode(config, new URL(done.redirectedTo as string), again)
      expect(second.claims()?.sub).toBe(user.id)
    })

    it('asks again when the application wants more than was remembered', async () => {
      const user = await registerUser(t)
      const { config } = await codeClient({ first_party: false })
      const first = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid' })
      await signInThroughPages(browser(t.issuer), first.url, user)
      const more = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid email' })
      const b = browser(t.issuer)
      let page = await b.open(more.url.href)
      page = await b.submit(page, '/ui/sign-in', { email: user.email, password: user.password })
      expect(page.url).toContain('/ui/consent')
      expect(page.html).toContain(en['consent.scope_email'])
    })
  })

  describe('a second factor required by acr_values', () => {
    it('gives acr mfa and amr pwd+otp to an account with TOTP', async () => {
      const user = await registerUser(t)
      const secret = await enrolTotp(user)
      const { config } = await codeClient()
      const pending = await startAuthorization(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        acr_values: ACR_MFA,
      })
      const callback = await signInThroughPages(browser(t.issuer), pending.url, user, {
        totp: () => totpAt(clock, secret),
      })
      const claims = (await redeemCode(config, callback, pending)).claims()
      expect(claims?.sub).toBe(user.id)
      expect(claims?.acr).toBe(ACR_MFA)
      expect(claims?.amr).toEqual(['pwd', 'otp'])
    })

    it('answers access_denied at the redirect URI for an account without a second factor', async () => {
      const user = await registerUser(t)
      const { config } = await codeClient()
      const pending = await startAuthorization(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        acr_values: ACR_MFA,
      })
      const b = browser(t.issuer)
      const form = await b.open(pending.url.href)
      const page = await b.submit(form, '/ui/sign-in', { email: user.email, password: user.password })
      expect(page.redirectedTo).toBeDefined()
      const callback = new URL(page.redirectedTo as string)
      expect(callback.origin + callback.pathname).toBe(REDIRECT)
      expect(callback.searchParams.get('error')).toBe('access_denied')
      expect(callback.searchParams.get('code')).toBeNull()
      expect(callback.searchParams.get('state')).toBe(pending.state)
      await expect(redeemCode(config, callback, pending)).rejects.toMatchObject({ error: 'access_denied' })
    })

    it('asks a session signed in with a password alone for the code only', async () => {
      const user = await registerUser(t)
      const { config } = await codeClient()
      const b = browser(t.issuer)
      const plain = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid' })
      const plainTokens = await redeemCode(config, await signInThroughPages(b, plain.url, user), plain)
      expect(plainTokens.claims()?.amr).toEqual(['pwd'])
      const secret = await enrolTotp(user)

      const stepUp = await startAuthorization(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        acr_values: ACR_MFA,
      })
      const page = await b.open(stepUp.url.href)
      expect(page.status).toBe(200)
      expect(page.html).toContain('name="mfa_token"')
      expect(page.html).toContain('name="code"')
      expect(page.html).not.toContain('name="password"')
      const done = await b.submit(page, '/ui/sign-in/mfa', { code: totpAt(clock, secret) })
      expect(done.redirectedTo).toBeDefined()
      const claims = (await redeemCode(config, new URL(done.redirectedTo as string), stepUp)).claims()
      expect(claims?.sub).toBe(user.id)
      expect(claims?.acr).toBe(ACR_MFA)
      expect(claims?.amr).toEqual(['pwd', 'otp'])
    })

    it('never answers prompt=none with a code when the session lacks the second factor asked for', async () => {
      const user = await registerUser(t)
      const { config } = await codeClient()
      const b = browser(t.issuer)
      const plain = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid' })
      await signInThroughPages(b, plain.url, user)
      await enrolTotp(user)
      const silent = await startAuthorization(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        acr_values: ACR_MFA,
        prompt: 'none',
      })
      const page = await b.open(silent.url.href)
      expect(page.redirectedTo).toBeDefined()
      expect(paramsOf(page.redirectedTo).get('code')).toBeNull()
      expect(['login_required', 'interaction_required']).toContain(paramsOf(page.redirectedTo).get('error'))
    })
  })

  describe('prompt and max_age with an existing session', () => {
    const signedIn = async () => {
      const user = await registerUser(t)
      const { config } = await codeClient()
      const b = browser(t.issuer)
      const first = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid' })
      const tokens = await redeemCode(config, await signInThroughPages(b, first.url, user), first)
      return { user, config, b, authTime: tokens.claims()?.auth_time as number }
    }

    it('prompt=none returns a code without any page', async () => {
      const { user, config, b } = await signedIn()
      const pending = await startAuthorization(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        prompt: 'none',
      })
      const page = await b.open(pending.url.href)
      expect(page.redirectedTo).toBeDefined()
      expect(page.html).toBe('')
      const tokens = await redeemCode(config, new URL(page.redirectedTo as string), pending)
      expect(tokens.claims()?.sub).toBe(user.id)
    })

    it('without a prompt the session signs in silently', async () => {
      const { user, config, b } = await signedIn()
      const pending = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid' })
      const page = await b.open(pending.url.href)
      expect(page.redirectedTo).toBeDefined()
      expect((await redeemCode(config, new URL(page.redirectedTo as string), pending)).claims()?.sub).toBe(
        user.id,
      )
    })

    it.each([
      ['prompt=login', { prompt: 'login' }],
      ['max_age=0', { max_age: '0' }],
    ])('%s shows the sign-in form again', async (_name, extra) => {
      const { user, config, b, authTime } = await signedIn()
      const pending = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid', ...extra })
      const page = await b.open(pending.url.href)
      expect(page.redirectedTo).toBeUndefined()
      expect(page.status).toBe(200)
      expect(page.url).toContain('/ui/sign-in')
      expect(page.html).toContain('name="password"')
      await new Promise((resolve) => setTimeout(resolve, 1100))
      const done = await b.submit(page, '/ui/sign-in', { email: user.email, password: user.password })
      expect(done.redirectedTo).toBeDefined()
      const claims = (
        await oidc.authorizationCodeGrant(config, new URL(done.redirectedTo as string), {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          ...('max_age' in extra ? { maxAge: 0 } : {}),
        })
      ).claims()
      expect(claims?.sub).toBe(user.id)
      expect(claims?.auth_time).toBeGreaterThan(authTime)
    })
  })

  describe('one identity, one session', () => {
    it('lists the page sign-in and the API sign-in as the two sessions of the account', async () => {
      const user = await registerUser(t)
      const { config } = await codeClient()
      const pending = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid' })
      const tokens = await redeemCode(
        config,
        await signInThroughPages(browser(t.issuer, { 'user-agent': 'PageBrowser/1.0' }), pending.url, user),
        pending,
      )
      const sid = tokens.claims()?.sid
      expect(typeof sid).toBe('string')
      const api = await login(t, user)
      const response = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me/sessions',
        headers: bearer(api.access_token),
      })
      expect(response.statusCode).toBe(200)
      const items = response.json().items as Array<{
        id: string
        current: boolean
        user_agent: string | null
      }>
      expect(items).toHaveLength(2)
      expect(items.filter((item) => item.current)).toHaveLength(1)
      const page = items.find((item) => !item.current)
      expect(page?.user_agent).toBe('PageBrowser/1.0')
    })
  })
})
