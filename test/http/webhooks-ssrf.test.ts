import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWebhookSender } from '../../src/events/webhook-sender.js'
import { systemResolver } from '../../src/events/webhook-target.js'
import { fixedClock } from '../../src/lib/clock.js'
import type { Mailer, MailMessage } from '../../src/mail/mailer.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerUser } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js'

const ADMIN = { email: 'ssrf-admin@example.com', password: 'admin password 1234' }
const PUBLIC_ADDRESS = '93.184.215.14'

function collectingMailer(): Mailer & { sent: MailMessage[] } {
  const sent: MailMessage[] = []
  return {
    kind: 'log',
    sent,
    send: (message) => {
      sent.push(message)
    },
    deliver: async (message) => {
      sent.push(message)
    },
    defer: (task) => {
      void task()
    },
    idle: async () => {},
    close: async () => {},
  }
}

describe.each(testTargets())('webhook targets on $name (WEBHOOKS_ALLOW_PRIVATE unset)', (target) => {
  let t: TestApp
  let admin: { authorization: string }
  let receiver: WebhookReceiver
  /** The test's DNS: what each name resolves to now (a rebinding attacker changes it at will). */
  const dns = new Map<string, string>()
  const mailer = collectingMailer()
  const clock = fixedClock(new Date())

  const create = (payload: Record<string, unknown>) =>
    t.inject({ method: 'POST', url: '/api/v1/admin/webhooks', headers: admin, payload })
  const settle = async () => {
    t.kitsune.jobs.wake()
    await t.kitsune.jobs.idle()
  }

  beforeAll(async () => {
    receiver = await startWebhookReceiver()
    t = await buildTestApp({
      target,
      clock,
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
      kitsune: {
        mailer,
        webhooks: {
          cacheTtlMs: 0,
          resolve: async (host) => {
            const address = dns.get(host)
            if (!address)
              throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' })
            return [{ address, family: address.includes(':') ? 6 : 4 }]
          },
        },
      },
    })
    admin = bearer((await login(t, ADMIN)).access_token)
  })
  afterAll(async () => {
    await t?.close()
    await receiver?.close()
  })

  it.each([
    'http://127.0.0.1/hook',
    'http://10.0.0.1/hook',
    'http://172.16.5.4/hook',
    'http://192.168.1.1/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://100.64.0.1/hook',
    'http://0.0.0.0/hook',
    'http://[::1]/hook',
    'http://[fd00::1]/hook',
    'http://[fe80::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://224.0.0.1/hook',
    'http://localhost:8080/hook',
  ])('refuses %s at creation with 422 naming the reason', async (url) => {
    const response = await create({ url, events: ['*'] })
    expect(response.statusCode).toBe(422)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json().errors[0]).toMatchObject({ field: '/url' })
    expect(response.json().detail).toMatch(/WEBHOOKS_ALLOW_PRIVATE/)
  })

  it('refuses at creation a name that resolves to a private address', async () => {
    dns.set('intranet.example', '10.1.2.3')
    const response = await create({ url: 'https://intranet.example/hook', events: ['*'] })
    expect(response.statusCode).toBe(422)
    expect(response.json().detail).toContain('intranet.example resolves to 10.1.2.3')
  })

  it('refuses at delivery a name rebound to 127.0.0.1 after creation (a failed attempt; nothing sent)', async () => {
    dns.set('rebind.example', PUBLIC_ADDRESS)
    const created = await create({
      url: `http://rebind.example:${receiver.port}/hook`,
      events: ['user.created'],
    })
    expect(created.statusCode).toBe(201)
    dns.set('rebind.example', '127.0.0.1')
    await registerUser(t)
    await settle()
    const { items } = await t.kitsune.services.webhooks.listDeliveries(created.json().id)
    expect(items[0]).toMatchObject({ state: 'failed', attempts: 1, last_status: null })
    expect(items[0]?.last_error).toContain('rebind.example resolves to 127.0.0.1')
    expect(receiver.received).toHaveLength(0)
  })

  it('refuses localhost through the system resolver when connecting', async () => {
    const sender = createWebhookSender({ allowPrivate: false, resolve: systemResolver })
    const attempt = await sender.send({
      url: `http://localhost:${receiver.port}/hook`,
      secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
      id: 'msg_1',
      body: '{}',
    })
    expect(attempt).toMatchObject({ ok: false, refused: true, status: null })
    expect(receiver.received).toHaveLength(0)
  })

  it('disables an endpoint failing for 3 days, audits it and e-mails the administrators', async () => {
    dns.set('down.example', PUBLIC_ADDRESS)
    const created = await create({ url: 'http://down.example:9/hook', events: ['user.created'] })
    expect(created.statusCode).toBe(201)
    const id = created.json().id as string
    dns.set('down.example', '127.0.0.1')
    await registerUser(t)
    await settle()
    expect((await t.kitsune.services.webhooks.get(id)).failing_since).not.toBeNull()
    clock.advance(3 * 86_400 + 60)
    await registerUser(t)
    await settle()
    const endpoint = await t.kitsune.services.webhooks.get(id)
    expect(endpoint).toMatchObject({ enabled: false })
    expect(endpoint.disabled_reason).toMatch(/3 days/)
    const audit = await t.kitsune.services.audit.list({
      action: 'webhook.disabled',
      target_id: id,
      limit: 10,
    })
    expect(audit).toHaveLength(1)
    await t.kitsune.mailer.idle()
    const notice = mailer.sent.find(
      (m) => m.to === ADMIN.email && m.text.includes('http://down.example:9/hook'),
    )
    expect(notice?.subject).toBe('A webhook endpoint was disabled')

    // Its pending deliveries are given up, not sent.
    clock.advance(7200)
    await settle()
    const { items } = await t.kitsune.services.webhooks.listDeliveries(id)
    expect(items.every((d) => d.state === 'dead')).toBe(true)
  })
})

describe.each(testTargets())('webhook answer timeout on $name', (target) => {
  let t: TestApp
  let receiver: WebhookReceiver

  beforeAll(async () => {
    receiver = await startWebhookReceiver(() => 'hang')
    t = await buildTestApp({
      target,
      env: { WEBHOOKS_ALLOW_PRIVATE: 'true' },
      kitsune: { webhooks: { timeoutMs: 200, cacheTtlMs: 0 } },
    })
  })
  afterAll(async () => {
    await t?.close()
    await receiver?.close()
  })

  it('counts a receiver that does not answer in time as a failed attempt', async () => {
    const endpoint = await t.kitsune.services.webhooks.create(null, {
      url: receiver.url,
      events: ['user.created'],
    })
    await registerUser(t)
    t.kitsune.jobs.wake()
    await t.kitsune.jobs.idle()
    const { items } = await t.kitsune.services.webhooks.listDeliveries(endpoint.id)
    expect(receiver.received).toHaveLength(1)
    expect(items[0]).toMatchObject({ state: 'failed', attempts: 1, last_status: null })
    expect(items[0]?.last_error).toBe('no answer within 200 ms')
    expect(items[0]?.last_response_ms).toBeGreaterThanOrEqual(150)
  })
})
