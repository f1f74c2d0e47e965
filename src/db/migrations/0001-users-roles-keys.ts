import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'

// Self-contained: migrations never import application code and are never edited once landed.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE users (
      id uuid PRIMARY KEY,
      email text NOT NULL,
      full_name text,
      password_hash text NOT NULL,
      is_active boolean NOT NULL DEFAULT true,
      email_verified boolean NOT NULL DEFAULT false,
      mfa_enabled boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      password_changed_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db)
  await sql`CREATE UNIQUE INDEX users_email_key ON users (lower(email))`.execute(db)

  await sql`
    CREATE TABLE roles (
      name text PRIMARY KEY,
      description text NOT NULL DEFAULT '',
      built_in boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db)
  await sql`
    INSERT INTO roles (name, description, built_in) VALUES
      ('admin', 'Administrators: every permission', true),
      ('user', 'Every registered account', true)`.execute(db)
  await sql`
    CREATE TABLE user_roles (
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      role_name text NOT NULL REFERENCES roles (name) ON DELETE CASCADE ON UPDATE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, role_name)
    )`.execute(db)
  await sql`CREATE INDEX user_roles_role_idx ON user_roles (role_name, user_id)`.execute(db)

  await sql`
    CREATE TABLE signing_keys (
      kid text PRIMARY KEY,
      algorithm text NOT NULL,
      public_jwk jsonb NOT NULL,
      private_key_enc text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      retired_at timestamptz,
      verify_until timestamptz
    )`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Kitsune migrations are forward-only')
}
