import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { registerAndLogin, registerUser } from '../helpers/factories.js'
import { type ProvisionedTarget, testTargets } from '../helpers/test-targets.js'

const LOGIN = '/api/v1/auth/login'
const SQL_TEXT = /\b(select|insert into|delete from|update \w+ set)\b|\bpg_|kitsune_migration|relation "/i
const INTERNAL_PATH = /node_modules|\/src\/|file:\/\/|\.ts:\d+/

/** Asserts an RFC 9457 problem with the given status and the request id in body and header. */
function expectProblem(response: LightMyRequestResponse, status: number, code?: string) {
  expect(response.statusCode).toBe(status)
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
  const body = response.json()
  expect(body).toMatchObject({
    type: expect.stringMatching(/^https:\/\/kitsune\.dev\/problems\/[a-z-]+$/),
    title: expect.any(String),
    status,
    instance: expect.stringMatching(/^\//),
    request_id: expect.any(String),
  })
  expect(body.request_id).not.toBe('')
  expect(response.headers['x-request-id']).toBe(body.request_id)
  if (code) expect(body.code).toBe(code)
  expect(response.body).not.toContain('    at ')
  expect(response.body).not.toMatch(SQL_TEXT)
  expect(response.body).not.toMatch(INTERNAL_PATH)
  return body
}

describe.each(testTargets())('HTTP errors on $name', (target) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target })
  })
  afterAll(async () => t?.close())

  it('answers 400 MALFORMED_JSON for a truncated JSON body', async () => {
    const response = await t.inject({
      method: 'POST',
      url: LOGIN,
      headers: { 'content-type': 'application/json' },
      payload: '{"email": "a@example.com", "password": ',
    })
    const body = expectProblem(response, 400, 'MALFORMED_JSON')
    expect(body.instance).toBe(LOGIN)
  })

  it('treats an empty JSON body as no body: 422 where a body is required', async () => {
    const response = await t.inject({
      method: 'POST',
      url: LOGIN,
      headers: { 'content-type': 'application/json' },
      payload: '',
    })
    expectProblem(response, 422, 'VALIDATION_FAILED')
  })

  it('accepts an empty JSON body where none is needed (logout from clients that always send one)', async () => {
    const { tokens } = await registerAndLogin(t)
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.access_token}` },
      payload: '',
    })
    expect(response.statusCode).toBe(204)
  })

  it('answers 415 UNSUPPORTED_MEDIA_TYPE for a text/plain body on login', async () => {
    const response = await t.inject({
      method: 'POST',
      url: LOGIN,
      headers: { 'content-type': 'text/plain' },
      payload: 'email=a@example.com&password=secret',
    })
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE')
  })

  it('answers 415 for a form body outside the OAuth2 token endpoint', async () => {
    const response = await t.inject({
      method: 'POST',
      url: LOGIN,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=a%40example.com&password=secret',
    })
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE')
  })

  it('answers 413 PAYLOAD_TOO_LARGE for a body over 64 KiB', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: 'big@example.com', password: 'x'.repeat(65 * 1024) },
    })
    expectProblem(response, 413, 'PAYLOAD_TOO_LARGE')
  })

  it('answers 404 NOT_FOUND problem+json for an unknown route', async () => {
    const response = await t.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1' })
    const body = expectProblem(response, 404, 'NOT_FOUND')
    expect(body.instance).toBe('/api/v1/nothing-here')
  })

  it.each([
    ['a malformed percent-encoding', '/api/v1/admin/users/%FF', 400],
    ['a truncated percent-encoding', '/api/v1/users/me/sessions/%2', 400],
    ['an over-long path parameter', `/api/v1/admin/roles/${'r'.repeat(201)}`, 414],
  ])('answers %s in the path with a problem, not the framework body', async (_name, url, status) => {
    const response = await t.inject({ method: 'DELETE', url })
    expectProblem(response, status, 'BAD_REQUEST')
    expect(response.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    })
  })

  it.each([
    ['__proto__', '{"email":"a@example.com","password":"long enough","__proto__":{"is_superuser":true}}'],
    [
      'constructor.prototype',
      '{"email":"a@example.com","password":"long enough","constructor":{"prototype":{"x":1}}}',
    ],
  ])('answers 4xx problem+json, never 500, for a %s key in a body', async (_name, payload) => {
    for (const url of [LOGIN, '/api/v1/auth/register']) {
      const response = await t.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload,
      })
      expect(response.statusCode).toBeGreaterThanOrEqual(400)
      expect(response.statusCode).toBeLessThan(500)
      expectProblem(response, response.statusCode)
    }
  })

  it('answers 422 with field errors for a body that fails its schema', async () => {
    const response = await t.inject({ method: 'POST', url: LOGIN, payload: { email: 'a@example.com' } })
    const body = expectProblem(response, 422, 'VALIDATION_FAILED')
    expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: '/password' })]))
  })

  it('answers 409 problem+json for a taken e-mail, with no SQL in it', async () => {
    const user = await registerUser(t)
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: user.email, password: 'another password' },
    })
    expectProblem(response, 409, 'EMAIL_TAKEN')
  })

  it('echoes a well-formed incoming X-Request-Id in the header and the problem', async () => {
    const requestId = 'edge-proxy:2f1c.9a_7-b'
    const response = await t.inject({
      method: 'GET',
      url: '/api/v1/unknown',
      headers: { 'x-request-id': requestId },
    })
    expect(expectProblem(response, 404).request_id).toBe(requestId)
  })

  it.each([
    ['with spaces', 'two words'],
    ['with a newline-like character', 'id\u2028x'],
    ['of 129 characters', 'a'.repeat(129)],
  ])('replaces an incoming X-Request-Id %s with a generated one', async (_name, requestId) => {
    const response = await t.inject({
      method: 'GET',
      url: '/api/v1/unknown',
      headers: { 'x-request-id': requestId },
    })
    const body = expectProblem(response, 404)
    expect(body.request_id).not.toBe(requestId)
    expect(body.request_id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/)
  })

  it('gives a successful response an X-Request-Id too', async () => {
    const response = await t.inject({ method: 'GET', url: '/health/live' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['x-request-id']).toEqual(expect.any(String))
  })
})

describe.each(testTargets())('with the database down on $name', (target) => {
  let t: TestApp & { provisioned: ProvisionedTarget }
  let user: { email: string; password: string }
  beforeAll(async () => {
    // A dedicated app: the shared one above must keep its database.
    t = await buildTestApp({ target })
    const registered = await registerUser(t)
    user = { email: registered.email, password: registered.password }
    // Both work before the database goes away, so a 503 afterwards is the outage's doing.
    expect((await t.inject({ method: 'POST', url: LOGIN, payload: user })).statusCode).toBe(200)
    expect((await t.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200)
    if (target.name === 'pglite') {
      await t.kitsune.database.close()
    } else {
      // DROP DATABASE … WITH (FORCE) on a database created only for this suite.
      await t.provisioned.drop()
    }
  })
  afterAll(async () => t?.close())

  it('answers 503 DEPENDENCY_DOWN on login, not 500', async () => {
    const response = await t.inject({ method: 'POST', url: LOGIN, payload: user })
    const body = expectProblem(response, 503, 'DEPENDENCY_DOWN')
    expect(response.body).not.toContain(user.password)
    expect(body.title).toBe('Service temporarily unavailable')
  })

  it('answers 503 DEPENDENCY_DOWN on register, not 500', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: 'down@example.com', password: 'long enough password' },
    })
    expectProblem(response, 503, 'DEPENDENCY_DOWN')
  })

  it('reports /health/ready as 503 with checks.database down', async () => {
    const response = await t.inject({ method: 'GET', url: '/health/ready' })
    expect(response.statusCode).toBe(503)
    expect(response.json()).toMatchObject({ status: 'unavailable', checks: { database: 'down' } })
  })

  it('keeps /health/live at 200', async () => {
    expect((await t.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)
  })
})
