import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertAcceptablePassword } from '../../src/auth/password-policy.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ORIGIN = 'https://app.example.com'
const ADMIN = { email: 'hardening-admin@example.com', password: 'admin password 1234' }
const COMMON = ['password123', 'qwerty123']
const REGISTER = '/api/v1/auth/register'

const accessControlHeaders = (response: LightMyRequestResponse) =>
  Object.keys(response.headers).filter((name) => name.startsWith('access-control-'))

function expectProblem(response: LightMyRequestResponse, status: number, field?: string): void {
  expect(response.statusCode).toBe(status)
  expect(response.headers['content-type']).toContain('application/problem+json')
  expect(response.json()).toMatchObject({ status })
  if (field)
    expect(response.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]))
}

describe.each(testTargets())('HTTP hardening on $name', (target) => {
  let t: TestApp
  let plain: TestApp
  beforeAll(async () => {
    t = await buildTestApp({
      target,
      env: {
        CORS_ORIGINS: ORIGIN,
        PUBLIC_URL: 'https://auth.example.com',
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
      },
    })
    plain = await buildTestApp({ target })
  })
  afterAll(async () => {
    await t?.close()
    await plain?.close()
  })

  const raw = (payload: string | Buffer, url = REGISTER): InjectOptions => ({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    payload,
  })

  describe('CORS', () => {
    it('echoes a listed origin with credentials allowed', async () => {
      const response = await t.inject({ method: 'GET', url: '/health/live', headers: { origin: ORIGIN } })
      expect(response.headers['access-control-allow-origin']).toBe(ORIGIN)
      expect(response.headers['access-control-allow-credentials']).toBe('true')
    })

    it('answers a preflight from a listed origin with 204 and the allowed methods and headers', async () => {
      const response = await t.inject({
        method: 'OPTIONS',
        url: '/api/v1/users/me',
        headers: {
          origin: ORIGIN,
          'access-control-request-method': 'PATCH',
          'access-control-request-headers': 'authorization, content-type',
        },
      })
      expect(response.statusCode).toBe(204)
      expect(response.headers['access-control-allow-origin']).toBe(ORIGIN)
      expect(String(response.headers['access-control-allow-methods'])).toContain('PATCH')
      const allowed = String(response.headers['access-control-allow-headers']).toLowerCase()
      expect(allowed).toContain('authorization')
      expect(allowed).toContain('content-type')
    })

    it('gives an unlisted origin no Access-Control-* headers at all', async () => {
      const evil = { origin: 'https://evil.example.com' }
      const simple = await t.inject({ method: 'GET', url: '/health/live', headers: evil })
      const preflight = await t.inject({
        method: 'OPTIONS',
        url: '/api/v1/users/me',
        headers: { ...evil, 'access-control-request-method': 'DELETE' },
      })
      expect(accessControlHeaders(simple)).toEqual([])
      expect(accessControlHeaders(preflight)).toEqual([])
    })
  })

  describe('security headers', () => {
    it('sends a deny-all CSP and the other protective headers on API responses', async () => {
      const { tokens } = await registerAndLogin(t)
      const me = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(tokens.access_token),
      })
      expect(me.statusCode).toBe(200)
      expect(me.headers['content-security-policy']).toContain("default-src 'none'")
      expect(me.headers['x-content-type-options']).toBe('nosniff')
      expect(me.headers['referrer-policy']).toBe('no-referrer')
      expect(me.headers['x-frame-options']).toBe('DENY')
      expect(me.headers['x-powered-by']).toBeUndefined()
      expect(me.headers['cache-control']).toBe('no-store')
      expect(me.headers['strict-transport-security']).toMatch(/max-age=\d+/)
      expect(me.headers).toMatchObject({
        'content-security-policy':
          "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'",
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'origin-agent-cluster': '?1',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'x-dns-prefetch-control': 'off',
        'x-download-options': 'noopen',
        'x-permitted-cross-domain-policies': 'none',
        'x-xss-protection': '0',
      })
    })

    it('sends the same headers on an error answer', async () => {
      const response = await t.inject({ method: 'GET', url: '/api/v1/users/me' })
      expect(response.statusCode).toBe(401)
      expect(response.headers['content-security-policy']).toContain("default-src 'none'")
      expect(response.headers['x-frame-options']).toBe('DENY')
      expect(response.headers['x-content-type-options']).toBe('nosniff')
    })

    it('marks the login answer no-store', async () => {
      const response = await t.inject({ method: 'POST', url: '/api/v1/auth/login', payload: ADMIN })
      expect(response.statusCode).toBe(200)
      expect(response.headers['cache-control']).toBe('no-store')
    })

    it('sends Strict-Transport-Security only when PUBLIC_URL is https', async () => {
      const response = await plain.inject({ method: 'GET', url: '/health/live' })
      expect(response.headers['strict-transport-security']).toBeUndefined()
      expect(response.headers['content-security-policy']).toContain("default-src 'none'")
    })

    it('serves the Swagger UI page with a CSP that lets its own scripts run', async () => {
      // /docs may redirect to /docs/ (it is served directly while ignoreTrailingSlash is on).
      let page = await t.inject({ method: 'GET', url: '/docs' })
      if (page.statusCode >= 300 && page.statusCode < 400) {
        const location = new URL(String(page.headers.location), 'http://kitsune.test').pathname
        page = await t.inject({ method: 'GET', url: location })
      }
      expect(page.statusCode).toBe(200)
      expect(page.headers['content-type']).toContain('text/html')
      const csp = String(page.headers['content-security-policy'])
      expect(csp).toMatch(/script-src [^;]*'self'/)
      expect(csp).not.toContain("default-src 'none'")
      const script = /src="([^"]*swagger-ui-bundle\.js)"/.exec(page.body)?.[1]
      expect(script).toBeDefined()
      const bundle = await t.inject({
        method: 'GET',
        url: new URL(String(script), 'http://kitsune.test/docs/').pathname,
      })
      expect(bundle.statusCode).toBe(200)
    })
  })

  describe('input limits', () => {
    it('answers 413 for a body over 64 KiB', async () => {
      const payload = JSON.stringify({ email: uniqueEmail(), password: 'x'.repeat(70 * 1024) })
      expectProblem(await t.inject(raw(payload)), 413)
    })

    it.each([
      ['nested 40 levels deep', `{"email":${'['.repeat(40)}${']'.repeat(40)},"password":"long enough"}`],
      ['with a duplicate key', '{"email":"a@example.com","email":"b@example.com","password":"long enough"}'],
      ['with a __proto__ key', '{"email":"a@example.com","password":"long enough","__proto__":{"x":1}}'],
      ['with a constructor key', '{"email":"a@example.com","password":"long enough","constructor":{}}'],
      ['with a nested __proto__ key', '{"full_name":{"__proto__":{"role":"admin"}}}'],
      ['that is not JSON', '{"email": '],
    ])('answers 400 for a body %s', async (_name, payload) => {
      expectProblem(await t.inject(raw(payload)), 400)
    })

    it('answers 400 for bytes that are not UTF-8', async () => {
      expectProblem(await t.inject(raw(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))), 400)
    })

    it('answers 422 for an e-mail longer than 254 characters', async () => {
      const domain = `${['b', 'c', 'd'].map((c) => c.repeat(63)).join('.')}.${'e'.repeat(50)}.com`
      const email = `${'a'.repeat(64)}@${domain}`
      expect(email.length).toBeGreaterThan(254)
      const payload = { email, password: 'long enough password' }
      expectProblem(await t.inject({ method: 'POST', url: REGISTER, payload }), 422, '/email')
    })

    it('answers 422 for a 257-character password on register and login', async () => {
      const payload = { email: uniqueEmail(), password: 'p'.repeat(257) }
      expectProblem(await t.inject({ method: 'POST', url: REGISTER, payload }), 422, '/password')
      expectProblem(await t.inject({ method: 'POST', url: '/api/v1/auth/login', payload }), 422, '/password')
    })
  })

  describe('password policy', () => {
    it.each(COMMON)(
      'rejects the common password %s on register, password change and admin create',
      async (common) => {
        await expect(assertAcceptablePassword(common, undefined)).rejects.toThrow()
        expectProblem(
          await t.inject({
            method: 'POST',
            url: REGISTER,
            payload: { email: uniqueEmail(), password: common },
          }),
          422,
          '/password',
        )
        const { user, tokens } = await registerAndLogin(t)
        const change = await t.inject({
          method: 'POST',
          url: '/api/v1/users/me/password',
          headers: bearer(tokens.access_token),
          payload: { current_password: user.password, new_password: common },
        })
        expectProblem(change, 422, '/new_password')
        const admin = bearer((await login(t, ADMIN)).access_token)
        const created = await t.inject({
          method: 'POST',
          url: '/api/v1/admin/users',
          headers: admin,
          payload: { email: uniqueEmail(), password: common.toUpperCase() },
        })
        expectProblem(created, 422, '/password')
      },
    )

    it('rejects a password equal to the e-mail address', async () => {
      const email = uniqueEmail()
      const payload = { email, password: email.toUpperCase() }
      expectProblem(await t.inject({ method: 'POST', url: REGISTER, payload }), 422, '/password')
    })

    it('NFKC-normalises passwords, so a fullwidth password logs in with its ASCII form', async () => {
      const email = uniqueEmail()
      const payload = { email, password: 'ｐａｓｓｗｏｒｄ-ｆｕｌｌｗｉｄｔｈ-１２３' }
      expect((await t.inject({ method: 'POST', url: REGISTER, payload })).statusCode).toBe(201)
      expect((await login(t, { email, password: 'password-fullwidth-123' })).access_token).toBeTruthy()
    })

    it('trims, case-folds and IDNA-encodes the e-mail on register', async () => {
      const payload = { email: ' User@BÜCHER.example ', password: 'long enough password' }
      const response = await t.inject({ method: 'POST', url: REGISTER, payload })
      expect(response.statusCode).toBe(201)
      expect(response.json().email).toBe('user@xn--bcher-kva.example')
    })
  })
})
