import type { AuditLogRow } from '../db/schema.js'
import type { AuditService } from './audit.service.js'

/** A page of a person's own security activity, newest first, and the cursor of the next page. */
export interface AccountActivityPage {
  readonly entries: AuditLogRow[]
  /** The seq to pass as `beforeSeq` for older entries; undefined on the last page. */
  readonly nextBefore: string | undefined
}

const bigint = (seq: string) => BigInt(seq)

/**
 * The audit entries about a person: those they did (actor) and those done to their account
 * (target: an administrator's change, a failed sign-in naming them). It reads through the audit
 * service's own filters, each served by its (column, seq DESC) index, and merges the two lists by
 * seq: keyset paging, so a page costs the same however long the history is.
 */
export async function accountActivity(
  audit: Pick<AuditService, 'list'>,
  userId: string,
  options: { beforeSeq?: string; limit: number },
): Promise<AccountActivityPage> {
  const filter = { before_seq: options.beforeSeq, limit: options.limit + 1 }
  const [acted, targeted] = await Promise.all([
    audit.list({ ...filter, actor_id: userId }),
    audit.list({ ...filter, target_id: userId }),
  ])
  const bySeq = new Map<string, AuditLogRow>()
  for (const row of [...acted, ...targeted]) bySeq.set(row.seq, row)
  const merged = [...bySeq.values()].sort((a, b) => {
    const diff = bigint(b.seq) - bigint(a.seq)
    return diff > 0n ? 1 : diff < 0n ? -1 : 0
  })
  const entries = merged.slice(0, options.limit)
  const last = entries.at(-1)
  return { entries, nextBefore: merged.length > options.limit && last ? last.seq : undefined }
}
