import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type LoadResult, MIXED_KINDS, type MixedKind, type WorkloadPlan } from './workloads.js'
import { MARKER, wrkScript, wrkThreads } from './wrk-script.js'

const run = promisify(execFile)

interface WrkSummary {
  requests: number
  micros: number
  p50: number
  p90: number
  p99: number
  status: number
  errors: number
  statuses: Record<string, number>
  counts: Record<string, number>
  failures: Record<string, number>
}

function mixOf(summary: WrkSummary): LoadResult['mix'] {
  const entries = MIXED_KINDS.map((kind): [MixedKind, { requests: number; non2xx: number }] => [
    kind,
    { requests: summary.counts[kind] ?? 0, non2xx: summary.failures[kind] ?? 0 },
  ])
  return Object.fromEntries(entries) as Record<MixedKind, { requests: number; non2xx: number }>
}

export async function runWrk(
  plan: WorkloadPlan,
  baseUrl: string,
  seconds: number,
  prefix: readonly string[],
): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kitsune-wrk-'))
  const script = join(dir, `${plan.id}.lua`)
  writeFileSync(script, wrkScript(plan))
  const connections = plan.connections.length
  const threads = wrkThreads(plan)
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '10s']
  const command = [...prefix, 'wrk', ...args, '-s', script, `${baseUrl}${plan.path}`]
  try {
    const { stdout } = await run(command[0] as string, command.slice(1), { maxBuffer: 1 << 20 })
    const line = stdout.split('\n').find((l) => l.startsWith(MARKER))
    if (!line) throw new Error(`wrk printed no summary:\n${stdout}`)
    const summary = JSON.parse(line.slice(MARKER.length)) as WrkSummary
    const elapsed = summary.micros / 1e6
    return {
      tool: 'wrk',
      requests: summary.requests,
      seconds: elapsed,
      rps: summary.requests / elapsed,
      latencyMs: { p50: summary.p50 / 1000, p90: summary.p90 / 1000, p99: summary.p99 / 1000 },
      non2xx: summary.status,
      errors: summary.errors,
      ...(plan.countStatuses ? { statuses: summary.statuses } : {}),
      ...(plan.dynamic.kind === 'mixed' ? { mix: mixOf(summary) } : {}),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
