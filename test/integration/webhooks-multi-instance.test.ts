import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { registerUser } from '../helpers/factories.js'
import { postgresTarget, TEST_DATABASE_URL } from '../helpers/test-targets.js'
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js'

const EVENTS = 24

/** Two instances on one database, each running the queue: every event reaches the receiver once. */
describe.skipIf(!TEST_DATABASE_URL)(
  'webhooks with two instances on one PostgreSQL (needs TEST_DATABASE_URL)',
  () => {
    let a: TestApp & { provisioned: Awaited<ReturnType<typeof postgresTarget.provision>> }
    let b: TestApp
    let receiver: WebhookReceiver
    const options = {
      target: postgresTarget,
      env: { WEBHOOKS_ALLOW_PRIVATE: 'true' },
      kitsune: { webhooks: { cacheTtlMs: 0 } },
    }

    beforeAll(async () => {
      receiver = await startWebhookReceiver(() => 200)
      a = await buildTestApp(options)
      b = await buildTestApp({ ...options, provisioned: a.provisioned })
    })
    afterAll(async () => {
      await b?.close()
      await a?.close()
      await receiver?.close()
    })

    it('delivers each event once, whichever instance wrote it and whichever claimed it', async () => {
      const endpoint = await a.kitsune.services.webhooks.create(null, {
        url: receiver.url,
        events: ['user.created'],
      })
      const users = await Promise.all(
        Array.from({ length: EVENTS }, (_, i) => registerUser(i % 2 === 0 ? a : b)),
      )
      for (let round = 0; round < 3; round++) {
        a.kitsune.jobs.wake()
        b.kitsune.jobs.wake()
        await Promise.all([a.kitsune.jobs.idle(), b.kitsune.jobs.idle()])
      }

      expect(receiver.received).toHaveLength(EVENTS)
      const ids = receiver.received.map((r) => String(r.headers['webhook-id']))
      expect(new Set(ids).size).toBe(EVENTS)
      const targets = receiver.received.map((r) => receiver.verify(endpoint.secret, r).data.target_id)
      expect(new Set(targets)).toEqual(new Set(users.map((u) => u.id)))
      const { items } = await b.kitsune.services.webhooks.listDeliveries(endpoint.id, { limit: 100 })
      expect(items).toHaveLength(EVENTS)
      expect(items.every((d) => d.state === 'succeeded' && d.attempts === 1)).toBe(true)
    })
  },
)
