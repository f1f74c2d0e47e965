import * as oidc from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, login, registerUser } from '../helpers/factories.js'
import { auditEntries } from '../helpers/mfa.js'
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

describe.each(testTargets())('the applications a person allowed ($name)', (target) => {
  let t: OidcTestServer
  beforeAll(async () => {
    t = await startOidcServer(target)
  })
  afterAll(async () => t?.close())

  it('lists a remembered consent, and revoking it ends the application’s tokens and asks again', async () => {
    const user = await registerUser(t)
    const { clientId, clientSecret } = await createClient(t, {
      client_name: 'Photo printer',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid email offline_access',
    })
    const config = await discover(t.issuer, clientId, clientSecret)
    const authorize = async () => {
      const verifier = oidc.randomPKCECodeVerifier()
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid email offline_access',
        prompt: 'consent',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      })
      return { url, verifier }
    }
    const first = await authorize()
    const b = browser(t.issuer)
    const callback = await signInThroughPages(b, first.url, user)
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: first.verifier })

    const api = bearer((await login(t, user)).access_token)
    const listed = await t.inject({ method: 'GET', url: '/api/v1/users/me/applications', headers: api })
    expect(listed.statusCode).toBe(200)
    expect(listed.json().items).toEqual([
      expect.objectContaining({
        client_id: clientId,
        client_name: 'Photo printer',
        scopes: expect.arrayContaining(['email']),
      }),
    ])

    const revoked = await t.inject({
      method: 'DELETE',
      url: `/api/v1/users/me/applications/${clientId}`,
      headers: api,
    })
    expect(revoked.statusCode).toBe(204)
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    })
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: false })
    expect((await auditEntries(t, 'oidc.consent_revoked', clientId)).length).toBe(1)

    // Asked again: the consent page comes back for the same browser.
    const again = await b.open((await authorize()).url.href)
    expect(again.url).toContain('/ui/consent')
    const gone = await t.inject({
      method: 'DELETE',
      url: `/api/v1/users/me/applications/${clientId}`,
      headers: api,
    })
    expect(gone.statusCode).toBe(404)
  })
})
