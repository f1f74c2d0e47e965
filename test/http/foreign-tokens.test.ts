import { randomBytes } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { registerAndLogin, type TestTokens } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

/**
 * A string where a token is expected that is not a live token (an access token pasted by mistake,
 * garbage, a token from another system) answers exactly like an unknown token: a client must learn
 * "sign in again" (401) or "this link is no good", never that its request is malformed (422).
 */

const FORM = 'application/x-www-form-urlencoded'

/** Status, the headers a client acts on, and the body without its per-request id. */
function answer(response: LightMyRequestResponse) {
  const { request_id: _requestId, ...body } = response.json() as Record<string, unknown>
  return {
    status: response.statusCode,
    contentType: response.headers['content-type'],
    wwwAuthenticate: response.headers['www-authenticate'],
    body,
  }
}

const unknownToken = () => randomBytes(32).toString('base64url')

interface Endpoint {
  name: string
  send(t: TestApp, token: unknown): Promise<LightMyRequestResponse>
  /** How an unknown token is answered. */
  unknownStatus: number
  /** Malformed requests (no token, not a string, longer than 8192) and how they are answered. */
  malformed: unknown[]
  malformedStatus: number
}

const MALFORMED_JSON_TOKENS = [undefined, 42, null, '', ['array'], { token: 'object' }, 'a'.repeat(8193)]

const json = (url: string, field: string, extra: Record<string, unknown> = {}) => {
  return (t: TestApp, token: unknown) =>
    t.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(token === undefined ? extra : { [field]: token, ...extra }),
    })
}

const ENDPOINTS: Endpoint[] = [
  {
    name: 'POST /auth/refresh',
    send: json('/api/v1/auth/refresh', 'refresh_token'),
    unknownStatus: 401,
    malformed: MALFORMED_JSON_TOKENS,
    malformedStatus: 422,
  },
  {
    name: 'POST /auth/password/reset',
    send: json('/api/v1/auth/password/reset', 'token', { new_password: 'a fresh passphrase 2031' }),
    unknownStatus: 400,
    malformed: MALFORMED_JSON_TOKENS,
    malformedStatus: 422,
  },
  {
    name: 'POST /auth/email/verify',
    send: json('/api/v1/auth/email/verify', 'token'),
    unknownStatus: 400,
    malformed: MALFORMED_JSON_TOKENS,
    malformedStatus: 422,
  },
  {
    name: 'POST /auth/token (grant_type=refresh_token)',
    send: (t, token) =>
      t.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        headers: { 'content-type': FORM },
        payload: new URLSearchParams({
          grant_type: 'refresh_token',
          ...(token === undefined ? {} : { refresh_token: String(token) }),
        }).toString(),
      }),
    unknownStatus: 400,
    // A form field is always text; RFC 6749 3.1: an empty parameter counts as omitted.
    malformed: [undefined, '', 'a'.repeat(8193)],
    malformedStatus: 400,
  },
]

describe.each(testTargets())('a string that is not a live token on $name', (target) => {
  let t: TestApp
  let tokens: TestTokens
  beforeAll(async () => {
    t = await buildTestApp({ target })
    tokens = (await registerAndLogin(t)).tokens
  })
  afterAll(async () => t?.close())

  const foreign: Array<[string, () => string]> = [
    ['an access token (a JWT) pasted by mistake', () => tokens.access_token],
    ['one character', () => 'x'],
    ['a refresh token with its last character cut', () => tokens.refresh_token.slice(0, -1)],
    ['a refresh token with a Bearer prefix', () => `Bearer ${tokens.refresh_token}`],
    ['600 random base64url characters', () => randomBytes(450).toString('base64url')],
    ['8192 characters, the longest accepted', () => 'a'.repeat(8192)],
    ['text with spaces, accents and emoji', () => 'pas un jeton ✓ 🦊 ünïcödé'],
    ['control characters other than NUL', () => '\u0001\t\n\u001f\u007f token'],
    ['a UUID', () => '01939c2e-0000-7000-8000-000000000000'],
  ]

  describe.each(ENDPOINTS)('$name', (endpoint) => {
    it.each(foreign)('answers %s exactly as an unknown token', async (_label, make) => {
      const expected = answer(await endpoint.send(t, unknownToken()))
      expect(expected.status).toBe(endpoint.unknownStatus)
      expect(answer(await endpoint.send(t, make()))).toEqual(expected)
    })

    it('still answers a missing, non-string or over-long token as a malformed request', async () => {
      for (const value of endpoint.malformed) {
        const response = await endpoint.send(t, value)
        expect(response.statusCode, `for ${JSON.stringify(value)?.slice(0, 40)}`).toBe(
          endpoint.malformedStatus,
        )
        if (endpoint.malformedStatus === 400) expect(response.json().error).toBe('invalid_request')
        else expect(response.json().code).toBe('VALIDATION_FAILED')
      }
    })
  })

  it('answers 401 INVALID_TOKEN to a pasted access token on /auth/refresh', async () => {
    const response = await ENDPOINTS[0]?.send(t, tokens.access_token)
    expect(response?.statusCode).toBe(401)
    expect(response?.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
    expect(response?.json()).toMatchObject({ code: 'INVALID_TOKEN', status: 401 })
  })

  it('answers invalid_grant to a pasted access token on /auth/token', async () => {
    const response = await ENDPOINTS[3]?.send(t, tokens.access_token)
    expect(response?.statusCode).toBe(400)
    expect(response?.json()).toEqual({ error: 'invalid_grant', error_description: expect.any(String) })
  })

  it('leaves the real session alone: its refresh token still rotates afterwards', async () => {
    for (const [, make] of foreign) await ENDPOINTS[0]?.send(t, make())
    const response = await ENDPOINTS[0]?.send(t, tokens.refresh_token)
    expect(response?.statusCode).toBe(200)
    tokens = { ...tokens, ...(response?.json() as TestTokens) }
  })
})
