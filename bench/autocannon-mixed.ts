import type autocannon from 'autocannon'
import { type ConnectionPlan, MIXED_PATHS, type MixedKind, type WorkloadPlan } from './workloads.js'

/** Per-kind responses and non-2xx of one W6 run, shared by its connections. */
export type MixTally = Record<MixedKind, { requests: number; non2xx: number }>

export function emptyTally(): MixTally {
  return {
    me: { requests: 0, non2xx: 0 },
    refresh: { requests: 0, non2xx: 0 },
    login: { requests: 0, non2xx: 0 },
  }
}

/**
 * W6 for one autocannon connection: setupRequest draws the kind of each request; onResponse
 * (one request in flight per connection, no pipelining) knows which one it answers and, after a
 * 200 refresh, keeps the new refresh_token and access_token in this connection's closure.
 */
export function mixedRequest(
  plan: WorkloadPlan,
  connection: ConnectionPlan,
  tally: MixTally,
  countStatus: (status: number) => void,
): autocannon.Request {
  const dynamic = plan.dynamic
  const session = connection.session
  if (dynamic.kind !== 'mixed' || !session) throw new Error(`${plan.id} is not a mixed plan`)
  let access = session.accessToken
  let refresh = session.refreshToken
  let kind: MixedKind = 'me'
  const json = () => ({ 'content-type': 'application/json' })
  return {
    method: 'GET',
    path: MIXED_PATHS.me,
    headers: { authorization: `Bearer ${access}` },
    // A fresh object each time: autocannon writes Content-Length into the headers it is given.
    setupRequest: (current) => {
      const draw = Math.floor(Math.random() * 100) + 1
      kind =
        draw <= dynamic.loginPercent
          ? 'login'
          : draw <= dynamic.loginPercent + dynamic.refreshPercent
            ? 'refresh'
            : 'me'
      if (kind === 'login')
        return {
          ...current,
          method: 'POST',
          path: MIXED_PATHS.login,
          headers: json(),
          body: session.loginBody,
        }
      if (kind === 'refresh') {
        const body = JSON.stringify({ refresh_token: refresh })
        return { ...current, method: 'POST', path: MIXED_PATHS.refresh, headers: json(), body }
      }
      return {
        ...current,
        method: 'GET',
        path: MIXED_PATHS.me,
        headers: { authorization: `Bearer ${access}` },
        body: undefined,
      }
    },
    onResponse: (status, body) => {
      countStatus(status)
      tally[kind].requests++
      if (status < 200 || status > 299) {
        tally[kind].non2xx++
        return
      }
      if (kind !== 'refresh') return
      const pair = JSON.parse(body) as { access_token?: string; refresh_token?: string }
      if (pair.access_token && pair.refresh_token) {
        access = pair.access_token
        refresh = pair.refresh_token
      }
    },
  }
}
