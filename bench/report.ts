import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Argon2Timing } from './argon2.js'
import type { RssSeries } from './rss.js'
import { type WebhookFigures, webhookLines } from './webhooks.js'
import type { LoadResult } from './workloads.js'

export interface WorkloadReport extends LoadResult {
  /** A workload id (W1…W6), or W1+W2:W1 and W1+W2:W2 for the two rows of the flood. */
  readonly id: string
  readonly title: string
  readonly connections: number
  /** Server CPU (user + system; the primary and every worker) per request, ms. */
  readonly serverCpuMsPerRequest: number | null
  /**
   * The server CPU split by thread (ms per request): `main` is the JavaScript thread, `libuv-worker`
   * the pool that runs argon2, `V8 DefaultWorke` V8's GC and compiler helpers. Absent in older runs.
   */
  readonly serverThreadsCpuMsPerRequest?: Record<string, number>
  /** CPU of the PostgreSQL backends serving the bench database per request, ms (null: embedded/unreadable). */
  readonly dbCpuMsPerRequest: number | null
  /** Measured at the same time as another row (W1+W2): CPU per request is over both rows' requests. */
  readonly concurrentWith?: string
  /** W6: the server's RSS at the start, every 10 s and at the end of the run. */
  readonly rss?: RssSeries
  /**
   * O1: each batch of authorization codes, issued (not measured) right before it was redeemed: how
   * many, how long the issuing took, and the age of its oldest code when its last one was redeemed.
   */
  readonly codeBatches?: ReadonlyArray<{
    readonly codes: number
    readonly issueSeconds: number
    readonly oldestCodeSeconds: number
  }>
}

export interface BenchReport {
  readonly version: 1
  readonly startedAt: string
  readonly finishedAt: string
  readonly mode: 'postgres' | 'embedded'
  readonly durationSeconds: number
  /** Unmeasured load per warm-up workload before the first measured one, seconds. Absent in older runs (none). */
  readonly warmupSeconds?: number
  /** --soak: W6's duration, seconds (null: W6 ran for durationSeconds). Absent in older runs. */
  readonly soakSeconds?: number | null
  /** Server processes serving requests: `serve --workers N` when > 1. Absent (= 1) in older runs. */
  readonly workers?: number
  readonly node: string
  readonly cpus: number
  readonly pinning: string
  /** 1-minute load average before seeding and after the last workload: other work skews the figures. */
  readonly loadAverage: { readonly start: number; readonly end: number }
  readonly commit: string | null
  /** One argon2id verify (m=19456, t=2, p=1): best of 3 means of 50, where `where` says. */
  readonly argon2Verify: Argon2Timing
  /** RSS and VmHWM are summed over the primary and its workers. */
  /** Spawn of `node dist/cli/main.js serve` to the first 200 from /health/ready, migrations applied. Absent in older runs. */
  readonly startToReadyMs?: readonly number[]
  readonly server: {
    /** Right after start and seeding. Absent in older runs (their idleRssMiB was this figure). */
    readonly seededRssMiB?: number | null
    /** After `idleSeconds` without requests, once V8 has given back what start-up grew. */
    readonly idleRssMiB: number | null
    readonly idleSeconds?: number
    readonly peakRssMiB: number | null
    readonly endRssMiB: number | null
  }
  readonly workloads: readonly WorkloadReport[]
  /** --webhooks: the W3+hook row's deliveries and their CPU. Absent otherwise. */
  readonly webhooks?: WebhookFigures
}

export function writeReport(dir: string, report: BenchReport): string {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${report.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`)
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  return file
}

export function readReport(file: string): BenchReport {
  const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport
  if (report.version !== 1 || !Array.isArray(report.workloads))
    throw new Error(`${file} is not a bench result`)
  return report
}

/** CPU per request of every thread but the JavaScript one: in W2, the argon2 verifies (plus V8's helpers). */
const poolMs = (w: WorkloadReport) => {
  const threads = w.serverThreadsCpuMsPerRequest
  if (!threads) return undefined
  return Object.entries(threads).reduce((sum, [name, ms]) => (name === 'main' ? sum : sum + ms), 0)
}

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined ? 'n/a' : value.toFixed(digits)

const cpuMark = (w: WorkloadReport, value: number | null) =>
  `${fixed(value, 3)}${w.concurrentWith ? ' †' : ''}`

/** Lines under the table: status codes, W6's mix, RSS series. */
function details(report: BenchReport): string[] {
  const lines: string[] = []
  for (const w of report.workloads) {
    if (w.statuses) {
      const counts = Object.entries(w.statuses).map(([status, n]) => `${status}: ${n}`)
      lines.push(`${w.id} statuses: ${counts.join(', ') || 'none'}`)
    }
    if (w.serverThreadsCpuMsPerRequest && !w.concurrentWith) {
      const threads = Object.entries(w.serverThreadsCpuMsPerRequest)
        .sort(([, a], [, b]) => b - a)
        .map(([name, ms]) => `${name} ${ms.toFixed(3)}`)
      lines.push(`${w.id} server CPU ms/req by thread: ${threads.join(', ')}`)
    }
    if (w.mix) {
      const kinds = Object.entries(w.mix).map(([kind, m]) => `${kind} ${m.requests} (non-2xx ${m.non2xx})`)
      lines.push(`${w.id} mix: ${kinds.join(', ')}`)
    }
    if (w.codeBatches) {
      const batches = w.codeBatches.map(
        (b) =>
          `${b.codes} issued in ${b.issueSeconds.toFixed(1)} s, oldest ${b.oldestCodeSeconds.toFixed(1)} s old at the end`,
      )
      lines.push(`${w.id} code batches (redeeming measured, issuing not): ${batches.join(' · ')}`)
    }
    if (w.rss) {
      const last = w.rss.samples.length - 1
      const samples = w.rss.samples.map(
        (s, i) => `${i === last ? 'end' : `${s.seconds.toFixed(0)} s`} ${s.rssMiB.toFixed(1)}`,
      )
      lines.push(
        `${w.id} server RSS (MiB): start ${fixed(w.rss.startMiB, 1)}, end ${fixed(w.rss.endMiB, 1)}, ` +
          `max ${fixed(w.rss.maxMiB, 1)}; every ${w.rss.intervalSeconds} s: ${samples.join(' · ')}`,
      )
    }
  }
  if (report.workloads.some((w) => w.concurrentWith)) {
    lines.push('† measured together with the other W1+W2 row: CPU per request over both rows’ requests')
  }
  return lines
}

export function markdown(report: BenchReport): string {
  const rows = report.workloads.map((w) =>
    [
      `${w.id} ${w.title}`,
      w.connections,
      fixed(w.rps, 0),
      fixed(w.latencyMs.p50, 2),
      fixed(w.latencyMs.p90, 2),
      fixed(w.latencyMs.p99, 2),
      w.non2xx,
      w.errors,
      cpuMark(w, w.serverCpuMsPerRequest),
      cpuMark(w, w.dbCpuMsPerRequest),
    ].join(' | '),
  )
  const login = report.workloads.find((w) => w.id === 'W2')
  const tool = report.workloads[0]?.tool ?? 'none'
  return [
    `Kitsune bench — ${report.startedAt}, ${report.mode}, ${tool}, ${report.durationSeconds} s per workload` +
      `${report.warmupSeconds ? ` after a ${report.warmupSeconds} s warm-up of each of W4, W1, W5, W2` : ''}` +
      `${report.warmupSeconds && report.workloads.some((w) => w.id.startsWith('O')) ? ' (and of each OIDC workload, before the first)' : ''}` +
      `${report.soakSeconds ? ` (W6: ${report.soakSeconds} s soak)` : ''}, ${report.workers ?? 1} server process(es), ` +
      `Node ${report.node}, ${report.pinning}`,
    '',
    '| workload | conns | req/s | p50 ms | p90 ms | p99 ms | non-2xx | errors | server CPU ms/req | PG CPU ms/req |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((row) => `| ${row} |`),
    '',
    ...details(report),
    ...(report.webhooks ? webhookLines(report.workloads, report.webhooks) : []),
    `Server RSS${(report.workers ?? 1) > 1 ? ' (primary + workers)' : ''}: ` +
      (report.server.idleSeconds === undefined
        ? `idle ${fixed(report.server.idleRssMiB, 1)} MiB (after start and seed), `
        : `${fixed(report.server.seededRssMiB, 1)} MiB after start and seed, idle ${fixed(report.server.idleRssMiB, 1)} MiB ` +
          `(after ${report.server.idleSeconds} s without requests), `) +
      `peak ${fixed(report.server.peakRssMiB, 1)} MiB (VmHWM), end ${fixed(report.server.endRssMiB, 1)} MiB`,
    `argon2id verify alone (m=19456 t=2 p=1): ${fixed(report.argon2Verify.cpuMs, 2)} ms CPU, ` +
      `${fixed(report.argon2Verify.wallMs, 2)} ms wall${report.argon2Verify.where ? ` (${report.argon2Verify.where})` : ''}` +
      (login
        ? ` — W2 server CPU per login: ${fixed(login.serverCpuMsPerRequest, 2)} ms = ` +
          `${fixed((login.serverCpuMsPerRequest ?? Number.NaN) / report.argon2Verify.cpuMs, 2)}× the verify alone` +
          (poolMs(login)
            ? `, ${fixed((login.serverCpuMsPerRequest ?? Number.NaN) / (poolMs(login) as number), 2)}× ` +
              `what its own verifies cost in the run (${fixed(poolMs(login), 2)} ms of non-JavaScript threads per login)`
            : '')
        : ''),
    ...(report.startToReadyMs?.length
      ? [
          `Start to ready (spawn to the first 200 from /health/ready, migrations applied), ms: ${report.startToReadyMs.join(', ')}` +
            ` (median ${[...report.startToReadyMs].sort((a, b) => a - b)[Math.floor(report.startToReadyMs.length / 2)]})`,
        ]
      : []),
    `Load average (1 min): ${fixed(report.loadAverage.start, 2)} before, ${fixed(report.loadAverage.end, 2)} after` +
      (report.loadAverage.start > 0.5
        ? ' — the machine was busy before the run: treat the figures with care'
        : ''),
  ].join('\n')
}

const ratio = (now: number | null | undefined, before: number | null | undefined) =>
  now === null || now === undefined || before === null || before === undefined || before === 0
    ? 'n/a'
    : `${(now / before).toFixed(2)}×`

/** Each metric of `now` divided by the same metric of `before` (req/s: higher is better; the rest: lower). */
export function compare(now: BenchReport, before: BenchReport, beforeName: string): string {
  const lines = [
    `Compared with ${beforeName} (${before.startedAt}, ${before.mode}, ${before.workers ?? 1} server process(es); ` +
      `now ${now.workers ?? 1}): ratio = now / before`,
    '',
    '| workload | req/s | p50 | p90 | p99 | non-2xx (before → now) | server CPU/req | PG CPU/req |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const w of now.workloads) {
    const b = before.workloads.find((old) => old.id === w.id)
    if (!b) {
      lines.push(`| ${w.id} | not in the earlier run |||||||`)
      continue
    }
    lines.push(
      `| ${w.id} ${w.title} | ${ratio(w.rps, b.rps)} | ${ratio(w.latencyMs.p50, b.latencyMs.p50)} | ` +
        `${ratio(w.latencyMs.p90, b.latencyMs.p90)} | ${ratio(w.latencyMs.p99, b.latencyMs.p99)} | ` +
        `${b.non2xx} → ${w.non2xx} | ${ratio(w.serverCpuMsPerRequest, b.serverCpuMsPerRequest)} | ` +
        `${ratio(w.dbCpuMsPerRequest, b.dbCpuMsPerRequest)} |`,
    )
  }
  lines.push(
    '',
    `idle RSS ${ratio(now.server.idleRssMiB, before.server.idleRssMiB)}, ` +
      `peak RSS ${ratio(now.server.peakRssMiB, before.server.peakRssMiB)}, ` +
      `argon2id verify CPU ${ratio(now.argon2Verify?.cpuMs, before.argon2Verify?.cpuMs)}`,
  )
  return lines.join('\n')
}
