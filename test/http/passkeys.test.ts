import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/lib/clock.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin, registerUser, type TestUser } from '../helpers/factories.js'
import { loginMfa, passwordLogin, startMfaLogin, totpAt } from '../helpers/mfa.js'
import {
  audits,
  challengeQueue,
  collectingMailer,
  copy,
  createFixtureUser,
  fixtures,
  insertRecordedPasskey,
  insertSyntheticPasskey,
  mfaEnabled,
  passkeyRows,
  passwordlessOptions,
  resetFixtureUser,
  sessionCount,
  verifyAssertion,
} from '../helpers/passkeys.js'
import { testTargets } from '../helpers/test-targets.js'

const LOCAL = { origin: fixtures.origin, rpId: fixtures.rpId }

function expectProblem(response: LightMyRequestResponse, status: number, code: string) {
  expect(response.statusCode, response.body).toBe(status)
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(response.json().code).toBe(code)
  return response.json()
}

describe.each(testTargets())('passkeys (recorded WebAuthn ceremonies) on $name', (target) => {
  let t: TestApp
  let user: TestUser
  const clock = fixedClock('2030-01-01T00:00:00Z')
  const challenges = challengeQueue()
  const mailer = collectingMailer()
  const db = () => t.kitsune.database.db
  const subjectsTo = async (email: string) => {
    await t.kitsune.mailer.idle()
    return mailer.sent.filter((message) => message.to === email).map((message) => message.subject)
  }

  const registrationOptions = (headers: { authorization: string }, password: string) =>
    t.inject({ method: 'POST', url: '/api/v1/users/me/passkeys/options', headers, payload: { password } })
  const finishRegistration = (headers: { authorization: string }, credential: unknown, name?: string) =>
    t.inject({
      method: 'POST',
      url: '/api/v1/users/me/passkeys',
      headers,
      payload: { credential, ...(name === undefined ? {} : { name }) },
    })
  /** Registers the recorded credential through the API; returns the created passkey. */
  const registerRecorded = async (name = 'Laptop') => {
    const headers = bearer((await login(t, user)).access_token)
    challenges.push(fixtures.registration.challenge)
    expect((await registrationOptions(headers, user.password)).statusCode).toBe(200)
    const created = await finishRegistration(headers, fixtures.registration.response, name)
    expect(created.statusCode, created.body).toBe(201)
    return { headers, passkey: created.json() }
  }
  /** A passwordless ceremony replaying `ceremony`: options (with its challenge), then verify. */
  const replay = async (ceremony: { challenge: string; response: unknown }, mfaToken?: string) => {
    challenges.push(ceremony.challenge)
    const options = mfaToken
      ? await t.inject({
          method: 'POST',
          url: '/api/v1/auth/passkey/options',
          payload: { mfa_token: mfaToken },
        })
      : await passwordlessOptions(t)
    expect(options.statusCode, options.body).toBe(200)
    expect(options.json().challenge).toBe(ceremony.challenge)
    return verifyAssertion(t, ceremony.response, mfaToken)
  }
  const loginFailures = async (reason: string) =>
    (await audits(t, 'user.login_failed')).filter(
      (entry) => entry.metadata.method === 'passkey' && entry.metadata.reason === reason,
    )

  beforeAll(async () => {
    t = await buildTestApp({
      target,
      clock,
      env: {
        PUBLIC_URL: fixtures.origin,
        ADMIN_EMAIL: 'pk-admin@example.com',
        ADMIN_PASSWORD: 'admin password 1234',
      },
      kitsune: { passkeyChallenges: challenges.next, mailer },
    })
    user = await createFixtureUser(t)
  })
  afterAll(async () => t?.close())
  beforeEach(async () => {
    challenges.clear()
    await resetFixtureUser(t)
  })

  describe('registration', () => {
    it('asks for the password before giving options', async () => {
      const headers = bearer((await login(t, user)).access_token)
      expectProblem(await registrationOptions(headers, 'not the password'), 401, 'INVALID_CREDENTIALS')
      const missing = await t.inject({
        method: 'POST',
        url: '/api/v1/users/me/passkeys/options',
        headers,
        payload: {},
      })
      expectProblem(missing, 422, 'VALIDATION_FAILED')
      expect(
        (
          await t.inject({
            method: 'POST',
            url: '/api/v1/users/me/passkeys/options',
            payload: { password: 'x' },
          })
        ).statusCode,
      ).toBe(401)
    })

    it('gives resident-key, UV-required, attestation-none options for 5 minutes, excluding existing passkeys', async () => {
      const headers = bearer((await login(t, user)).access_token)
      const first = await registrationOptions(headers, user.password)
      expect(first.statusCode).toBe(200)
      const options = first.json()
      expect(options.rp).toEqual({ id: 'localhost', name: expect.any(String) })
      expect(options.user.id).toBe(Buffer.from(fixtures.userId).toString('base64url'))
      expect(options.user.name).toBe(fixtures.userName)
      expect(options.authenticatorSelection).toMatchObject({
        residentKey: 'required',
        requireResidentKey: true,
        userVerification: 'required',
      })
      expect(options.attestation).toBe('none')
      expect(options.timeout).toBe(300_000)
      expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(options.excludeCredentials).toEqual([])
      expect(
        options.pubKeyCredParams.map((p: { alg: number }) => p.alg).sort((a: number, b: number) => a - b),
      ).toEqual([-257, -8, -7])

      await registerRecorded()
      // Two-step verification is on now: the session comes from the passkey.
      const again = await registrationOptions(bearer((await loginWithPasskey()).access_token), user.password)
      expect(again.statusCode, again.body).toBe(200)
      expect(again.json().excludeCredentials).toEqual([
        expect.objectContaining({ id: fixtures.registration.response.id, type: 'public-key' }),
      ])
    })

    it('stores a verified passkey, turns two-step verification on, audits it and tells the user', async () => {
      const before = (await subjectsTo(user.email)).length
      const { passkey } = await registerRecorded('My laptop')
      expect(passkey).toMatchObject({
        id: expect.any(String),
        name: 'My laptop',
        last_used_at: null,
        transports: fixtures.registration.response.response.transports,
        backup_eligible: false,
        backed_up: false,
      })
      expect(passkey.aaguid).toMatch(/^[0-9a-f-]{36}$/)
      expect(Object.keys(passkey)).not.toContain('public_key')
      expect(Object.keys(passkey)).not.toContain('credential_id')
      expect(JSON.stringify(passkey)).not.toContain(fixtures.registration.response.id)

      const rows = await passkeyRows(t, user.id)
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({
        id: passkey.id,
        credential_id: fixtures.registration.response.id,
        user_verified: true,
        name: 'My laptop',
      })
      expect(Number(rows[0]?.sign_count)).toBe(1)
      expect(await mfaEnabled(t, user.id)).toBe(true)

      const registered = (await audits(t, 'passkey.registered')).filter((e) => e.target_id === passkey.id)
      expect(registered).toHaveLength(1)
      expect(registered[0]).toMatchObject({
        actor_id: user.id,
        metadata: { user_id: user.id, name: 'My laptop', attestation: 'none' },
      })
      const enabled = (await audits(t, 'mfa.enabled')).filter((e) => e.target_id === user.id)
      expect(enabled.at(-1)?.metadata).toEqual({ method: 'passkey' })
      const subjects = await subjectsTo(user.email)
      expect(subjects.slice(before)).toContain('A passkey was added to your account')

      const listed = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me/passkeys',
        headers: bearer((await loginWithPasskey()).access_token),
      })
      expect(listed.statusCode).toBe(200)
      expect(listed.json().items.map((p: { id: string }) => p.id)).toEqual([passkey.id])
      expect(listed.body).not.toContain(rows[0]?.public_key)
    })

    it('refuses the same credential twice with 409 PASSKEY_EXISTS, even with a fresh challenge', async () => {
      await registerRecorded()
      // Two-step verification is on now: sign in with the passkey to get a session.
      const headers = bearer((await loginWithPasskey()).access_token)
      challenges.push(fixtures.registration.challenge)
      expect((await registrationOptions(headers, user.password)).statusCode).toBe(200)
      expectProblem(await finishRegistration(headers, fixtures.registration.response), 409, 'PASSKEY_EXISTS')
      expect(await passkeyRows(t, user.id)).toHaveLength(1)
      // The challenge was used up by that answer: the same answer again finds nothing.
      expectProblem(await finishRegistration(headers, fixtures.registration.response), 401, 'INVALID_PASSKEY')
    })

    it('refuses an answer to a challenge issued to another session, and stores nothing', async () => {
      const sessionA = bearer((await login(t, user)).access_token)
      const sessionB = bearer((await login(t, user)).access_token)
      challenges.push(fixtures.registration.challenge)
      expect((await registrationOptions(sessionA, user.password)).statusCode).toBe(200)
      expectProblem(
        await finishRegistration(sessionB, fixtures.registration.response),
        401,
        'INVALID_PASSKEY',
      )
      expect(await passkeyRows(t, user.id)).toHaveLength(0)
      expect(await mfaEnabled(t, user.id)).toBe(false)
      // Another account's session is refused the same way.
      const other = await registerAndLogin(t)
      challenges.push(fixtures.registration.challenge)
      expect((await registrationOptions(sessionA, user.password)).statusCode).toBe(200)
      expectProblem(
        await finishRegistration(bearer(other.tokens.access_token), fixtures.registration.response),
        401,
        'INVALID_PASSKEY',
      )
      expect(await passkeyRows(t, user.id)).toHaveLength(0)
    })

    it('refuses an answer with no options asked, or with a tampered challenge', async () => {
      const headers = bearer((await login(t, user)).access_token)
      expectProblem(await finishRegistration(headers, fixtures.registration.response), 401, 'INVALID_PASSKEY')
      // Options asked with a different challenge: the recorded answer does not match it.
      expect((await registrationOptions(headers, user.password)).statusCode).toBe(200)
      expectProblem(await finishRegistration(headers, fixtures.registration.response), 401, 'INVALID_PASSKEY')
      expect(await passkeyRows(t, user.id)).toHaveLength(0)
    })

    it('refuses an authentication assertion answered to registration options', async () => {
      const headers = bearer((await login(t, user)).access_token)
      challenges.push(fixtures.authentications[0]?.challenge as string)
      expect((await registrationOptions(headers, user.password)).statusCode).toBe(200)
      expect((await verifyAssertion(t, fixtures.authentications[0]?.response)).statusCode).toBe(401)
    })
  })

  /** Signs the fixture user in with authentications[0] (counter 2): the row must be at counter < 2. */
  async function loginWithPasskey() {
    const response = await replay(fixtures.authentications[0] as { challenge: string; response: unknown })
    expect(response.statusCode, response.body).toBe(200)
    return response.json() as { access_token: string; refresh_token: string }
  }

  describe('passwordless sign-in', () => {
    it('gives discoverable-credential options with user verification required', async () => {
      const response = await passwordlessOptions(t)
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({
        rpId: 'localhost',
        userVerification: 'required',
        timeout: 300_000,
      })
      expect(response.json().allowCredentials ?? []).toEqual([])
    })

    it('answers a token pair that works, moves the counter, stamps last_used_at and audits passkey.used', async () => {
      const { passkey } = await registerRecorded()
      const sessionsBefore = await sessionCount(t, user.id)
      clock.advance(60)
      const response = await replay(fixtures.authentications[0] as { challenge: string; response: unknown })
      expect(response.statusCode, response.body).toBe(200)
      const tokens = response.json()
      expect(tokens).toMatchObject({
        token_type: expect.stringMatching(/^bearer$/i),
        access_token: expect.any(String),
      })
      expect(tokens.refresh_token).toEqual(expect.any(String))
      const me = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(tokens.access_token),
      })
      expect(me.statusCode).toBe(200)
      expect(me.json()).toMatchObject({ id: user.id, email: user.email, mfa_enabled: true })
      expect(await sessionCount(t, user.id)).toBe(sessionsBefore + 1)

      const [row] = await passkeyRows(t, user.id)
      expect(Number(row?.sign_count)).toBe(2)
      expect(row?.last_used_at && new Date(row.last_used_at).toISOString()).toBe(clock.now().toISOString())
      const used = (await audits(t, 'passkey.used')).filter((e) => e.target_id === passkey.id)
      expect(used).toHaveLength(1)
      expect(used[0]).toMatchObject({
        actor_id: user.id,
        metadata: { user_id: user.id, purpose: 'passwordless', user_verified: true },
      })
      // And the next assertion (counter 3) signs in again.
      expect(
        (await replay(fixtures.authentications[1] as { challenge: string; response: unknown })).statusCode,
      ).toBe(200)
      expect(Number((await passkeyRows(t, user.id))[0]?.sign_count)).toBe(3)
    })
  })

  describe('refusals: 401 INVALID_PASSKEY, audited, no session', () => {
    const refused = async (response: LightMyRequestResponse, sessionsBefore: number) => {
      expectProblem(response, 401, 'INVALID_PASSKEY')
      expect(response.json()).not.toHaveProperty('access_token')
      expect(await sessionCount(t, user.id)).toBe(sessionsBefore)
    }

    it('a replayed assertion: the challenge answers once', async () => {
      await insertRecordedPasskey(t, user.id, fixtures.registration, LOCAL)
      const first = fixtures.authentications[0] as { challenge: string; response: unknown }
      expect((await replay(first)).statusCode).toBe(200)
      const sessions = await sessionCount(t, user.id)
      const before = (await loginFailures('challenge_unknown_or_expired')).length
      await refused(await verifyAssertion(t, first.response), sessions)
      expect(await loginFailures('challenge_unknown_or_expired')).toHaveLength(before + 1)
      // Even with its challenge issued again, the same counter does not sign in twice.
      const regressed = (await audits(t, 'passkey.counter_regressed')).length
      await refused(await replay(first), sessions)
      expect(await audits(t, 'passkey.counter_regressed')).toHaveLength(regressed + 1)
    })

    it('an expired challenge (past 300 s)', async () => {
      await insertRecordedPasskey(t, user.id, fixtures.registration, LOCAL)
      const ceremony = fixtures.authentications[0] as { challenge: string; response: unknown }
      challenges.push(ceremony.challenge)
      expect((await passwordlessOptions(t)).statusCode).toBe(200)
      clock.advance(301)
      const before = (await loginFailures('challenge_unknown_or_expired')).length
      await refused(await verifyAssertion(t, ceremony.response), 0)
      expect(await loginFailures('challenge_unknown_or_expired')).toHaveLength(before + 1)
      expect(Number((await passkeyRows(t, user.id))[0]?.sign_count)).toBe(1)
    })

    it('just within 300 s the same ceremony succeeds', async () => {
      await insertRecordedPasskey(t, user.id, fixtures.registration, LOCAL)
      const ceremony = fixtures.authentications[0] as { challenge: string; response: unknown }
      challenges.push(ceremony.challenge)
      expect((await passwordlessOptions(t)).statusCode).toBe(200)
      clock.advance(290)
      expect((await verifyAssertion(t, ceremony.response)).statusCode).toBe(200)
    })

    it('a counter that goes backwards: refused, audited with both counters, stored counter kept', async () => {
      const passkeyId = await insertRecordedPasskey(t, user.id, fixtures.registration, LOCAL)
      expect(
        (await replay(fixtures.authentications[1] as { challenge: string; response: unknown })).statusCode,
      ).toBe(200)
      const sessions = await sessionCount(t, user.id)
      await refused(
        await replay(fixtures.authentications[0] as { challenge: string; response: unknown }),
        sessions,
      )
      const regressed = (await audits(t, 'passkey.counter_regressed')).filter(
        (e) => e.target_id === passkeyId,
      )
      expect(regressed).toHaveLength(1)
      expect(regressed[0]?.metadata).toMatchObject({
        user_id: user.id,
        stored_counter: 3,
        received_counter: 2,
      })
      expect(Number((await passkeyRows(t, user.id))[0]?.sign_count)).toBe(3)
      expect((await audits(t, 'passkey.used')).filter((e) => e.target_id === passkeyId)).toHaveLength(1)
    })

    it('an unknown credential (its passkey was removed)', async () => {
      const before = (await loginFailures('unknown_credential')).length
      await refused(await replay(fixtures.authentications[0] as { challenge: string; response: unknown }), 0)
      expect(await loginFailures('unknown_credential')).toHaveLength(before + 1)
    })

    it('no user verification on a passwordless sign-in', async () => {
      const passkeyId = await insertRecordedPasskey(
        t,
        user.id,
        fixtures.noUserVerification.registration,
        LOCAL,
      )
      await refused(await replay(fixtures.noUserVerification.authentication), 0)
      const failures = (await loginFailures('user_not_verified')).filter(
        (e) => e.metadata.passkey_id === passkeyId,
      )
      expect(failures).toHaveLength(1)
      expect(failures[0]?.actor_id).toBe(user.id)
      expect(Number((await passkeyRows(t, user.id))[0]?.sign_count)).toBe(1)
    })

    it('a tampered signature or a user handle naming another account', async () => {
      await insertRecordedPasskey(t, user.id, fixtures.registration, LOCAL)
      const ceremony = fixtures.authentications[0] as {
        challenge: string
        response: { response: { signature: string; userHandle: string } }
      }
      const forged = copy(ceremony.response)
      const signature = Buffer.from(forged.response.signature, 'base64url')
      signature[10] = (signature[10] as number) ^ 0xff
      forged.response.signature = signature.toString('base64url')
      await refused(await replay({ challenge: ceremony.challenge, response: forged }), 0)
      expect(await loginFailures('bad_signature')).not.toHaveLength(0)

      const otherHandle = copy(ceremony.response)
      otherHandle.response.userHandle = Buffer.from('019a0000-0000-7000-8000-000000000000').toString(
        'base64url',
      )
      await refused(await replay({ challenge: ceremony.challenge, response: otherHandle }), 0)
      expect(await loginFailures('user_handle_mismatch')).not.toHaveLength(0)
      expect(Number((await passkeyRows(t, user.id))[0]?.sign_count)).toBe(1)
    })
  })

  describe('second factor', () => {
    it('a password login asks for the passkey; its options name the account’s passkeys; verify answers tokens once', async () => {
      await registerRecorded()
      const first = await passwordLogin(t, user)
      expect(first.statusCode).toBe(200)
      expect(first.json()).toMatchObject({ mfa_required: true, methods: ['passkey'] })
      const mfaToken = first.json().mfa_token as string

      challenges.push(fixtures.authentications[0]?.challenge as string)
      const options = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/passkey/options',
        payload: { mfa_token: mfaToken },
      })
      expect(options.statusCode).toBe(200)
      expect(options.json().allowCredentials).toEqual([
        expect.objectContaining({ id: fixtures.registration.response.id, type: 'public-key' }),
      ])
      expect(options.json().userVerification).toBe('preferred')
      const verified = await verifyAssertion(t, fixtures.authentications[0]?.response, mfaToken)
      expect(verified.statusCode, verified.body).toBe(200)
      const me = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(verified.json().access_token),
      })
      expect(me.json().id).toBe(user.id)
      expect((await audits(t, 'passkey.used')).at(-1)?.metadata).toMatchObject({ purpose: 'second_factor' })

      // The step-up token is spent.
      expectProblem(await loginMfa(t, mfaToken, '123456'), 401, 'INVALID_MFA_CODE')
      expectProblem(
        await t.inject({
          method: 'POST',
          url: '/api/v1/auth/passkey/options',
          payload: { mfa_token: mfaToken },
        }),
        401,
        'INVALID_MFA_CODE',
      )
    })

    it('a key without user verification is enough after the password', async () => {
      await insertRecordedPasskey(t, user.id, fixtures.noUserVerification.registration, LOCAL)
      await db().updateTable('users').set({ mfa_enabled: true }).where('id', '=', user.id).execute()
      const mfaToken = await startMfaLogin(t, user)
      const response = await replay(fixtures.noUserVerification.authentication, mfaToken)
      expect(response.statusCode, response.body).toBe(200)
      expect((await audits(t, 'passkey.used')).at(-1)?.metadata).toMatchObject({ user_verified: false })
    })

    it('refuses a passwordless ceremony answered with an mfa_token, and the other way round', async () => {
      await registerRecorded()
      const ceremony = fixtures.authentications[0] as { challenge: string; response: unknown }
      const mfaToken = await startMfaLogin(t, user)
      const before = (await loginFailures('challenge_mismatch')).length

      challenges.push(ceremony.challenge)
      expect((await passwordlessOptions(t)).statusCode).toBe(200)
      expectProblem(await verifyAssertion(t, ceremony.response, mfaToken), 401, 'INVALID_PASSKEY')

      challenges.push(ceremony.challenge)
      expect(
        (
          await t.inject({
            method: 'POST',
            url: '/api/v1/auth/passkey/options',
            payload: { mfa_token: mfaToken },
          })
        ).statusCode,
      ).toBe(200)
      expectProblem(await verifyAssertion(t, ceremony.response), 401, 'INVALID_PASSKEY')
      expect(await loginFailures('challenge_mismatch')).toHaveLength(before + 2)
      expect(Number((await passkeyRows(t, user.id))[0]?.sign_count)).toBe(1)
    })

    it('refuses a second-factor ceremony answered with another login’s mfa_token', async () => {
      await registerRecorded()
      const ceremony = fixtures.authentications[0] as { challenge: string; response: unknown }
      const tokenA = await startMfaLogin(t, user)
      const tokenB = await startMfaLogin(t, user)
      challenges.push(ceremony.challenge)
      expect(
        (
          await t.inject({
            method: 'POST',
            url: '/api/v1/auth/passkey/options',
            payload: { mfa_token: tokenA },
          })
        ).statusCode,
      ).toBe(200)
      expectProblem(await verifyAssertion(t, ceremony.response, tokenB), 401, 'INVALID_PASSKEY')
    })

    it('refuses another account’s passkey answered to this account’s step-up', async () => {
      // The recorded no-UV credential is the fixture user's; the step-up belongs to someone else.
      const fixturePasskey = await insertRecordedPasskey(
        t,
        user.id,
        fixtures.noUserVerification.registration,
        LOCAL,
      )
      const other = await registerUser(t)
      await insertSyntheticPasskey(t, other.id)
      await db().updateTable('users').set({ mfa_enabled: true }).where('id', '=', other.id).execute()
      const mfaToken = await startMfaLogin(t, other)
      const response = await replay(fixtures.noUserVerification.authentication, mfaToken)
      expectProblem(response, 401, 'INVALID_PASSKEY')
      const failures = (await loginFailures('other_account')).filter(
        (e) => e.metadata.passkey_id === fixturePasskey,
      )
      expect(failures).toHaveLength(1)
      expect(failures[0]?.actor_id).toBe(other.id)
      expect(await sessionCount(t, other.id)).toBe(0)
      expect(await sessionCount(t, user.id)).toBe(0)
    })

    it('refuses a deactivated account’s passkey', async () => {
      await insertRecordedPasskey(t, user.id, fixtures.registration, LOCAL)
      await db().updateTable('users').set({ is_active: false }).where('id', '=', user.id).execute()
      try {
        expectProblem(
          await replay(fixtures.authentications[0] as { challenge: string; response: unknown }),
          401,
          'INVALID_PASSKEY',
        )
        expect(await loginFailures('inactive')).not.toHaveLength(0)
        expect(await sessionCount(t, user.id)).toBe(0)
      } finally {
        await db().updateTable('users').set({ is_active: true }).where('id', '=', user.id).execute()
      }
    })

    it('an account with TOTP and a passkey offers both', async () => {
      const { headers } = await registerRecorded()
      const signedIn = bearer((await loginWithPasskey()).access_token)
      await enrolTotp(signedIn)
      void headers
      const first = await passwordLogin(t, user)
      expect(first.json().methods).toEqual(expect.arrayContaining(['totp', 'passkey']))
    })
  })

  async function enrolTotp(headers: { authorization: string }) {
    const begun = await t.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp', headers })
    expect(begun.statusCode, begun.body).toBe(200)
    const secret = begun.json().secret as string
    const confirmed = await t.inject({
      method: 'POST',
      url: '/api/v1/users/me/mfa/totp/confirm',
      headers,
      payload: { code: totpAt(clock, secret) },
    })
    expect(confirmed.statusCode, confirmed.body).toBe(200)
    clock.advance(60)
    return secret
  }

  describe('rename and remove', () => {
    it('renames a passkey (audited), validates the name, and 404s someone else’s passkey', async () => {
      const { passkey } = await registerRecorded()
      const headers = bearer((await loginWithPasskey()).access_token)
      const rename = (id: string, name: unknown, h = headers) =>
        t.inject({ method: 'PATCH', url: `/api/v1/users/me/passkeys/${id}`, headers: h, payload: { name } })
      const renamed = await rename(passkey.id, '  Work key  ')
      expect(renamed.statusCode, renamed.body).toBe(200)
      expect(renamed.json()).toMatchObject({ id: passkey.id, name: 'Work key' })
      expect((await passkeyRows(t, user.id))[0]?.name).toBe('Work key')
      const audited = (await audits(t, 'passkey.renamed')).filter((e) => e.target_id === passkey.id)
      expect(audited.at(-1)).toMatchObject({ actor_id: user.id, metadata: { name: 'Work key' } })

      expectProblem(await rename(passkey.id, ''), 422, 'VALIDATION_FAILED')
      expectProblem(await rename(passkey.id, '   '), 422, 'VALIDATION_FAILED')
      expectProblem(await rename(passkey.id, '\u0000\u0001'), 422, 'VALIDATION_FAILED')
      expectProblem(await rename(passkey.id, 'x'.repeat(65)), 422, 'VALIDATION_FAILED')
      expectProblem(await rename(passkey.id, 42), 422, 'VALIDATION_FAILED')
      expectProblem(await rename('not-a-uuid', 'Name'), 422, 'VALIDATION_FAILED')
      expect((await passkeyRows(t, user.id))[0]?.name).toBe('Work key')

      const other = await registerAndLogin(t)
      expectProblem(await rename(passkey.id, 'Mine now', bearer(other.tokens.access_token)), 404, 'NOT_FOUND')
      const removal = await t.inject({
        method: 'DELETE',
        url: `/api/v1/users/me/passkeys/${passkey.id}`,
        headers: bearer(other.tokens.access_token),
        payload: { password: other.user.password },
      })
      expectProblem(removal, 404, 'NOT_FOUND')
      const theirs = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me/passkeys',
        headers: bearer(other.tokens.access_token),
      })
      expect(theirs.json().items).toEqual([])
      expect((await passkeyRows(t, user.id))[0]?.name).toBe('Work key')
    })

    it('removal needs the password and keeps the last second factor; with TOTP it goes (204, audited, e-mailed)', async () => {
      const { passkey } = await registerRecorded('Old phone')
      const headers = bearer((await loginWithPasskey()).access_token)
      const remove = (payload: object) =>
        t.inject({ method: 'DELETE', url: `/api/v1/users/me/passkeys/${passkey.id}`, headers, payload })

      expectProblem(await remove({ password: 'wrong password' }), 401, 'INVALID_CREDENTIALS')
      expectProblem(await remove({}), 422, 'VALIDATION_FAILED')
      expectProblem(await remove({ password: user.password }), 409, 'LAST_SECOND_FACTOR')
      expect(await passkeyRows(t, user.id)).toHaveLength(1)
      expect(await mfaEnabled(t, user.id)).toBe(true)

      await enrolTotp(headers)
      const removed = await remove({ password: user.password })
      expect(removed.statusCode, removed.body).toBe(204)
      expect(await passkeyRows(t, user.id)).toHaveLength(0)
      expect(await mfaEnabled(t, user.id)).toBe(true)
      const audited = (await audits(t, 'passkey.removed')).filter((e) => e.target_id === passkey.id)
      expect(audited).toHaveLength(1)
      expect(audited[0]).toMatchObject({
        actor_id: user.id,
        metadata: { user_id: user.id, name: 'Old phone' },
      })
      expect(audited[0]?.metadata).not.toHaveProperty('by_admin')
      expect(await subjectsTo(user.email)).toContain('A passkey was removed from your account')
      const notice = mailer.sent.filter((m) => m.subject === 'A passkey was removed from your account').at(-1)
      expect(notice?.text).toContain('Old phone')
      // The removed passkey no longer signs in.
      expectProblem(
        await replay(fixtures.authentications[1] as { challenge: string; response: unknown }),
        401,
        'INVALID_PASSKEY',
      )
    })

    it('with two passkeys, one of them may go', async () => {
      const { passkey } = await registerRecorded()
      await insertRecordedPasskey(t, user.id, fixtures.noUserVerification.registration, LOCAL)
      const headers = bearer((await loginWithPasskey()).access_token)
      const removed = await t.inject({
        method: 'DELETE',
        url: `/api/v1/users/me/passkeys/${passkey.id}`,
        headers,
        payload: { password: user.password },
      })
      expect(removed.statusCode, removed.body).toBe(204)
      expect(await passkeyRows(t, user.id)).toHaveLength(1)
    })
  })

  describe('bad input never 500s', () => {
    const garbage: Array<[string, unknown]> = [
      ['null', null],
      ['a string', 'credential'],
      ['an empty object', {}],
      ['an array', [1, 2, 3]],
      ['no response', { id: 'abc', rawId: 'abc', type: 'public-key', clientExtensionResults: {} }],
      ['a wrong type', { ...copy(fixtures.authentications[0]?.response), type: 'password' }],
      [
        'a huge id',
        {
          ...copy(fixtures.authentications[0]?.response),
          id: 'A'.repeat(100_000),
          rawId: 'A'.repeat(100_000),
        },
      ],
      [
        'non-base64url characters',
        {
          ...copy(fixtures.authentications[0]?.response),
          response: { ...copy(fixtures.authentications[0]?.response.response), signature: '<script>' },
        },
      ],
    ]

    it.each(garbage)('verify with %s → 4xx problem', async (_label, credential) => {
      const response = await verifyAssertion(t, credential)
      expect(response.statusCode).toBeGreaterThanOrEqual(400)
      expect(response.statusCode).toBeLessThan(500)
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
    })

    it.each(garbage)('registration with %s → 4xx problem', async (_label, credential) => {
      const headers = bearer((await login(t, user)).access_token)
      const response = await finishRegistration(headers, credential)
      expect(response.statusCode).toBeGreaterThanOrEqual(400)
      expect(response.statusCode).toBeLessThan(500)
    })

    it('a clientDataJSON that is not base64url JSON, or JSON without a challenge → 401 INVALID_PASSKEY', async () => {
      for (const clientDataJSON of [
        'not-json',
        Buffer.from('{"type":"webauthn.get"').toString('base64url'),
        Buffer.from('[1,2,3]').toString('base64url'),
        Buffer.from('{"challenge":{"a":1}}').toString('base64url'),
        Buffer.from(JSON.stringify({ challenge: 'x'.repeat(5000) })).toString('base64url'),
        '',
      ]) {
        const credential = copy(fixtures.authentications[0]?.response)
        credential.response.clientDataJSON = clientDataJSON
        const response = await verifyAssertion(t, credential)
        expect(response.statusCode, `${clientDataJSON}: ${response.body}`).toBeGreaterThanOrEqual(400)
        expect(response.statusCode).toBeLessThan(500)
        const headers = bearer((await login(t, user)).access_token)
        const registration = copy(fixtures.registration.response)
        registration.response.clientDataJSON = clientDataJSON
        const registered = await finishRegistration(headers, registration)
        expect(registered.statusCode, registered.body).toBeGreaterThanOrEqual(400)
        expect(registered.statusCode).toBeLessThan(500)
      }
    })

    it('a live challenge with garbage authenticator data or attestation → 401 INVALID_PASSKEY', async () => {
      await insertRecordedPasskey(t, user.id, fixtures.registration, LOCAL)
      const ceremony = fixtures.authentications[0] as {
        challenge: string
        response: { response: Record<string, string> }
      }
      const broken = copy(ceremony.response)
      broken.response.authenticatorData = 'AAAA'
      expectProblem(await replay({ challenge: ceremony.challenge, response: broken }), 401, 'INVALID_PASSKEY')

      await resetFixtureUser(t)
      const headers = bearer((await login(t, user)).access_token)
      const registration = copy(fixtures.registration.response)
      registration.response.attestationObject = 'oWNmbXRkbm9uZQ'
      challenges.push(fixtures.registration.challenge)
      expect((await registrationOptions(headers, user.password)).statusCode).toBe(200)
      expectProblem(await finishRegistration(headers, registration), 401, 'INVALID_PASSKEY')
      expect(await passkeyRows(t, user.id)).toHaveLength(0)
    })

    it('options with a malformed body → 422', async () => {
      for (const payload of [{ mfa_token: 'short' }, { mfa_token: 'x'.repeat(300) }, { other: 1 }, [1]]) {
        const response = await t.inject({ method: 'POST', url: '/api/v1/auth/passkey/options', payload })
        expectProblem(response, 422, 'VALIDATION_FAILED')
      }
      const unknown = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/passkey/options',
        payload: { mfa_token: 'x'.repeat(43) },
      })
      expectProblem(unknown, 401, 'INVALID_MFA_CODE')
    })
  })

  it('OpenAPI documents the passkey endpoints and PasskeyPublic', async () => {
    const response = await t.inject({ method: 'GET', url: '/openapi.json' })
    expect(response.statusCode).toBe(200)
    const spec = response.json()
    expect(spec.paths['/api/v1/auth/passkey/options']?.post).toBeDefined()
    expect(spec.paths['/api/v1/auth/passkey/verify']?.post).toBeDefined()
    expect(spec.paths['/api/v1/users/me/passkeys']?.get).toBeDefined()
    expect(spec.paths['/api/v1/users/me/passkeys']?.post).toBeDefined()
    expect(spec.paths['/api/v1/users/me/passkeys/options']?.post).toBeDefined()
    expect(spec.paths['/api/v1/users/me/passkeys/{id}']?.patch).toBeDefined()
    expect(spec.paths['/api/v1/users/me/passkeys/{id}']?.delete).toBeDefined()
    expect(spec.paths['/api/v1/admin/users/{id}/passkeys']?.get).toBeDefined()
    expect(spec.paths['/api/v1/admin/users/{id}/passkeys/{pid}']?.delete).toBeDefined()
    const schema = spec.components.schemas.PasskeyPublic
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['id', 'name', 'created_at', 'last_used_at', 'transports', 'aaguid']),
    )
    expect(Object.keys(schema.properties)).not.toContain('public_key')
    expect(Object.keys(schema.properties)).not.toContain('credential_id')
  })
})

describe.each(testTargets())('passkeys under another relying-party configuration on $name', (target) => {
  let t: TestApp
  let user: TestUser
  const challenges = challengeQueue()

  beforeAll(async () => {
    t = await buildTestApp({
      target,
      env: {
        PUBLIC_URL: 'http://localhost:9000',
        WEBAUTHN_RP_ID: 'localhost',
        WEBAUTHN_ORIGINS: `http://localhost:9000,${fixtures.subdomain.origin}`,
      },
      kitsune: { passkeyChallenges: challenges.next },
    })
    user = await createFixtureUser(t)
  })
  afterAll(async () => t?.close())

  const refusedWith = async (
    ceremony: { challenge: string; response: unknown },
    reason: string,
    passkeyId: string,
  ) => {
    challenges.push(ceremony.challenge)
    expect((await passwordlessOptions(t)).statusCode).toBe(200)
    const response = await verifyAssertion(t, ceremony.response)
    expectProblem(response, 401, 'INVALID_PASSKEY')
    const failures = (await audits(t, 'user.login_failed')).filter(
      (e) => e.metadata.method === 'passkey' && e.metadata.passkey_id === passkeyId,
    )
    expect(failures.map((e) => e.metadata.reason)).toEqual([reason])
    expect(await sessionCount(t, user.id)).toBe(0)
    const rows = await passkeyRows(t, user.id)
    expect(rows.find((row) => row.id === passkeyId)?.last_used_at).toBeNull()
  }

  it('refuses an assertion made for another origin', async () => {
    const id = await insertRecordedPasskey(t, user.id, fixtures.registration, LOCAL)
    await refusedWith(
      fixtures.authentications[0] as { challenge: string; response: unknown },
      'wrong_origin',
      id,
    )
  })

  it('refuses an assertion from an allowed origin but signed for another RP ID', async () => {
    const id = await insertRecordedPasskey(t, user.id, fixtures.subdomain.registration, {
      origin: fixtures.subdomain.origin,
      rpId: fixtures.subdomain.rpId,
    })
    await refusedWith(fixtures.subdomain.authentication, 'wrong_rp_id', id)
  })

  it('refuses to register a credential made on another origin', async () => {
    await resetFixtureUser(t)
    const headers = bearer((await login(t, user)).access_token)
    challenges.push(fixtures.registration.challenge)
    const options = await t.inject({
      method: 'POST',
      url: '/api/v1/users/me/passkeys/options',
      headers,
      payload: { password: user.password },
    })
    expect(options.statusCode).toBe(200)
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/users/me/passkeys',
      headers,
      payload: { credential: fixtures.registration.response },
    })
    expectProblem(response, 401, 'INVALID_PASSKEY')
    expect(await passkeyRows(t, user.id)).toHaveLength(0)
  })
})

describe.each(testTargets())('WEBAUTHN_ALLOWED_AAGUIDS on $name', (target) => {
  const OTHER_AAGUID = 'ee882879-721c-4913-9775-3dfcce97072a'

  const attempt = async (allowed: string) => {
    const challenges = challengeQueue()
    const t = await buildTestApp({
      target,
      env: { PUBLIC_URL: fixtures.origin, WEBAUTHN_ALLOWED_AAGUIDS: allowed },
      kitsune: { passkeyChallenges: challenges.next },
    })
    try {
      const user = await createFixtureUser(t)
      const headers = bearer((await login(t, user)).access_token)
      challenges.push(fixtures.registration.challenge)
      const options = await t.inject({
        method: 'POST',
        url: '/api/v1/users/me/passkeys/options',
        headers,
        payload: { password: user.password },
      })
      expect(options.statusCode).toBe(200)
      expect(options.json().attestation).toBe('direct')
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/users/me/passkeys',
        headers,
        payload: { credential: fixtures.registration.response },
      })
      return {
        response,
        rows: await passkeyRows(t, user.id),
        mfa: await mfaEnabled(t, user.id),
        registered: await audits(t, 'passkey.registered'),
      }
    } finally {
      await t.close()
    }
  }

  it('refuses an authenticator model not on the list with 403, storing nothing', async () => {
    const { response, rows, mfa, registered } = await attempt(OTHER_AAGUID)
    expectProblem(response, 403, 'AUTHENTICATOR_NOT_ALLOWED')
    expect(rows).toHaveLength(0)
    expect(mfa).toBe(false)
    expect(registered).toHaveLength(0)
  })

  it('accepts one on the list', async () => {
    // The recorded authenticator's AAGUID, read from its authenticator data (bytes 37 to 53).
    const authData = Buffer.from(fixtures.registration.response.response.authenticatorData, 'base64url')
    const hex = authData.subarray(37, 53).toString('hex')
    const aaguid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
    const { response, rows } = await attempt(`${OTHER_AAGUID},${aaguid}`)
    expect(response.statusCode, response.body).toBe(201)
    expect(response.json().aaguid).toBe(aaguid)
    expect(rows).toHaveLength(1)
  })
})
