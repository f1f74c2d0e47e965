import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

// A refresh rotation runs on every token refresh. As a function its statements are planned once
// per connection (PL/pgSQL caches plans) instead of on every call.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION kitsune_rotate_refresh_token(
      p_token_hash text, p_next_hash text, p_now timestamptz, p_ip text, p_user_agent text
    ) RETURNS TABLE (r_consumed boolean, r_session_id uuid, r_user_id uuid, r_expires_at timestamptz, r_roles text[])
    LANGUAGE plpgsql AS $$
    DECLARE
      v_session uuid;
      v_user uuid;
      v_expires timestamptz;
    BEGIN
      UPDATE refresh_tokens SET consumed_at = p_now
        WHERE token_hash = p_token_hash AND consumed_at IS NULL AND expires_at > p_now
        RETURNING session_id INTO v_session;
      IF v_session IS NULL THEN
        RETURN QUERY SELECT false, NULL::uuid, NULL::uuid, NULL::timestamptz, NULL::text[];
        RETURN;
      END IF;
      UPDATE sessions SET last_used_at = p_now, ip = p_ip, user_agent = p_user_agent
        WHERE id = v_session AND revoked_at IS NULL AND expires_at > p_now
          AND EXISTS (SELECT 1 FROM users WHERE users.id = sessions.user_id AND users.is_active)
        RETURNING user_id, expires_at INTO v_user, v_expires;
      IF v_user IS NULL THEN
        RETURN QUERY SELECT true, NULL::uuid, NULL::uuid, NULL::timestamptz, NULL::text[];
        RETURN;
      END IF;
      INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
        VALUES (p_next_hash, v_session, p_now, v_expires);
      RETURN QUERY SELECT true, v_session, v_user, v_expires,
        array(SELECT role_name FROM user_roles WHERE user_roles.user_id = v_user ORDER BY role_name);
    END
    $$`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
