import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/lib/clock.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin } from '../helpers/factories.js'
import { auditEntries, enrolMfa, passwordLogin, startMfaLogin, totpAt, wrongCode } from '../helpers/mfa.js'
import { testTargets } from '../helpers/test-targets.js'
import { base32Decode } from '../helpers/totp.js'

const ADMIN = { email: 'mfa-admin@example.com', password: 'admin password 1234' }

describe.each(testTargets())('MFA enrolment, disabling and admin reset on $name', (target) => {
  let t: TestApp
  const clock = fixedClock('2030-01-01T00:00:00Z')
  const me = (headers: { authorization: string }) =>
    t.inject({ method: 'GET', url: '/api/v1/users/me', headers })
  const begin = (headers: { authorization: string }) =>
    t.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp', headers })
  const confirm = (headers: { authorization: string }, code: string) =>
    t.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp/confirm', headers, payload: { code } })
  const disable = (headers: { authorization: string }, payload: object) =>
    t.inject({ method: 'DELETE', url: '/api/v1/users/me/mfa/totp', headers, payload })

  beforeAll(async () => {
    t = await buildTestApp({
      target,
      clock,
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
    })
  })
  afterAll(async () => t?.close())

  describe('POST /users/me/mfa/totp and /confirm', () => {
    it('starts enrolment with a 160-bit base32 secret, an otpauth URI for the account and an SVG QR code', async () => {
      const { user, tokens } = await registerAndLogin(t)
      const response = await begin(bearer(tokens.access_token))
      expect(response.statusCode).toBe(200)
      const { secret, otpauth_uri, qr_svg } = response.json()
      expect(secret).toMatch(/^[A-Z2-7]{32}$/)
      expect(base32Decode(secret)).toHaveLength(20)
      const uri = new URL(otpauth_uri)
      expect(uri.protocol).toBe('otpauth:')
      expect(uri.host).toBe('totp')
      expect(decodeURIComponent(uri.pathname)).toContain(user.email)
      expect(uri.searchParams.get('secret')).toBe(secret)
      expect(uri.searchParams.get('issuer')).toBe('Kitsune')
      expect(qr_svg.startsWith('<svg') || qr_svg.startsWith('<?xml')).toBe(true)
      expect(qr_svg).toContain('<svg')
      expect((await me(bearer(tokens.access_token))).json().mfa_enabled).toBe(false)
    })

    it('stores the secret encrypted: the mfa_totp row neither is nor contains the secret', async () => {
      const { user, tokens } = await registerAndLogin(t)
      const { secret } = (await begin(bearer(tokens.access_token))).json()
      const row = await t.kitsune.database.db
        .selectFrom('mfa_totp')
        .select('secret_enc')
        .where('user_id', '=', user.id)
        .executeTakeFirstOrThrow()
      const raw = base32Decode(secret)
      expect(row.secret_enc).not.toBe(secret)
      for (const plain of [secret, secret.toLowerCase(), raw.toString('hex'), raw.toString('base64url')])
        expect(row.secret_enc).not.toContain(plain)
    })

    it('answers 401 INVALID_MFA_CODE to a wrong confirmation code and leaves MFA off', async () => {
      const { tokens } = await registerAndLogin(t)
      const headers = bearer(tokens.access_token)
      const { secret } = (await begin(headers)).json()
      const response = await confirm(headers, wrongCode(totpAt(clock, secret)))
      expect(response.statusCode).toBe(401)
      expect(response.json()).toMatchObject({ code: 'INVALID_MFA_CODE' })
      expect((await me(headers)).json().mfa_enabled).toBe(false)
    })

    it('turns MFA on with the current code, returns 10 distinct recovery codes and audits mfa.enabled', async () => {
      const { user, tokens } = await registerAndLogin(t)
      const headers = bearer(tokens.access_token)
      const { secret } = (await begin(headers)).json()
      const response = await confirm(headers, totpAt(clock, secret))
      expect(response.statusCode).toBe(200)
      const codes = response.json().recovery_codes as string[]
      expect(codes).toHaveLength(10)
      expect(new Set(codes).size).toBe(10)
      expect((await me(headers)).json().mfa_enabled).toBe(true)
      expect(await auditEntries(t, 'mfa.enabled', user.id)).toEqual([
        expect.objectContaining({ actor_id: user.id }),
      ])
    })

    it('answers 409 MFA_ALREADY_ENABLED when enrolment starts while MFA is on', async () => {
      const { headers } = await enrolMfa(t, clock)
      const response = await begin(headers)
      expect(response.statusCode).toBe(409)
      expect(response.json()).toMatchObject({ code: 'MFA_ALREADY_ENABLED' })
    })
  })

  describe('POST /auth/token for an MFA account', () => {
    it('refuses the password grant with invalid_grant naming MFA, and issues no tokens', async () => {
      const { user } = await enrolMfa(t, clock)
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          grant_type: 'password',
          username: user.email,
          password: user.password,
        }).toString(),
      })
      expect(response.statusCode).toBe(400)
      const body = response.json()
      expect(body.error).toBe('invalid_grant')
      expect(body.error_description).toMatch(/MFA/)
      expect(body.access_token).toBeUndefined()
    })
  })

  describe('DELETE /users/me/mfa/totp', () => {
    it('answers 401 to a wrong code and leaves MFA on', async () => {
      const { headers, secret } = await enrolMfa(t, clock)
      const response = await disable(headers, { code: wrongCode(totpAt(clock, secret)) })
      expect(response.statusCode).toBe(401)
      expect(response.json()).toMatchObject({ code: 'INVALID_MFA_CODE' })
      expect((await me(headers)).json().mfa_enabled).toBe(true)
    })

    it('answers 401 to a wrong password and leaves MFA on', async () => {
      const { headers } = await enrolMfa(t, clock)
      const response = await disable(headers, { password: 'not the password' })
      expect(response.statusCode).toBe(401)
      expect((await me(headers)).json().mfa_enabled).toBe(true)
    })

    it('turns MFA off with the password: 204, audited mfa.disabled, and login is single-step again', async () => {
      const { user, headers } = await enrolMfa(t, clock)
      expect((await disable(headers, { password: user.password })).statusCode).toBe(204)
      expect((await me(headers)).json().mfa_enabled).toBe(false)
      expect(await auditEntries(t, 'mfa.disabled', user.id)).toEqual([
        expect.objectContaining({ actor_id: user.id }),
      ])
      const tokens = await login(t, user)
      expect(tokens.access_token).toEqual(expect.any(String))
      expect(tokens).not.toHaveProperty('mfa_required')
    })

    it('turns MFA off with a current code and removes the factor', async () => {
      const { user, headers, secret } = await enrolMfa(t, clock)
      expect((await disable(headers, { code: totpAt(clock, secret) })).statusCode).toBe(204)
      expect((await me(headers)).json().mfa_enabled).toBe(false)
      const rows = await t.kitsune.database.db
        .selectFrom('mfa_totp')
        .select('user_id')
        .where('user_id', '=', user.id)
        .execute()
      expect(rows).toEqual([])
    })
  })

  describe('DELETE /admin/users/{id}/mfa', () => {
    it('answers 403 to a plain user and leaves MFA on', async () => {
      const { user, headers } = await enrolMfa(t, clock)
      const other = await registerAndLogin(t)
      const response = await t.inject({
        method: 'DELETE',
        url: `/api/v1/admin/users/${user.id}/mfa`,
        headers: bearer(other.tokens.access_token),
      })
      expect(response.statusCode).toBe(403)
      expect((await me(headers)).json().mfa_enabled).toBe(true)
    })

    it('lets an admin reset MFA: 204, single-step login, audited mfa.disabled with the admin as actor', async () => {
      const { user } = await enrolMfa(t, clock)
      await expect(startMfaLogin(t, user)).resolves.toEqual(expect.any(String))
      const admin = bearer((await login(t, ADMIN)).access_token)
      const adminId = (await me(admin)).json().id as string
      const response = await t.inject({
        method: 'DELETE',
        url: `/api/v1/admin/users/${user.id}/mfa`,
        headers: admin,
      })
      expect(response.statusCode).toBe(204)
      const relogin = await passwordLogin(t, user)
      expect(relogin.statusCode).toBe(200)
      expect(relogin.json().access_token).toEqual(expect.any(String))
      expect((await me(bearer(relogin.json().access_token))).json().mfa_enabled).toBe(false)
      expect(await auditEntries(t, 'mfa.disabled', user.id)).toEqual([
        expect.objectContaining({ actor_id: adminId }),
      ])
    })
  })
})
