import { CompiledQuery, type KyselyPlugin, type RootOperationNode, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditLogFilter } from '../../src/repositories/audit-log.repository.js'
import { createAuditLogRepository } from '../../src/repositories/audit-log.repository.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { postgresTarget, TEST_DATABASE_URL } from '../helpers/test-targets.js'

const ROWS = 100_000
const ACTORS = 5_000
const actorId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  Plans?: PlanNode[]
}

const flatten = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(flatten)]

/**
 * The audit list must stay an index walk at volume: PostgreSQL's planner only shows that with
 * realistic statistics, so this runs on PostgreSQL alone.
 */
describe.skipIf(!TEST_DATABASE_URL)('audit log list plans on PostgreSQL (needs TEST_DATABASE_URL)', () => {
  let t: TestApp

  /** The exact SQL and parameters the repository builds for `filter`, captured on its way out. */
  async function repositoryQuery(filter: AuditLogFilter): Promise<CompiledQuery> {
    const db = t.kitsune.database.db
    let captured: CompiledQuery | undefined
    const capture: KyselyPlugin = {
      transformQuery(args) {
        captured ??= db.getExecutor().compileQuery(args.node as RootOperationNode, args.queryId)
        return args.node
      },
      transformResult: async (args) => args.result,
    }
    await createAuditLogRepository(db.withPlugin(capture)).list(filter)
    if (!captured) throw new Error('the repository ran no query')
    return captured
  }

  async function explain(query: CompiledQuery): Promise<PlanNode> {
    const result = await t.kitsune.database.db.executeQuery<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${query.sql}`, [...query.parameters]),
    )
    const plan = result.rows[0]?.['QUERY PLAN'][0]?.Plan
    if (!plan) throw new Error('EXPLAIN returned no plan')
    return plan
  }

  beforeAll(async () => {
    t = await buildTestApp({ target: postgresTarget })
    const db = t.kitsune.database.db
    // Hashes are not valid here: this suite looks at plans, not at the chain.
    await sql`
      INSERT INTO audit_logs (id, at, actor_id, action, target_type, target_id, ip, metadata, prev_hash, hash)
      SELECT gen_random_uuid(),
             now() - make_interval(secs => g),
             ('00000000-0000-4000-8000-' || lpad(to_hex(g % ${ACTORS}), 12, '0'))::uuid,
             (ARRAY['user.login', 'user.login_failed', 'user.logout', 'user.updated'])[1 + g % 4],
             'user',
             'target-' || g,
             '127.0.0.1',
             '{}'::jsonb,
             md5((g - 1)::text),
             md5(g::text)
      FROM generate_series(1, ${ROWS}) AS g`.execute(db)
    await sql`ANALYZE audit_logs`.execute(db)
  }, 120_000)
  afterAll(async () => t?.close())

  it.each<[string, AuditLogFilter]>([
    ['an actor_id filter', { actor_id: actorId(42), limit: 51 }],
    ['a target_id filter', { target_id: 'target-4242', limit: 51 }],
    ['an actor_id filter with a cursor', { actor_id: actorId(42), before_seq: String(ROWS / 2), limit: 51 }],
  ])('serves %s without a sequential scan of audit_logs', async (name, filter) => {
    const query = await repositoryQuery(filter)
    expect(query.sql).toMatch(/order by "seq" desc limit \$\d+$/)
    const plan = await explain(query)
    console.log(`EXPLAIN for ${name}:\n${query.sql}\n${JSON.stringify(plan, null, 2)}`)
    const nodes = flatten(plan)
    expect(
      nodes.filter((node) => node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'audit_logs'),
    ).toEqual([])
    expect(nodes.some((node) => node['Relation Name'] === 'audit_logs')).toBe(true)
  })

  it('returns the filtered page the plan was made for', async () => {
    const rows = await t.kitsune.services.audit.list({ actor_id: actorId(42), limit: 51 })
    expect(rows).toHaveLength(ROWS / ACTORS)
    expect(rows.every((row) => row.actor_id === actorId(42))).toBe(true)
    const seqs = rows.map((row) => BigInt(row.seq))
    expect(seqs).toEqual([...seqs].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)))
  })
})
