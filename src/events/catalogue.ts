import type { AuditAction } from '../services/audit.service.js'

/**
 * The events Kitsune publishes to webhooks. Every audited action has one (several actions may share
 * a type: a self-registration and an administrator's creation are both `user.created`); the body is
 * `{type, timestamp, data}` (API.md, "Events and webhooks"), stable once published.
 */
export const AUDIT_EVENT_TYPES = {
  'user.registered': 'user.created',
  'user.created': 'user.created',
  'user.login': 'user.login_succeeded',
  'user.login_failed': 'user.login_failed',
  'user.locked': 'user.locked',
  'user.logout': 'user.logged_out',
  'session.revoked': 'session.revoked',
  'token.refresh_reused': 'session.refresh_token_reused',
  'password.changed': 'user.password_changed',
  'password.reset_requested': 'user.password_reset_requested',
  'password.reset': 'user.password_changed',
  'email.verified': 'user.email_verified',
  'email.change_requested': 'user.email_change_requested',
  'email.changed': 'user.email_changed',
  'email.change_undone': 'user.email_change_undone',
  'mfa.enabled': 'mfa.enabled',
  'mfa.disabled': 'mfa.disabled',
  'mfa.recovery_code_used': 'mfa.recovery_code_used',
  'mfa.recovery_codes_regenerated': 'mfa.recovery_codes_regenerated',
  'user.updated': 'user.updated',
  'user.deleted': 'user.deleted',
  'role.assigned': 'role.assigned',
  'role.changed': 'role.changed',
  'admin.action_denied': 'admin.action_denied',
  'client.created': 'client.created',
  'client.updated': 'client.updated',
  'client.secret_rotated': 'client.secret_rotated',
  'client.deleted': 'client.deleted',
  'client.initial_token_issued': 'client.initial_token_issued',
  'oidc.authorized': 'oidc.authorized',
  'oidc.consent_granted': 'oidc.consent_granted',
  'oidc.consent_revoked': 'oidc.consent_revoked',
  'oidc.token_revoked': 'oidc.token_revoked',
  'passkey.registered': 'passkey.registered',
  'passkey.renamed': 'passkey.renamed',
  'passkey.removed': 'passkey.removed',
  'passkey.used': 'passkey.used',
  'passkey.counter_regressed': 'passkey.counter_regressed',
  'webhook.created': 'webhook.created',
  'webhook.updated': 'webhook.updated',
  'webhook.deleted': 'webhook.deleted',
  'webhook.disabled': 'webhook.disabled',
  'users.exported': 'users.exported',
} as const satisfies Record<AuditAction, string>

/** Sent only by "send a test event" to the one endpoint asked for; never fanned out. */
export const TEST_EVENT_TYPE = 'webhook.test'

export type EventType = (typeof AUDIT_EVENT_TYPES)[AuditAction] | typeof TEST_EVENT_TYPE

/** Every event type, sorted: what an endpoint may subscribe to (or '*' for all). */
export const EVENT_TYPES: readonly EventType[] = [
  ...new Set<EventType>([...Object.values(AUDIT_EVENT_TYPES), TEST_EVENT_TYPE]),
].sort()

export const ALL_EVENTS = '*'

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value)
}

export interface EventData {
  /** The event's id (the audit entry's id; a test event's own). */
  id: string
  actor_id: string | null
  target_type: string | null
  target_id: string | null
  [field: string]: unknown
}

export interface KitsuneEvent {
  type: EventType
  /** ISO 8601. */
  timestamp: string
  data: EventData
}

// Audit metadata never holds a secret by contract (AuditEntry); this is the second belt: a key that
// names one, or a value shaped like a hash or a webhook secret, never leaves Kitsune.
const SECRET_KEY = /pass(word|phrase)|hash|token|secret|totp|otp|code|key|credential|cookie|challenge|salt/i
const SECRET_VALUE = /^(\$argon2|\$2[aby]\$|\$scrypt|\$pbkdf2|\$firebase-scrypt|bcrypt_sha256\$|whsec_)/

function scrub(value: unknown, depth = 0): unknown {
  if (depth > 4) return undefined
  if (typeof value === 'string') return SECRET_VALUE.test(value) ? undefined : value
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1)).filter((v) => v !== undefined)
  if (value instanceof Date) return value.toISOString()
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (SECRET_KEY.test(key)) continue
      const kept = scrub(item, depth + 1)
      if (kept !== undefined) out[key] = kept
    }
    return out
  }
  return value
}

/** The non-secret fields of audit metadata (exported for tests). */
export function publicFields(metadata: Record<string, unknown> | undefined): Record<string, unknown> {
  return (scrub(metadata ?? {}) as Record<string, unknown>) ?? {}
}

/** The event an audit entry publishes. */
export function eventOf(entry: {
  id: string
  at: Date
  action: AuditAction
  actor_id: string | null
  target_type: string | null
  target_id: string | null
  metadata: Record<string, unknown>
}): KitsuneEvent {
  return {
    type: AUDIT_EVENT_TYPES[entry.action],
    timestamp: entry.at.toISOString(),
    data: {
      ...publicFields(entry.metadata),
      id: entry.id,
      actor_id: entry.actor_id,
      target_type: entry.target_type,
      target_id: entry.target_id,
    },
  }
}

/** Whether an endpoint subscribed to `events` receives `type`. */
export function subscribes(events: readonly string[], type: string): boolean {
  return events.includes(ALL_EVENTS) || events.includes(type)
}
