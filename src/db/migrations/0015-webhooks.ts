import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

// Webhooks: endpoints an administrator registers, and one delivery row per (event, endpoint),
// written in the transaction of the change that caused the event (with its job), so a rolled-back
// change sends nothing and a committed one is never lost. A delivery's id is the Standard Webhooks
// `webhook-id`; its payload is the exact body sent on every attempt. The endpoint's signing secret
// is sealed with SECRET_KEY (context `webhook:<id>`).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE webhook_endpoints (
      id uuid PRIMARY KEY,
      url text NOT NULL,
      events text[] NOT NULL,
      secret_enc text NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      description text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      created_by uuid,
      failing_since timestamptz,
      disabled_reason text
    )`.execute(db)
  await sql`CREATE INDEX webhook_endpoints_listing ON webhook_endpoints (created_at DESC, id DESC)`.execute(
    db,
  )
  await sql`
    CREATE TABLE webhook_deliveries (
      id uuid PRIMARY KEY,
      endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
      event_id uuid NOT NULL,
      event_type text NOT NULL,
      payload jsonb NOT NULL,
      state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'succeeded', 'failed', 'dead')),
      attempts integer NOT NULL DEFAULT 0,
      last_status integer,
      last_error text,
      last_response_ms integer,
      created_at timestamptz NOT NULL,
      last_attempt_at timestamptz,
      next_attempt_at timestamptz
    )`.execute(db)
  await sql`
    CREATE INDEX webhook_deliveries_by_endpoint
      ON webhook_deliveries (endpoint_id, created_at DESC, id DESC)`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
