import { Agent, request as httpRequest } from 'node:http'
import type { LoadResult } from './workloads.js'

/** One request of a closed loop: sent once, with its own body. */
export interface LoopRequest {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
}

/** Responses of one or more loops (O1's batches), summed into one LoadResult. */
export class LoopRecorder {
  private readonly latencies: number[] = []
  private readonly statuses: Record<string, number> = {}
  private non2xx = 0
  private errors = 0
  /** Wall time of the loops, seconds (the time between loops is not counted). */
  seconds = 0
  /** The first response bodies outside 2xx, for the report of a product problem. */
  readonly samples: string[] = []

  get requests(): number {
    return this.latencies.length
  }

  response(status: number, latencyMs: number, body: string): void {
    this.latencies.push(latencyMs)
    this.statuses[status] = (this.statuses[status] ?? 0) + 1
    if (status < 200 || status > 299) {
      this.non2xx++
      if (this.samples.length < 5) this.samples.push(`${status} ${body.slice(0, 300)}`)
    }
  }

  error(latencyMs: number, message: string): void {
    this.latencies.push(latencyMs)
    this.errors++
    if (this.samples.length < 5) this.samples.push(`error ${message}`)
  }

  result(): LoadResult {
    const sorted = Float64Array.from(this.latencies).sort()
    // Nearest rank: the smallest latency with at least p % of the requests at or below it.
    const percentile = (p: number) =>
      sorted.length === 0 ? 0 : (sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0)
    return {
      tool: 'node',
      requests: this.requests,
      seconds: this.seconds,
      rps: this.seconds > 0 ? this.requests / this.seconds : 0,
      latencyMs: { p50: percentile(50), p90: percentile(90), p99: percentile(99) },
      non2xx: this.non2xx,
      errors: this.errors,
      statuses: { ...this.statuses },
    }
  }
}

/**
 * Sends each of `requests` once, in order, over `connections` keep-alive connections with one
 * request in flight on each (a closed loop, like wrk's and autocannon's connections), and records
 * every response in `recorder`. For requests that can only be sent once (an authorization code).
 */
export async function runLoop(
  baseUrl: string,
  requests: readonly LoopRequest[],
  connections: number,
  recorder: LoopRecorder,
  agent: Agent,
): Promise<void> {
  const url = new URL(baseUrl)
  let next = 0
  const send = (item: LoopRequest) =>
    new Promise<void>((done) => {
      const started = performance.now()
      let settled = false
      const finish = (record: (latencyMs: number) => void) => {
        if (settled) return
        settled = true
        record(performance.now() - started)
        done()
      }
      const failed = (error: Error) => finish((ms) => recorder.error(ms, error.message))
      const headers: Record<string, string | number> = { ...item.headers }
      if (item.body !== undefined) headers['content-length'] = Buffer.byteLength(item.body)
      const req = httpRequest(
        { host: url.hostname, port: url.port, method: item.method, path: item.path, headers, agent },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () =>
            finish((ms) => recorder.response(res.statusCode ?? 0, ms, Buffer.concat(chunks).toString())),
          )
          res.on('error', failed)
        },
      )
      req.setTimeout(10_000, () => req.destroy(new Error('timeout (10 s)')))
      req.on('error', failed)
      req.end(item.body)
    })
  const connection = async () => {
    for (let index = next++; index < requests.length; index = next++)
      await send(requests[index] as LoopRequest)
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(connections, requests.length) }, connection))
  recorder.seconds += (performance.now() - started) / 1000
}

/** A keep-alive agent with one socket per loop connection. */
export function loopAgent(connections: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections })
}
