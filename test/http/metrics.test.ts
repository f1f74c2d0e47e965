import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin, registerUser, type TestUser } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'metrics-admin@example.com', password: 'admin password 1234' }
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses the Prometheus text exposition format (comments skipped, label values unescaped). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/)
    if (!match) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const label of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, '$1')
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) })
  }
  return samples
}

/** The sum of every sample of `name` whose labels include `labels` (0 when there is none). */
function sampleSum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0)
}

describe.each(testTargets())('Prometheus metrics on $name', (target) => {
  let t: TestApp
  let admin: { authorization: string }
  const users: TestUser[] = []

  const scrape = async () => {
    const response = await t.inject({ method: 'GET', url: '/metrics' })
    expect(response.statusCode).toBe(200)
    return parseMetrics(response.body)
  }

  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    admin = bearer((await login(t, ADMIN)).access_token)
  })
  afterAll(async () => t?.close())

  it('serves GET /metrics as Prometheus text with the Kitsune counters declared', async () => {
    const response = await t.inject({ method: 'GET', url: '/metrics' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toContain('text/plain')
    expect(response.body).toContain('# TYPE kitsune_logins_total counter')
    expect(response.body).toContain('# TYPE http_requests_total counter')
  })

  it('counts one successful and one failed login under result="success" and "bad_credentials"', async () => {
    const user = await registerUser(t)
    users.push(user)
    const before = await scrape()
    await login(t, user)
    const wrong = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: 'not the password' },
    })
    expect(wrong.statusCode).toBe(401)
    const after = await scrape()
    for (const result of ['success', 'bad_credentials']) {
      expect(sampleSum(after, 'kitsune_logins_total', { result })).toBe(
        sampleSum(before, 'kitsune_logins_total', { result }) + 1,
      )
    }
    expect(sampleSum(after, 'kitsune_logins_total', { result: 'locked' })).toBe(
      sampleSum(before, 'kitsune_logins_total', { result: 'locked' }),
    )
  })

  it('counts registrations, refresh rotations and a refresh-token reuse', async () => {
    const before = await scrape()
    const { user, tokens } = await registerAndLogin(t)
    users.push(user)
    const refresh = (token: string) =>
      t.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: token } })
    expect((await refresh(tokens.refresh_token)).statusCode).toBe(200)
    expect((await refresh(tokens.refresh_token)).statusCode).toBe(401)
    const after = await scrape()
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sampleSum(after, name, labels) - sampleSum(before, name, labels)
    expect(moved('kitsune_registrations_total')).toBe(1)
    expect(moved('kitsune_token_refreshes_total', { result: 'success' })).toBe(1)
    expect(moved('kitsune_token_refreshes_total', { result: 'reused' })).toBe(1)
    expect(moved('kitsune_refresh_token_reuse_total')).toBe(1)
  })

  it('labels HTTP requests with the route template, never the raw path', async () => {
    const { user, tokens } = await registerAndLogin(t)
    users.push(user)
    const sessionId = randomUUID()
    const userId = randomUUID()
    const me = await t.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: bearer(tokens.access_token),
    })
    expect(me.statusCode).toBe(200)
    const revoke = await t.inject({
      method: 'DELETE',
      url: `/api/v1/users/me/sessions/${sessionId}`,
      headers: bearer(tokens.access_token),
    })
    expect(revoke.statusCode).toBe(404)
    const lookup = await t.inject({ method: 'GET', url: `/api/v1/admin/users/${userId}`, headers: admin })
    expect(lookup.statusCode).toBe(404)

    const samples = (await scrape()).filter((s) => s.name === 'http_requests_total')
    expect(samples).toContainEqual(
      expect.objectContaining({ labels: { method: 'GET', route: '/api/v1/users/me', status: '200' } }),
    )
    expect(samples).toContainEqual(
      expect.objectContaining({
        labels: { method: 'DELETE', route: '/api/v1/users/me/sessions/:id', status: '404' },
      }),
    )
    expect(samples).toContainEqual(
      expect.objectContaining({ labels: { method: 'GET', route: '/api/v1/admin/users/:id', status: '404' } }),
    )
    const routes = samples.map((s) => s.labels.route ?? '')
    expect(routes.filter((route) => route.includes(sessionId) || route.includes(userId))).toEqual([])
  })

  it('exposes the database pool gauges and the Node.js default metrics', async () => {
    const samples = await scrape()
    const names = new Set(samples.map((s) => s.name))
    for (const state of ['total', 'idle', 'waiting'])
      expect(samples).toContainEqual(
        expect.objectContaining({ name: 'kitsune_db_pool_connections', labels: { state } }),
      )
    for (const name of [
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_used_bytes',
      'nodejs_version_info',
      'nodejs_active_handles',
      'nodejs_active_resources',
    ])
      expect(names).toContain(name)
  })

  it('exposes active handles, requests and resources per type only, never as gauges named like counters', async () => {
    const samples = await scrape()
    expect(samples.filter((s) => s.name === 'nodejs_active_handles').every((s) => s.labels.type)).toBe(true)
    expect(sampleSum(samples, 'nodejs_active_handles')).toBeGreaterThan(0)
    const misnamed = samples.filter((s) => /^nodejs_active_\w+_total$/.test(s.name)).map((s) => s.name)
    expect(misnamed).toEqual([])
  })

  it('never puts an e-mail address or a user id in a label value', async () => {
    expect(users.length).toBeGreaterThan(0)
    const values = (await scrape()).flatMap((s) => Object.values(s.labels))
    expect(values.filter((value) => value.includes('@') || UUID.test(value))).toEqual([])
    for (const user of users) {
      expect(values.filter((value) => value.includes(user.id) || value.includes(user.email))).toEqual([])
    }
  })
})

describe.each(testTargets())('metrics switched off or moved on $name', (target) => {
  it('answers 404 on /metrics with METRICS_ENABLED=false', async () => {
    const t = await buildTestApp({ target, env: { METRICS_ENABLED: 'false' } })
    try {
      expect(t.kitsune.metrics).toBeUndefined()
      expect((await t.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404)
    } finally {
      await t.close()
    }
  })

  it('answers 404 on /metrics of the main app with METRICS_PORT set, while still counting requests', async () => {
    const t = await buildTestApp({ target, env: { METRICS_PORT: '9464' } })
    try {
      expect((await t.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404)
      expect((await t.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)
      const text = (await t.kitsune.metrics?.registry.metrics()) ?? ''
      expect(sampleSum(parseMetrics(text), 'http_requests_total', { route: '/health/live' })).toBe(1)
    } finally {
      await t.close()
    }
  })
})
