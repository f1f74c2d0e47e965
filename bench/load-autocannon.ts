import autocannon from 'autocannon'
import { emptyTally, mixedRequest } from './autocannon-mixed.js'
import { type LoadResult, uniqueEmailBody, type WorkloadPlan } from './workloads.js'

/**
 * Runs a plan with autocannon in this process. setupClient gives each connection its plan; the
 * refresh chain, the unique e-mails and W6's session live in that connection's closure, read by
 * setupRequest and updated by onResponse (autocannon resets its own per-request `context` on every loop).
 */
export async function runAutocannon(
  plan: WorkloadPlan,
  baseUrl: string,
  seconds: number,
): Promise<LoadResult> {
  let nextConnection = 0
  const statuses: Record<string, number> = {}
  const countStatus = (status: number) => {
    statuses[status] = (statuses[status] ?? 0) + 1
  }
  const tally = emptyTally()
  const setupClient = (client: autocannon.Client) => {
    const index = nextConnection++
    const connection = plan.connections[index % plan.connections.length]
    if (!connection) return
    const dynamic = plan.dynamic
    if (dynamic.kind === 'mixed') {
      client.setRequests([mixedRequest(plan, connection, tally, countStatus)])
      return
    }
    let body = connection.body
    let counter = 0
    const request: autocannon.Request = {
      method: plan.method,
      path: plan.path,
      headers: { ...connection.headers },
    }
    if (body !== undefined) request.body = body
    // Hooks only where needed: with a setupRequest autocannon rebuilds every request.
    if (dynamic.kind === 'unique-email') {
      request.setupRequest = (current) => ({ ...current, body: uniqueEmailBody(dynamic, index, ++counter) })
    } else if (dynamic.kind === 'refresh-chain') {
      request.setupRequest = (current) => ({ ...current, body })
      request.onResponse = (status, responseBody) => {
        if (plan.countStatuses) countStatus(status)
        if (status !== 200) return
        const token = (JSON.parse(responseBody) as { refresh_token?: string }).refresh_token
        if (!token) return
        body =
          dynamic.encoding === 'form'
            ? new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString()
            : JSON.stringify({ refresh_token: token })
      }
    } else if (plan.countStatuses) {
      request.onResponse = countStatus
    }
    client.setRequests([request])
  }
  const result = await autocannon({
    url: `${baseUrl}${plan.path}`,
    connections: plan.connections.length,
    duration: seconds,
    method: plan.method,
    timeout: 10,
    setupClient,
  })
  const elapsed = (result.finish.getTime() - result.start.getTime()) / 1000
  return {
    tool: 'autocannon',
    requests: result.requests.total,
    seconds: elapsed,
    rps: result.requests.total / elapsed,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99 },
    non2xx: result.non2xx,
    errors: result.errors,
    ...(plan.countStatuses ? { statuses } : {}),
    ...(plan.dynamic.kind === 'mixed' ? { mix: tally } : {}),
  }
}
