import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

export type LoginResult = 'success' | 'bad_credentials' | 'mfa_required' | 'rate_limited' | 'locked'

/** What services report; a no-op when metrics are off. Labels never carry user data. */
export interface AuthMetrics {
  login(result: LoginResult): void
  registration(): void
  refresh(result: 'success' | 'invalid' | 'reused'): void
  passwordReset(): void
}

export interface Metrics extends AuthMetrics {
  readonly registry: Registry
  httpRequest(method: string, route: string, status: number, seconds: number): void
  dbQuery(seconds: number, failed: boolean): void
  redisError(): void
  /** Pool gauges read on scrape. */
  watchPool(pool: { totalCount: number; idleCount: number; waitingCount: number }): void
  /** A job attempt's outcome and duration (jobs/job-queue.ts). */
  jobAttempt(kind: string, result: 'done' | 'retry' | 'dead', seconds: number): void
  /** A webhook delivery attempt's outcome, by endpoint id (jobs/webhook-jobs.ts). */
  webhookDelivery(endpointId: string, result: 'success' | 'failure' | 'refused' | 'dead'): void
  /** Queue depth and age gauges, read from the database on scrape. */
  watchQueue(
    stats: () => Promise<Array<{ kind: string; state: string; count: number; oldestSeconds: number }>>,
  ): void
}

export const noMetrics: AuthMetrics = { login() {}, registration() {}, refresh() {}, passwordReset() {} }

const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * prom-client's default gauges that end in `_total`, a suffix Prometheus reserves for counters
 * (`promtool check metrics` rejects them). Each is the sum of the per-type gauge of the same name
 * without the suffix, which stays: `sum(nodejs_active_handles)` replaces `nodejs_active_handles_total`.
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

/** A registry of its own per Kitsune instance (tests run several in one process). */
export function createMetrics(): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name)
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  })
  const logins = new Counter({
    name: 'kitsune_logins_total',
    help: 'Sign-ins (password or passkey) by result',
    labelNames: ['result'],
    registers: [registry],
  })
  const registrations = new Counter({
    name: 'kitsune_registrations_total',
    help: 'Accounts registered',
    registers: [registry],
  })
  const refreshes = new Counter({
    name: 'kitsune_token_refreshes_total',
    help: 'Refresh-token rotations by result',
    labelNames: ['result'],
    registers: [registry],
  })
  const reuses = new Counter({
    name: 'kitsune_refresh_token_reuse_total',
    help: 'Reused refresh tokens detected (sessions revoked)',
    registers: [registry],
  })
  const resets = new Counter({
    name: 'kitsune_password_resets_total',
    help: 'Passwords reset with an e-mailed token',
    registers: [registry],
  })
  const queries = new Histogram({
    name: 'kitsune_db_query_duration_seconds',
    help: 'Database statement duration',
    labelNames: ['outcome'],
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  })
  const redisErrors = new Counter({
    name: 'kitsune_redis_command_errors_total',
    help: 'Redis commands that failed',
    registers: [registry],
  })
  for (const result of ['success', 'bad_credentials', 'mfa_required', 'rate_limited', 'locked'])
    logins.inc({ result }, 0)

  const jobAttempts = new Counter({
    name: 'kitsune_job_attempts_total',
    help: 'Job attempts by kind and result (done, retry, dead)',
    labelNames: ['kind', 'result'],
    registers: [registry],
  })
  const jobDuration = new Histogram({
    name: 'kitsune_job_duration_seconds',
    help: 'Job attempt duration by kind',
    labelNames: ['kind'],
    buckets: [...SECONDS_BUCKETS, 10, 30],
    registers: [registry],
  })

  const webhookDeliveries = new Counter({
    name: 'kitsune_webhook_deliveries_total',
    help: 'Webhook delivery attempts by endpoint id and result (success, failure, refused, dead)',
    labelNames: ['endpoint', 'result'],
    registers: [registry],
  })

  return {
    registry,
    webhookDelivery: (endpoint, result) => webhookDeliveries.inc({ endpoint, result }),
    httpRequest(method, route, status, seconds) {
      const labels = { method, route, status: String(status) }
      requests.inc(labels)
      duration.observe(labels, seconds)
    },
    login: (result) => logins.inc({ result }),
    registration: () => registrations.inc(),
    refresh(result) {
      refreshes.inc({ result })
      if (result === 'reused') reuses.inc()
    },
    passwordReset: () => resets.inc(),
    dbQuery: (seconds, failed) => queries.observe({ outcome: failed ? 'error' : 'ok' }, seconds),
    redisError: () => redisErrors.inc(),
    jobAttempt(kind, result, seconds) {
      jobAttempts.inc({ kind, result })
      jobDuration.observe({ kind }, seconds)
    },
    watchQueue(stats) {
      // One query per scrape feeds both gauges: prom-client collects them at once, so both await
      // the same fetch (reused for a second).
      let fetched: { at: number; rows: ReturnType<typeof stats> } | undefined
      const current = () => {
        if (!fetched || Date.now() - fetched.at > 1000)
          fetched = { at: Date.now(), rows: stats().catch(() => []) }
        return fetched.rows
      }
      new Gauge({
        name: 'kitsune_jobs',
        help: 'Jobs in the durable queue by kind and state (queued, done, dead)',
        labelNames: ['kind', 'state'],
        registers: [registry],
        async collect() {
          const rows = await current()
          this.reset()
          for (const row of rows) this.set({ kind: row.kind, state: row.state }, row.count)
        },
      })
      new Gauge({
        name: 'kitsune_job_oldest_queued_seconds',
        help: 'Age of the oldest due job still queued, by kind',
        labelNames: ['kind'],
        registers: [registry],
        async collect() {
          const rows = await current()
          this.reset()
          // Every kind the queue has seen gets a value: 0 when none of its jobs is waiting.
          for (const row of rows) if (row.state !== 'queued') this.set({ kind: row.kind }, 0)
          for (const row of rows) if (row.state === 'queued') this.set({ kind: row.kind }, row.oldestSeconds)
        },
      })
    },
    watchPool(pool) {
      new Gauge({
        name: 'kitsune_db_pool_connections',
        help: 'Database pool connections by state',
        labelNames: ['state'],
        registers: [registry],
        collect() {
          this.set({ state: 'total' }, pool.totalCount)
          this.set({ state: 'idle' }, pool.idleCount)
          this.set({ state: 'waiting' }, pool.waitingCount)
        },
      })
    },
  }
}
