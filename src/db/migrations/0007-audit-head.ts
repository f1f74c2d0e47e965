import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

// The audit chain's head as a row of its own. An append locks this row (SELECT … FOR UPDATE
// returns its newest version even after waiting), checks the hash it chained from, inserts and
// moves the head, in one call of a function whose plans PostgreSQL keeps; before, an append took
// an advisory lock, read the newest row and inserted: three round trips. Older Kitsune versions do
// not move this row: stop them before this version starts (docs/operations.md, upgrading).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE audit_head (
      id smallint PRIMARY KEY CHECK (id = 1),
      seq bigint,
      hash text NOT NULL
    )`.execute(db)
  await sql`SELECT pg_advisory_xact_lock(hashtext('kitsune:audit-chain'))`.execute(db)
  await sql`
    INSERT INTO audit_head (id, seq, hash)
    SELECT 1, newest.seq, newest.hash FROM (
      SELECT seq, hash FROM (SELECT seq, hash FROM audit_logs ORDER BY seq DESC LIMIT 1) AS last_row
      UNION ALL SELECT seq, hash FROM audit_anchor WHERE id = 1
      UNION ALL SELECT NULL, ''
    ) AS newest
    ORDER BY newest.seq DESC NULLS LAST
    LIMIT 1`.execute(db)
  await sql`
    CREATE FUNCTION kitsune_audit_append(
      p_id uuid, p_at timestamptz, p_actor_id uuid, p_action text, p_target_type text, p_target_id text,
      p_ip text, p_user_agent text, p_request_id text, p_metadata jsonb, p_prev_hash text, p_hash text
    ) RETURNS TABLE (r_appended boolean, r_head text)
    LANGUAGE plpgsql AS $$
    DECLARE
      v_head text;
      v_seq bigint;
    BEGIN
      SELECT hash INTO v_head FROM audit_head WHERE id = 1 FOR UPDATE;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_head has no row';
      END IF;
      IF v_head IS DISTINCT FROM p_prev_hash THEN
        RETURN QUERY SELECT false, v_head;
        RETURN;
      END IF;
      INSERT INTO audit_logs (id, at, actor_id, action, target_type, target_id, ip, user_agent,
                              request_id, metadata, prev_hash, hash)
        VALUES (p_id, p_at, p_actor_id, p_action, p_target_type, p_target_id, p_ip, p_user_agent,
                p_request_id, p_metadata, p_prev_hash, p_hash)
        RETURNING seq INTO v_seq;
      UPDATE audit_head SET seq = v_seq, hash = p_hash WHERE id = 1;
      RETURN QUERY SELECT true, p_hash;
    END
    $$`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
