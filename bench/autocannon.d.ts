// The slice of autocannon's programmatic API the bench uses (the package ships no types).
declare module 'autocannon' {
  namespace autocannon {
    interface Request {
      method?: string
      path?: string
      headers?: Record<string, string>
      body?: string
      setupRequest?: (request: Request, context: Record<string, unknown>) => Request | undefined
      onResponse?: (status: number, body: string, context: Record<string, unknown>) => void
    }
    interface Client {
      setHeaders(headers: Record<string, string>): void
      setBody(body: string): void
      setRequests(requests: Request[]): void
    }
    interface Histogram {
      average: number
      p50: number
      p90: number
      p99: number
    }
    interface Options {
      url: string
      connections?: number
      duration?: number
      method?: string
      headers?: Record<string, string>
      body?: string
      timeout?: number
      setupClient?: (client: Client) => void
      requests?: Request[]
    }
    interface Result {
      latency: Histogram
      requests: Histogram & { total: number }
      duration: number
      errors: number
      timeouts: number
      non2xx: number
      start: Date
      finish: Date
    }
  }
  function autocannon(options: autocannon.Options): Promise<autocannon.Result>
  export = autocannon
}
