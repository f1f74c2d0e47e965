import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
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

/**
 * CPU ticks per thread kind over a process tree, keyed by thread name (`/proc/<pid>/task/<tid>/comm`):
 * the JavaScript thread shows as the process name (`node`), the libuv pool (argon2, DNS, fs) as
 * `libuv-worker`, V8's GC and compiler helpers as `V8 DefaultWorke`. Threads that ended are lost.
 */
export function threadCpuTicks(pid: number): Map<string, number> {
  const byName = new Map<string, number>()
  for (const member of processTree(pid)) {
    let tids: string[]
    try {
      tids = readdirSync(`/proc/${member}/task`)
    } catch {
      continue
    }
    for (const tid of tids) {
      try {
        const name = readFileSync(`/proc/${member}/task/${tid}/comm`, 'utf8').trim()
        const stat = readFileSync(`/proc/${member}/task/${tid}/stat`, 'utf8')
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        const key = tid === String(member) ? 'main' : name
        byName.set(key, (byName.get(key) ?? 0) + Number(fields[11]) + Number(fields[12]))
      } catch {
        // the thread ended between listing and reading
      }
    }
  }
  return byName
}

/** Direct children of every thread of a process (`/proc/<pid>/task/<tid>/children`). */
function childrenOf(pid: number): number[] {
  const children: number[] = []
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim()
      if (list) children.push(...list.split(' ').map(Number))
    }
  } catch {
    // gone, or a kernel without CONFIG_PROC_CHILDREN: the tree is then the process alone
  }
  return children
}

/** A process and all its descendants (a cluster primary and its workers). */
export function processTree(pid: number): number[] {
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) tree.push(...childrenOf(tree[i] as number))
  return tree
}

/** Ticks per pid over a process tree; compare two readings with treeTicksSpent(). */
export function treeCpuTicks(pid: number): Map<number, number> {
  const ticks = new Map<number, number>()
  for (const member of processTree(pid)) {
    const value = cpuTicks(member)
    if (value !== undefined) ticks.set(member, value)
  }
  return ticks
}

/**
 * CPU ticks spent between two readings of a tree: per pid, after − before (a process born in
 * between counts from 0; one that died in between is lost). Undefined when the root was unreadable.
 */
export function treeTicksSpent(before: Map<number, number>, after: Map<number, number>): number | undefined {
  if (after.size === 0) return undefined
  let total = 0
  for (const [pid, ticks] of after) total += ticks - (before.get(pid) ?? 0)
  return total
}

/** A memory line summed over a process tree, MiB (VmHWM: the sum of each process's own peak). */
export function treeMemoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  let total: number | undefined
  for (const member of processTree(pid)) {
    const value = memoryMiB(member, field)
    if (value !== undefined) total = (total ?? 0) + value
  }
  return total
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
  /** The CPU of the load generator and of this process (taskset list syntax). */
  readonly loadCpu: string | undefined
  readonly note: string
}

/**
 * One server process: server on CPU 0, load generator on the last CPU, when there are two cores
 * and taskset exists. With workers > 1 the server (primary and workers) is not pinned and the load
 * generator stays on the last CPU, which it then shares with the server.
 */
export function choosePinning(workers = 1): Pinning {
  const cpus = availableParallelism()
  if (cpus < 2)
    return { serverPrefix: [], loadPrefix: [], loadCpu: undefined, note: `not pinned (${cpus} CPU)` }
  if (!hasCommand('taskset')) {
    return { serverPrefix: [], loadPrefix: [], loadCpu: undefined, note: 'not pinned (no taskset)' }
  }
  const last = String(cpus - 1)
  if (workers > 1) {
    return {
      serverPrefix: [],
      loadPrefix: ['taskset', '-c', last],
      loadCpu: last,
      note: `server (primary + ${workers} workers) not pinned, load generator on CPU ${last} (${cpus} CPUs: it shares that core with the server)`,
    }
  }
  return {
    serverPrefix: ['taskset', '-c', '0'],
    loadPrefix: ['taskset', '-c', last],
    loadCpu: last,
    note: `server on CPU 0, load generator on CPU ${last} (${cpus} CPUs)`,
  }
}

/** Moves every thread of this process (the autocannon load generator) onto the load CPU. */
export function pinSelf(pinning: Pinning): void {
  if (pinning.loadCpu === undefined) return
  try {
    execFileSync('taskset', ['-a', '-p', '-c', pinning.loadCpu, String(process.pid)], { stdio: 'ignore' })
  } catch {
    // Not fatal: the figures are still comparable run to run, only noisier.
  }
}
