import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EVENT_TYPES } from '../../src/events/catalogue.js'
import { fixedClock } from '../../src/lib/clock.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerUser, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js'

const ADMIN = { email: 'hooks-admin@example.com', password: 'admin password 1234' }
const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/

type Endpoint = Record<string, unknown> & { id: string; secret?: string }
type Delivery = Record<string, unknown> & { id: string; state: string; attempts: number }

describe.each(testTargets())('webhooks on $name', (target) => {
  let t: TestApp
  let admin: { authorization: string }
  let receiver: WebhookReceiver
  const clock = fixedClock(new Date())

  const create = (payload: Record<string, unknown>) =>
    t.inject({ method: 'POST', url: '/api/v1/admin/webhooks', headers: admin, payload })
  const created = async (payload: Record<string, unknown>): Promise<Endpoint> => {
    const response = await create(payload)
    expect(response.statusCode, response.body).toBe(201)
    return response.json()
  }
  /** Read through the service: the admin's access token would expire as the clock moves on. */
  const deliveries = async (id: string): Promise<Delivery[]> =>
    JSON.parse(JSON.stringify((await t.kitsune.services.webhooks.listDeliveries(id)).items))
  const listed = async (id: string): Promise<Delivery[]> => {
    admin = bearer((await login(t, ADMIN)).access_token)
    const response = await t.inject({
      method: 'GET',
      url: `/api/v1/admin/webhooks/${id}/deliveries`,
      headers: admin,
    })
    expect(response.statusCode).toBe(200)
    return response.json().items
  }
  const settle = async () => {
    t.kitsune.jobs.wake()
    await t.kitsune.jobs.idle()
  }
  /** Moves time to the next attempt and lets it run. */
  const nextAttempt = async () => {
    clock.advance(7200)
    await settle()
  }
  /** Each test starts with no endpoint and a signed-in admin. */
  const disableAll = async () => {
    await t.kitsune.database.db.deleteFrom('webhook_endpoints').execute()
    admin = bearer((await login(t, ADMIN)).access_token)
  }

  beforeAll(async () => {
    receiver = await startWebhookReceiver()
    t = await buildTestApp({
      target,
      clock,
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, WEBHOOKS_ALLOW_PRIVATE: 'true' },
      kitsune: { webhooks: { cacheTtlMs: 0 } },
    })
    admin = bearer((await login(t, ADMIN)).access_token)
  })
  afterAll(async () => {
    await t?.close()
    await receiver?.close()
  })

  it('creates an endpoint, shows its secret once, lists, reads, changes and deletes it', async () => {
    const endpoint = await created({ url: receiver.url, events: ['user.created', 'user.deleted'] })
    expect(endpoint.secret).toMatch(SECRET)
    expect(endpoint).toMatchObject({
      url: receiver.url,
      enabled: true,
      events: ['user.created', 'user.deleted'],
    })
    const stored = await t.kitsune.database.db
      .selectFrom('webhook_endpoints')
      .select('secret_enc')
      .where('id', '=', endpoint.id)
      .executeTakeFirstOrThrow()
    expect(stored.secret_enc).not.toContain((endpoint.secret as string).slice(6))

    const got = await t.inject({
      method: 'GET',
      url: `/api/v1/admin/webhooks/${endpoint.id}`,
      headers: admin,
    })
    expect(got.statusCode).toBe(200)
    expect(got.json().secret).toBeUndefined()
    const list = await t.inject({ method: 'GET', url: '/api/v1/admin/webhooks', headers: admin })
    expect(list.json().items.map((e: Endpoint) => e.id)).toContain(endpoint.id)
    expect(list.body).not.toContain('whsec_')

    const patched = await t.inject({
      method: 'PATCH',
      url: `/api/v1/admin/webhooks/${endpoint.id}`,
      headers: admin,
      payload: { events: ['*'], enabled: false, description: 'CRM sync' },
    })
    expect(patched.statusCode).toBe(200)
    expect(patched.json()).toMatchObject({ events: ['*'], enabled: false, description: 'CRM sync' })
    expect(patched.json().secret).toBeUndefined()

    const removed = await t.inject({
      method: 'DELETE',
      url: `/api/v1/admin/webhooks/${endpoint.id}`,
      headers: admin,
    })
    expect(removed.statusCode).toBe(204)
    const gone = await t.inject({
      method: 'GET',
      url: `/api/v1/admin/webhooks/${endpoint.id}`,
      headers: admin,
    })
    expect(gone.statusCode).toBe(404)
    expect(t.logText()).not.toContain((endpoint.secret as string).slice(6))

    const audit = await t.inject({
      method: 'GET',
      url: '/api/v1/admin/audit-logs',
      query: { target_id: endpoint.id },
      headers: admin,
    })
    expect(
      audit
        .json()
        .items.map((e: { action: string }) => e.action)
        .sort(),
    ).toEqual(['webhook.created', 'webhook.deleted', 'webhook.updated'])
  })

  it.each([
    ['a relative URL', { url: '/hooks', events: ['*'] }],
    ['an ftp URL', { url: 'ftp://example.com/x', events: ['*'] }],
    ['credentials in the URL', { url: 'https://a:b@example.com/x', events: ['*'] }],
    ['an unknown event type', { url: 'https://example.com/x', events: ['user.exploded'] }],
    ['no event type', { url: 'https://example.com/x', events: [] }],
    ['a missing URL', { events: ['*'] }],
    ['an unknown field', { url: 'https://example.com/x', events: ['*'], secret: 'mine' }],
  ])('answers 422 problem+json for %s', async (_name, payload) => {
    const response = await create(payload)
    expect(response.statusCode).toBe(422)
    expect(response.headers['content-type']).toContain('application/problem+json')
  })

  it('answers 404 for deliveries of an unknown endpoint and 422 for a bad cursor', async () => {
    const unknown = await t.inject({
      method: 'GET',
      url: '/api/v1/admin/webhooks/0192f0c4-0000-7000-8000-000000000000/deliveries',
      headers: admin,
    })
    expect(unknown.statusCode).toBe(404)
    const badCursor = await t.inject({
      method: 'GET',
      url: '/api/v1/admin/webhooks',
      query: { cursor: 'nope' },
      headers: admin,
    })
    expect(badCursor.statusCode).toBe(422)
  })

  it('delivers a committed event exactly as recorded, signed (Standard Webhooks)', async () => {
    receiver.setBehaviour(() => 204)
    receiver.received.length = 0
    const endpoint = await created({ url: receiver.url, events: ['user.created'] })
    const user = await registerUser(t, { full_name: 'Ada Lovelace' })
    await settle()

    expect(receiver.received).toHaveLength(1)
    const [request] = receiver.received
    if (!request) throw new Error('no delivery')
    expect(request.headers['content-type']).toBe('application/json')
    const body = receiver.verify(endpoint.secret as string, request)
    expect(body.type).toBe('user.created')
    expect(body.timestamp).toBe(clock.now().toISOString())
    expect(body.data).toMatchObject({ actor_id: user.id, target_type: 'user', target_id: user.id })
    expect(request.body).not.toContain(user.password)
    expect(request.body).not.toMatch(/\$argon2|password_hash/)

    const [delivery] = await listed(endpoint.id)
    expect(delivery).toMatchObject({
      id: request.headers['webhook-id'],
      event_type: 'user.created',
      state: 'succeeded',
      attempts: 1,
      last_status: 204,
    })
    expect(delivery?.payload).toEqual(JSON.parse(request.body))
    await disableAll()
  })

  it('sends nothing for a use case that rolled back (a registration with a taken e-mail)', async () => {
    receiver.received.length = 0
    const endpoint = await created({ url: receiver.url, events: ['*'] })
    const email = uniqueEmail()
    await registerUser(t, { email })
    await settle()
    const before = receiver.received.length
    const duplicate = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email, password: 'another password 123' },
    })
    expect(duplicate.statusCode).toBe(409)
    await settle()
    expect(receiver.received.length).toBe(before)
    expect((await deliveries(endpoint.id)).filter((d) => d.event_type === 'user.created')).toHaveLength(1)
    await disableAll()
  })

  it('retries a failing receiver with back-off and delivers on the 4th attempt', async () => {
    receiver.received.length = 0
    receiver.setBehaviour((index) => (index < 3 ? 500 : 200))
    const endpoint = await created({ url: receiver.url, events: ['user.created'] })
    await registerUser(t)
    await settle()
    let [delivery] = await deliveries(endpoint.id)
    expect(delivery).toMatchObject({ state: 'failed', attempts: 1, last_status: 500, last_error: 'HTTP 500' })
    expect(Date.parse(String(delivery?.next_attempt_at))).toBeGreaterThan(clock.now().getTime())
    for (let attempt = 2; attempt <= 4; attempt++) await nextAttempt()
    ;[delivery] = await deliveries(endpoint.id)
    expect(delivery).toMatchObject({
      state: 'succeeded',
      attempts: 4,
      last_status: 200,
      next_attempt_at: null,
    })
    expect(receiver.received).toHaveLength(4)
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([delivery?.id]))
    for (const request of receiver.received) receiver.verify(endpoint.secret as string, request)
    const metrics = (await t.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toContain(
      `kitsune_webhook_deliveries_total{endpoint="${endpoint.id}",result="failure"} 3`,
    )
    expect(metrics).toContain(
      `kitsune_webhook_deliveries_total{endpoint="${endpoint.id}",result="success"} 1`,
    )
    await disableAll()
  })

  it('gives up after the retry window (dead, listed), and retries by hand on request', async () => {
    receiver.received.length = 0
    receiver.setBehaviour(() => 503)
    const endpoint = await created({ url: receiver.url, events: ['user.created'] })
    await registerUser(t)
    await settle()
    let delivery: Delivery | undefined
    for (let i = 0; i < 40; i++) {
      ;[delivery] = await deliveries(endpoint.id)
      if (delivery?.state === 'dead') break
      await nextAttempt()
    }
    expect(delivery).toMatchObject({ state: 'dead', last_status: 503, next_attempt_at: null })
    expect((await listed(endpoint.id))[0]).toMatchObject({ id: delivery?.id, state: 'dead' })
    const attempts = delivery?.attempts ?? 0
    expect(attempts).toBeGreaterThan(10)

    receiver.setBehaviour(() => 200)
    const retried = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/webhooks/${endpoint.id}/deliveries/${delivery?.id}/retry`,
      headers: admin,
    })
    expect(retried.statusCode).toBe(202)
    expect(retried.json().state).toBe('queued')
    await settle()
    ;[delivery] = await deliveries(endpoint.id)
    expect(delivery).toMatchObject({ state: 'succeeded', attempts: attempts + 1, last_status: 200 })

    const unknown = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/webhooks/${endpoint.id}/deliveries/0192f0c4-0000-7000-8000-000000000000/retry`,
      headers: admin,
    })
    expect(unknown.statusCode).toBe(404)
    await disableAll()
  })

  it('documents every event body under the OpenAPI components', async () => {
    const spec = (await t.inject({ method: 'GET', url: '/openapi.json' })).json()
    const schemas = spec.components.schemas as Record<string, { properties: Record<string, unknown> }>
    for (const type of EVENT_TYPES) {
      expect(schemas[`WebhookEvent.${type}`]?.properties.type).toMatchObject({ enum: [type] })
    }
  })

  it('sends a webhook.test event to one endpoint on request', async () => {
    receiver.received.length = 0
    receiver.setBehaviour(() => 200)
    const endpoint = await created({ url: receiver.url, events: ['user.deleted'] })
    const delivery = await t.kitsune.services.webhooks.sendTest(null, endpoint.id)
    expect(delivery.event_type).toBe('webhook.test')
    await settle()
    expect(receiver.received).toHaveLength(1)
    const body = receiver.verify(endpoint.secret as string, receiver.received[0] as never)
    expect(body).toMatchObject({ type: 'webhook.test', data: { target_id: endpoint.id } })
    await disableAll()
  })
})
