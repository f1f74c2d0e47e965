import { describe, expect, it } from 'vitest'
import type { AuditLogRow } from '../../src/db/schema.js'
import type { AuditLogFilter } from '../../src/repositories/audit-log.repository.js'
import { accountActivity } from '../../src/services/account-activity.js'
import { en } from '../../src/web/i18n/en.js'
import { translator } from '../../src/web/i18n/i18n.js'
import type { PageContext } from '../../src/web/page-context.js'
import { deviceOf } from '../../src/web/pages/account/support.js'

const row = (seq: number, actor: string | null, target: string | null): AuditLogRow => ({
  seq: String(seq),
  id: `id-${seq}`,
  at: new Date(1_700_000_000_000 + seq * 1000),
  actor_id: actor,
  action: 'user.login',
  target_type: 'user',
  target_id: target,
  ip: null,
  user_agent: null,
  request_id: null,
  metadata: {},
  prev_hash: '',
  hash: '',
})

/** An audit service over an in-memory log, filtering as the repository does. */
function memoryAudit(rows: AuditLogRow[]) {
  return {
    async list(filter: AuditLogFilter) {
      return rows
        .filter((r) => !filter.actor_id || r.actor_id === filter.actor_id)
        .filter((r) => !filter.target_id || r.target_id === filter.target_id)
        .filter((r) => !filter.before_seq || BigInt(r.seq) < BigInt(filter.before_seq))
        .sort((a, b) => Number(BigInt(b.seq) - BigInt(a.seq)))
        .slice(0, filter.limit)
    },
  }
}

describe('accountActivity: a person’s entries as actor or target, newest first, keyset-paged', () => {
  it('merges both lists without duplicates and pages through every entry exactly once', async () => {
    const rows: AuditLogRow[] = []
    for (let seq = 1; seq <= 40; seq++) {
      const kind = seq % 4
      rows.push(
        kind === 0
          ? row(seq, 'me', 'me') // both: listed once
          : kind === 1
            ? row(seq, 'me', null)
            : kind === 2
              ? row(seq, 'admin', 'me') // done to me by someone else
              : row(seq, 'other', 'other'), // not mine
      )
    }
    const audit = memoryAudit(rows)
    const mine = rows.filter((r) => r.actor_id === 'me' || r.target_id === 'me').map((r) => r.seq)
    const seen: string[] = []
    let before: string | undefined
    for (let pages = 0; pages < 10; pages++) {
      const page = await accountActivity(audit, 'me', { beforeSeq: before, limit: 7 })
      seen.push(...page.entries.map((e) => e.seq))
      if (!page.nextBefore) break
      before = page.nextBefore
    }
    expect(seen).toEqual([...mine].reverse())
  })

  it('says there is no next page when the last one is exactly full', async () => {
    const audit = memoryAudit([row(1, 'me', 'me'), row(2, 'me', null), row(3, 'x', 'me')])
    const page = await accountActivity(audit, 'me', { limit: 3 })
    expect(page.entries.map((e) => e.seq)).toEqual(['3', '2', '1'])
    expect(page.nextBefore).toBeUndefined()
  })
})

describe('deviceOf: a readable device from a User-Agent header', () => {
  const page = { t: translator('en'), locale: 'en' } as unknown as PageContext
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux'],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0',
      'Edge on Windows',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari on iOS',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36',
      'Chrome on Android',
    ],
    ['curl/8.5.0', 'curl'],
    [null, en['account.unknown']],
  ])('%s → %s', (userAgent, device) => {
    expect(deviceOf(page, userAgent)).toBe(device)
  })
})
