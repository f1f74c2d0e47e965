import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import * as oidc from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerUser } from '../helpers/factories.js'
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

describe.each(testTargets())('kitsune keys rotate and the OpenID Provider ($name)', (target) => {
  let t: OidcTestServer
  beforeAll(async () => {
    t = await startOidcServer(target)
  })
  afterAll(async () => t?.close())

  it('signs ID tokens with the new RSA key after a rotation, and the old ones still verify with the JWKS', async () => {
    const user = await registerUser(t)
    const { clientId, clientSecret } = await createClient(t, {
      redirect_uris: [REDIRECT],
      scope: 'openid',
      first_party: true,
    })
    const config = await discover(t.issuer, clientId, clientSecret)
    const signIn = async () => {
      const verifier = oidc.randomPKCECodeVerifier()
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      })
      const callback = await signInThroughPages(browser(t.issuer), url, user)
      return (await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier }))
        .id_token as string
    }
    const before = await signIn()
    const [rotated] = await t.kitsune.services.keys.rotate('RS256')
    const after = await signIn()
    expect(decodeProtectedHeader(before).alg).toBe('RS256')
    expect(decodeProtectedHeader(after).kid).toBe(rotated?.kid)
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid)

    const jwks = createLocalJWKSet(await (await fetch(`${t.issuer}/.well-known/jwks.json`)).json())
    for (const token of [before, after])
      await jwtVerify(token, jwks, { issuer: t.issuer, audience: clientId })
  })
})
