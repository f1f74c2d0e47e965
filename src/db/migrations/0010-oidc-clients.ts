import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

// The registry of OpenID clients (RFC 7591 metadata names), read by the OpenID Provider by client_id.
//
// The secret is sealed (AES-256-GCM under a key derived from SECRET_KEY), not hashed: oidc-provider
// compares a client_secret_basic/client_secret_post secret with the clear value it is given
// (Client#compareClientSecret) and keys HS256/384/512 signatures and symmetric encryption for the
// client with it, so the provider must be able to read it back. It is NULL exactly for clients
// that authenticate without one (`none`, public; `private_key_jwt`, by their own keys).
//
// created_by carries no foreign key, like the audit log's actor_id: the record of who registered a
// client outlives that account.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE oidc_clients (
      client_id text PRIMARY KEY,
      client_name text NOT NULL,
      redirect_uris text[] NOT NULL DEFAULT '{}',
      post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
      grant_types text[] NOT NULL,
      response_types text[] NOT NULL DEFAULT '{}',
      token_endpoint_auth_method text NOT NULL CHECK (token_endpoint_auth_method IN
        ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')),
      scope text NOT NULL,
      backchannel_logout_uri text,
      jwks_uri text,
      first_party boolean NOT NULL DEFAULT false,
      client_secret_enc text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      created_by uuid,
      CONSTRAINT oidc_clients_secret_matches_method CHECK (
        (client_secret_enc IS NULL) = (token_endpoint_auth_method IN ('none', 'private_key_jwt'))
      )
    )`.execute(db)
  // Keyset paging of the admin list, newest first.
  await sql`CREATE INDEX oidc_clients_created_idx ON oidc_clients (created_at DESC, client_id DESC)`.execute(
    db,
  )

  // The built-in admin role holds every permission by definition (no role_permissions rows), so
  // clients:read and clients:write need no grant here.
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
