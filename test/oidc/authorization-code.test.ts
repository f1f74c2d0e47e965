import * as oidc from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, login, registerUser } from '../helpers/factories.js'
import {
  browser,
  createClient,
  discover,
  type OidcTestServer,
  signInThroughPages,
  startOidcServer,
} from '../helpers/oidc.js'
import { testTargets } from '../helpers/test-targets.js'

const REDIRECT = 'http://127.0.0.1:9/callback'

describe.each(testTargets())('authorization code + PKCE with a real relying party ($name)', (target) => {
  let t: OidcTestServer
  beforeAll(async () => {
    t = await startOidcServer(target)
  })
  afterAll(async () => t?.close())

  it('signs in a confidential client end to end: tokens, userinfo, refresh, introspection, revocation, end-session', async () => {
    const user = await registerUser(t)
    const { clientId, clientSecret } = await createClient(t, {
      redirect_uris: [REDIRECT],
      post_logout_redirect_uris: ['http://127.0.0.1:9/bye'],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access roles',
      first_party: true,
    })
    const config = await discover(t.issuer, clientId, clientSecret)
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile email roles offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    })
    const b = browser(t.issuer)
    const callback = await signInThroughPages(b, url, user).catch((e) => {
      console.log(
        t.logs
          .filter((l) => (l.level as number) >= 40)
          .map((l) => JSON.stringify(l))
          .join('\n'),
      )
      throw e
    })
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    })
    const claims = tokens.claims()
    expect(claims?.sub).toBe(user.id)
    // OIDC Core 5.4: with an access token issued, profile and e-mail claims come from userinfo.
    expect(claims?.email).toBeUndefined()
    expect(claims?.amr).toEqual(['pwd'])
    expect(claims?.acr).toBe('urn:kitsune:acr:pwd')
    expect(typeof claims?.sid).toBe('string')

    const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id)
    expect(info).toMatchObject({ sub: user.id, email: user.email, email_verified: false, roles: ['user'] })

    // One identity, one session: the page sign-in is a Kitsune session, listed with the application.
    const api = await login(t, user)
    const listed = await t.inject({
      method: 'GET',
      url: '/api/v1/users/me/sessions',
      headers: bearer(api.access_token),
    })
    const browserSession = listed.json().items.find((s: { kind: string }) => s.kind === 'browser')
    expect(browserSession.applications).toEqual([{ client_id: clientId, client_name: 'Test app' }])

    // prompt=select_account: the signed-in person confirms the account, and the code comes back.
    const verifier2 = oidc.randomPKCECodeVerifier()
    const choose = await b.open(
      oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        prompt: 'select_account',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier2),
        code_challenge_method: 'S256',
      }).href,
    )
    expect(choose.html).toContain(`Continue as ${user.email}`)
    const chosen = await b.submit(choose, '/ui/sign-in/select', { choice: 'continue' })
    const again = await oidc.authorizationCodeGrant(config, new URL(chosen.redirectedTo as string), {
      pkceCodeVerifier: verifier2,
    })
    expect(again.claims()?.sid).toBe(claims?.sid)

    expect(tokens.refresh_token).toBeTruthy()
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token as string)
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)
    const introspected = await oidc.tokenIntrospection(config, refreshed.access_token)
    expect(introspected).toMatchObject({ active: true, sub: user.id, client_id: clientId })

    await oidc.tokenRevocation(config, refreshed.refresh_token as string)
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    })

    const end = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: 'http://127.0.0.1:9/bye',
    })
    const confirm = await b.open(end.href)
    const done = await b.submit(confirm, '/oidc/session/end/confirm', { logout: 'yes' })
    expect(done.redirectedTo).toBe('http://127.0.0.1:9/bye')
  })
})
