import type { SecretBox } from '../auth/secret-box.js'
import type { TransactionContext, UnitOfWork } from '../db/unit-of-work.js'
import { type EventPublisher, WEBHOOK_DELIVER_JOB } from '../events/event-publisher.js'
import type { WebhookSender } from '../events/webhook-sender.js'
import type { Clock } from '../lib/clock.js'
import { mailLocale, type Templates } from '../mail/templates.js'
import type { Repositories } from '../repositories/repositories.js'
import type { WebhookDeliveryRecord, WebhookEndpointRecord } from '../repositories/webhook.repository.js'
import type { AuditService } from '../services/audit.service.js'
import { webhookSealContext } from '../services/webhook.service.js'
import { type JobPolicy, type JobQueue, retryDelaySeconds } from './job-queue.js'
import type { MailOutbox } from './mail-jobs.js'

/**
 * A delivery's retries: from 30 s, doubling to 2 h, for 26 h after the event (a receiver down for a
 * day still gets it). Each attempt is one job; a failed attempt schedules the next one in the same
 * transaction that records it, so the delivery row always says when the next attempt is due.
 */
export const WEBHOOK_POLICY: JobPolicy = {
  firstDelaySeconds: 30,
  maxDelaySeconds: 7200,
  deadAfterSeconds: 26 * 3600,
  // Longer than an attempt can last (the 10 s timeout) and its bookkeeping.
  leaseSeconds: 60,
}

/** An endpoint whose deliveries have failed without a success for this long is disabled. */
export const DISABLE_AFTER_MS = 3 * 86_400_000

export type DeliveryResult = 'success' | 'failure' | 'refused' | 'dead'

export interface WebhookMetrics {
  webhookDelivery(endpointId: string, result: DeliveryResult): void
}

interface DeliverPayload {
  delivery_id: string
  /** A retry or test asked for by an administrator: one attempt, no automatic retries. */
  manual?: boolean
}

/** Delivers webhook attempts: the `webhook.deliver` job's handler. */
export function createWebhookDeliverer(deps: {
  uow: UnitOfWork<Repositories>
  secretBox: SecretBox
  audit: AuditService
  publisher: EventPublisher
  sender: WebhookSender
  outbox: MailOutbox
  templates: Templates
  clock: Clock
  metrics?: WebhookMetrics
  random?: () => number
}) {
  const { uow, clock } = deps

  /** Disables an endpoint that has failed for DISABLE_AFTER_MS, audits it and tells the admins. */
  const disable = async (repos: Repositories, tx: TransactionContext, endpoint: WebhookEndpointRecord) => {
    const reason = 'deliveries failed continuously for 3 days'
    await repos.webhooks.updateEndpoint(endpoint.id, {
      enabled: false,
      disabled_reason: reason,
      updated_at: clock.now(),
    })
    await deps.audit.record(repos, tx, undefined, {
      action: 'webhook.disabled',
      actorId: null,
      targetType: 'webhook',
      targetId: endpoint.id,
      metadata: { host: new URL(endpoint.url).host, reason },
    })
    for (const admin of await repos.webhooks.listAdminRecipients())
      await deps.outbox.send(
        tx,
        deps.templates.webhookDisabled(admin.email, endpoint.url, mailLocale(admin.locale)),
      )
    tx.afterCommit(() => deps.publisher.invalidate())
  }

  const record = async (
    delivery: WebhookDeliveryRecord,
    endpoint: WebhookEndpointRecord,
    attempt: { ok: boolean; status: number | null; error: string | null; ms: number; refused: boolean },
    manual: boolean,
  ) => {
    const now = clock.now()
    await uow.run(async (repos, tx) => {
      if (attempt.ok) {
        await repos.webhooks.recordAttempt(delivery.id, {
          ...base(attempt, now),
          state: 'succeeded',
          next: null,
        })
        if (endpoint.failing_since) await repos.webhooks.updateEndpoint(endpoint.id, { failing_since: null })
        deps.metrics?.webhookDelivery(endpoint.id, 'success')
        return
      }
      const attempts = delivery.attempts + 1
      const next = new Date(now.getTime() + retryDelaySeconds(WEBHOOK_POLICY, attempts, deps.random) * 1000)
      const deadAt = new Date(delivery.created_at.getTime() + WEBHOOK_POLICY.deadAfterSeconds * 1000)
      const dead = !manual && next > deadAt
      const retry = !manual && !dead
      await repos.webhooks.recordAttempt(delivery.id, {
        ...base(attempt, now),
        state: dead ? 'dead' : 'failed',
        next: retry ? next : null,
      })
      if (retry)
        await tx.enqueue({ kind: WEBHOOK_DELIVER_JOB, payload: { delivery_id: delivery.id }, runAt: next })
      deps.metrics?.webhookDelivery(endpoint.id, dead ? 'dead' : attempt.refused ? 'refused' : 'failure')
      const current = await repos.webhooks.findEndpointForUpdate(endpoint.id)
      if (!current) return
      if (!current.failing_since) await repos.webhooks.updateEndpoint(endpoint.id, { failing_since: now })
      else if (current.enabled && now.getTime() - current.failing_since.getTime() >= DISABLE_AFTER_MS)
        await disable(repos, tx, current)
    })
  }

  return {
    async deliver(payload: DeliverPayload): Promise<void> {
      const delivery = await uow.read.webhooks.findDelivery(payload.delivery_id)
      // Deleted with its endpoint, or a repeat of an attempt that already succeeded (at least once).
      if (!delivery || (delivery.state === 'succeeded' && !payload.manual)) return
      const endpoint = await uow.read.webhooks.findEndpoint(delivery.endpoint_id)
      if (!endpoint) return
      if (!endpoint.enabled && !payload.manual) {
        await uow.run((repos) =>
          repos.webhooks.recordAttempt(delivery.id, {
            state: 'dead',
            status: null,
            error: 'endpoint disabled',
            responseMs: null,
            at: clock.now(),
            next: null,
          }),
        )
        return
      }
      const sealed = await uow.read.webhooks.findSealedSecret(endpoint.id)
      if (!sealed) return
      const secret = deps.secretBox.open(sealed, webhookSealContext(endpoint.id))
      const attempt = await deps.sender.send({
        url: endpoint.url,
        secret,
        id: delivery.id,
        body: delivery.payload,
      })
      await record(delivery, endpoint, attempt, payload.manual === true)
    },
  }
}

const base = (attempt: { status: number | null; error: string | null; ms: number }, at: Date) => ({
  status: attempt.status,
  error: attempt.error,
  responseMs: attempt.ms,
  at,
})

export type WebhookDeliverer = ReturnType<typeof createWebhookDeliverer>

/**
 * The worker side. The job itself only fails on Kitsune's own trouble (database down): the queue
 * then retries it; a receiver's failure is a recorded attempt and a next job.
 */
export function registerWebhookJobs(queue: JobQueue, deliverer: WebhookDeliverer): void {
  queue.register(
    WEBHOOK_DELIVER_JOB,
    (job) => deliverer.deliver(job.payload as DeliverPayload),
    WEBHOOK_POLICY,
  )
}
