import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { type MeasureContext, measureWorkload } from './measure.js'
import { adminCredentials } from './oidc-seed.js'
import { treeCpuTicks, treeTicksSpent } from './proc.js'
import type { WorkloadReport } from './report.js'

/** The row W3 gives when measured again with a webhook endpoint subscribed to user.created. */
export const HOOK_ROW = 'W3+hook'
/** How long an instance trusts its "any enabled endpoint?" answer (src/events/event-publisher.ts). */
const ENDPOINT_CACHE_MS = 5000
/** The queue is drained when the sink has every delivery; give up after this long without one. */
const DRAIN_STALL_MS = 30_000

/** What --webhooks measured besides the W3+hook row (BenchReport.webhooks). */
export interface WebhookFigures {
  /** Registrations answered 2xx during W3+hook: one user.created delivery each is expected. */
  readonly expected: number
  /** Distinct webhook-ids the sink received (each answered 204). */
  readonly delivered: number
  /** Received while W3+hook ran, and after it until the last one (the queue draining). */
  readonly duringLoad: number
  readonly drainSeconds: number
  /** Server CPU (process tree, /proc) while W3+hook ran and while the queue drained, ms. */
  readonly loadCpuMs: number | null
  readonly drainCpuMs: number | null
  /**
   * Server CPU the deliveries cost: both windows' CPU minus W3+hook's registrations at plain W3's
   * CPU per registration, ms; and the deliveries per second of one core that makes.
   */
  readonly deliveryCpuMs: number | null
  readonly deliveriesPerCoreSecond: number | null
  /** The drain alone (no registrations running): deliveries per second of server CPU; null under 50. */
  readonly drainDeliveriesPerCoreSecond: number | null
}

/** Extra server environment for --webhooks: an administrator (made at start) and loopback targets. */
export function webhookServerEnv(runId: string): Record<string, string> {
  const admin = adminCredentials(runId)
  return { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password, WEBHOOKS_ALLOW_PRIVATE: 'true' }
}

/** A local receiver: answers 204 to every POST and counts distinct webhook-ids with their arrival. */
class Sink {
  readonly ids = new Set<string>()
  lastAt = 0
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Sink> {
    const sink: Sink = new Sink(
      createServer((req, res) => {
        req.resume()
        req.on('end', () => {
          const id = req.headers['webhook-id']
          if (typeof id === 'string' && req.headers['webhook-signature']) {
            sink.ids.add(id)
            sink.lastAt = performance.now()
          }
          res.writeHead(204).end()
        })
      }),
    )
    sink.server.keepAliveTimeout = 1000
    await new Promise<void>((done) => sink.server.listen(0, '127.0.0.1', done))
    return sink
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/kitsune-bench`
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((done) => this.server.close(() => done()))
  }
}

async function call(
  baseUrl: string,
  method: string,
  path: string,
  expected: number,
  body?: unknown,
  token?: string,
): Promise<unknown> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  if (response.status !== expected)
    throw new Error(`webhooks: ${method} ${path} answered ${response.status} (expected ${expected}): ${text}`)
  return text ? JSON.parse(text) : null
}

/**
 * W3 again with an endpoint subscribed to user.created (created through the admin API, pointing at
 * a sink in this process), then the queue drained: the W3+hook row and the delivery figures.
 * `plain` is this run's W3 row (its CPU per registration is what the deliveries are measured over).
 */
export async function measureWebhooks(
  ctx: MeasureContext,
  seconds: number,
  plain: WorkloadReport,
  workers: number,
): Promise<{ row: WorkloadReport; figures: WebhookFigures }> {
  const { baseUrl, pid } = ctx.server
  const sink = await Sink.start()
  try {
    const admin = adminCredentials(ctx.runId)
    const { access_token: token } = (await call(baseUrl, 'POST', '/api/v1/auth/login', 200, admin)) as {
      access_token: string
    }
    const endpoint = (await call(
      baseUrl,
      'POST',
      '/api/v1/admin/webhooks',
      201,
      { url: sink.url, events: ['user.created'], description: 'npm run bench --webhooks sink' },
      token,
    )) as { id: string }
    // The instance that created it knows at once; other workers within their cache's lifetime.
    if (workers > 1) await sleep(ENDPOINT_CACHE_MS + 500)
    ctx.log(`webhooks: endpoint ${endpoint.id} → ${sink.url} (user.created)`)

    const beforeLoad = treeCpuTicks(pid)
    // New e-mails: W3's own would all be taken.
    const measured = await measureWorkload({ ...ctx, runId: `${ctx.runId}-hook` }, 'W3', seconds)
    const afterLoad = treeCpuTicks(pid)
    const loadEnd = performance.now()
    const duringLoad = sink.ids.size
    const expected = measured.requests - measured.non2xx - measured.errors
    // Drained: every registration's delivery arrived (a request cut off at the end may add one more).
    while (sink.ids.size < expected && performance.now() - Math.max(sink.lastAt, loadEnd) < DRAIN_STALL_MS)
      await sleep(10)
    const afterDrain = treeCpuTicks(pid)
    const drainSeconds = Math.max(0, (sink.lastAt - loadEnd) / 1000)
    const delivered = sink.ids.size
    if (delivered < expected)
      ctx.log(
        `webhooks: only ${delivered} of ${expected} deliveries after ${DRAIN_STALL_MS / 1000} s without one`,
      )

    const ms = (ticks: number | undefined) =>
      ticks === undefined ? null : (ticks * 1000) / ctx.ticksPerSecond
    const loadCpuMs = ms(treeTicksSpent(beforeLoad, afterLoad))
    const drainCpuMs = ms(treeTicksSpent(afterLoad, afterDrain))
    const registrationsCpuMs =
      plain.serverCpuMsPerRequest === null ? null : plain.serverCpuMsPerRequest * measured.requests
    const deliveryCpuMs =
      loadCpuMs === null || drainCpuMs === null || registrationsCpuMs === null
        ? null
        : loadCpuMs + drainCpuMs - registrationsCpuMs
    const drained = delivered - duringLoad
    const figures: WebhookFigures = {
      expected,
      delivered,
      duringLoad,
      drainSeconds: Number(drainSeconds.toFixed(2)),
      loadCpuMs,
      drainCpuMs,
      deliveryCpuMs: deliveryCpuMs === null ? null : Number(deliveryCpuMs.toFixed(0)),
      deliveriesPerCoreSecond:
        deliveryCpuMs === null || deliveryCpuMs <= 0
          ? null
          : Number((delivered / (deliveryCpuMs / 1000)).toFixed(0)),
      drainDeliveriesPerCoreSecond:
        drainCpuMs === null || drainCpuMs <= 0 || drained < 50
          ? null
          : Number((drained / (drainCpuMs / 1000)).toFixed(0)),
    }
    ctx.log(
      `${HOOK_ROW}: ${delivered}/${expected} delivered (${duringLoad} during the load, the rest in ${figures.drainSeconds} s); ` +
        `${figures.deliveriesPerCoreSecond ?? 'n/a'} deliveries per core-second`,
    )
    await call(baseUrl, 'DELETE', `/api/v1/admin/webhooks/${endpoint.id}`, 204, undefined, token)
    const row: WorkloadReport = {
      ...measured,
      id: HOOK_ROW,
      title: `${measured.title}, an endpoint on user.created`,
    }
    return { row, figures }
  } finally {
    await sink.close()
  }
}

/** The lines under the table for --webhooks. */
export function webhookLines(workloads: readonly WorkloadReport[], figures: WebhookFigures): string[] {
  const plain = workloads.find((w) => w.id === 'W3')
  const hook = workloads.find((w) => w.id === HOOK_ROW)
  const cpu = (w: WorkloadReport | undefined) => w?.serverCpuMsPerRequest?.toFixed(2) ?? 'n/a'
  const ratio =
    plain?.serverCpuMsPerRequest && hook?.serverCpuMsPerRequest
      ? ` (${(hook.serverCpuMsPerRequest / plain.serverCpuMsPerRequest).toFixed(2)}×)`
      : ''
  return [
    `Webhooks: server CPU per registration ${cpu(plain)} ms without an endpoint, ${cpu(hook)} ms with one on user.created${ratio}` +
      ` (deliveries sent during the run included); ${figures.delivered}/${figures.expected} delivered, ` +
      `${figures.duringLoad} during the load, the rest within ${figures.drainSeconds} s after it`,
    `Webhook deliveries per core-second of server CPU: ${figures.deliveriesPerCoreSecond ?? 'n/a'} ` +
      `(${figures.deliveryCpuMs ?? 'n/a'} ms of CPU beyond W3's per registration)` +
      (figures.drainDeliveriesPerCoreSecond === null
        ? ''
        : `; the drain alone: ${figures.drainDeliveriesPerCoreSecond}`),
  ]
}
