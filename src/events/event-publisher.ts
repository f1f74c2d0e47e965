import type { TransactionContext } from '../db/unit-of-work.js'
import type { Repositories } from '../repositories/repositories.js'
import type { AuditEventSink } from '../services/audit.service.js'
import { eventOf, type KitsuneEvent } from './catalogue.js'

export const WEBHOOK_DELIVER_JOB = 'webhook.deliver'

/**
 * How long an instance may trust its "are there enabled endpoints?" answer. 0 by default: the
 * check is one indexed statement in the change's transaction, and with any cache an endpoint
 * created on another instance would miss that instance's events for the cache's lifetime.
 */
export const DEFAULT_ENDPOINT_CACHE_MS = 0

/** The job that carries one delivery: only its id (the body is on the delivery row). */
export interface WebhookDeliverPayload {
  delivery_id: string
}

/** The body of an event, serialised once: what is stored and what every attempt signs and sends. */
export const serialiseEvent = (event: KitsuneEvent) => JSON.stringify(event)

/**
 * Publishes events to webhooks inside the transaction of the change: each subscribed, enabled
 * endpoint gets a delivery row and a `webhook.deliver` job, committed (or rolled back) with the
 * change. With no enabled endpoint (the usual case) it costs nothing but a cached count.
 */
export function createEventPublisher(deps: { cacheTtlMs?: number }) {
  const ttl = deps.cacheTtlMs ?? DEFAULT_ENDPOINT_CACHE_MS
  let cached: { enabled: boolean; at: number } | undefined

  // Read in the caller's transaction (PGlite has one connection: the pool would wait for it). A
  // stale "yes" costs one statement that matches nothing; a stale "no" lasts at most the TTL, and
  // this instance's own changes clear it at once.
  const anyEnabled = async (repos: Repositories) => {
    const now = performance.now()
    if (cached && now - cached.at < ttl) return cached.enabled
    const enabled = (await repos.webhooks.countEnabled()) > 0
    cached = { enabled, at: now }
    return enabled
  }

  const publishEvent = async (repos: Repositories, tx: TransactionContext, event: KitsuneEvent) => {
    if (!(await anyEnabled(repos))) return []
    const ids = await repos.webhooks.fanOut({
      id: event.data.id,
      type: event.type,
      payload: serialiseEvent(event),
      at: new Date(event.timestamp),
    })
    for (const id of ids)
      await tx.enqueue({
        kind: WEBHOOK_DELIVER_JOB,
        payload: { delivery_id: id } satisfies WebhookDeliverPayload,
      })
    return ids
  }

  const sink: AuditEventSink & {
    /** Forget the cached answer (this instance changed an endpoint). */
    invalidate(): void
  } = {
    async publish(repos, tx, entry) {
      await publishEvent(repos, tx, eventOf(entry))
    },
    invalidate() {
      cached = undefined
    },
  }
  return sink
}

export type EventPublisher = ReturnType<typeof createEventPublisher>
