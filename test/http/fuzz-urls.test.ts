import fc from 'fast-check'
import type { HTTPMethods } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { unstorableTextReason } from '../../src/lib/storable-text.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerUser, type TestUser } from '../helpers/factories.js'
import { hostileText, rawUrlFragment, urlValue, userAgents } from '../helpers/hostile-input.js'
import { testTargets } from '../helpers/test-targets.js'
import { expectWellHandled, rowCounts } from '../helpers/well-handled.js'

/** The fuzz suite's other half: query strings, path segments and the User-Agent header. */

const ADMIN = { email: 'fuzz-urls-admin@example.com', password: 'admin password 1234' }
const RUNS = 100

interface UrlRoute {
  name: string
  method: HTTPMethods
  /** The URL around a fuzzed query string (when it ends in `?`) or path segment, both percent-encoded. */
  url(fuzzed: string): string
  /** The query fields it declares, to be given hostile values most of the time. */
  keys: string[]
  auth: 'user' | 'admin'
}

const URL_ROUTES: UrlRoute[] = [
  {
    name: 'GET /admin/users?…',
    method: 'GET',
    url: (query) => `/api/v1/admin/users?${query}`,
    keys: ['q', 'role', 'is_active', 'limit', 'cursor'],
    auth: 'admin',
  },
  {
    name: 'GET /admin/audit-logs?…',
    method: 'GET',
    url: (query) => `/api/v1/admin/audit-logs?${query}`,
    keys: ['actor_id', 'action', 'target_id', 'from', 'to', 'limit', 'cursor'],
    auth: 'admin',
  },
  {
    name: 'GET /users/me/sessions?…',
    method: 'GET',
    url: (q) => `/api/v1/users/me/sessions?${q}`,
    keys: [],
    auth: 'user',
  },
  {
    name: 'GET /admin/users/{id}',
    method: 'GET',
    url: (id) => `/api/v1/admin/users/${id}`,
    keys: [],
    auth: 'admin',
  },
  {
    name: 'DELETE /admin/roles/{name}',
    method: 'DELETE',
    url: (n) => `/api/v1/admin/roles/${n}`,
    keys: [],
    auth: 'admin',
  },
  {
    name: 'DELETE /users/me/sessions/{id}',
    method: 'DELETE',
    url: (id) => `/api/v1/users/me/sessions/${id}`,
    keys: [],
    auth: 'user',
  },
]

function urlParts(route: UrlRoute): fc.Arbitrary<string> {
  if (route.url('').endsWith('?')) {
    const key = fc.oneof(
      { arbitrary: fc.constantFrom(...route.keys, 'x'), weight: 4 },
      { arbitrary: rawUrlFragment, weight: 1 },
    )
    return fc
      .array(fc.tuple(key, urlValue), { maxLength: 6 })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'))
  }
  return urlValue.filter((segment) => segment.length > 0 && !segment.includes('?'))
}

describe.each(testTargets())('hostile URLs and headers on $name', (target) => {
  let t: TestApp
  let victim: TestUser
  let userToken: string
  let adminToken: string
  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    victim = await registerUser(t)
    userToken = (await login(t, victim)).access_token
    adminToken = (await login(t, ADMIN)).access_token
  })
  afterAll(async () => t?.close())

  it.each(URL_ROUTES)(
    '$name never answers 5xx or anything but a problem, and a 422 writes nothing',
    async (route) => {
      await fc.assert(
        fc.asyncProperty(urlParts(route), userAgents, async (fuzzed, agent) => {
          const before = await rowCounts(t)
          const response = await t.inject({
            method: route.method,
            url: route.url(fuzzed),
            headers: {
              ...bearer(route.auth === 'admin' ? adminToken : userToken),
              ...(agent && { 'user-agent': agent }),
            },
          })
          await expectWellHandled(t, response, before)
          if (response.statusCode === 200) expect(() => response.json()).not.toThrow()
        }),
        { numRuns: RUNS },
      )
    },
    180_000,
  )

  it('stores a session opened with any User-Agent in a form that lists, refreshes and ends', async () => {
    await fc.assert(
      fc.asyncProperty(hostileText(600), hostileText(100), async (agent, refreshAgent) => {
        const tokens = await login(t, victim, { 'user-agent': agent })
        const list = await t.inject({
          method: 'GET',
          url: '/api/v1/users/me/sessions',
          headers: bearer(tokens.access_token),
        })
        expect(list.statusCode).toBe(200)
        const sessions = list.json().items as Array<{ current: boolean; user_agent: string | null }>
        const current = sessions.find((session) => session.current)
        expect(unstorableTextReason(current?.user_agent ?? '')).toBeUndefined()
        const rotated = await t.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          headers: { 'user-agent': refreshAgent },
          payload: { refresh_token: tokens.refresh_token },
        })
        expect(rotated.statusCode).toBe(200)
        const logout = await t.inject({
          method: 'POST',
          url: '/api/v1/auth/logout',
          headers: bearer(rotated.json().access_token),
        })
        expect(logout.statusCode).toBe(204)
      }),
      { numRuns: 25 },
    )
  }, 180_000)
})
