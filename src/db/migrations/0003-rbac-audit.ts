import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

export async function up(db: Kysely<unknown>): Promise<void> {
  // Grants of custom roles; the built-in admin role holds every permission by definition.
  await sql`
    CREATE TABLE role_permissions (
      role_name text NOT NULL REFERENCES roles (name) ON DELETE CASCADE ON UPDATE CASCADE,
      permission text NOT NULL,
      PRIMARY KEY (role_name, permission)
    )`.execute(db)

  // Append-only; each row's hash chains it to the previous one (HMAC keyed from SECRET_KEY).
  // actor_id and target_id carry no foreign key: entries outlive the users they name.
  await sql`
    CREATE TABLE audit_logs (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id uuid NOT NULL UNIQUE,
      at timestamptz NOT NULL,
      actor_id uuid,
      action text NOT NULL,
      target_type text,
      target_id text,
      ip text,
      user_agent text,
      request_id text,
      metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
      prev_hash text NOT NULL,
      hash text NOT NULL
    )`.execute(db)
  await sql`CREATE INDEX audit_logs_actor_idx ON audit_logs (actor_id, seq DESC)`.execute(db)
  await sql`CREATE INDEX audit_logs_action_idx ON audit_logs (action, seq DESC)`.execute(db)
  await sql`CREATE INDEX audit_logs_target_idx ON audit_logs (target_id, seq DESC)`.execute(db)
  await sql`CREATE INDEX audit_logs_at_idx ON audit_logs (at DESC, seq DESC)`.execute(db)

  // After retention pruning, the hash of the last pruned row anchors the chain's new start.
  await sql`
    CREATE TABLE audit_anchor (
      id smallint PRIMARY KEY CHECK (id = 1),
      seq bigint NOT NULL,
      hash text NOT NULL,
      pruned_at timestamptz NOT NULL
    )`.execute(db)

  await sql`CREATE INDEX users_created_idx ON users (created_at DESC, id DESC)`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
