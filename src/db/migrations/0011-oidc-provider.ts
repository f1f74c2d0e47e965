import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

// Storage of the OpenID Provider (oidc-provider's adapter models) and browser sessions.
//
// One table holds every durable model the engine persists (Session, Grant, AuthorizationCode,
// RefreshToken, AccessToken, DeviceCode, ClientCredentials, PushedAuthorizationRequest,
// ReplayDetection…), keyed by (model, id), with the columns the engine looks rows up by (uid,
// user_code, grant_id) and those Kitsune needs to end them:
// - session_id: the Kitsune session a browser signed in with. Ending that session (logout,
//   logout-all, password change or reset, deactivation, admin revocation, refresh-token reuse)
//   deletes the engine's session, the grants made from it and every token of those grants, in the
//   same transaction; deleting the session row (with its user) cascades.
// - user_id: the account a grant or token belongs to; deleting the user cascades.
//
// Browser sessions are rows of `sessions` (kind 'browser', no refresh token) so they show in
// GET /users/me/sessions and end through the same paths as API sessions; `amr` records how the
// person signed in (pwd, otp) and auth_time when they last typed their password (a browser that
// signs in again, for prompt=login or max_age, keeps its session), for the ID token's claims.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE sessions ADD COLUMN kind text NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'browser'))`.execute(
    db,
  )
  await sql`ALTER TABLE sessions ADD COLUMN amr text[] NOT NULL DEFAULT '{}'`.execute(db)
  await sql`ALTER TABLE sessions ADD COLUMN auth_time timestamptz`.execute(db)
  // The language the account last used the pages in: its e-mails are written in it (null: English).
  await sql`ALTER TABLE users ADD COLUMN locale text CHECK (locale IN ('en', 'es'))`.execute(db)

  await sql`
    CREATE TABLE oidc_payloads (
      model text NOT NULL,
      id text NOT NULL,
      payload jsonb NOT NULL,
      grant_id text,
      uid text,
      user_code text,
      client_id text,
      session_id uuid REFERENCES sessions (id) ON DELETE CASCADE,
      user_id uuid REFERENCES users (id) ON DELETE CASCADE,
      expires_at timestamptz,
      consumed_at timestamptz,
      PRIMARY KEY (model, id)
    )`.execute(db)
  await sql`CREATE INDEX oidc_payloads_grant_idx ON oidc_payloads (grant_id) WHERE grant_id IS NOT NULL`.execute(
    db,
  )
  await sql`CREATE UNIQUE INDEX oidc_payloads_uid_idx ON oidc_payloads (model, uid) WHERE uid IS NOT NULL`.execute(
    db,
  )
  await sql`CREATE UNIQUE INDEX oidc_payloads_user_code_idx ON oidc_payloads (model, user_code) WHERE user_code IS NOT NULL`.execute(
    db,
  )
  await sql`CREATE INDEX oidc_payloads_session_idx ON oidc_payloads (session_id) WHERE session_id IS NOT NULL`.execute(
    db,
  )
  await sql`CREATE INDEX oidc_payloads_user_idx ON oidc_payloads (user_id) WHERE user_id IS NOT NULL`.execute(
    db,
  )
  await sql`CREATE INDEX oidc_payloads_expiry_idx ON oidc_payloads (expires_at) WHERE expires_at IS NOT NULL`.execute(
    db,
  )

  // Consent a person gave a third-party client, remembered across sessions until they revoke it.
  await sql`
    CREATE TABLE oidc_consents (
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      client_id text NOT NULL REFERENCES oidc_clients (client_id) ON DELETE CASCADE,
      scopes text[] NOT NULL,
      granted_at timestamptz NOT NULL,
      PRIMARY KEY (user_id, client_id)
    )`.execute(db)

  // Client metadata the engine reads (OpenID Connect Dynamic Registration names): native
  // applications (RFC 8252), the ID token's signing algorithm and the acr values asked for by
  // default; and Kitsune's own `permissions`, carried by a client_credentials client's tokens.
  await sql`ALTER TABLE oidc_clients ADD COLUMN application_type text NOT NULL DEFAULT 'web'
    CHECK (application_type IN ('web', 'native'))`.execute(db)
  await sql`ALTER TABLE oidc_clients ADD COLUMN id_token_signed_response_alg text NOT NULL DEFAULT 'RS256'
    CHECK (id_token_signed_response_alg IN ('RS256', 'ES256', 'EdDSA'))`.execute(db)
  await sql`ALTER TABLE oidc_clients ADD COLUMN default_acr_values text[] NOT NULL DEFAULT '{}'
    CHECK (default_acr_values <@ ARRAY['urn:kitsune:acr:pwd', 'urn:kitsune:acr:mfa']::text[])`.execute(db)
  await sql`ALTER TABLE oidc_clients ADD COLUMN permissions text[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT oidc_clients_permissions_need_client_credentials
    CHECK (cardinality(permissions) = 0 OR 'client_credentials' = ANY (grant_types))`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
