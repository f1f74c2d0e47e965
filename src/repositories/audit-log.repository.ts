import { sql } from '../db/kysely.js'
import type { AuditLogRow } from '../db/schema.js'
import type { Executor } from '../db/unit-of-work.js'

/** A chained entry as written: every column but the sequence number the database assigns. */
export type AuditLogInsert = Omit<AuditLogRow, 'seq'>

export interface AuditLogFilter {
  actor_id?: string
  action?: string
  target_id?: string
  from?: Date
  to?: Date
  /** Only rows older than this seq (keyset cursor). */
  before_seq?: string
  limit: number
}

function headHash(row: { hash: string } | undefined): string {
  if (!row) throw new Error('audit_head has no row: the 0007-audit-head migration has not run')
  return row.hash
}

export function createAuditLogRepository(db: Executor) {
  return {
    /**
     * Locks the chain's head row for the rest of the transaction (appends and pruning queue behind
     * it) and returns its hash: '' when the log has never had an entry.
     */
    async lockHead(): Promise<string> {
      const result = await sql<{ hash: string }>`SELECT hash FROM audit_head WHERE id = 1 FOR UPDATE`.execute(
        db,
      )
      return headHash(result.rows[0])
    },

    /** The newest entry's hash (or the retention anchor's, or '' for a log that never had one). */
    async head(): Promise<string> {
      return headHash(await db.selectFrom('audit_head').select('hash').where('id', '=', 1).executeTakeFirst())
    },

    async anchor(): Promise<{ seq: string; hash: string } | undefined> {
      return db.selectFrom('audit_anchor').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst()
    },

    /**
     * Appends `row` if the chain's head is still `row.prev_hash`, in one call
     * (kitsune_audit_append): it locks the head row (after waiting for a concurrent appender to
     * commit it sees that appender's entry), inserts, and moves the head. Returns the head it found.
     * When that is not `row.prev_hash` nothing was written, and the caller, which now holds the lock
     * for the rest of its transaction, chains from the returned head instead.
     */
    async append(row: AuditLogInsert): Promise<{ appended: boolean; head: string }> {
      const result = await sql<{ r_appended: boolean; r_head: string }>`
        SELECT r_appended, r_head FROM kitsune_audit_append(${row.id}, ${row.at}, ${row.actor_id},
          ${row.action}, ${row.target_type}, ${row.target_id}, ${row.ip}, ${row.user_agent},
          ${row.request_id}, ${JSON.stringify(row.metadata)}::jsonb, ${row.prev_hash}, ${row.hash})`.execute(
        db,
      )
      const found = result.rows[0]
      if (!found) throw new Error('kitsune_audit_append returned no row')
      return { appended: found.r_appended, head: found.r_head }
    },

    /** Newest first, served by the (column, seq DESC) indexes. */
    async list(filter: AuditLogFilter): Promise<AuditLogRow[]> {
      let query = db.selectFrom('audit_logs').selectAll()
      if (filter.actor_id) query = query.where('actor_id', '=', filter.actor_id)
      if (filter.action) query = query.where('action', '=', filter.action)
      if (filter.target_id) query = query.where('target_id', '=', filter.target_id)
      if (filter.from) query = query.where('at', '>=', filter.from)
      if (filter.to) query = query.where('at', '<', filter.to)
      if (filter.before_seq) query = query.where('seq', '<', filter.before_seq)
      return query.orderBy('seq', 'desc').limit(filter.limit).execute()
    },

    /** Rows in chain order after `afterSeq`, a batch at a time, for verification. */
    async walk(afterSeq: string | undefined, batch: number): Promise<AuditLogRow[]> {
      let query = db.selectFrom('audit_logs').selectAll()
      if (afterSeq !== undefined) query = query.where('seq', '>', afterSeq)
      return query.orderBy('seq', 'asc').limit(batch).execute()
    },

    /** Deletes rows older than `before` from the oldest end; returns the last deleted row. */
    async pruneBefore(before: Date): Promise<{ seq: string; hash: string; count: number } | undefined> {
      const last = await db
        .selectFrom('audit_logs')
        .select(['seq', 'hash'])
        .where('at', '<', before)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst()
      if (!last) return undefined
      const result = await db.deleteFrom('audit_logs').where('seq', '<=', last.seq).executeTakeFirst()
      return { ...last, count: Number(result.numDeletedRows) }
    },

    async setAnchor(anchor: { seq: string; hash: string; pruned_at: Date }): Promise<void> {
      await db
        .insertInto('audit_anchor')
        .values({ id: 1, ...anchor })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({ seq: anchor.seq, hash: anchor.hash, pruned_at: anchor.pruned_at }),
        )
        .execute()
    },
  }
}

export type AuditLogRepository = ReturnType<typeof createAuditLogRepository>
