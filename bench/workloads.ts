import type { SeededUser } from './seed.js'

export type WorkloadId = 'W1' | 'W2' | 'W3' | 'W4' | 'W5'

/** The order workloads run in: cheapest first, then the ones that add rows. */
export const WORKLOAD_ORDER: readonly WorkloadId[] = ['W4', 'W1', 'W5', 'W2', 'W3']

/** The most connections any workload opens: the number of users to seed. */
export const MAX_CONNECTIONS = 64
export const REFRESH_CONNECTIONS = 16

/** What one connection sends before any per-request change. */
export interface ConnectionPlan {
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
}

/** How a request's body changes from one request to the next on the same connection. */
export type Dynamic =
  | { readonly kind: 'none' }
  /** Each 200 response's refresh_token becomes this connection's next request body. */
  | { readonly kind: 'refresh-chain' }
  /** A new e-mail each request: `${prefix}-${connection}-${counter}@bench.example.com`. */
  | { readonly kind: 'unique-email'; readonly prefix: string; readonly password: string }

export interface WorkloadPlan {
  readonly id: WorkloadId
  readonly title: string
  readonly method: 'GET' | 'POST'
  readonly path: string
  /** One entry per connection. */
  readonly connections: readonly ConnectionPlan[]
  /** True when connections differ (each carries its own user or chain). */
  readonly perConnection: boolean
  readonly dynamic: Dynamic
}

const JSON_HEADERS = { 'content-type': 'application/json' }

function times<T>(count: number, make: (index: number) => T): T[] {
  return Array.from({ length: count }, (_, index) => make(index))
}

function userAt(users: readonly SeededUser[], index: number): SeededUser {
  const user = users[index % users.length]
  if (!user) throw new Error('no seeded users')
  return user
}

export function planWorkload(id: WorkloadId, users: readonly SeededUser[], runId: string): WorkloadPlan {
  switch (id) {
    case 'W4':
      return {
        id,
        title: 'GET /health/live',
        method: 'GET',
        path: '/health/live',
        connections: times(MAX_CONNECTIONS, () => ({ headers: {} })),
        perConnection: false,
        dynamic: { kind: 'none' },
      }
    case 'W1':
      return {
        id,
        title: 'GET /api/v1/users/me',
        method: 'GET',
        path: '/api/v1/users/me',
        connections: times(MAX_CONNECTIONS, (i) => ({
          headers: { authorization: `Bearer ${userAt(users, i).accessToken}` },
        })),
        perConnection: true,
        dynamic: { kind: 'none' },
      }
    case 'W5':
      return {
        id,
        title: 'POST /api/v1/auth/refresh',
        method: 'POST',
        path: '/api/v1/auth/refresh',
        connections: times(REFRESH_CONNECTIONS, (i) => {
          const token = userAt(users, i).refreshToken
          if (!token) throw new Error(`seeded user ${i} has no refresh session`)
          return { headers: JSON_HEADERS, body: JSON.stringify({ refresh_token: token }) }
        }),
        perConnection: true,
        dynamic: { kind: 'refresh-chain' },
      }
    case 'W2':
      return {
        id,
        title: 'POST /api/v1/auth/login',
        method: 'POST',
        path: '/api/v1/auth/login',
        connections: times(16, (i) => {
          const user = userAt(users, i)
          return {
            headers: JSON_HEADERS,
            body: JSON.stringify({ email: user.email, password: user.password }),
          }
        }),
        perConnection: true,
        dynamic: { kind: 'none' },
      }
    case 'W3':
      return {
        id,
        title: 'POST /api/v1/auth/register',
        method: 'POST',
        path: '/api/v1/auth/register',
        connections: times(16, () => ({ headers: JSON_HEADERS })),
        perConnection: true,
        dynamic: { kind: 'unique-email', prefix: `w3-${runId}`, password: `bench-password-${runId}` },
      }
  }
}

export function uniqueEmailBody(
  dynamic: Extract<Dynamic, { kind: 'unique-email' }>,
  conn: number,
  n: number,
) {
  return JSON.stringify({
    email: `${dynamic.prefix}-${conn}-${n}@bench.example.com`,
    password: dynamic.password,
  })
}

export function parseWorkloads(list: string | undefined): WorkloadId[] {
  if (!list) return [...WORKLOAD_ORDER]
  const wanted = list.split(',').map((item) => item.trim().toUpperCase())
  for (const item of wanted) {
    if (!WORKLOAD_ORDER.includes(item as WorkloadId)) throw new Error(`unknown workload ${item} (W1…W5)`)
  }
  return WORKLOAD_ORDER.filter((id) => wanted.includes(id))
}

/** What a load generator measured for one workload. */
export interface LoadResult {
  readonly tool: 'wrk' | 'autocannon'
  readonly requests: number
  readonly seconds: number
  readonly rps: number
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number }
  /** wrk counts status ≥ 400 here (it has no finer split); autocannon every status outside 2xx. */
  readonly non2xx: number
  /** Connection errors and timeouts. */
  readonly errors: number
}
