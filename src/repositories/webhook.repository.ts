import type { Selectable } from 'kysely'
import { ADMIN_ROLE } from '../auth/permissions.js'
import { sql } from '../db/kysely.js'
import type { WebhookDeliveriesTable, WebhookDeliveryState, WebhookEndpointsTable } from '../db/schema.js'
import type { Executor } from '../db/unit-of-work.js'

/** An endpoint as read: every column but the sealed secret (findSealedSecret reads it). */
export type WebhookEndpointRecord = Omit<Selectable<WebhookEndpointsTable>, 'secret_enc'>
/** A delivery as listed; `payload` is the body text exactly as sent. */
export type WebhookDeliveryRecord = Omit<Selectable<WebhookDeliveriesTable>, 'payload'> & { payload: string }

const ENDPOINT_COLUMNS = [
  'id',
  'url',
  'events',
  'enabled',
  'description',
  'created_at',
  'updated_at',
  'created_by',
  'failing_since',
  'disabled_reason',
] as const

const DELIVERY_COLUMNS = [
  'id',
  'endpoint_id',
  'event_id',
  'event_type',
  'state',
  'attempts',
  'last_status',
  'last_error',
  'last_response_ms',
  'created_at',
  'last_attempt_at',
  'next_attempt_at',
] as const

export interface NewWebhookDelivery {
  id: string
  endpoint_id: string
  event_id: string
  event_type: string
  /** The body, serialised once: every attempt sends these bytes (jsonb keeps its own text form). */
  payload: string
  created_at: Date
}

export function createWebhookRepository(db: Executor) {
  return {
    async insertEndpoint(row: WebhookEndpointRecord & { secret_enc: string }): Promise<void> {
      await db.insertInto('webhook_endpoints').values(row).execute()
    },

    async findEndpoint(id: string): Promise<WebhookEndpointRecord | undefined> {
      return db
        .selectFrom('webhook_endpoints')
        .select(ENDPOINT_COLUMNS)
        .where('id', '=', id)
        .executeTakeFirst()
    },

    /**
     * Locks the row for a change until the transaction ends. FOR NO KEY UPDATE: it does not wait
     * for (nor block) the key-share locks that fan-out's delivery inserts take on it.
     */
    async findEndpointForUpdate(id: string): Promise<WebhookEndpointRecord | undefined> {
      return db
        .selectFrom('webhook_endpoints')
        .select(ENDPOINT_COLUMNS)
        .where('id', '=', id)
        .forNoKeyUpdate()
        .executeTakeFirst()
    },

    async findSealedSecret(id: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('webhook_endpoints')
        .select('secret_enc')
        .where('id', '=', id)
        .executeTakeFirst()
      return row?.secret_enc
    },

    /** Newest first, keyset-paginated on (created_at, id). */
    async listEndpoints(limit: number, after?: { created_at: Date; id: string }) {
      let query = db
        .selectFrom('webhook_endpoints')
        .select(ENDPOINT_COLUMNS)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
      if (after)
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '<', after.created_at),
            eb.and([eb('created_at', '=', after.created_at), eb('id', '<', after.id)]),
          ]),
        )
      return query.execute()
    },

    /** What fan-out needs: the enabled endpoints and what they subscribed to. */
    async listEnabledSubscriptions(): Promise<Array<{ id: string; events: string[] }>> {
      return db.selectFrom('webhook_endpoints').select(['id', 'events']).where('enabled', '=', true).execute()
    },

    async updateEndpoint(
      id: string,
      patch: Partial<Omit<WebhookEndpointRecord, 'id' | 'created_at' | 'created_by'>>,
    ): Promise<void> {
      await db.updateTable('webhook_endpoints').set(patch).where('id', '=', id).execute()
    },

    async deleteEndpoint(id: string): Promise<boolean> {
      const result = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst()
      return result.numDeletedRows > 0n
    },

    /**
     * One delivery per enabled endpoint subscribed to the event, in one statement (an endpoint
     * deleted or disabled since a cache was filled simply matches nothing); their ids.
     */
    async fanOut(event: { id: string; type: string; payload: string; at: Date }): Promise<string[]> {
      const result = await sql<{ id: string }>`
        INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, payload, state, created_at, next_attempt_at)
        SELECT gen_random_uuid(), e.id, ${event.id}, ${event.type}, ${event.payload}::jsonb, 'queued', ${event.at}, ${event.at}
        FROM webhook_endpoints e
        WHERE e.enabled AND (${event.type} = ANY(e.events) OR '*' = ANY(e.events))
        RETURNING id`.execute(db)
      return result.rows.map((row) => row.id)
    },

    async countEnabled(): Promise<number> {
      const row = await db
        .selectFrom('webhook_endpoints')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('enabled', '=', true)
        .executeTakeFirstOrThrow()
      return Number(row.n)
    },

    async insertDelivery(row: NewWebhookDelivery): Promise<void> {
      await db
        .insertInto('webhook_deliveries')
        .values({ ...row, state: 'queued', next_attempt_at: row.created_at })
        .execute()
    },

    async findDelivery(id: string): Promise<WebhookDeliveryRecord | undefined> {
      return db
        .selectFrom('webhook_deliveries')
        .select([...DELIVERY_COLUMNS, sql<string>`payload::text`.as('payload')])
        .where('id', '=', id)
        .executeTakeFirst()
    },

    async listDeliveries(endpointId: string, limit: number, after?: { created_at: Date; id: string }) {
      let query = db
        .selectFrom('webhook_deliveries')
        .select([...DELIVERY_COLUMNS, sql<string>`payload::text`.as('payload')])
        .where('endpoint_id', '=', endpointId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
      if (after)
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '<', after.created_at),
            eb.and([eb('created_at', '=', after.created_at), eb('id', '<', after.id)]),
          ]),
        )
      return (await query.execute()) as WebhookDeliveryRecord[]
    },

    /** One attempt's outcome; `attempts` counts every attempt of the delivery, retries by hand too. */
    async recordAttempt(
      id: string,
      outcome: {
        state: WebhookDeliveryState
        status: number | null
        error: string | null
        responseMs: number | null
        at: Date
        next: Date | null
      },
    ): Promise<void> {
      await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          state: outcome.state,
          attempts: eb('attempts', '+', 1),
          last_status: outcome.status,
          last_error: outcome.error,
          last_response_ms: outcome.responseMs,
          last_attempt_at: outcome.at,
          next_attempt_at: outcome.next,
        }))
        .where('id', '=', id)
        .execute()
    },

    async requeueDelivery(id: string, at: Date): Promise<void> {
      await db
        .updateTable('webhook_deliveries')
        .set({ state: 'queued', next_attempt_at: at })
        .where('id', '=', id)
        .execute()
    },

    /** Where to tell administrators: the active holders of the admin role. */
    async listAdminRecipients(): Promise<Array<{ email: string; locale: string | null }>> {
      return db
        .selectFrom('users')
        .innerJoin('user_roles', 'user_roles.user_id', 'users.id')
        .select(['users.email', 'users.locale'])
        .where('user_roles.role_name', '=', ADMIN_ROLE)
        .where('users.is_active', '=', true)
        .execute()
    },
  }
}

export type WebhookRepository = ReturnType<typeof createWebhookRepository>
