import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as oidc from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerUser } from '../helpers/factories.js'
import {
  browser,
  createClient,
  discover,
  freePort,
  type OidcTestServer,
  signInThroughPages,
  startOidcServer,
} from '../helpers/oidc.js'
import { pgliteTarget, testTargets } from '../helpers/test-targets.js'
import { HAS_REDIS_SERVER, startRedis, stopRedis } from '../helpers/throwaway-redis.js'

const REDIRECT = 'http://127.0.0.1:9/callback'

describe.each(testTargets())('pushed authorization requests and the iss parameter ($name)', (target) => {
  let t: OidcTestServer
  beforeAll(async () => {
    t = await startOidcServer(target)
  })
  afterAll(async () => t?.close())

  it('signs in through a pushed request (RFC 9126) and names the issuer in the response (RFC 9207)', async () => {
    const user = await registerUser(t)
    const { clientId, clientSecret } = await createClient(t, {
      redirect_uris: [REDIRECT],
      scope: 'openid email',
      first_party: true,
    })
    const config = await discover(t.issuer, clientId, clientSecret)
    expect(config.serverMetadata()).toMatchObject({
      pushed_authorization_request_endpoint: `${t.issuer}/oidc/request`,
      authorization_response_iss_parameter_supported: true,
    })
    const verifier = oidc.randomPKCECodeVerifier()
    const url = await oidc.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/)
    const callback = await signInThroughPages(browser(t.issuer), url, user)
    expect(callback.searchParams.get('iss')).toBe(t.issuer)
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier })
    expect(tokens.claims()?.sub).toBe(user.id)
  })
})

describe.skipIf(!HAS_REDIS_SERVER)('a store outage fails closed', () => {
  let t: OidcTestServer
  let redis: ChildProcess
  let dir: string
  let port: number
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-oidc-redis-'))
    port = await freePort()
    redis = await startRedis(port, dir)
    t = await startOidcServer(pgliteTarget, {
      REDIS_URL: `redis://127.0.0.1:${port}/0`,
      RATE_LIMIT_ENABLED: 'false',
    })
  })
  afterAll(async () => {
    await t?.close()
    if (redis) await stopRedis(redis, 'SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers 503 and issues nothing while Redis is down, and works again when it is back', async () => {
    const { clientId, clientSecret } = await createClient(t, {
      redirect_uris: [REDIRECT],
      scope: 'openid',
      first_party: true,
    })
    const config = await discover(t.issuer, clientId, clientSecret)
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    })
    await stopRedis(redis, 'SIGKILL')
    const down = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } })
    expect(down.status).toBe(503)
    expect(down.headers.get('location')).toBeNull()
    expect(await down.text()).toContain('temporarily_unavailable')

    redis = await startRedis(port, dir)
    await expect
      .poll(async () => (await fetch(url, { redirect: 'manual' })).status, { timeout: 10_000, interval: 250 })
      .toBe(303)
  })
})
