import { createServer, request as httpRequest, type Server } from 'node:http'
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose'
import * as oidc from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerUser } from '../helpers/factories.js'
import {
  browser,
  createClient,
  discover,
  freePort,
  type OidcTestServer,
  signInThroughPages,
} from '../helpers/oidc.js'
import { postgresTarget, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/test-targets.js'

const REDIRECT = 'http://127.0.0.1:9/callback'
const runs = Boolean(TEST_DATABASE_URL && TEST_REDIS_URL)

/**
 * A load balancer in front of two instances: the token endpoint goes to B, everything else to A,
 * so every code, refresh token and session crosses from one instance to the other.
 */
function balancer(port: number, a: number, b: number): Promise<Server> {
  const server = createServer((req, res) => {
    const target = req.url?.startsWith('/oidc/token') ? b : a
    const upstream = httpRequest(
      { host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => {
      res.writeHead(502)
      res.end()
    })
    req.pipe(upstream)
  })
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)))
}

/** Receives back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0). */
function logoutReceiver(port: number): Promise<{ server: Server; tokens: string[] }> {
  const tokens: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token')
      if (token) tokens.push(token)
      res.writeHead(200)
      res.end()
    })
  })
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, tokens })))
}

describe.skipIf(!runs)('two instances behind one issuer (PostgreSQL + Redis)', () => {
  let a: OidcTestServer
  let b: OidcTestServer
  let lb: Server
  let receiver: { server: Server; tokens: string[] }
  let receiverPort: number
  let issuer: string

  beforeAll(async () => {
    const [lbPort, aPort, bPort] = [await freePort(), await freePort(), await freePort()]
    receiverPort = await freePort()
    issuer = `http://localhost:${lbPort}`
    const appA = await buildTestApp({
      target: postgresTarget,
      env: { PUBLIC_URL: issuer, OIDC_ALLOW_PRIVATE_URIS: 'true' },
    })
    const appB = await buildTestApp({
      target: postgresTarget,
      env: { PUBLIC_URL: issuer, OIDC_ALLOW_PRIVATE_URIS: 'true' },
      provisioned: appA.provisioned,
    })
    await appA.app.listen({ port: aPort, host: '127.0.0.1' })
    await appB.app.listen({ port: bPort, host: '127.0.0.1' })
    a = Object.assign(appA, { issuer })
    b = Object.assign(appB, { issuer })
    lb = await balancer(lbPort, aPort, bPort)
    receiver = await logoutReceiver(receiverPort)
  })
  afterAll(async () => {
    lb?.close()
    receiver?.server.close()
    await b?.close()
    await a?.close()
  })

  it('redeems on B the code A issued, refreshes on B, and back-channel logout follows logout-all on either', async () => {
    const user = await registerUser(a)
    const { clientId, clientSecret } = await createClient(a, {
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid email offline_access',
      backchannel_logout_uri: `http://127.0.0.1:${receiverPort}/logout`,
      first_party: true,
    })
    const config = await discover(issuer, clientId, clientSecret)
    const verifier = oidc.randomPKCECodeVerifier()
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })
    const callback = await signInThroughPages(browser(issuer), url, user)
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier })
    const sid = tokens.claims()?.sid
    expect(sid).toBeTruthy()
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token as string)
    expect(refreshed.access_token).toBeTruthy()

    // Logout-all through instance B's JSON API ends the browser session A opened.
    const session = await login(b, user)
    const ended = await b.inject({
      method: 'POST',
      url: '/api/v1/auth/logout-all',
      headers: bearer(session.access_token),
    })
    expect(ended.statusCode).toBeLessThan(300)

    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    })
    expect(await oidc.tokenIntrospection(config, refreshed.access_token)).toMatchObject({ active: false })

    await expect.poll(() => receiver.tokens.length, { timeout: 5000 }).toBeGreaterThan(0)
    const logoutToken = receiver.tokens[0] as string
    const jwks = await (await fetch(`${issuer}/.well-known/jwks.json`)).json()
    const { payload } = await jwtVerify(logoutToken, createLocalJWKSet(jwks), { issuer, audience: clientId })
    expect(payload.sub).toBe(user.id)
    expect(payload.sid).toBe(sid)
    expect(decodeJwt(logoutToken).events).toHaveProperty([
      'http://schemas.openid.net/event/backchannel-logout',
    ])
  })
})
