import { BackendCpuTracker, type BenchDatabase } from './infra.js'
import { runAutocannon } from './load-autocannon.js'
import { runWrk } from './load-wrk.js'
import { type Pinning, threadCpuTicks, treeCpuTicks, treeTicksSpent } from './proc.js'
import type { WorkloadReport } from './report.js'
import { RssSampler } from './rss.js'
import type { SeededUser } from './seed.js'
import type { RunningServer } from './server.js'
import { FLOOD, type LoadResult, planWorkload, type WorkloadId, type WorkloadPlan } from './workloads.js'

export interface MeasureContext {
  readonly server: RunningServer
  readonly users: readonly SeededUser[]
  readonly runId: string
  readonly tool: 'wrk' | 'autocannon'
  readonly pinning: Pinning
  readonly ticksPerSecond: number
  readonly database: BenchDatabase | undefined
  readonly log: (message: string) => void
}

function load(ctx: MeasureContext, plan: WorkloadPlan, seconds: number): Promise<LoadResult> {
  return ctx.tool === 'wrk'
    ? runWrk(plan, ctx.server.baseUrl, seconds, ctx.pinning.loadPrefix)
    : runAutocannon(plan, ctx.server.baseUrl, seconds)
}

/**
 * Runs `loads` together and measures the server's CPU (primary and workers, `/proc` process tree)
 * and the PostgreSQL backends' CPU over all of them; per request is over every request sent.
 */
async function measureCpu<T extends readonly LoadResult[]>(ctx: MeasureContext, loads: () => Promise<T>) {
  const tracker = ctx.database ? new BackendCpuTracker(ctx.database) : undefined
  await tracker?.start()
  const before = treeCpuTicks(ctx.server.pid)
  const threadsBefore = threadCpuTicks(ctx.server.pid)
  const results = await loads()
  const serverTicks = treeTicksSpent(before, treeCpuTicks(ctx.server.pid))
  const threadsAfter = threadCpuTicks(ctx.server.pid)
  const dbTicks = tracker ? await tracker.stop() : null
  const requests = results.reduce((sum, r) => sum + r.requests, 0)
  const perRequest = (ticks: number | null | undefined) =>
    ticks === null || ticks === undefined || requests === 0
      ? null
      : (ticks * 1000) / ctx.ticksPerSecond / requests
  const serverThreadsCpuMsPerRequest: Record<string, number> = {}
  for (const [name, ticks] of threadsAfter) {
    const spent = perRequest(ticks - (threadsBefore.get(name) ?? 0))
    if (spent) serverThreadsCpuMsPerRequest[name] = Number(spent.toFixed(3))
  }
  return {
    results,
    serverCpuMsPerRequest: perRequest(serverTicks),
    serverThreadsCpuMsPerRequest,
    dbCpuMsPerRequest: perRequest(dbTicks),
  }
}

/** One workload for `seconds`; W6 also samples the server's RSS every 10 s. */
export async function measureWorkload(
  ctx: MeasureContext,
  id: WorkloadId,
  seconds: number,
): Promise<WorkloadReport> {
  const plan = planWorkload(id, ctx.users, ctx.runId)
  const rss = id === 'W6' ? new RssSampler(ctx.server.pid, 10) : undefined
  const { results, ...cpu } = await measureCpu(ctx, async () => [await load(ctx, plan, seconds)] as const)
  const series = rss?.stop()
  const [result] = results
  ctx.log(
    `${id} ${plan.title}: ${result.rps.toFixed(0)} req/s, p99 ${result.latencyMs.p99.toFixed(2)} ms, non-2xx ${result.non2xx}`,
  )
  return {
    ...result,
    id,
    title: plan.title,
    connections: plan.connections.length,
    ...cpu,
    ...(series ? { rss: series } : {}),
  }
}

/**
 * W1+W2: W1 (64 connections) and W2 (16) at the same time, two load generators (both wrk
 * processes on the load CPU). Two rows; their CPU per request is over both rows' requests.
 */
export async function measureFlood(ctx: MeasureContext, seconds: number): Promise<WorkloadReport[]> {
  const reader = planWorkload('W1', ctx.users, ctx.runId)
  const flood = planWorkload('W2', ctx.users, ctx.runId)
  const { results, ...cpu } = await measureCpu(
    ctx,
    async () =>
      (await Promise.all([load(ctx, reader, seconds), load(ctx, flood, seconds)])) as [
        LoadResult,
        LoadResult,
      ],
  )
  const [w1, w2] = results
  ctx.log(
    `${FLOOD}: W1 ${w1.rps.toFixed(0)} req/s, p99 ${w1.latencyMs.p99.toFixed(2)} ms during W2 ` +
      `${w2.rps.toFixed(0)} logins/s, non-2xx ${w2.non2xx} (${JSON.stringify(w2.statuses ?? {})})`,
  )
  const row = (plan: WorkloadPlan, result: LoadResult, title: string): WorkloadReport => ({
    ...result,
    id: `${FLOOD}:${plan.id}`,
    title,
    connections: plan.connections.length,
    ...cpu,
    concurrentWith: FLOOD,
  })
  return [
    row(reader, w1, `${reader.title} during a W2 login flood`),
    row(flood, w2, `${flood.title} (the flood, beside W1)`),
  ]
}

/**
 * Unmeasured load, `seconds` per workload: W4, W1, W5 on the warm-up's own refresh chains (W5's stay
 * unused) and W2. Statuses are not checked here; the measured runs report them.
 */
export async function warmUp(ctx: MeasureContext, seconds: number): Promise<void> {
  const warmChains = ctx.users.map((user) => ({ ...user, refreshToken: user.warmupRefreshToken }))
  await load(ctx, planWorkload('W4', ctx.users, ctx.runId), seconds)
  await load(ctx, planWorkload('W1', ctx.users, ctx.runId), seconds)
  await load(ctx, planWorkload('W5', warmChains, ctx.runId), seconds)
  await load(ctx, planWorkload('W2', ctx.users, ctx.runId), seconds)
}
