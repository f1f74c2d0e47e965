import { randomBytes } from 'node:crypto'
import type { SecretBox } from '../auth/secret-box.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import { AppError, validationError } from '../errors/app-error.js'
import { ALL_EVENTS, isEventType, TEST_EVENT_TYPE } from '../events/catalogue.js'
import { type EventPublisher, serialiseEvent, WEBHOOK_DELIVER_JOB } from '../events/event-publisher.js'
import { checkTarget, type Resolver, TargetRefusedError } from '../events/webhook-target.js'
import type { Clock } from '../lib/clock.js'
import { uuidv7 } from '../lib/uuid.js'
import type { Repositories } from '../repositories/repositories.js'
import type { WebhookDeliveryRecord, WebhookEndpointRecord } from '../repositories/webhook.repository.js'
import type { AuditService } from './audit.service.js'
import type { RequestContext } from './request-context.js'

export const MAX_WEBHOOK_PAGE = 100
const MAX_EVENTS = 100

export type WebhookEndpoint = WebhookEndpointRecord

/** The answer to a creation: the endpoint and its signing secret, shown this once. */
export interface WebhookEndpointCreated extends WebhookEndpoint {
  secret: string
}

export interface WebhookEndpointInput {
  url: string
  /** Event types (see events/catalogue.ts EVENT_TYPES), or '*' for every one. */
  events: string[]
  enabled?: boolean
  description?: string | null
}

/** A delivery as shown: the row with the body sent, parsed. */
export type WebhookDelivery = Omit<WebhookDeliveryRecord, 'payload'> & { payload: unknown }

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

/** Binds a sealed secret to its endpoint: copied onto another row, it does not open. */
export const webhookSealContext = (id: string) => `webhook:${id}`

/** `whsec_` + base64 of 32 random bytes (the Standard Webhooks secret format). */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`

const encodeCursor = (row: { created_at: Date; id: string }) =>
  Buffer.from(JSON.stringify([row.created_at.toISOString(), row.id])).toString('base64url')

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function decodeCursor(cursor: string): { created_at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[]
    const created = new Date(String(at))
    if (typeof at === 'string' && typeof id === 'string' && UUID.test(id) && !Number.isNaN(created.getTime()))
      return { created_at: created, id }
  } catch {
    // fall through to the refusal
  }
  throw validationError('/query/cursor', 'is not a valid cursor')
}

const pageLimit = (limit: number | undefined) => Math.min(Math.max(limit ?? 50, 1), MAX_WEBHOOK_PAGE)

const notFound = (what = 'webhook endpoint') => new AppError('NOT_FOUND', { detail: `${what} not found` })

export const publicDelivery = (row: WebhookDeliveryRecord): WebhookDelivery => ({
  ...row,
  payload: JSON.parse(row.payload) as unknown,
})

/**
 * Webhook endpoints and their deliveries: what the admin API, console and CLI call. Secrets are
 * sealed at rest and returned once, by `create`. Every change is audited (and so is itself an event).
 */
export function createWebhookService(deps: {
  uow: UnitOfWork<Repositories>
  secretBox: SecretBox
  audit: AuditService
  publisher: EventPublisher
  clock: Clock
  /** WEBHOOKS_ALLOW_PRIVATE. */
  allowPrivate: boolean
  resolve: Resolver
}) {
  const { uow, secretBox, audit, publisher, clock } = deps

  const checkUrl = async (value: string): Promise<string> => {
    const field = '/url'
    let url: URL
    try {
      url = new URL(value.trim())
    } catch {
      throw validationError(field, 'is not an absolute URL')
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw validationError(field, 'must be http or https')
    if (url.username || url.password) throw validationError(field, 'must not carry credentials')
    if (url.hash) throw validationError(field, 'must not have a fragment')
    try {
      await checkTarget(url, deps.allowPrivate, deps.resolve)
    } catch (error) {
      if (error instanceof TargetRefusedError) throw validationError(field, error.message)
      throw error
    }
    return url.toString()
  }

  const checkEvents = (events: string[]): string[] => {
    const unique = [...new Set(events.map((e) => e.trim()))]
    if (unique.length === 0) throw validationError('/events', "must name at least one event type, or '*'")
    if (unique.length > MAX_EVENTS) throw validationError('/events', `at most ${MAX_EVENTS} event types`)
    const unknown = unique.find((e) => e !== ALL_EVENTS && !isEventType(e))
    if (unknown !== undefined)
      throw validationError('/events', `unknown event type: ${unknown.slice(0, 100)}`)
    return unique.includes(ALL_EVENTS) ? [ALL_EVENTS] : unique.sort()
  }

  const checkDescription = (value: string | null | undefined) => {
    if (value === undefined || value === null) return value
    if (value.length > 500) throw validationError('/description', 'at most 500 characters')
    return value.trim() || null
  }

  const get = async (id: string): Promise<WebhookEndpoint> => {
    const endpoint = await uow.read.webhooks.findEndpoint(id)
    if (!endpoint) throw notFound()
    return endpoint
  }

  const getDelivery = async (endpointId: string, deliveryId: string): Promise<WebhookDelivery> => {
    const row = await uow.read.webhooks.findDelivery(deliveryId)
    if (!row || row.endpoint_id !== endpointId) throw notFound('delivery')
    return publicDelivery(row)
  }

  // Plain functions (no `this`): callers may destructure them.
  return {
    get,
    /** One delivery of an endpoint (404 when it belongs to another). */
    getDelivery,

    /** Registers an endpoint; the answer carries its secret, which is never shown again. */
    async create(
      actorId: string | null,
      input: WebhookEndpointInput,
      ctx?: RequestContext,
    ): Promise<WebhookEndpointCreated> {
      const url = await checkUrl(input.url)
      const events = checkEvents(input.events)
      const description = checkDescription(input.description) ?? null
      const id = uuidv7()
      const secret = newSecret()
      const now = clock.now()
      const endpoint: WebhookEndpoint = {
        id,
        url,
        events,
        enabled: input.enabled ?? true,
        description,
        created_at: now,
        updated_at: now,
        created_by: actorId,
        failing_since: null,
        disabled_reason: null,
      }
      await uow.run(async (repos, tx) => {
        await repos.webhooks.insertEndpoint({
          ...endpoint,
          secret_enc: secretBox.seal(secret, webhookSealContext(id)),
        })
        await audit.record(repos, tx, ctx, {
          action: 'webhook.created',
          actorId,
          targetType: 'webhook',
          targetId: id,
          metadata: { host: new URL(url).host, events, enabled: endpoint.enabled },
        })
      })
      publisher.invalidate()
      return { ...endpoint, secret }
    },

    /** Newest first; `cursor` is the previous page's next_cursor. */
    async list(query: { limit?: number; cursor?: string } = {}): Promise<Page<WebhookEndpoint>> {
      const limit = pageLimit(query.limit)
      const rows = await uow.read.webhooks.listEndpoints(
        limit + 1,
        query.cursor ? decodeCursor(query.cursor) : undefined,
      )
      const more = rows.length > limit
      const items = rows.slice(0, limit)
      return { items, next_cursor: more ? encodeCursor(items[items.length - 1] as WebhookEndpoint) : null }
    },

    /** Changes URL, events, description or enabled; enabling again clears the failure record. */
    async update(
      actorId: string | null,
      id: string,
      patch: Partial<WebhookEndpointInput>,
      ctx?: RequestContext,
    ): Promise<WebhookEndpoint> {
      const url = patch.url === undefined ? undefined : await checkUrl(patch.url)
      const events = patch.events === undefined ? undefined : checkEvents(patch.events)
      const description = checkDescription(patch.description)
      const updated = await uow.run(async (repos, tx) => {
        const current = await repos.webhooks.findEndpointForUpdate(id)
        if (!current) throw notFound()
        const reenabled = patch.enabled === true && !current.enabled
        const changes = {
          ...(url === undefined ? {} : { url }),
          ...(events === undefined ? {} : { events }),
          ...(description === undefined ? {} : { description }),
          ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
          ...(reenabled ? { failing_since: null, disabled_reason: null } : {}),
        }
        const next = { ...current, ...changes, updated_at: clock.now() }
        await repos.webhooks.updateEndpoint(id, { ...changes, updated_at: next.updated_at })
        await audit.record(repos, tx, ctx, {
          action: 'webhook.updated',
          actorId,
          targetType: 'webhook',
          targetId: id,
          metadata: {
            fields: Object.keys(patch)
              .filter((k) => (patch as Record<string, unknown>)[k] !== undefined)
              .sort(),
            ...(url === undefined ? {} : { host: new URL(url).host }),
            ...(events === undefined ? {} : { events }),
            ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
          },
        })
        return next
      })
      publisher.invalidate()
      return updated
    },

    /** Deletes an endpoint and its deliveries (pending jobs then find nothing to send). */
    async remove(actorId: string | null, id: string, ctx?: RequestContext): Promise<void> {
      await uow.run(async (repos, tx) => {
        const current = await repos.webhooks.findEndpointForUpdate(id)
        if (!current) throw notFound()
        await repos.webhooks.deleteEndpoint(id)
        await audit.record(repos, tx, ctx, {
          action: 'webhook.deleted',
          actorId,
          targetType: 'webhook',
          targetId: id,
          metadata: { host: new URL(current.url).host },
        })
      })
      publisher.invalidate()
    },

    /** An endpoint's deliveries, newest first, with the body each sent. */
    async listDeliveries(
      endpointId: string,
      query: { limit?: number; cursor?: string } = {},
    ): Promise<Page<WebhookDelivery>> {
      await get(endpointId)
      const limit = pageLimit(query.limit)
      const rows = await uow.read.webhooks.listDeliveries(
        endpointId,
        limit + 1,
        query.cursor ? decodeCursor(query.cursor) : undefined,
      )
      const more = rows.length > limit
      const items = rows.slice(0, limit)
      return {
        items: items.map(publicDelivery),
        next_cursor: more ? encodeCursor(items[items.length - 1] as WebhookDeliveryRecord) : null,
      }
    },

    /**
     * One more attempt now, whatever the delivery's state (a dead one included); the same
     * webhook-id and body, so a receiver that already has it can tell.
     */
    async redeliver(endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
      const now = clock.now()
      await uow.run(async (repos, tx) => {
        const row = await repos.webhooks.findDelivery(deliveryId)
        if (!row || row.endpoint_id !== endpointId) throw notFound('delivery')
        await repos.webhooks.requeueDelivery(deliveryId, now)
        await tx.enqueue({ kind: WEBHOOK_DELIVER_JOB, payload: { delivery_id: deliveryId, manual: true } })
      })
      return getDelivery(endpointId, deliveryId)
    },

    /** Sends a `webhook.test` event to this endpoint only (subscribed to it or not, enabled or not). */
    async sendTest(actorId: string | null, endpointId: string): Promise<WebhookDelivery> {
      await get(endpointId)
      const now = clock.now()
      const deliveryId = uuidv7()
      const event = {
        type: TEST_EVENT_TYPE,
        timestamp: now.toISOString(),
        data: { id: uuidv7(), actor_id: actorId, target_type: 'webhook', target_id: endpointId },
      } as const
      await uow.run(async (repos, tx) => {
        await repos.webhooks.insertDelivery({
          id: deliveryId,
          endpoint_id: endpointId,
          event_id: event.data.id,
          event_type: event.type,
          payload: serialiseEvent(event),
          created_at: now,
        })
        await tx.enqueue({ kind: WEBHOOK_DELIVER_JOB, payload: { delivery_id: deliveryId, manual: true } })
      })
      return getDelivery(endpointId, deliveryId)
    },
  }
}

export type WebhookService = ReturnType<typeof createWebhookService>
