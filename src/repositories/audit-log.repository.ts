import { sql } from 'kysely'
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

export function createAuditLogRepository(db: Executor) {
  return {
    /** Serialises appends for the rest of the transaction, so the chain can never fork. */
    async lockChain(): Promise<void> {
      await sql`SELECT pg_advisory_xact_lock(hashtext('kitsune:audit-chain'))`.execute(db)
    },

    /** The newest row, or the retention anchor when the log is empty after pruning. */
    async head(): Promise<{ seq: string; hash: string } | undefined> {
      const last = await db
        .selectFrom('audit_logs')
        .select(['seq', 'hash'])
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst()
      return last ?? (await this.anchor())
    },

    async anchor(): Promise<{ seq: string; hash: string } | undefined> {
      return db.selectFrom('audit_anchor').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst()
    },

    async append(row: AuditLogInsert): Promise<void> {
      await db
        .insertInto('audit_logs')
        .values({ ...row, metadata: JSON.stringify(row.metadata) })
        .execute()
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
