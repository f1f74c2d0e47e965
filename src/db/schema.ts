import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely'

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>

export interface UsersTable {
  id: string
  email: string
  full_name: string | null
  password_hash: string
  is_active: Generated<boolean>
  email_verified: Generated<boolean>
  mfa_enabled: Generated<boolean>
  created_at: Timestamp
  updated_at: Timestamp
  password_changed_at: Timestamp
  locale: ColumnType<string | null, string | null | undefined, string | null>
}

export interface RolesTable {
  name: string
  description: Generated<string>
  built_in: Generated<boolean>
  created_at: Timestamp
}

export interface UserRolesTable {
  user_id: string
  role_name: string
  created_at: Timestamp
}

export interface SigningKeysTable {
  kid: string
  algorithm: string
  public_jwk: ColumnType<Record<string, unknown>, string, string>
  private_key_enc: string
  created_at: Timestamp
  /** When it stopped signing (a newer key became current). */
  retired_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  /** Tokens it signed expire by then; afterwards it leaves the JWKS. */
  verify_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

export interface SessionsTable {
  id: string
  user_id: string
  created_at: Timestamp
  last_used_at: Timestamp
  expires_at: Timestamp
  ip: string | null
  user_agent: string | null
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  revoke_reason: string | null
  kind: ColumnType<'api' | 'browser', 'api' | 'browser' | undefined, never>
  amr: ColumnType<string[], string[] | undefined, string[]>
  auth_time: ColumnType<Date | null, Date | undefined, Date>
}

export interface RefreshTokensTable {
  token_hash: string
  session_id: string
  created_at: Timestamp
  expires_at: Timestamp
  consumed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

export interface RolePermissionsTable {
  role_name: string
  permission: string
}

export interface AuditLogsTable {
  seq: Generated<string>
  id: string
  at: Timestamp
  actor_id: string | null
  action: string
  target_type: string | null
  target_id: string | null
  ip: string | null
  user_agent: string | null
  request_id: string | null
  metadata: ColumnType<Record<string, unknown>, string, string>
  prev_hash: string
  hash: string
}

export interface AuditAnchorTable {
  id: number
  seq: string
  hash: string
  pruned_at: Timestamp
}

/** The chain's newest entry (seq null and hash '' while the log has never had one). */
export interface AuditHeadTable {
  id: number
  seq: string | null
  hash: string
}

export type EmailTokenPurpose = 'password_reset' | 'email_verification' | 'email_change' | 'email_change_undo'

export interface EmailTokensTable {
  token_hash: string
  user_id: string
  purpose: EmailTokenPurpose
  created_at: Timestamp
  expires_at: Timestamp
  used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  /** email_change: the new address; email_change_undo: the address to restore; else null. */
  email: ColumnType<string | null, string | null | undefined, string | null>
}

export interface MfaTotpTable {
  user_id: string
  secret_enc: string
  created_at: Timestamp
  confirmed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  last_used_step: ColumnType<string | null, number | string | null | undefined, number | string | null>
}

export interface MfaRecoveryCodesTable {
  user_id: string
  code_hash: string
  created_at: Timestamp
  used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

/** An OpenID client (RFC 7591 metadata); the secret is sealed with SECRET_KEY (0010-oidc-clients). */
/** One stored object of the OpenID Provider engine (see migration 0011). */
export interface OidcPayloadsTable {
  model: string
  id: string
  payload: ColumnType<Record<string, unknown>, string, string>
  grant_id: string | null
  uid: string | null
  user_code: string | null
  client_id: string | null
  session_id: string | null
  user_id: string | null
  expires_at: Date | null
  consumed_at: Date | null
}

export interface OidcConsentsTable {
  user_id: string
  client_id: string
  scopes: string[]
  granted_at: Date
}

export interface OidcClientsTable {
  client_id: string
  client_name: string
  redirect_uris: string[]
  post_logout_redirect_uris: string[]
  grant_types: string[]
  response_types: string[]
  token_endpoint_auth_method: string
  scope: string
  backchannel_logout_uri: string | null
  jwks_uri: string | null
  first_party: Generated<boolean>
  application_type: Generated<string>
  id_token_signed_response_alg: Generated<string>
  default_acr_values: Generated<string[]>
  permissions: Generated<string[]>
  client_secret_enc: string | null
  created_at: Timestamp
  updated_at: Timestamp
  created_by: string | null
}

export interface PasskeysTable {
  id: string
  user_id: string
  credential_id: string
  public_key: string
  sign_count: ColumnType<string, number | string, number | string>
  transports: string[]
  aaguid: string
  backup_eligible: boolean
  backed_up: boolean
  user_verified: boolean
  name: string
  created_at: Timestamp
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

export interface JobsTable {
  id: string
  kind: string
  payload: ColumnType<unknown, string, string>
  state: Generated<'queued' | 'done' | 'dead'>
  run_at: Timestamp
  attempts: Generated<number>
  locked_until: ColumnType<Date | null, Date | null | undefined, Date | null>
  locked_by: string | null
  last_error: string | null
  created_at: Timestamp
  dead_after: Timestamp
  finished_at: ColumnType<Date | null, Date | null | undefined, Date | null>
}

export interface WebhookEndpointsTable {
  id: string
  url: string
  events: string[]
  secret_enc: string
  enabled: boolean
  description: string | null
  created_at: Timestamp
  updated_at: Timestamp
  created_by: string | null
  /** Start of the current run of failed attempts; null while deliveries succeed. */
  failing_since: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  disabled_reason: string | null
}

export type WebhookDeliveryState = 'queued' | 'succeeded' | 'failed' | 'dead'

export interface WebhookDeliveriesTable {
  /** The Standard Webhooks `webhook-id`. */
  id: string
  endpoint_id: string
  event_id: string
  event_type: string
  /** The exact body sent (read back as text: see webhook.repository.ts). */
  payload: ColumnType<unknown, string, string>
  state: ColumnType<WebhookDeliveryState, WebhookDeliveryState | undefined, WebhookDeliveryState>
  attempts: Generated<number>
  last_status: number | null
  last_error: string | null
  last_response_ms: number | null
  created_at: Timestamp
  last_attempt_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  next_attempt_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

export interface Database {
  users: UsersTable
  roles: RolesTable
  user_roles: UserRolesTable
  signing_keys: SigningKeysTable
  sessions: SessionsTable
  refresh_tokens: RefreshTokensTable
  role_permissions: RolePermissionsTable
  audit_logs: AuditLogsTable
  audit_anchor: AuditAnchorTable
  audit_head: AuditHeadTable
  email_tokens: EmailTokensTable
  mfa_totp: MfaTotpTable
  mfa_recovery_codes: MfaRecoveryCodesTable
  oidc_clients: OidcClientsTable
  oidc_payloads: OidcPayloadsTable
  oidc_consents: OidcConsentsTable
  passkeys: PasskeysTable
  jobs: JobsTable
  webhook_endpoints: WebhookEndpointsTable
  webhook_deliveries: WebhookDeliveriesTable
}

export type UserRow = Selectable<UsersTable>
export type NewUserRow = Insertable<UsersTable>
export type UserRowUpdate = Updateable<UsersTable>
export type SigningKeyRow = Selectable<SigningKeysTable>
export type SessionRow = Selectable<SessionsTable>
export type AuditLogRow = Selectable<AuditLogsTable>
