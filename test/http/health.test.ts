import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import {
  type ProvisionedTarget,
  postgresTarget,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  testTargets,
} from '../helpers/test-targets.js'

// Nothing listens on port 1: the machine's own Redis is never stopped here.
const DEAD_REDIS_URL = 'redis://127.0.0.1:1'

describe.each(testTargets())('health checks on $name', (target) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target })
  })
  afterAll(async () => t?.close())

  it('answers GET /health/live with 200 {status: "ok"}', async () => {
    const response = await t.inject({ method: 'GET', url: '/health/live' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ status: 'ok' })
  })

  it('answers GET /health/ready with 200 and every check ok (redis disabled without REDIS_URL)', async () => {
    const redis = target.name === 'postgres' && TEST_REDIS_URL ? 'ok' : 'disabled'
    expect(t.kitsune.store.kind).toBe(redis === 'ok' ? 'redis' : 'memory')
    const response = await t.inject({ method: 'GET', url: '/health/ready' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({
      status: 'ok',
      checks: { database: 'ok', redis, migrations: 'ok' },
    })
  })

  it('keeps answering 200 with migrations ok on repeated readiness checks', async () => {
    for (let i = 0; i < 2; i++) {
      const response = await t.inject({ method: 'GET', url: '/health/ready' })
      expect(response.statusCode).toBe(200)
      expect(response.json().checks.migrations).toBe('ok')
    }
  })

  it('answers 503 naming the database once the database is closed, and stays live', async () => {
    const closing = await buildTestApp({ target })
    try {
      await closing.kitsune.database.close()
      const response = await closing.inject({ method: 'GET', url: '/health/ready' })
      expect(response.statusCode).toBe(503)
      expect(response.json()).toMatchObject({ status: 'unavailable', checks: { database: 'down' } })
      expect((await closing.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)
    } finally {
      await closing.close()
    }
  })
})

describe.skipIf(!TEST_DATABASE_URL)('readiness with an unreachable Redis (needs TEST_DATABASE_URL)', () => {
  let healthy: TestApp & { provisioned: ProvisionedTarget }
  let down: TestApp
  beforeAll(async () => {
    healthy = await buildTestApp({ target: postgresTarget })
    down = await buildTestApp({
      target: postgresTarget,
      provisioned: healthy.provisioned,
      env: { REDIS_URL: DEAD_REDIS_URL },
    })
  })
  afterAll(async () => {
    await down?.close()
    await healthy?.close()
  })

  it('starts anyway, logging that redis is not reachable', () => {
    expect(down.kitsune.store.kind).toBe('redis')
    expect(down.logText()).toContain('redis is not reachable')
  })

  it('answers 503 on /health/ready naming redis as down, with the database and migrations ok', async () => {
    const response = await down.inject({ method: 'GET', url: '/health/ready' })
    expect(response.statusCode).toBe(503)
    expect(response.json()).toEqual({
      status: 'unavailable',
      checks: { database: 'ok', redis: 'down', migrations: 'ok' },
    })
  })

  it('still answers 200 on /health/live', async () => {
    const response = await down.inject({ method: 'GET', url: '/health/live' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ status: 'ok' })
  })
})
