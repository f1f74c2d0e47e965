import { Redis } from 'ioredis'
import pg from 'pg'
import { cpuTicks } from './proc.js'

/** The PostgreSQL side of a run: a throwaway database and the CPU of the backends serving it. */
export class BenchDatabase {
  private constructor(
    private readonly admin: pg.Client,
    readonly name: string,
    readonly url: string,
  ) {}

  /** Creates kitsune_bench_<suffix> on the server of `adminUrl`. */
  static async create(adminUrl: string, suffix: string): Promise<BenchDatabase> {
    const admin = new pg.Client({ connectionString: adminUrl, application_name: 'kitsune-bench' })
    await admin.connect()
    const name = `kitsune_bench_${suffix}`
    await admin.query(`CREATE DATABASE ${name}`)
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    return new BenchDatabase(admin, name, url.toString())
  }

  /** Process ids of the backends connected to the bench database. */
  async backendPids(): Promise<number[]> {
    const { rows } = await this.admin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1',
      [this.name],
    )
    return rows.map((row) => row.pid)
  }

  async drop(): Promise<void> {
    try {
      await this.admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`)
    } finally {
      await this.admin.end()
    }
  }
}

/**
 * Follows the CPU time of the database backends during a workload. Backends come and go (the pool
 * opens and idles them out), so it samples their pids and ticks every 250 ms and sums, per pid, the
 * last reading minus the first (0 for a backend born during the run). Null when /proc is unreadable.
 */
export class BackendCpuTracker {
  private readonly first = new Map<number, number>()
  private readonly last = new Map<number, number>()
  private timer: NodeJS.Timeout | undefined
  private unreadable = false
  private sampling: Promise<void> = Promise.resolve()

  constructor(private readonly database: BenchDatabase) {}

  async start(): Promise<void> {
    await this.sample(true)
    this.timer = setInterval(() => {
      this.sampling = this.sample(false)
    }, 250)
  }

  /** Ticks spent by the backends since start(), or null when their /proc entries were unreadable. */
  async stop(): Promise<number | null> {
    clearInterval(this.timer)
    await this.sampling
    await this.sample(false)
    if (this.unreadable && this.last.size === 0) return null
    let total = 0
    for (const [pid, ticks] of this.last) total += ticks - (this.first.get(pid) ?? 0)
    return total
  }

  private async sample(initial: boolean): Promise<void> {
    let pids: number[]
    try {
      pids = await this.database.backendPids()
    } catch {
      return
    }
    for (const pid of pids) {
      const ticks = cpuTicks(pid)
      if (ticks === undefined) {
        this.unreadable = true
        continue
      }
      if (initial) this.first.set(pid, ticks)
      this.last.set(pid, ticks)
    }
  }
}

/** Deletes the run's Redis keys by prefix (SCAN + UNLINK): the bench never flushes a database. */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  let deleted = 0
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) deleted += await redis.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
  return deleted
}

/** Fails early with a clear message when the bench's Redis is not reachable. */
export async function pingRedis(redisUrl: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    await redis.ping()
  } finally {
    redis.disconnect()
  }
}
