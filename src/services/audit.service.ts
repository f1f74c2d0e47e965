import { createHmac, timingSafeEqual } from 'node:crypto'
import { deriveKey } from '../auth/secret-box.js'
import type { AuditLogRow } from '../db/schema.js'
import type { TransactionContext, UnitOfWork } from '../db/unit-of-work.js'
import type { Clock } from '../lib/clock.js'
import { uuidv7 } from '../lib/uuid.js'
import type { AuditLogFilter } from '../repositories/audit-log.repository.js'
import type { Repositories } from '../repositories/repositories.js'
import type { RequestContext } from './request-context.js'

export const AUDIT_ACTIONS = [
  'user.registered',
  'user.created',
  'user.login',
  'user.login_failed',
  'user.locked',
  'user.logout',
  'session.revoked',
  'token.refresh_reused',
  'password.changed',
  'password.reset_requested',
  'password.reset',
  'email.verified',
  'email.change_requested',
  'email.changed',
  'email.change_undone',
  'mfa.enabled',
  'mfa.disabled',
  'mfa.recovery_code_used',
  'mfa.recovery_codes_regenerated',
  'user.updated',
  'user.deleted',
  'role.assigned',
  'role.changed',
  'admin.action_denied',
  'client.created',
  'client.updated',
  'client.secret_rotated',
  'client.deleted',
  'client.initial_token_issued',
  'oidc.authorized',
  'oidc.consent_granted',
  'oidc.consent_revoked',
  'oidc.token_revoked',
  'passkey.registered',
  'passkey.renamed',
  'passkey.removed',
  'passkey.used',
  'passkey.counter_regressed',
  'webhook.created',
  'webhook.updated',
  'webhook.deleted',
  'webhook.disabled',
  'users.exported',
] as const

export type AuditAction = (typeof AUDIT_ACTIONS)[number]

export interface AuditEntry {
  action: AuditAction
  actorId: string | null
  targetType?: 'user' | 'session' | 'role' | 'client' | 'passkey' | 'webhook'
  targetId?: string
  /** Never a secret: no passwords, tokens, hashes or TOTP material. */
  metadata?: Record<string, unknown>
}

/** An audit entry as written, handed to whoever publishes events (events/event-publisher.ts). */
export interface RecordedAuditEntry {
  id: string
  at: Date
  action: AuditAction
  actor_id: string | null
  target_type: string | null
  target_id: string | null
  metadata: Record<string, unknown>
}

/** Told of every entry inside its transaction, so what it writes commits or rolls back with it. */
export interface AuditEventSink {
  publish(repos: Repositories, tx: TransactionContext, entry: RecordedAuditEntry): Promise<void>
}

export interface AuditVerification {
  ok: boolean
  checked: number
  first_bad_id?: string
}

/** prev_hash of the first entry ever written (audit_head starts with it). */
const GENESIS = ''
const HEAD_LOG_INTERVAL_MS = 60_000
/** How long an append waits for this process's earlier appends before it goes to the database anyway. */
const QUEUE_WAIT_MS = 50
const noop = () => undefined

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value instanceof Date ? value.toISOString() : (value ?? null))
}

type ChainedFields = Omit<AuditLogRow, 'seq' | 'prev_hash' | 'hash'>

/**
 * The tamper-evident audit log. Entries are written by services inside their own transaction, so
 * an entry exists exactly when its change does. Each row stores
 * hash = HMAC-SHA-256(key, prev_hash ‖ canonical row), the key derived from SECRET_KEY, so database
 * access alone cannot rebuild the chain after an edit; appends lock the chain's head row until their
 * transaction ends, so concurrent writers (in this process or another) cannot fork it.
 */
export function createAuditService(deps: {
  uow: UnitOfWork<Repositories>
  secretKey: string
  clock: Clock
  logger: { info(obj: object, msg: string): void }
  /** Webhook fan-out; absent, entries publish nothing. */
  events?: AuditEventSink
}) {
  const { uow, clock, logger } = deps
  const key = deriveKey(deps.secretKey, 'kitsune/audit-log/v1')
  let lastHeadLog = 0
  /** The chain head as this process last wrote it: a guess that the database checks. */
  let knownHead: string | undefined
  /** Transactions that appended, and so hold the head row's lock until they end. */
  const holding = new WeakSet<TransactionContext>()
  let queue: Promise<unknown> = Promise.resolve()
  /**
   * Runs `work` after the appends queued before it, or after QUEUE_WAIT_MS, whichever comes first.
   * The wait is bounded because an append waits inside the database for the head's lock: if the
   * holder in turn waits for a row lock of a transaction queued here, only the database could see
   * the cycle, once that transaction reaches it (it then reports a deadlock instead of hanging).
   */
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, QUEUE_WAIT_MS)
      timer.unref()
    })
    const turn = Promise.race([queue.then(noop, noop), waited]).then(() => {
      clearTimeout(timer)
      return work()
    })
    queue = turn.then(noop, noop)
    return turn
  }

  const hashOf = (prevHash: string, row: ChainedFields) =>
    createHmac('sha256', key)
      .update(prevHash)
      .update('\n')
      .update(
        canonical([
          row.id,
          row.at,
          row.actor_id,
          row.action,
          row.target_type,
          row.target_id,
          row.ip,
          row.user_agent,
          row.request_id,
          row.metadata,
        ]),
      )
      .digest('hex')

  const sameHash = (a: string, b: string) =>
    a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

  return {
    /** Appends inside the caller's unit of work; call it last so the chain lock is held briefly. */
    async record(
      repos: Repositories,
      tx: TransactionContext,
      ctx: RequestContext | undefined,
      entry: AuditEntry,
    ) {
      const row: ChainedFields = {
        id: uuidv7(),
        at: clock.now(),
        actor_id: entry.actorId,
        action: entry.action,
        target_type: entry.targetType ?? null,
        target_id: entry.targetId ?? null,
        ip: ctx?.ip ?? null,
        user_agent: ctx?.userAgent ?? null,
        request_id: ctx?.requestId ?? null,
        metadata: entry.metadata ?? {},
      }
      // Before the append, which takes the chain's lock: the fan-out's statements do not lengthen it.
      await deps.events?.publish(repos, tx, {
        id: row.id,
        at: row.at,
        action: entry.action,
        actor_id: row.actor_id,
        target_type: row.target_type,
        target_id: row.target_id,
        metadata: row.metadata as Record<string, unknown>,
      })
      const append = async () => {
        // Chain from the head this process last wrote; a stale guess (another process appended, or
        // a transaction here rolled back) costs one more statement, and after it this transaction
        // holds the head's lock, so the second attempt cannot miss.
        let prevHash = knownHead ?? (await repos.auditLog.head())
        let hash = hashOf(prevHash, row)
        let result = await repos.auditLog.append({ ...row, prev_hash: prevHash, hash })
        if (!result.appended) {
          prevHash = result.head
          hash = hashOf(prevHash, row)
          result = await repos.auditLog.append({ ...row, prev_hash: prevHash, hash })
          if (!result.appended) throw new Error('the audit chain head moved while this transaction held it')
        }
        knownHead = hash
        return hash
      }
      // Appends from this process go one at a time, so each chains from the one before (which the
      // database then waits to see committed); a transaction that already appended holds the head's
      // lock and goes straight on, or it would wait behind an append that waits for it.
      const hash = holding.has(tx) ? await append() : await inTurn(append)
      holding.add(tx)
      const now = Date.now()
      if (now - lastHeadLog >= HEAD_LOG_INTERVAL_MS) {
        lastHeadLog = now
        // An external copy of the head lets an operator detect a truncated tail.
        tx.afterCommit(() => logger.info({ event: 'audit.head', audit_id: row.id, hash }, 'audit log head'))
      }
    },

    /** Records an entry in a transaction of its own (e.g. a failed login, which changes nothing else). */
    async recordAlone(ctx: RequestContext | undefined, entry: AuditEntry): Promise<void> {
      await uow.run((repos, tx) => this.record(repos, tx, ctx, entry))
    },

    /** Walks the chain from its start (or retention anchor) and reports the first broken row. */
    async verify(): Promise<AuditVerification> {
      const anchor = await uow.read.auditLog.anchor()
      let prevHash = anchor?.hash ?? GENESIS
      let afterSeq: string | undefined = anchor?.seq
      let checked = 0
      for (;;) {
        const rows = await uow.read.auditLog.walk(afterSeq, 1000)
        for (const row of rows) {
          checked++
          if (!sameHash(row.prev_hash, prevHash) || !sameHash(row.hash, hashOf(prevHash, row))) {
            return { ok: false, checked, first_bad_id: row.id }
          }
          prevHash = row.hash
          afterSeq = row.seq
        }
        if (rows.length < 1000) return { ok: true, checked }
      }
    },

    async list(filter: AuditLogFilter): Promise<AuditLogRow[]> {
      return uow.read.auditLog.list(filter)
    },

    /** Deletes entries older than `days` from the oldest end, keeping the chain verifiable. */
    async prune(days: number): Promise<{ deleted: number }> {
      const before = new Date(clock.now().getTime() - days * 86_400_000)
      return uow.run(async (repos) => {
        await repos.auditLog.lockHead()
        const last = await repos.auditLog.pruneBefore(before)
        if (!last) return { deleted: 0 }
        await repos.auditLog.setAnchor({ seq: last.seq, hash: last.hash, pruned_at: clock.now() })
        return { deleted: last.count }
      })
    },
  }
}

export type AuditService = ReturnType<typeof createAuditService>
