import type { SeededUser } from './seed.js'

export type WorkloadId = 'W1' | 'W2' | 'W3' | 'W4' | 'W5' | 'W6'
/** W1 and W2 at the same time (two load generators): W1's latency during a login flood. */
export const FLOOD = 'W1+W2' as const
/**
 * The OpenID Provider's workloads (README § OIDC workloads): O1 code exchange, O2 refresh, O3
 * client_credentials (opaque) and O3J (a JWT for a resource), O4 userinfo, O5 introspection, O6 the
 * sign-in page. They start from users signed in through the pages (oidc-seed.ts).
 */
export type OidcWorkloadId = 'O1' | 'O2' | 'O3' | 'O3J' | 'O4' | 'O5' | 'O6'
export type ScenarioId = WorkloadId | typeof FLOOD | OidcWorkloadId

/** The OIDC workloads in the order they run: reads first, then the ones that add rows. */
export const OIDC_WORKLOADS: readonly OidcWorkloadId[] = ['O6', 'O4', 'O5', 'O3', 'O3J', 'O2', 'O1']
/** The order scenarios run in: cheapest first, then the ones that add rows; the OIDC ones last. */
export const WORKLOAD_ORDER: readonly ScenarioId[] = [
  'W4',
  'W1',
  'W5',
  'W2',
  FLOOD,
  'W3',
  'W6',
  ...OIDC_WORKLOADS,
]
/**
 * Without --workloads: the W scenarios. The OIDC ones (seeding, warm-up and O1's code batches
 * included) add about two minutes, which would take the default run past five: --oidc adds them.
 */
export const DEFAULT_WORKLOADS: readonly ScenarioId[] = ['W4', 'W1', 'W5', 'W2', FLOOD, 'W3', 'W6']

export function isOidcWorkload(id: ScenarioId): id is OidcWorkloadId {
  return (OIDC_WORKLOADS as readonly string[]).includes(id)
}

/** The most connections any workload opens: the number of users to seed. */
export const MAX_CONNECTIONS = 64
export const REFRESH_CONNECTIONS = 16
/** W6 connections: each has a session of its own (a third login of user i), not W1's nor W5's. */
export const MIXED_CONNECTIONS = 64
/** W6's mix, percent of requests (the rest is GET /users/me). */
export const MIX = { refreshPercent: 8, loginPercent: 2 } as const
/** Users signed in through the pages for the OIDC workloads: O4's and O5's connections, O1's browsers. */
export const OIDC_SIGNED_IN = 64
/** Connections of the token endpoint workloads (O1, O2, O3, O3J), as W2's and W5's. */
export const OIDC_TOKEN_CONNECTIONS = 16
/**
 * O1 redeems codes in batches: each batch is issued (not measured) right before it is redeemed
 * (measured), so no code is older than its issuing plus its redeeming; codes live 60 s. A batch
 * stops issuing at CODE_BATCH codes or after CODE_BATCH_MAX_SECONDS, whichever comes first; after
 * the first, a batch holds what the redeeming rate so far gets through in the measured time left,
 * at most CODE_BATCH_REDEEM_SECONDS (none when that is under CODE_BATCH_MIN).
 */
export const CODE_BATCH = 1000
/** A later batch that would hold fewer codes is not issued: the redeeming ends a little short instead. */
export const CODE_BATCH_MIN = 4 * OIDC_TOKEN_CONNECTIONS
export const CODE_BATCH_MAX_SECONDS = 10
export const CODE_BATCH_REDEEM_SECONDS = 20

/** What the OIDC plans are built from (oidc-seed.ts). */
export interface OidcPlanData {
  /** The bench client's `Basic …` header (client_secret_basic). */
  readonly authorization: string
  /** An entry of OIDC_RESOURCES: client_credentials for it gives a JWT access token (O3J). */
  readonly resource: string
  /** Opaque access tokens of OIDC_SIGNED_IN users (O4, O5). */
  readonly accessTokens: readonly string[]
  /** Refresh tokens, each of its own sign-in (grant), that O2 rotates. */
  readonly refreshTokens: readonly string[]
  /** Refresh chains only the warm-up rotates. */
  readonly warmupRefreshTokens: readonly string[]
}

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
  /**
   * Each 200 response's refresh_token becomes this connection's next request body: JSON
   * `{"refresh_token":…}` (W5) or the form `grant_type=refresh_token&refresh_token=…` (O2).
   */
  | { readonly kind: 'refresh-chain'; readonly encoding: 'json' | 'form' }
  /** A new e-mail each request: `${prefix}-${connection}-${counter}@bench.example.com`. */
  | { readonly kind: 'unique-email'; readonly prefix: string; readonly password: string }
  /**
   * W6: each request picks GET /users/me, a refresh of the connection's chain or a login at random
   * (MIX); a 200 refresh's refresh_token and access_token replace the connection's.
   */
  | { readonly kind: 'mixed'; readonly refreshPercent: number; readonly loginPercent: number }

export interface WorkloadPlan {
  readonly id: WorkloadId | OidcWorkloadId
  readonly title: string
  readonly method: 'GET' | 'POST'
  readonly path: string
  /** One entry per connection. */
  readonly connections: readonly ConnectionPlan[]
  /** True when connections differ (each carries its own user or chain). */
  readonly perConnection: boolean
  readonly dynamic: Dynamic
  /** Count responses per status code (W2: the 503 SERVER_BUSY of a flood; W6; the OIDC plans). */
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
        dynamic: { kind: 'refresh-chain', encoding: 'json' },
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

const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' }

function tokenAt(tokens: readonly string[], index: number, what: string): string {
  const token = tokens[index % Math.max(1, tokens.length)]
  if (!token) throw new Error(`no ${what} seeded`)
  return token
}

/** The OIDC plans for wrk or autocannon (O1, one request per code, runs in measure.ts). */
export function planOidcWorkload(id: Exclude<OidcWorkloadId, 'O1'>, data: OidcPlanData): WorkloadPlan {
  const client = { ...FORM_HEADERS, authorization: data.authorization }
  const fixed = (connections: number, headers: Record<string, string>, body?: string) =>
    times(connections, () => ({ headers, ...(body === undefined ? {} : { body }) }))
  switch (id) {
    case 'O6':
      return {
        id,
        title: 'GET /ui/sign-in (no session)',
        method: 'GET',
        path: '/ui/sign-in',
        connections: fixed(MAX_CONNECTIONS, { accept: 'text/html' }),
        perConnection: false,
        dynamic: { kind: 'none' },
        countStatuses: true,
      }
    case 'O4':
      return {
        id,
        title: 'GET /oidc/me (userinfo)',
        method: 'GET',
        path: '/oidc/me',
        connections: times(OIDC_SIGNED_IN, (i) => ({
          headers: { authorization: `Bearer ${tokenAt(data.accessTokens, i, 'access token')}` },
        })),
        perConnection: true,
        dynamic: { kind: 'none' },
        countStatuses: true,
      }
    case 'O5':
      return {
        id,
        title: 'POST /oidc/token/introspection',
        method: 'POST',
        path: '/oidc/token/introspection',
        connections: times(OIDC_SIGNED_IN, (i) => ({
          headers: client,
          body: new URLSearchParams({ token: tokenAt(data.accessTokens, i, 'access token') }).toString(),
        })),
        perConnection: true,
        dynamic: { kind: 'none' },
        countStatuses: true,
      }
    case 'O3':
      return {
        id,
        title: 'POST /oidc/token client_credentials (opaque)',
        method: 'POST',
        path: '/oidc/token',
        connections: fixed(OIDC_TOKEN_CONNECTIONS, client, 'grant_type=client_credentials'),
        perConnection: false,
        dynamic: { kind: 'none' },
        countStatuses: true,
      }
    case 'O3J':
      return {
        id,
        title: 'POST /oidc/token client_credentials + resource (JWT)',
        method: 'POST',
        path: '/oidc/token',
        connections: fixed(
          OIDC_TOKEN_CONNECTIONS,
          client,
          new URLSearchParams({ grant_type: 'client_credentials', resource: data.resource }).toString(),
        ),
        perConnection: false,
        dynamic: { kind: 'none' },
        countStatuses: true,
      }
    case 'O2':
      return {
        id,
        title: 'POST /oidc/token refresh_token (rotating)',
        method: 'POST',
        path: '/oidc/token',
        connections: times(OIDC_TOKEN_CONNECTIONS, (i) => ({
          headers: client,
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: tokenAt(data.refreshTokens, i, 'refresh token'),
          }).toString(),
        })),
        perConnection: true,
        dynamic: { kind: 'refresh-chain', encoding: 'form' },
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

/** The scenarios of --workloads (DEFAULT_WORKLOADS when absent), in WORKLOAD_ORDER; `extra` are added. */
export function parseWorkloads(list: string | undefined, extra: readonly ScenarioId[] = []): ScenarioId[] {
  const wanted: string[] = list
    ? list.split(',').map((item) => item.trim().toUpperCase())
    : [...DEFAULT_WORKLOADS]
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
  /** node: bench/load-loop.ts, a closed loop in this process (O1: each request is sent once). */
  readonly tool: 'wrk' | 'autocannon' | 'node'
  readonly requests: number
  readonly seconds: number
  readonly rps: number
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number }
  /** wrk counts status ≥ 400 here (it has no finer split); autocannon and node every status outside 2xx. */
  readonly non2xx: number
  /** Connection errors and timeouts. */
  readonly errors: number
  /** Responses per status code, for plans with countStatuses. */
  readonly statuses?: Readonly<Record<string, number>>
  /** W6: responses and non-2xx per request kind. */
  readonly mix?: Readonly<Record<MixedKind, { readonly requests: number; readonly non2xx: number }>>
}
