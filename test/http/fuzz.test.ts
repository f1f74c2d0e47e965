import fc from 'fast-check'
import type { HTTPMethods } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerUser, type TestUser } from '../helpers/factories.js'
import { hostileEmail, hostileText, percentEncode, userAgents } from '../helpers/hostile-input.js'
import { testTargets } from '../helpers/test-targets.js'
import { expectWellHandled, rowCounts } from '../helpers/well-handled.js'

const ADMIN = { email: 'fuzz-admin@example.com', password: 'admin password 1234' }
const RUNS = 100

interface Route {
  name: string
  method: HTTPMethods
  url: string
  fields: string[]
  auth?: 'user' | 'admin'
  oauth?: boolean
  /** How a success changes the number of users. */
  rowsOnSuccess?: number
}

const ROUTES: Route[] = [
  {
    name: 'register',
    method: 'POST',
    url: '/api/v1/auth/register',
    fields: ['email', 'password', 'full_name'],
    rowsOnSuccess: 1,
  },
  { name: 'login', method: 'POST', url: '/api/v1/auth/login', fields: ['email', 'password'] },
  {
    name: 'token',
    method: 'POST',
    url: '/api/v1/auth/token',
    fields: ['grant_type', 'username', 'password', 'refresh_token', 'scope'],
    oauth: true,
  },
  { name: 'refresh', method: 'POST', url: '/api/v1/auth/refresh', fields: ['refresh_token'] },
  { name: 'logout', method: 'POST', url: '/api/v1/auth/logout', fields: ['refresh_token'], auth: 'user' },
  {
    name: 'password change',
    method: 'POST',
    url: '/api/v1/users/me/password',
    fields: ['current_password', 'new_password'],
    auth: 'user',
  },
  { name: 'me PATCH', method: 'PATCH', url: '/api/v1/users/me', fields: ['full_name'], auth: 'user' },
  {
    name: 'me DELETE',
    method: 'DELETE',
    url: '/api/v1/users/me',
    fields: ['password'],
    auth: 'user',
    rowsOnSuccess: -1,
  },
  { name: 'login mfa', method: 'POST', url: '/api/v1/auth/login/mfa', fields: ['mfa_token', 'code'] },
  { name: 'password forgot', method: 'POST', url: '/api/v1/auth/password/forgot', fields: ['email'] },
  {
    name: 'password reset',
    method: 'POST',
    url: '/api/v1/auth/password/reset',
    fields: ['token', 'new_password'],
  },
  { name: 'email verify', method: 'POST', url: '/api/v1/auth/email/verify', fields: ['token'] },
  {
    name: 'mfa confirm',
    method: 'POST',
    url: '/api/v1/users/me/mfa/totp/confirm',
    fields: ['code'],
    auth: 'user',
  },
  {
    name: 'mfa disable',
    method: 'DELETE',
    url: '/api/v1/users/me/mfa/totp',
    fields: ['code', 'password'],
    auth: 'user',
  },
  {
    name: 'recovery codes',
    method: 'POST',
    url: '/api/v1/users/me/mfa/recovery-codes',
    fields: ['code'],
    auth: 'user',
  },
  {
    name: 'admin update',
    method: 'PATCH',
    url: '/api/v1/admin/users/01939c2e-0000-7000-8000-000000000000',
    fields: ['full_name', 'is_active', 'email_verified'],
    auth: 'admin',
  },
  {
    name: 'admin roles assign',
    method: 'PUT',
    url: '/api/v1/admin/users/01939c2e-0000-7000-8000-000000000000/roles',
    fields: ['roles'],
    auth: 'admin',
  },
  {
    name: 'role create',
    method: 'POST',
    url: '/api/v1/admin/roles',
    fields: ['name', 'description', 'permissions'],
    auth: 'admin',
  },
  {
    name: 'admin create',
    method: 'POST',
    url: '/api/v1/admin/users',
    fields: ['email', 'password', 'full_name', 'roles', 'is_active', 'email_verified'],
    auth: 'admin',
    rowsOnSuccess: 1,
  },
]

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'role', 'roles', 'is_superuser', 'id']

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? ''
  } catch {
    return String(value)
  }
}

/** Mostly the type the route expects, so bodies get past the parser; sometimes anything at all. */
function contentTypes(route: Route): fc.Arbitrary<string> {
  const expected = route.oauth
    ? fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8')
    : fc.constantFrom('application/json', 'application/json; charset=utf-8')
  const other = fc.constantFrom(
    'application/json',
    'application/json; charset=latin1',
    'application/x-www-form-urlencoded',
    'text/plain',
    'multipart/form-data; boundary=xyz',
    'application/xml',
    'application/*',
  )
  return fc.oneof(
    { arbitrary: expected, weight: 6 },
    { arbitrary: other, weight: 2 },
    { arbitrary: fc.stringMatching(/^[!-~][ -~]{0,40}$/), weight: 1 },
  )
}

/** Bodies for a route: random values, its own fields with wrong types, deep, huge, raw bytes. */
function bodies(route: Route): fc.Arbitrary<string | Buffer> {
  const key = fc.oneof(
    fc.constantFrom(...route.fields, ...HOSTILE_KEYS),
    fc.string({ maxLength: 12 }),
    hostileText(12),
  )
  // Text with NUL, lone surrogates, controls and emoji: JSON.stringify writes the first three as
  // escapes (\u0000, \ud800), so they reach the server's JSON parser as a client would send them.
  const text = fc.oneof(hostileText(300), hostileEmail)
  const value = fc.oneof(fc.anything(), fc.string({ maxLength: 300 }), fc.emailAddress(), text)
  // Built by hand so duplicate and prototype keys really reach the wire.
  const object = fc
    .array(fc.tuple(key, value), { maxLength: 8 })
    .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stringify(v)}`).join(',')}}`)
  const plausible = fc
    .record(
      Object.fromEntries(
        route.fields.map((f) => [
          f,
          fc.oneof(
            fc.emailAddress(),
            fc.string({ minLength: 8, maxLength: 40 }),
            hostileEmail,
            hostileText(40).filter((v) => v.length >= 8),
          ),
        ]),
      ),
      { requiredKeys: [] },
    )
    .map(stringify)
  const deep = fc
    .tuple(fc.integer({ min: 1, max: 300 }), fc.boolean())
    .map(([depth, arrays]) =>
      arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    )
  const huge = fc
    .tuple(fc.constantFrom(...route.fields), fc.integer({ min: 1_000, max: 80_000 }))
    .map(([field, length]) => JSON.stringify({ [field]: 'x'.repeat(length) }))
  const form = fc
    .array(fc.tuple(key, fc.oneof(fc.string({ maxLength: 40 }), hostileText(40))), { maxLength: 6 })
    .map((pairs) => pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&'))
  // Bytes no encoder should write inside a JSON string: a raw NUL, a surrogate's CESU-8 bytes.
  const rawBytes = fc
    .tuple(
      fc.constantFrom(...route.fields),
      fc.constantFrom([0x00], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xff]),
    )
    .map(([field, bytes]) =>
      Buffer.concat([Buffer.from(`{"${field}":"a`), Buffer.from(bytes), Buffer.from('b"}')]),
    )
  const grant = fc
    .record(
      {
        grant_type: fc.constantFrom('password', 'refresh_token', 'client_credentials'),
        username: fc.oneof(fc.emailAddress(), fc.string(), hostileEmail),
        password: fc.oneof(fc.string({ maxLength: 300 }), hostileText(300)),
        refresh_token: fc.oneof(fc.string({ maxLength: 600 }), hostileText(600)),
      },
      { requiredKeys: ['grant_type'] },
    )
    .map((fields) =>
      Object.entries(fields)
        .map(([k, v]) => `${k}=${percentEncode(v)}`)
        .join('&'),
    )
  return fc.oneof(
    route.oauth ? grant : plausible,
    fc.anything().map(stringify),
    fc.json(),
    object,
    plausible,
    deep,
    huge,
    form,
    rawBytes,
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  )
}

describe.each(testTargets())('hostile input on $name', (target) => {
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

  const authFor = (who: 'user' | 'admin' | undefined) =>
    who === 'admin' ? bearer(adminToken) : who === 'user' ? bearer(userToken) : {}

  it.each(ROUTES)(
    '$name never answers 5xx, always a proper error body, and writes no half rows',
    async (route) => {
      await fc.assert(
        fc.asyncProperty(bodies(route), contentTypes(route), userAgents, async (payload, type, agent) => {
          const before = await rowCounts(t)
          const response = await t.inject({
            method: route.method,
            url: route.url,
            headers: { 'content-type': type, ...authFor(route.auth), ...(agent && { 'user-agent': agent }) },
            payload,
          })
          await expectWellHandled(t, response, before, route.oauth)
          const success = response.statusCode < 300
          const after = await rowCounts(t)
          expect(Number(after?.users)).toBe(
            Number(before?.users) + (success ? (route.rowsOnSuccess ?? 0) : 0),
          )
          // A fuzzed logout that succeeded ends the session the other routes use.
          if (route.name === 'logout' && success) userToken = (await login(t, victim)).access_token
        }),
        { numRuns: RUNS },
      )
    },
    180_000,
  )
})
