import { setTimeout as sleep } from 'node:timers/promises'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/lib/clock.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const LIMITS = {
  RATE_LIMIT_LOGIN: '3/1m',
  RATE_LIMIT_REGISTER: '3/1m',
  RATE_LIMIT_REFRESH: '3/1m',
  RATE_LIMIT_GLOBAL: '8/1m',
}

let ipCounter = 0
/** Every test gets addresses of its own, so buckets never leak between tests. */
const nextIp = () => `10.${Math.floor(ipCounter / 250) % 250}.${ipCounter % 250}.${(ipCounter++ % 200) + 1}`

const badLogin = (remoteAddress: string, headers: Record<string, string> = {}): InjectOptions => ({
  method: 'POST',
  url: '/api/v1/auth/login',
  payload: { email: uniqueEmail(), password: 'not the password' },
  remoteAddress,
  headers,
})

function expectRateLimited(response: LightMyRequestResponse, limit: number): void {
  expect(response.statusCode).toBe(429)
  expect(response.headers['content-type']).toContain('application/problem+json')
  expect(response.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
  const retryAfter = Number(response.headers['retry-after'])
  expect(Number.isInteger(retryAfter)).toBe(true)
  expect(retryAfter).toBeGreaterThan(0)
  expect(retryAfter).toBeLessThanOrEqual(60)
  expect(response.headers['ratelimit-limit']).toBe(String(limit))
  expect(response.headers['ratelimit-remaining']).toBe('0')
  expect(Number(response.headers['ratelimit-reset'])).toBeGreaterThan(0)
}

/** Sends `requests` in order and checks RateLimit-Remaining counts down to 0, then the next is 429. */
async function exhaust(
  t: TestApp,
  requests: InjectOptions[],
  limit: number,
): Promise<LightMyRequestResponse> {
  for (const [i, request] of requests.entries()) {
    const response = await t.inject(request)
    expect(response.statusCode).toBeLessThan(429)
    expect(response.headers['ratelimit-limit']).toBe(String(limit))
    expect(response.headers['ratelimit-remaining']).toBe(String(limit - i - 1))
    const reset = Number(response.headers['ratelimit-reset'])
    expect(reset).toBeGreaterThan(0)
    expect(reset).toBeLessThanOrEqual(60)
  }
  return t.inject(requests[0] as InjectOptions)
}

describe.each(testTargets())('per-IP rate limits on $name', (target) => {
  const clock = fixedClock('2030-01-01T00:00:00Z')
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target, clock, env: LIMITS })
  })
  afterAll(async () => t?.close())

  it('answers the 4th login from one IP with 429, Retry-After and RateLimit-* headers', async () => {
    const ip = nextIp()
    const fourth = await exhaust(t, [badLogin(ip), badLogin(ip), badLogin(ip)], 3)
    expectRateLimited(fourth, 3)
    // Another address is not affected.
    expect((await t.inject(badLogin(nextIp()))).statusCode).toBe(401)
  })

  it('answers the 4th register from one IP with 429', async () => {
    const ip = nextIp()
    const register = (): InjectOptions => ({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: uniqueEmail(), password: 'long enough password' },
      remoteAddress: ip,
    })
    const fourth = await exhaust(t, [register(), register(), register()], 3)
    expectRateLimited(fourth, 3)
  })

  it('answers the 4th refresh from one IP with 429', async () => {
    const ip = nextIp()
    const refresh: InjectOptions = {
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: 'not-a-real-refresh-token' },
      remoteAddress: ip,
    }
    expectRateLimited(await exhaust(t, [refresh, refresh, refresh], 3), 3)
  })

  it('counts the token endpoint against the login policy, answering problem+json when exceeded', async () => {
    const ip = nextIp()
    const token: InjectOptions = {
      method: 'POST',
      url: '/api/v1/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=password&username=${encodeURIComponent(uniqueEmail())}&password=wrong-password`,
      remoteAddress: ip,
    }
    const fourth = await exhaust(t, [badLogin(ip), badLogin(ip), token], 3)
    expectRateLimited(fourth, 3)
    expectRateLimited(await t.inject(token), 3)
  })

  it('applies the global limit to any route but never to /health/live', async () => {
    const ip = nextIp()
    const jwks: InjectOptions = { method: 'GET', url: '/.well-known/jwks.json', remoteAddress: ip }
    const ninth = await exhaust(
      t,
      Array.from({ length: 8 }, () => jwks),
      8,
    )
    expectRateLimited(ninth, 8)
    expectRateLimited(await t.inject({ method: 'GET', url: '/api/v1/users/me', remoteAddress: ip }), 8)
    const live = await t.inject({ method: 'GET', url: '/health/live', remoteAddress: ip })
    expect(live.statusCode).toBe(200)
    expect(live.headers['ratelimit-limit']).toBeUndefined()
  })

  it('ignores X-Forwarded-For when TRUST_PROXY is false, so spoofed values share one bucket', async () => {
    const ip = nextIp()
    const spoofed = [1, 2, 3].map((i) => badLogin(ip, { 'x-forwarded-for': `203.0.113.${i}` }))
    await exhaust(t, spoofed, 3)
    expectRateLimited(await t.inject(badLogin(ip, { 'x-forwarded-for': '198.51.100.77' })), 3)
  })

  it('opens the window again once it has passed', async () => {
    // The memory store runs on the injected clock; Redis expires keys in real time, so on Redis
    // a second app with a 2-second window is used and the test waits for it.
    const redis = t.kitsune.store.kind === 'redis'
    const app = redis ? await buildTestApp({ target, env: { RATE_LIMIT_LOGIN: '2/2s' } }) : t
    const limit = redis ? 2 : 3
    try {
      const ip = nextIp()
      for (let i = 0; i < limit; i++) expect((await app.inject(badLogin(ip))).statusCode).toBe(401)
      const limited = await app.inject(badLogin(ip))
      expect(limited.statusCode).toBe(429)
      const retryAfter = Number(limited.headers['retry-after'])
      expect(retryAfter).toBeGreaterThan(0)
      if (redis) await sleep((retryAfter + 1) * 1000)
      else clock.advance(retryAfter + 1)
      const again = await app.inject(badLogin(ip))
      expect(again.statusCode).toBe(401)
      expect(again.headers['ratelimit-remaining']).toBe(String(limit - 1))
    } finally {
      if (app !== t) await app.close()
    }
  })
})

describe.each(testTargets())('rate-limit switches on $name', (target) => {
  let off: TestApp
  let proxied: TestApp
  beforeAll(async () => {
    off = await buildTestApp({
      target,
      env: { ...LIMITS, RATE_LIMIT_LOGIN: '1/1m', RATE_LIMIT_ENABLED: 'false' },
    })
    proxied = await buildTestApp({ target, env: { ...LIMITS, TRUST_PROXY: 'true' } })
  })
  afterAll(async () => {
    await off?.close()
    await proxied?.close()
  })

  it('turns every limit off with RATE_LIMIT_ENABLED=false', async () => {
    const ip = nextIp()
    for (let i = 0; i < 4; i++) {
      const response = await off.inject(badLogin(ip))
      expect(response.statusCode).toBe(401)
      expect(response.headers['ratelimit-limit']).toBeUndefined()
    }
  })

  it('keys the limit on X-Forwarded-For when TRUST_PROXY is true', async () => {
    const proxy = nextIp()
    for (let i = 1; i <= 5; i++) {
      const response = await proxied.inject(badLogin(proxy, { 'x-forwarded-for': `203.0.113.${i}` }))
      expect(response.statusCode).toBe(401)
      expect(response.headers['ratelimit-remaining']).toBe('2')
    }
    const client = { 'x-forwarded-for': '198.51.100.9' }
    await exhaust(proxied, [badLogin(proxy, client), badLogin(proxy, client), badLogin(proxy, client)], 3)
    expectRateLimited(await proxied.inject(badLogin(proxy, client)), 3)
  })
})
