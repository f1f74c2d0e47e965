import * as oidc from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerUser } from '../helpers/factories.js'
import { totpAt } from '../helpers/mfa.js'
import {
  browser,
  createClient,
  discover,
  type OidcTestServer,
  offsetClock,
  startOidcServerWith,
} from '../helpers/oidc.js'
import { testTargets } from '../helpers/test-targets.js'
import { totp } from '../helpers/totp.js'

const REDIRECT = 'http://127.0.0.1:9/callback'
const MFA = 'urn:kitsune:acr:mfa'

describe.each(testTargets())('OIDC_MFA_MISSING=enrol: a client demands a second factor ($name)', (target) => {
  let t: OidcTestServer
  const clock = offsetClock()
  beforeAll(async () => {
    t = await startOidcServerWith(target, { env: { OIDC_MFA_MISSING: 'enrol' }, clock })
  })
  afterAll(async () => t?.close())

  it('asks an account without one to set up an authenticator, shows recovery codes once, then signs in with acr mfa', async () => {
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
      acr_values: MFA,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })
    const b = browser(t.issuer)
    const signIn = await b.open(url.href)
    const enrol = await b.submit(signIn, '/ui/sign-in', { email: user.email, password: user.password })
    expect(enrol.html).toContain('data:image/svg+xml;base64,')
    const secret = (/<p class="code">([A-Z2-7 ]+)<\/p>/.exec(enrol.html)?.[1] ?? '').replaceAll(' ', '')
    expect(secret.length).toBeGreaterThanOrEqual(16)

    // A wrong code keeps the person on the page, with the error tied to the field.
    const wrong = await b.submit(enrol, '/ui/sign-in/enrol', {
      code: '000000' === totpAt(clock, secret) ? '111111' : '000000',
    })
    expect(wrong.status).toBe(422)
    expect(wrong.html).toContain('aria-invalid="true"')
    const fresh = (/<p class="code">([A-Z2-7 ]+)<\/p>/.exec(wrong.html)?.[1] ?? '').replaceAll(' ', '')

    const codes = await b.submit(wrong, '/ui/sign-in/enrol', { code: totp(fresh, clock.now().getTime()) })
    expect(codes.status).toBe(200)
    expect([...codes.html.matchAll(/<li><code>/g)].length).toBeGreaterThanOrEqual(8)
    const done = await b.submit(codes, '/ui/sign-in/continue')
    expect(done.redirectedTo).toBeTruthy()
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.redirectedTo as string), {
      pkceCodeVerifier: verifier,
    })
    expect(tokens.claims()).toMatchObject({ sub: user.id, acr: MFA, amr: ['pwd', 'otp'] })

    const row = await t.kitsune.uow.read.users.findById(user.id)
    expect(row?.mfa_enabled).toBe(true)
  })
})
