import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerUser, type TestUser } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

/**
 * PostgreSQL refuses a statement holding U+0000 in text, and a lone surrogate cannot be encoded as
 * UTF-8 (the driver would store U+FFFD instead). Such text is refused with a 422 naming the field,
 * wherever it is sent, before anything is written; other text round-trips unchanged.
 */

const ADMIN = { email: 'nul-admin@example.com', password: 'admin password 1234' }
const SOME_ID = '01939c2e-0000-7000-8000-000000000000'
const NUL = 'must not contain the NUL character (U+0000)'
const SURROGATE = 'must be valid Unicode text (it contains an unpaired UTF-16 surrogate)'

const PW = 'a long passphrase 1'

/** A request that is valid as it stands; each of its string fields is sent once with U+0000 in it. */
interface Case {
  route: `${'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'} /api/v1/${string}`
  auth?: 'user' | 'admin'
  body?: Record<string, string | string[] | null>
  query?: Record<string, string>
}

// Every input here reached PostgreSQL (a 500) or was silently accepted before.
const CASES: Case[] = [
  { route: 'POST /api/v1/auth/register', body: { email: 'n@example.com', password: PW, full_name: 'Ann' } },
  { route: 'POST /api/v1/auth/login', body: { email: 'n@example.com', password: PW } },
  { route: 'POST /api/v1/auth/password/forgot', body: { email: 'n@example.com' } },
  { route: 'POST /api/v1/auth/password/reset', body: { token: 'abc', new_password: PW } },
  { route: 'POST /api/v1/auth/email/verify', body: { token: 'abc' } },
  { route: 'POST /api/v1/auth/refresh', body: { refresh_token: 'abc' } },
  { route: 'POST /api/v1/auth/login/mfa', body: { mfa_token: 'abc', code: '123456' } },
  { route: 'PATCH /api/v1/users/me', auth: 'user', body: { full_name: 'Ann' } },
  { route: 'POST /api/v1/users/me/password', auth: 'user', body: { current_password: PW, new_password: PW } },
  { route: 'DELETE /api/v1/users/me', auth: 'user', body: { password: PW } },
  { route: 'GET /api/v1/admin/users', auth: 'admin', query: { q: 'ann', role: 'user', cursor: 'abc' } },
  { route: 'GET /api/v1/admin/audit-logs', auth: 'admin', query: { target_id: 'x', action: 'user.login' } },
  {
    route: 'POST /api/v1/admin/users',
    auth: 'admin',
    body: { email: 'c@example.com', password: PW, full_name: 'Ann', roles: ['user'] },
  },
  { route: `PATCH /api/v1/admin/users/${SOME_ID}`, auth: 'admin', body: { full_name: 'Ann' } },
  { route: `PUT /api/v1/admin/users/${SOME_ID}/roles`, auth: 'admin', body: { roles: ['user'] } },
  {
    route: 'POST /api/v1/admin/roles',
    auth: 'admin',
    body: { name: 'r', description: 'd', permissions: [] },
  },
  { route: 'PATCH /api/v1/admin/roles/user', auth: 'admin', body: { description: 'd' } },
]

const NUL_TEXT = 'a\u0000b'

/** One request per string field of each case, that field poisoned, and the pointer it must be named by. */
const POISONED = CASES.flatMap(({ route, auth, body, query }) => {
  const [method, path] = route.split(' ') as [Input['method'], string]
  const fromBody = Object.entries(body ?? {}).flatMap(([key, value]) =>
    typeof value === 'string'
      ? [{ field: `/${key}`, body: { ...body, [key]: NUL_TEXT } }]
      : Array.isArray(value) && value.length > 0
        ? [{ field: `/${key}/0`, body: { ...body, [key]: [NUL_TEXT] } }]
        : [],
  )
  const fromQuery = Object.keys(query ?? {}).map((key) => ({
    field: `/query/${key}`,
    url: `${path}?${new URLSearchParams({ ...query, [key]: NUL_TEXT })}`,
  }))
  return [...fromBody, ...fromQuery].map((poisoned) => ({
    name: `${route} ${poisoned.field}`,
    method,
    url: path,
    auth,
    ...poisoned,
  }))
})

interface Input {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  url: string
  auth?: 'user' | 'admin' | undefined
}

describe.each(testTargets())('text the database cannot store, on $name', (target) => {
  let t: TestApp
  let user: TestUser
  let userToken: string
  let adminToken: string
  beforeAll(async () => {
    t = await buildTestApp({
      target,
      // Behind a trusted proxy the client address comes from X-Forwarded-For, another stored header.
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, TRUST_PROXY: 'true' },
    })
    user = await registerUser(t, { full_name: 'Unchanged Name' })
    userToken = (await login(t, user)).access_token
    adminToken = (await login(t, ADMIN)).access_token
  })
  afterAll(async () => t?.close())

  const send = (input: Pick<Input, 'method' | 'url' | 'auth'>, payload?: string) =>
    t.inject({
      method: input.method,
      url: input.url,
      headers: {
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        ...(input.auth === 'admin' ? bearer(adminToken) : input.auth === 'user' ? bearer(userToken) : {}),
      },
      ...(payload === undefined ? {} : { payload }),
    })

  /** Row counts of every table a request could write to. */
  const counts = async () => {
    const db = t.kitsune.database.db
    const count = async (table: 'users' | 'sessions' | 'audit_logs' | 'roles' | 'email_tokens') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      )
    return {
      users: await count('users'),
      sessions: await count('sessions'),
      audit: await count('audit_logs'),
      roles: await count('roles'),
      tokens: await count('email_tokens'),
    }
  }

  it.each(POISONED.map((input) => [input.name, input] as const))(
    'refuses U+0000 in %s with 422 naming the field, writing nothing',
    async (_name, input) => {
      const before = await counts()
      // JSON.stringify writes U+0000 as the escape \u0000, as a client's JSON encoder would.
      const response = await send(input, 'body' in input ? JSON.stringify(input.body) : undefined)
      expect(response.statusCode).toBe(422)
      expect(response.headers['content-type']).toContain('application/problem+json')
      const problem = response.json()
      expect(problem).toMatchObject({ status: 422, code: 'VALIDATION_FAILED' })
      expect(problem.errors).toContainEqual({ field: input.field, message: NUL })
      expect(await counts()).toEqual(before)
    },
  )

  it('refuses U+0000 in a path parameter with 422 naming /params/name', async () => {
    const before = await counts()
    const response = await send({ method: 'DELETE', url: '/api/v1/admin/roles/a%00b', auth: 'admin' })
    expect(response.statusCode).toBe(422)
    expect(response.json().errors).toContainEqual({ field: '/params/name', message: NUL })
    expect(await counts()).toEqual(before)
  })

  it('answers U+0000 on the OAuth token endpoint with RFC 6749 invalid_request', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=password&username=${encodeURIComponent(user.email)}&password=a%00b`,
    })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({
      error: 'invalid_request',
      error_description: expect.stringContaining(NUL),
    })
  })

  it.each([
    ['e-mail', '/email', '{"email":"a\\ud800b@example.com","password":"a long passphrase 1"}'],
    [
      'name',
      '/full_name',
      '{"email":"s1@example.com","password":"a long passphrase 1","full_name":"Ann \\udc00"}',
    ],
    ['password', '/password', '{"email":"s2@example.com","password":"a long passphrase \\ud83e"}'],
  ])(
    'refuses a lone surrogate (a JSON \\ud800 escape) in the registration %s with 422 naming %s',
    async (_label, field, raw) => {
      const before = await counts()
      const response = await send({ method: 'POST', url: '/api/v1/auth/register' }, raw)
      expect(response.statusCode).toBe(422)
      expect(response.json().errors).toContainEqual({ field, message: SURROGATE })
      expect(await counts()).toEqual(before)
    },
  )

  it('keeps the stored name when PATCH /users/me sends U+0000 or a lone surrogate', async () => {
    for (const raw of ['{"full_name":"x\\u0000"}', '{"full_name":"\\udfff x"}']) {
      expect((await send({ method: 'PATCH', url: '/api/v1/users/me', auth: 'user' }, raw)).statusCode).toBe(
        422,
      )
    }
    const me = await send({ method: 'GET', url: '/api/v1/users/me', auth: 'user' })
    expect(me.json().full_name).toBe('Unchanged Name')
  })

  it('stores emoji (a surrogate pair, escaped or not) and other control characters unchanged', async () => {
    const name = 'Zoë 🦊 \u0001\t\u001f\u007f 𝒳'
    const raw = '{"full_name":"Zo\\u00eb \\ud83e\\udd8a \\u0001\\t\\u001f\\u007f 𝒳"}'
    const response = await send({ method: 'PATCH', url: '/api/v1/users/me', auth: 'user' }, raw)
    expect(response.statusCode).toBe(200)
    expect(response.json().full_name).toBe(name)
    const row = await t.kitsune.database.db
      .selectFrom('users')
      .select('full_name')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow()
    expect(row.full_name).toBe(name)
  })

  it('accepts a password with emoji and logs in with it', async () => {
    const fox = await registerUser(t, { password: 'correct horse 🦊 battery' })
    expect((await login(t, fox)).access_token).toEqual(expect.any(String))
  })

  describe('stored request headers', () => {
    const sessionRow = (id: string) =>
      t.kitsune.database.db
        .selectFrom('sessions')
        .select(['ip', 'user_agent'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    const sidOf = (accessToken: string) =>
      (JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as { sid: string })
        .sid

    it('stores a User-Agent holding U+0000 and other controls with U+FFFD, and lists the session', async () => {
      const tokens = await login(t, user, { 'user-agent': 'Mozilla/5.0\u0000(odd)\u0007\tend' })
      const cleaned = 'Mozilla/5.0\ufffd(odd)\ufffd\tend'
      const list = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me/sessions',
        headers: bearer(tokens.access_token),
      })
      expect(list.statusCode).toBe(200)
      const current = (list.json().items as Array<{ current: boolean; user_agent: string }>).find(
        (s) => s.current,
      )
      expect(current?.user_agent).toBe(cleaned)
      expect((await sessionRow(sidOf(tokens.access_token))).user_agent).toBe(cleaned)
      const audit = await t.kitsune.database.db
        .selectFrom('audit_logs')
        .select('user_agent')
        .where('action', '=', 'user.login')
        .where('actor_id', '=', user.id)
        .orderBy('seq', 'desc')
        .executeTakeFirstOrThrow()
      expect(audit.user_agent).toBe(cleaned)

      const rotated = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        headers: { 'user-agent': 'Refresher\u0000\u001b[31m' },
        payload: { refresh_token: tokens.refresh_token },
      })
      expect(rotated.statusCode).toBe(200)
      expect((await sessionRow(sidOf(tokens.access_token))).user_agent).toBe('Refresher\ufffd\ufffd[31m')
    })

    it('stores a client address from X-Forwarded-For holding U+0000 with U+FFFD', async () => {
      const tokens = await login(t, user, { 'x-forwarded-for': '203.0.113.9\u0000x' })
      expect((await sessionRow(sidOf(tokens.access_token))).ip).toBe('203.0.113.9\ufffdx')
    })
  })
})
