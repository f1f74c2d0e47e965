import type { Clock } from '../../src/lib/clock.js'
import type { TestApp } from './build-test-app.js'
import { bearer, registerAndLogin, type TestUser } from './factories.js'
import { totp } from './totp.js'

export interface AdvancingClock extends Clock {
  advance(seconds: number): void
}

export const TOTP_STEP_SECONDS = 30

/** The code of the step `offsetSteps` away from the clock's now, computed by the test's own TOTP. */
export function totpAt(clock: Clock, secret: string, offsetSteps = 0): string {
  return totp(secret, clock.now().getTime() + offsetSteps * TOTP_STEP_SECONDS * 1000)
}

/** A six-digit code that differs from `code` in its last digit. */
export function wrongCode(code: string): string {
  return `${code.slice(0, 5)}${(Number(code[5]) + 1) % 10}`
}

export interface MfaUser {
  user: TestUser
  headers: { authorization: string }
  secret: string
  recoveryCodes: string[]
}

/** A fresh user with TOTP enrolled and confirmed through the API. */
export async function enrolMfa(t: TestApp, clock: AdvancingClock): Promise<MfaUser> {
  const { user, tokens } = await registerAndLogin(t)
  const headers = bearer(tokens.access_token)
  const begun = await t.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp', headers })
  if (begun.statusCode !== 200) throw new Error(`enrolment failed: ${begun.statusCode} ${begun.body}`)
  const secret = begun.json().secret as string
  const confirmed = await t.inject({
    method: 'POST',
    url: '/api/v1/users/me/mfa/totp/confirm',
    headers,
    payload: { code: totpAt(clock, secret) },
  })
  if (confirmed.statusCode !== 200)
    throw new Error(`confirmation failed: ${confirmed.statusCode} ${confirmed.body}`)
  // The confirmation burnt the current step; move two steps on so the previous step's code is
  // fresh too and every test starts with an unused window.
  clock.advance(2 * TOTP_STEP_SECONDS)
  return { user, headers, secret, recoveryCodes: confirmed.json().recovery_codes as string[] }
}

export function passwordLogin(t: TestApp, user: Pick<TestUser, 'email' | 'password'>) {
  return t.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: user.email, password: user.password },
  })
}

/** First login step for an MFA account: returns the mfa_token, or throws with what came instead. */
export async function startMfaLogin(t: TestApp, user: Pick<TestUser, 'email' | 'password'>) {
  const response = await passwordLogin(t, user)
  const body = response.json()
  if (response.statusCode !== 200 || body.mfa_required !== true || typeof body.mfa_token !== 'string')
    throw new Error(`expected an MFA challenge, got ${response.statusCode} with ${Object.keys(body)}`)
  return body.mfa_token as string
}

export function loginMfa(t: TestApp, mfaToken: string, code: string) {
  return t.inject({
    method: 'POST',
    url: '/api/v1/auth/login/mfa',
    payload: { mfa_token: mfaToken, code },
  })
}

export async function auditEntries(t: TestApp, action: string, targetId: string) {
  return t.kitsune.database.db
    .selectFrom('audit_logs')
    .select(['actor_id', 'metadata'])
    .where('action', '=', action)
    .where('target_id', '=', targetId)
    .execute()
}
