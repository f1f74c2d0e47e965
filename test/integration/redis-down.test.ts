import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { freePort } from '../helpers/cli-process.js'
import { bearer, registerAndLogin, type TestTokens } from '../helpers/factories.js'
import type { ProvisionedTarget } from '../helpers/test-targets.js'
import { postgresTarget, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/test-targets.js'
import { HAS_REDIS_SERVER, startRedis, stopRedis } from '../helpers/throwaway-redis.js'

// Nothing listens on port 1; the machine's own Redis (6379) is never stopped or flushed here.
const DEAD_REDIS_URL = 'redis://127.0.0.1:1'

const me = (t: TestApp, tokens: TestTokens) =>
  t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(tokens.access_token) })

/** Polls until `done(value)` holds or the deadline passes, and returns the last value either way. */
async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, deadlineMs = 20_000) {
  const until = Date.now() + deadlineMs
  let value = await probe()
  while (!done(value) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    value = await probe()
  }
  return value
}

describe.skipIf(!TEST_DATABASE_URL || !TEST_REDIS_URL)(
  'Redis outage on PostgreSQL + Redis (needs TEST_DATABASE_URL and TEST_REDIS_URL)',
  () => {
    let healthy: TestApp & { provisioned: ProvisionedTarget }
    let tokens: TestTokens
    beforeAll(async () => {
      healthy = await buildTestApp({ target: postgresTarget })
      ;({ tokens } = await registerAndLogin(healthy))
    })
    afterAll(async () => healthy?.close())

    describe('an instance whose Redis is unreachable', () => {
      let down: TestApp
      beforeAll(async () => {
        down = await buildTestApp({
          target: postgresTarget,
          provisioned: healthy.provisioned,
          env: { REDIS_URL: DEAD_REDIS_URL },
        })
      })
      afterAll(async () => down?.close())

      it('answers 503 problem+json DEPENDENCY_DOWN to an authenticated request (fails closed)', async () => {
        expect((await me(healthy, tokens)).statusCode).toBe(200)
        const response = await me(down, tokens)
        expect(response.statusCode).toBe(503)
        expect(response.headers['content-type']).toContain('application/problem+json')
        expect(response.json()).toMatchObject({ status: 503, code: 'DEPENDENCY_DOWN' })
        expect(response.json().request_id).toEqual(expect.any(String))
        expect(response.body).not.toContain('127.0.0.1:1')
      })

      it('reports redis down (and the database ok) on /health/ready with 503', async () => {
        const response = await down.inject({ method: 'GET', url: '/health/ready' })
        expect(response.statusCode).toBe(503)
        expect(response.json()).toMatchObject({
          status: 'unavailable',
          checks: { database: 'ok', redis: 'down' },
        })
      })

      it('stays live: /health/live answers 200', async () => {
        expect((await down.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)
      })
    })

    describe.skipIf(!HAS_REDIS_SERVER)('recovery with a throwaway redis-server (needs redis-server)', () => {
      let port: number
      let dir: string
      let redis: ChildProcess | undefined
      let app: TestApp
      beforeAll(async () => {
        port = await freePort()
        dir = mkdtempSync(join(tmpdir(), 'kitsune-redis-'))
        redis = await startRedis(port, dir)
        app = await buildTestApp({
          target: postgresTarget,
          provisioned: healthy.provisioned,
          env: { REDIS_URL: `redis://127.0.0.1:${port}/0` },
        })
      })
      afterAll(async () => {
        await app?.close()
        await stopRedis(redis)
        if (dir) rmSync(dir, { recursive: true, force: true })
      })

      it('answers 503 while its Redis is stopped and 200 again once it is back', async () => {
        expect((await me(app, tokens)).statusCode).toBe(200)
        expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200)

        await stopRedis(redis)
        const outage = await eventually(
          () => me(app, tokens),
          (r) => r.statusCode !== 200,
        )
        expect(outage.statusCode).toBe(503)
        expect(outage.json().code).toBe('DEPENDENCY_DOWN')
        const ready = await app.inject({ method: 'GET', url: '/health/ready' })
        expect(ready.statusCode).toBe(503)
        expect(ready.json().checks.redis).toBe('down')

        // The restarted Redis is empty: auth state is re-read from the database.
        redis = await startRedis(port, dir)
        const recovered = await eventually(
          () => me(app, tokens),
          (r) => r.statusCode === 200,
        )
        expect(recovered.statusCode).toBe(200)
        const readyAgain = await app.inject({ method: 'GET', url: '/health/ready' })
        expect(readyAgain.statusCode).toBe(200)
        expect(readyAgain.json().checks.redis).toBe('ok')
      })

      it('keeps a session ended before a Redis restart ended: the database decides once the marker is gone', async () => {
        const { tokens: own } = await registerAndLogin(app)
        const logout = await app.inject({
          method: 'POST',
          url: '/api/v1/auth/logout',
          headers: bearer(own.access_token),
        })
        expect(logout.statusCode).toBe(204)
        await stopRedis(redis)
        redis = await startRedis(port, dir)
        const after = await eventually(
          () => me(app, own),
          (r) => r.statusCode !== 503,
        )
        expect(after.statusCode).toBe(401)
      })
    })
  },
)
