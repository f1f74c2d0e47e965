import { decodeJwt, decodeProtectedHeader } from 'jose'
import * as oidc from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerUser } from '../helpers/factories.js'
import { browser, createClient, discover, type OidcTestServer, startOidcServer } from '../helpers/oidc.js'
import { testTargets } from '../helpers/test-targets.js'

const API = 'https://api.example.test'
const REDIRECT = 'http://127.0.0.1:9/callback'

describe.each(testTargets())('service accounts and acr preferences ($name)', (target) => {
  let t: OidcTestServer
  beforeAll(async () => {
    t = await startOidcServer(target, { OIDC_RESOURCES: API })
  })
  afterAll(async () => t?.close())

  it('gives a client_credentials client’s tokens the permissions it was registered with', async () => {
    const { clientId, clientSecret } = await createClient(t, {
      grant_types: ['client_credentials'],
      scope: 'openid',
      permissions: ['users:read', 'audit:read'],
    })
    const config = await discover(t.issuer, clientId, clientSecret)
    const jwt = await oidc.clientCredentialsGrant(config, { resource: API })
    expect(decodeProtectedHeader(jwt.access_token).typ).toBe('at+jwt')
    expect(decodeJwt(jwt.access_token)).toMatchObject({ aud: API, client_id: clientId })
    expect(decodeJwt(jwt.access_token).permissions).toEqual(
      expect.arrayContaining(['users:read', 'audit:read']),
    )

    const opaque = await oidc.clientCredentialsGrant(config)
    const introspected = await oidc.tokenIntrospection(config, opaque.access_token)
    expect(introspected).toMatchObject({ active: true, client_id: clientId })
    expect(introspected.permissions).toEqual(expect.arrayContaining(['users:read', 'audit:read']))
  })

  it('does not demand a second factor when acr_values also accept the password level', async () => {
    const user = await registerUser(t)
    const { clientId, clientSecret } = await createClient(t, {
      redirect_uris: [REDIRECT],
      scope: 'openid',
      first_party: true,
    })
    const config = await discover(t.issuer, clientId, clientSecret)
    const verifier = oidc.randomPKCECodeVerifier()
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      acr_values: 'urn:kitsune:acr:mfa urn:kitsune:acr:pwd',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })
    const b = browser(t.issuer)
    const page = await b.open(url.href)
    const done = await b.submit(page, '/ui/sign-in', { email: user.email, password: user.password })
    expect(done.redirectedTo).toContain('code=')
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.redirectedTo as string), {
      pkceCodeVerifier: verifier,
    })
    expect(tokens.claims()?.acr).toBe('urn:kitsune:acr:pwd')
  })
})
