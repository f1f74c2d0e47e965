import type { SeededUser } from './seed.js'

export type WorkloadId = 'W1' | 'W2' | 'W3' | 'W4' | 'W5' | 'W6'
/** W1 and W2 at the same time (two load generators): W1's latency during a login flood. */
export const FLOOD = 'W1+W2' as const
export type ScenarioId = WorkloadId | typeof FLOOD

/** The order scenarios run in: cheapest first, then the ones that add rows. */
export const WORKLOAD_ORDER: readonly ScenarioId[] = ['W4', 'W1', 'W5', 'W2', FLOOD, 'W3', 'W6']

/** The most connections any workload opens: the number of users to seed. */
export const MAX_CONNECTIONS = 64
export const REFRESH_CONNECTIONS = 16
/** W6 connections: each has a session of its own (a third login of user i), not W1's nor W5's. */
export const MIXED_CONNECTIONS = 64
/** W6's mix, percent of requests (the rest is GET /users/me). */
export const MIX = { refreshPercent: 8, loginPercent: 2 } as const

/** What one connection sends before any per-request change. */
export interface ConnectionPlan {
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
  /** W6: the connection's own session and credentials. */
  readonly session?: MixedSession
}

export interface MixedSession {
  readonly accessToken: string
  readonly refreshToken: string
  /** JSON body of this connection's login requests. */
  readonly loginBody: string
}

/** One W6 request kind. */
export type MixedKind = 'me' | 'refresh' | 'login'
export const MIXED_KINDS: readonly MixedKind[] = ['me', 'refresh', 'login']
export const MIXED_PATHS: Readonly<Record<MixedKind, string>> = {
  me: '/api/v1/users/me',
  refresh: '/api/v1/auth/refresh',
  login: '/api/v1/auth/login',
}

/** How a request's body changes from one request to the next on the same connection. */
export type Dynamic =
  | { readonly kind: 'none' }
  /** Each 200 response's refresh_token becomes this connection's next request body. */
  | { readonly kind: 'refresh-chain' }
  /** A new e-mail each request: `${prefix}-${connection}-${counter}@bench.example.com`. */
  | { readonly kind: 'unique-email'; readonly prefix: string; readonly password: string }
  /**
   * W6: each request picks GET /users/me, a refresh of the connection's chain or a login at random
   * (MIX); a 200 refresh's refresh_token and access_token replace the connection's.
   */
  | { readonly kind: 'mixed'; readonly refreshPercent: number; readonly loginPercent: number }

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
  /** Count responses per status code (W2: the 503 SERVER_BUSY of a flood; W6). */
  readonly countStatuses: boolean
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
        countStatuses: false,
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
        countStatuses: false,
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
        countStatuses: false,
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
        countStatuses: true,
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
        countStatuses: false,
      }
    case 'W6':
      return {
        id,
        title: `mixed: ${100 - MIX.refreshPercent - MIX.loginPercent} % /users/me, ${MIX.refreshPercent} % refresh, ${MIX.loginPercent} % login`,
        method: 'GET',
        path: MIXED_PATHS.me,
        connections: times(MIXED_CONNECTIONS, (i) => {
          const user = userAt(users, i)
          if (!user.mixed) throw new Error(`seeded user ${i} has no W6 session`)
          return {
            headers: {},
            session: {
              ...user.mixed,
              loginBody: JSON.stringify({ email: user.email, password: user.password }),
            },
          }
        }),
        perConnection: true,
        dynamic: { kind: 'mixed', ...MIX },
        countStatuses: true,
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

/** The scenarios of --workloads (every one when absent), in WORKLOAD_ORDER; `extra` are added. */
export function parseWorkloads(list: string | undefined, extra: readonly ScenarioId[] = []): ScenarioId[] {
  const wanted: string[] = list
    ? list.split(',').map((item) => item.trim().toUpperCase())
    : [...WORKLOAD_ORDER]
  for (const item of wanted) {
    if (!WORKLOAD_ORDER.includes(item as ScenarioId)) {
      throw new Error(`unknown workload ${item} (${WORKLOAD_ORDER.join(', ')})`)
    }
  }
  wanted.push(...extra)
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
  /** Responses per status code, for plans with countStatuses. */
  readonly statuses?: Readonly<Record<string, number>>
  /** W6: responses and non-2xx per request kind. */
  readonly mix?: Readonly<Record<MixedKind, { readonly requests: number; readonly non2xx: number }>>
}
