import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Argon2Timing } from './argon2.js'
import type { LoadResult, WorkloadId } from './workloads.js'

export interface WorkloadReport extends LoadResult {
  readonly id: WorkloadId
  readonly title: string
  readonly connections: number
  /** Server process CPU (user + system) per request, ms. */
  readonly serverCpuMsPerRequest: number | null
  /** CPU of the PostgreSQL backends serving the bench database per request, ms (null: embedded/unreadable). */
  readonly dbCpuMsPerRequest: number | null
}

export interface BenchReport {
  readonly version: 1
  readonly startedAt: string
  readonly finishedAt: string
  readonly mode: 'postgres' | 'embedded'
  readonly durationSeconds: number
  readonly node: string
  readonly cpus: number
  readonly pinning: string
  /** 1-minute load average before seeding and after the last workload: other work skews the figures. */
  readonly loadAverage: { readonly start: number; readonly end: number }
  readonly commit: string | null
  /** One argon2id verify (m=19456, t=2, p=1) in the bench process, mean of 50. */
  readonly argon2Verify: Argon2Timing
  readonly server: {
    readonly idleRssMiB: number | null
    readonly peakRssMiB: number | null
    readonly endRssMiB: number | null
  }
  readonly workloads: readonly WorkloadReport[]
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

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined ? 'n/a' : value.toFixed(digits)

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
      fixed(w.serverCpuMsPerRequest, 3),
      fixed(w.dbCpuMsPerRequest, 3),
    ].join(' | '),
  )
  const login = report.workloads.find((w) => w.id === 'W2')
  const tool = report.workloads[0]?.tool ?? 'none'
  return [
    `Kitsune bench — ${report.startedAt}, ${report.mode}, ${tool}, ${report.durationSeconds} s per workload, ` +
      `Node ${report.node}, ${report.pinning}`,
    '',
    '| workload | conns | req/s | p50 ms | p90 ms | p99 ms | non-2xx | errors | server CPU ms/req | PG CPU ms/req |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((row) => `| ${row} |`),
    '',
    `Server RSS: idle ${fixed(report.server.idleRssMiB, 1)} MiB (after start and seed), ` +
      `peak ${fixed(report.server.peakRssMiB, 1)} MiB (VmHWM), end ${fixed(report.server.endRssMiB, 1)} MiB`,
    `argon2id verify alone (m=19456 t=2 p=1): ${fixed(report.argon2Verify.cpuMs, 2)} ms CPU, ` +
      `${fixed(report.argon2Verify.wallMs, 2)} ms wall` +
      (login ? ` — W2 server CPU per login: ${fixed(login.serverCpuMsPerRequest, 2)} ms` : ''),
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
    `Compared with ${beforeName} (${before.startedAt}, ${before.mode}): ratio = now / before`,
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
