import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/lib/clock.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { registerUser, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const WRONG = 'definitely the wrong password'
const CAP = 8

describe.each(testTargets())('login brute-force protection on $name', (target) => {
  // The throttle compares lock times with the injected clock, on the memory store and on Redis.
  const clock = fixedClock('2030-01-01T00:00:00Z')
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target, clock, env: { LOGIN_MAX_FAILURES_PER_HOUR: String(CAP) } })
  })
  afterAll(async () => t?.close())

  const attempt = (email: string, password: string, remoteAddress = '192.0.2.10') =>
    t.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, remoteAddress })

  const retryAfter = (response: LightMyRequestResponse) => Number(response.headers['retry-after'])

  function expectLocked(response: LightMyRequestResponse): number {
    expect(response.statusCode).toBe(429)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
    const seconds = retryAfter(response)
    expect(Number.isInteger(seconds)).toBe(true)
    expect(seconds).toBeGreaterThan(0)
    return seconds
  }

  async function failTimes(email: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) expect((await attempt(email, WRONG)).statusCode).toBe(401)
  }

  it('locks the account after 5 failures, even for the correct password, with Retry-After', async () => {
    const user = await registerUser(t)
    await failTimes(user.email, 5)
    expectLocked(await attempt(user.email, WRONG))
    const seconds = expectLocked(await attempt(user.email, user.password))
    expect(seconds).toBeLessThanOrEqual(15 * 60)
    const token = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'password',
        username: user.email,
        password: user.password,
      }).toString(),
    })
    expectLocked(token)
  })

  it('lets the correct password in once the back-off expires, and that resets the counter', async () => {
    const user = await registerUser(t)
    await failTimes(user.email, 5)
    clock.advance(expectLocked(await attempt(user.email, user.password)))
    expect((await attempt(user.email, user.password)).statusCode).toBe(200)
    // A fresh counter: five more failures are answered 401 before the lock comes back.
    await failTimes(user.email, 5)
    expectLocked(await attempt(user.email, user.password))
  })

  it('doubles the back-off with each further failure', async () => {
    const user = await registerUser(t)
    await failTimes(user.email, 5)
    const waits: number[] = []
    for (let i = 0; i < 2; i++) {
      const wait = expectLocked(await attempt(user.email, WRONG))
      waits.push(wait)
      clock.advance(wait)
      expect((await attempt(user.email, WRONG)).statusCode).toBe(401)
    }
    waits.push(expectLocked(await attempt(user.email, WRONG)))
    expect(waits).toEqual([1, 2, 4])
  })

  it('throttles the account however many IP addresses the guesses come from', async () => {
    const user = await registerUser(t)
    for (let i = 1; i <= 5; i++)
      expect((await attempt(user.email, WRONG, `198.51.100.${i}`)).statusCode).toBe(401)
    expectLocked(await attempt(user.email, WRONG, '198.51.100.6'))
    expectLocked(await attempt(user.email, user.password, '203.0.113.50'))
  })

  it('answers an unknown e-mail exactly like a known one', async () => {
    const user = await registerUser(t)
    const sequence = async (email: string) => {
      const answers: Array<{ status: number; retryAfter: unknown; body: unknown }> = []
      for (let i = 0; i < 7; i++) {
        const response = await attempt(email, WRONG)
        answers.push({
          status: response.statusCode,
          retryAfter: response.headers['retry-after'],
          body: { ...(response.json() as Record<string, unknown>), request_id: undefined },
        })
      }
      return answers
    }
    const known = await sequence(user.email)
    const unknown = await sequence(uniqueEmail())
    expect(known.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 429, 429])
    expect(unknown).toEqual(known)
  })

  it(`caps failures at LOGIN_MAX_FAILURES_PER_HOUR (${CAP}) yet never locks for good: an hour later it logs in`, async () => {
    const user = await registerUser(t)
    let failures = 0
    let wait = 0
    while (failures < CAP) {
      const response = await attempt(user.email, WRONG)
      if (response.statusCode === 429) {
        wait = expectLocked(response)
        expect(wait).toBeLessThanOrEqual(15 * 60)
        clock.advance(wait)
      } else {
        expect(response.statusCode).toBe(401)
        failures++
      }
    }
    // Past the cap the wait runs to the end of the hour, beyond the 15-minute back-off ceiling.
    wait = expectLocked(await attempt(user.email, user.password))
    expect(wait).toBeGreaterThan(15 * 60)
    expect(wait).toBeLessThanOrEqual(3600)
    // Reaching the cap is audited once, as user.locked (and so published as that event).
    const locked = await t.kitsune.database.db
      .selectFrom('audit_logs')
      .select(['actor_id', 'target_id', 'metadata'])
      .where('action', '=', 'user.locked')
      .where('target_id', '=', user.id)
      .execute()
    expect(locked).toHaveLength(1)
    expect(locked[0]).toMatchObject({ actor_id: null, target_id: user.id })
    clock.advance(30 * 60)
    expectLocked(await attempt(user.email, user.password))
    clock.advance(30 * 60)
    expect((await attempt(user.email, user.password)).statusCode).toBe(200)
  })
})
