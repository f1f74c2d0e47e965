import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

// The durable job queue (e-mail now; webhook deliveries next): a job is inserted in the same
// transaction as the change that causes it, so it exists exactly when the change does. Workers in
// any instance claim ready jobs with FOR UPDATE SKIP LOCKED and hold them for a lease
// (locked_until): a worker that dies loses its lease and the job runs again elsewhere. A job that
// keeps failing is retried with back-off until `dead_after`, then kept as dead for operators.
// Payloads that carry secrets (an e-mail's single-use link) are sealed with SECRET_KEY and emptied
// once the job is done.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE jobs (
      id uuid PRIMARY KEY,
      kind text NOT NULL,
      payload jsonb NOT NULL,
      state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'dead')),
      run_at timestamptz NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      locked_until timestamptz,
      locked_by text,
      last_error text,
      created_at timestamptz NOT NULL,
      dead_after timestamptz NOT NULL,
      finished_at timestamptz
    )`.execute(db)
  await sql`CREATE INDEX jobs_ready ON jobs (run_at) WHERE state = 'queued'`.execute(db)
  await sql`CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state <> 'queued'`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
