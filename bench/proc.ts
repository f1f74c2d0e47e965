import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

/** Clock ticks per second for /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on Linux almost always). */
export function clockTicksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isInteger(value) && value > 0 ? value : 100
  } catch {
    return 100
  }
}

/** utime + stime of a process (all its threads) in clock ticks; undefined when unreadable or gone. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12]) // fields 14 and 15 of the whole line
  } catch {
    return undefined
  }
}

/** A VmRSS / VmHWM line of /proc/<pid>/status in MiB; undefined when unreadable. */
export function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
    return match ? Number(match[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export interface Pinning {
  /** Prefix for the server's command line, e.g. ['taskset', '-c', '0']; empty when not pinned. */
  readonly serverPrefix: string[]
  /** Prefix for an external load generator (wrk). */
  readonly loadPrefix: string[]
  readonly note: string
}

/** Server on CPU 0, load generator on CPU 1, when there are two cores and taskset exists. */
export function choosePinning(): Pinning {
  const cpus = availableParallelism()
  if (cpus < 2) return { serverPrefix: [], loadPrefix: [], note: `not pinned (${cpus} CPU)` }
  if (!hasCommand('taskset')) return { serverPrefix: [], loadPrefix: [], note: 'not pinned (no taskset)' }
  return {
    serverPrefix: ['taskset', '-c', '0'],
    loadPrefix: ['taskset', '-c', '1'],
    note: `server on CPU 0, load generator on CPU 1 (${cpus} CPUs)`,
  }
}

/** Moves every thread of this process (the autocannon load generator) onto CPU 1. */
export function pinSelf(pinning: Pinning): void {
  if (pinning.loadPrefix.length === 0) return
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' })
  } catch {
    // Not fatal: the figures are still comparable run to run, only noisier.
  }
}
