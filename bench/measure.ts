import { setTimeout as sleep } from 'node:timers/promises'
import { BackendCpuTracker, type BenchDatabase } from './infra.js'
import { runAutocannon } from './load-autocannon.js'
import { LoopRecorder, loopAgent, runLoop } from './load-loop.js'
import { runWrk } from './load-wrk.js'
import { codeExchangeBody, issueCodes, type OidcSeed } from './oidc-seed.js'
import { type Pinning, threadCpuTicks, treeCpuTicks, treeTicksSpent } from './proc.js'
import type { WorkloadReport } from './report.js'
import { RssSampler } from './rss.js'
import type { SeededUser } from './seed.js'
import type { RunningServer } from './server.js'
import {
  CODE_BATCH,
  CODE_BATCH_MAX_SECONDS,
  CODE_BATCH_MIN,
  CODE_BATCH_REDEEM_SECONDS,
  FLOOD,
  isOidcWorkload,
  type LoadResult,
  OIDC_TOKEN_CONNECTIONS,
  type OidcWorkloadId,
  planOidcWorkload,
  planWorkload,
  type WorkloadId,
  type WorkloadPlan,
} from './workloads.js'

export interface MeasureContext {
  readonly server: RunningServer
  readonly users: readonly SeededUser[]
  readonly runId: string
  readonly tool: 'wrk' | 'autocannon'
  readonly pinning: Pinning
  readonly ticksPerSecond: number
  readonly database: BenchDatabase | undefined
  readonly log: (message: string) => void
  /** The OIDC workloads' client, tokens and signed-in browsers, once seeded (oidc-seed.ts). */
  readonly oidc?: OidcSeed
}

function load(ctx: MeasureContext, plan: WorkloadPlan, seconds: number): Promise<LoadResult> {
  return ctx.tool === 'wrk'
    ? runWrk(plan, ctx.server.baseUrl, seconds, ctx.pinning.loadPrefix)
    : runAutocannon(plan, ctx.server.baseUrl, seconds)
}

/**
 * The server's CPU (primary and workers, `/proc` process tree, and per thread name) and the
 * PostgreSQL backends' CPU over one or more measured windows (O1 measures several, one per batch
 * of codes, and leaves out the issuing of the codes in between).
 */
class CpuMeter {
  private serverTicks: number | undefined = 0
  private dbTicks: number | null
  private readonly threads = new Map<string, number>()

  constructor(private readonly ctx: MeasureContext) {
    this.dbTicks = ctx.database ? 0 : null
  }

  async during<T>(work: () => Promise<T>): Promise<T> {
    const { ctx } = this
    const tracker = ctx.database ? new BackendCpuTracker(ctx.database) : undefined
    await tracker?.start()
    const before = treeCpuTicks(ctx.server.pid)
    const threadsBefore = threadCpuTicks(ctx.server.pid)
    const result = await work()
    const spent = treeTicksSpent(before, treeCpuTicks(ctx.server.pid))
    const threadsAfter = threadCpuTicks(ctx.server.pid)
    const db = tracker ? await tracker.stop() : null
    this.serverTicks =
      spent === undefined || this.serverTicks === undefined ? undefined : this.serverTicks + spent
    this.dbTicks = db === null || this.dbTicks === null ? null : this.dbTicks + db
    for (const [name, ticks] of threadsAfter) {
      this.threads.set(name, (this.threads.get(name) ?? 0) + ticks - (threadsBefore.get(name) ?? 0))
    }
    return result
  }

  /** Per request over `requests`, ms. */
  figures(requests: number) {
    const perRequest = (ticks: number | null | undefined) =>
      ticks === null || ticks === undefined || requests === 0
        ? null
        : (ticks * 1000) / this.ctx.ticksPerSecond / requests
    const serverThreadsCpuMsPerRequest: Record<string, number> = {}
    for (const [name, ticks] of this.threads) {
      const spent = perRequest(ticks)
      if (spent) serverThreadsCpuMsPerRequest[name] = Number(spent.toFixed(3))
    }
    return {
      serverCpuMsPerRequest: perRequest(this.serverTicks),
      serverThreadsCpuMsPerRequest,
      dbCpuMsPerRequest: perRequest(this.dbTicks),
    }
  }
}

/**
 * Runs `loads` together and measures the server's CPU and the PostgreSQL backends' CPU over all
 * of them; per request is over every request sent.
 */
async function measureCpu<T extends readonly LoadResult[]>(ctx: MeasureContext, loads: () => Promise<T>) {
  const meter = new CpuMeter(ctx)
  const results = await meter.during(loads)
  return { results, ...meter.figures(results.reduce((sum, r) => sum + r.requests, 0)) }
}

function oidcOf(ctx: MeasureContext): OidcSeed {
  if (!ctx.oidc) throw new Error('the OIDC workloads run after seedOidc()')
  return ctx.oidc
}

function planOf(ctx: MeasureContext, id: WorkloadId | Exclude<OidcWorkloadId, 'O1'>): WorkloadPlan {
  return isOidcWorkload(id) ? planOidcWorkload(id, oidcOf(ctx)) : planWorkload(id, ctx.users, ctx.runId)
}

/** One workload for `seconds`; W6 also samples the server's RSS every 10 s. */
export async function measureWorkload(
  ctx: MeasureContext,
  id: WorkloadId | Exclude<OidcWorkloadId, 'O1'>,
  seconds: number,
): Promise<WorkloadReport> {
  const plan = planOf(ctx, id)
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

/**
 * O1: POST /oidc/token grant_type=authorization_code (client_secret_basic, PKCE verifier), each
 * code redeemed once. In batches: a batch is issued from the signed-in browsers (GET /oidc/auth,
 * not measured), then redeemed over OIDC_TOKEN_CONNECTIONS connections, oldest code first
 * (measured: load, CPU), until the redeeming has taken `seconds` in all. The figures are over the
 * redeeming windows alone; the issuing in between is left out.
 */
export async function measureCodeExchange(
  ctx: MeasureContext,
  seconds: number,
  options: { measured: boolean } = { measured: true },
): Promise<WorkloadReport> {
  const oidc = oidcOf(ctx)
  const meter = new CpuMeter(ctx)
  const recorder = new LoopRecorder()
  const agent = loopAgent(OIDC_TOKEN_CONNECTIONS)
  const batches: Array<{ codes: number; issueSeconds: number; oldestCodeSeconds: number }> = []
  try {
    while (recorder.seconds < seconds) {
      // After the first batch: as many codes as the redeeming rate so far gets through in the time
      // left (at most CODE_BATCH_REDEEM_SECONDS), so the run ends near `seconds` and no code ages.
      const rate = recorder.requests / Math.max(recorder.seconds, 1e-3)
      const wanted =
        recorder.requests === 0
          ? CODE_BATCH
          : Math.ceil(rate * Math.min(seconds - recorder.seconds, CODE_BATCH_REDEEM_SECONDS))
      // Not a batch of a few rounds: the loop's start and drain would be most of it.
      if (wanted < CODE_BATCH_MIN) break
      const issueStarted = performance.now()
      const codes = await issueCodes(
        oidc,
        Math.min(CODE_BATCH, wanted),
        // Issuing a code costs about what redeeming one does: the first batch issues for at most
        // `seconds`, so a short run (the warm-up) stays short.
        Math.min(CODE_BATCH_MAX_SECONDS, seconds),
      )
      const issueSeconds = (performance.now() - issueStarted) / 1000
      // The audit entries of the last authorizations are written after their redirects.
      await sleep(250)
      const requests = codes.map((code) => ({
        method: 'POST' as const,
        path: '/oidc/token',
        headers: { authorization: oidc.authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: codeExchangeBody(code),
      }))
      await meter.during(() => runLoop(ctx.server.baseUrl, requests, OIDC_TOKEN_CONNECTIONS, recorder, agent))
      const oldest = codes.reduce((min, code) => Math.min(min, code.issuedAt), Date.now())
      batches.push({
        codes: codes.length,
        issueSeconds: Number(issueSeconds.toFixed(2)),
        oldestCodeSeconds: Number(((Date.now() - oldest) / 1000).toFixed(2)),
      })
    }
  } finally {
    agent.destroy()
  }
  const result = recorder.result()
  const title = 'POST /oidc/token authorization_code (+ PKCE)'
  if (options.measured) {
    ctx.log(
      `O1 ${title}: ${result.rps.toFixed(0)} req/s, p99 ${result.latencyMs.p99.toFixed(2)} ms, non-2xx ${result.non2xx}; ` +
        `${batches.length} batches of codes (${batches.map((b) => `${b.codes} issued in ${b.issueSeconds} s`).join(', ')})`,
    )
  }
  if (recorder.samples.length > 0)
    ctx.log(`O1 failures (first ${recorder.samples.length}): ${recorder.samples.join(' | ')}`)
  return {
    ...result,
    id: 'O1',
    title,
    connections: OIDC_TOKEN_CONNECTIONS,
    ...meter.figures(result.requests),
    codeBatches: batches,
  }
}

/**
 * Unmeasured load for the selected OIDC workloads, `seconds` each, before the first of them is
 * measured: O2 on chains of its own (O2's stay unused), O1 on codes of its own.
 */
export async function warmUpOidc(
  ctx: MeasureContext,
  ids: readonly OidcWorkloadId[],
  seconds: number,
): Promise<void> {
  const oidc = oidcOf(ctx)
  for (const id of ids) {
    if (id === 'O1') await measureCodeExchange(ctx, seconds, { measured: false })
    else if (id === 'O2')
      await load(ctx, planOidcWorkload(id, { ...oidc, refreshTokens: oidc.warmupRefreshTokens }), seconds)
    else await load(ctx, planOidcWorkload(id, oidc), seconds)
  }
}
