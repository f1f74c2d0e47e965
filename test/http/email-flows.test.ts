import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Clock, fixedClock } from '../../src/lib/clock.js'
import { createMailer, type Mailer } from '../../src/mail/mailer.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin, registerUser, uniqueEmail } from '../helpers/factories.js'
import { type ReceivedMail, startSmtpServer, type TestSmtpServer, tokenFromMail } from '../helpers/smtp.js'
import { type TestTarget, testTargets } from '../helpers/test-targets.js'

const AUTH = '/api/v1/auth'
const RESET_SUBJECT = 'Reset your password'
const VERIFY_SUBJECT = 'Confirm your e-mail address'

let smtp: TestSmtpServer
beforeAll(async () => {
  smtp = await startSmtpServer()
})
afterAll(async () => smtp?.stop())

/**
 * Builds the app against the test SMTP server with a mailer whose retries are short (the defaults
 * wait 1 s, 5 s and 30 s); its log lines go to the app's own logger so they show in t.logs.
 */
async function buildMailingApp(target: TestTarget, env: Record<string, string> = {}, clock?: Clock) {
  let t: TestApp | undefined
  const log = () => {
    if (!t) throw new Error('the mailer logged before the app was built')
    return t.kitsune.logger.child({ component: 'mail' })
  }
  const mailer: Mailer = createMailer({
    smtpUrl: smtp.url,
    from: 'Kitsune <no-reply@kitsune.test>',
    // Bodies hold tokens; SMTP mode must keep them out of the log even when this is on.
    logBodies: true,
    retryDelaysMs: [200, 400, 800],
    logger: {
      info: (obj, msg) => log().info(obj, msg),
      warn: (obj, msg) => log().warn(obj, msg),
      error: (obj, msg) => log().error(obj, msg),
    },
  })
  t = await buildTestApp({ target, clock, env: { SMTP_URL: smtp.url, ...env }, kitsune: { mailer } })
  return t
}

const mailFor = (to: string, subject: string, exclude: string[] = []) =>
  smtp.waitForMail((m) => m.to.includes(to) && m.subject === subject && !exclude.includes(m.text))

async function waitForLog(t: TestApp, msg: string, timeoutMs = 10_000) {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    const line = t.logs.find((l) => l.msg === msg)
    if (line) return line
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`no log line "${msg}" within ${timeoutMs} ms`)
}

describe.each(testTargets())('e-mail flows over SMTP on $name', (target) => {
  let t: TestApp
  const clock = fixedClock('2030-01-01T00:00:00Z')
  beforeAll(async () => {
    t = await buildMailingApp(target, {}, clock)
  })
  afterAll(async () => t?.close())

  const forgot = (email: string) =>
    t.inject({ method: 'POST', url: `${AUTH}/password/forgot`, payload: { email } })
  const reset = (token: string, new_password: string) =>
    t.inject({ method: 'POST', url: `${AUTH}/password/reset`, payload: { token, new_password } })
  const verify = (token: string) =>
    t.inject({ method: 'POST', url: `${AUTH}/email/verify`, payload: { token } })
  const requestReset = async (email: string, exclude: ReceivedMail[] = []) => {
    expect((await forgot(email)).statusCode).toBe(202)
    return tokenFromMail(
      await mailFor(
        email,
        RESET_SUBJECT,
        exclude.map((m) => m.text),
      ),
    )
  }
  const expectInvalidToken = (response: Awaited<ReturnType<typeof reset>>) => {
    expect(response.statusCode).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json()).toMatchObject({ status: 400, code: 'INVALID_EMAIL_TOKEN' })
  }

  describe('password reset', () => {
    it('answers 202 and mails a reset link whose token works exactly once', async () => {
      const user = await registerUser(t)
      const response = await forgot(user.email)
      expect(response.statusCode).toBe(202)
      const mail = await mailFor(user.email, RESET_SUBJECT)
      expect(mail.text).toContain('http://kitsune.test/ui/reset-password?token=')
      expect(mail.html).toContain('http://kitsune.test/ui/reset-password?token=')
      const token = tokenFromMail(mail)
      expect((await reset(token, 'a brand new passphrase')).statusCode).toBe(204)
      expectInvalidToken(await reset(token, 'yet another passphrase'))
    })

    it('ends every session, mails a password-changed notice, and only the new password logs in', async () => {
      const { user, tokens } = await registerAndLogin(t)
      const token = await requestReset(user.email)
      expect((await reset(token, 'a brand new passphrase')).statusCode).toBe(204)
      const me = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(tokens.access_token),
      })
      expect(me.statusCode).toBe(401)
      const refresh = await t.inject({
        method: 'POST',
        url: `${AUTH}/refresh`,
        payload: { refresh_token: tokens.refresh_token },
      })
      expect(refresh.statusCode).toBe(401)
      await mailFor(user.email, 'Your password was changed')
      expect(
        (await login(t, { email: user.email, password: 'a brand new passphrase' })).access_token,
      ).toBeTruthy()
      const old = await t.inject({
        method: 'POST',
        url: `${AUTH}/login`,
        payload: { email: user.email, password: user.password },
      })
      expect(old.statusCode).toBe(401)
    })

    it('refuses a reset token once PASSWORD_RESET_TTL has passed', async () => {
      const user = await registerUser(t)
      const token = await requestReset(user.email)
      clock.advance(t.kitsune.config.passwordResetTtlSeconds + 1)
      expectInvalidToken(await reset(token, 'a brand new passphrase'))
    })

    it('kills the older reset token when a newer one is issued', async () => {
      const user = await registerUser(t)
      expect((await forgot(user.email)).statusCode).toBe(202)
      const older = await mailFor(user.email, RESET_SUBJECT)
      const newer = await requestReset(user.email, [older])
      expectInvalidToken(await reset(tokenFromMail(older), 'a brand new passphrase'))
      expect((await reset(newer, 'a brand new passphrase')).statusCode).toBe(204)
    })

    it('refuses a common password with 422 and leaves the token usable', async () => {
      const user = await registerUser(t)
      const token = await requestReset(user.email)
      const response = await reset(token, 'password123')
      expect(response.statusCode).toBe(422)
      expect(response.json().errors).toEqual([expect.objectContaining({ field: '/new_password' })])
      expect((await reset(token, 'a brand new passphrase')).statusCode).toBe(204)
    })

    it('gives an unknown e-mail the same 202 body and sends no mail', async () => {
      const user = await registerUser(t)
      const known = await forgot(user.email)
      const nobody = uniqueEmail('nobody')
      const unknown = await forgot(nobody)
      expect(unknown.statusCode).toBe(202)
      expect(unknown.json()).toEqual(known.json())
      await t.kitsune.mailer.idle()
      expect(smtp.mailsTo(user.email).filter((m) => m.subject === RESET_SUBJECT)).toHaveLength(1)
      expect(smtp.mailsTo(nobody)).toEqual([])
    })

    it('sends at most 3 reset mails per address per hour but always answers 202', async () => {
      const user = await registerUser(t)
      for (let i = 0; i < 5; i++) expect((await forgot(user.email)).statusCode).toBe(202)
      await t.kitsune.mailer.idle()
      expect(smtp.mailsTo(user.email).filter((m) => m.subject === RESET_SUBJECT)).toHaveLength(3)
    })
  })

  describe('e-mail verification', () => {
    it('mails a verification link on registration whose token verifies the address once', async () => {
      const { user, tokens } = await registerAndLogin(t)
      const mail = await mailFor(user.email, VERIFY_SUBJECT)
      expect(mail.text).toContain('http://kitsune.test/ui/verify-email?token=')
      const token = tokenFromMail(mail)
      expect((await verify(token)).statusCode).toBe(204)
      const me = await t.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(tokens.access_token),
      })
      expect(me.json().email_verified).toBe(true)
      expectInvalidToken(await verify(token))
    })

    it('resends a new link on request (202) and the older link dies', async () => {
      const { user, tokens } = await registerAndLogin(t)
      const older = await mailFor(user.email, VERIFY_SUBJECT)
      const resend = await t.inject({
        method: 'POST',
        url: `${AUTH}/email/verify/resend`,
        headers: bearer(tokens.access_token),
      })
      expect(resend.statusCode).toBe(202)
      const newer = await mailFor(user.email, VERIFY_SUBJECT, [older.text])
      expectInvalidToken(await verify(tokenFromMail(older)))
      expect((await verify(tokenFromMail(newer))).statusCode).toBe(204)
    })
  })

  describe('delivery failures', () => {
    /** The e-mail jobs, newest first (their payloads are sealed: they are told apart by id). */
    const mailJobs = () =>
      t.kitsune.database.db
        .selectFrom('jobs')
        .select(['id', 'state', 'attempts', 'last_error', 'payload'])
        .where('kind', '=', 'email.send')
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute()

    it('still answers 202 when the SMTP server is down, keeps the e-mail in the queue and delivers it on a retry', async () => {
      const user = await registerUser(t)
      await t.kitsune.mailer.idle()
      let queuedId: string | undefined
      await smtp.stop()
      try {
        expect((await forgot(user.email)).statusCode).toBe(202)
        const warning = await waitForLog(t, 'job failed; will retry')
        expect(warning).toMatchObject({ level: 'warn', component: 'jobs', kind: 'email.send', attempts: 1 })
        // Sealed with SECRET_KEY: the queued message shows neither the address nor the link.
        const [queued] = await mailJobs()
        queuedId = queued?.id
        expect(queued?.state).toBe('queued')
        expect(JSON.stringify(queued?.payload)).not.toContain(user.email)
        expect(JSON.stringify(queued?.payload)).not.toContain('reset-password')
      } finally {
        await smtp.start()
      }
      // The retry is due within the first back-off (at most 10 s): move past it.
      clock.advance(60)
      t.kitsune.jobs.wake()
      const mail = await mailFor(user.email, RESET_SUBJECT)
      expect((await reset(tokenFromMail(mail), 'a brand new passphrase')).statusCode).toBe(204)
      await t.kitsune.mailer.idle()
      const sent = (await mailJobs()).find((job) => job.id === queuedId)
      // Done, and its payload emptied: the message (and its link) is gone from the database.
      expect(sent).toMatchObject({ state: 'done', attempts: 2, payload: {} })
    })

    it('dead-letters an e-mail still refused after a day, where operators see it, and sends nothing', async () => {
      const user = await registerUser(t)
      await t.kitsune.mailer.idle()
      smtp.refuseDelivery(true)
      try {
        expect((await forgot(user.email)).statusCode).toBe(202)
        await waitForLog(t, 'job failed; will retry')
        for (let hour = 0; hour < 26; hour++) {
          clock.advance(3600)
          await t.kitsune.mailer.idle()
        }
        const dead = await waitForLog(t, 'job failed for good: dead-lettered')
        expect(dead).toMatchObject({ level: 'error', component: 'jobs', kind: 'email.send' })
      } finally {
        smtp.refuseDelivery(false)
      }
      const listed = await t.kitsune.jobs.list({ state: 'dead', kind: 'email.send' })
      expect(listed[0]?.last_error).toMatch(/451|refus|temporar/i)
      expect(listed[0]?.attempts).toBeGreaterThan(3)
      expect(smtp.mailsTo(user.email).filter((m) => m.subject === RESET_SUBJECT)).toEqual([])
    })
  })

  it('audits the reset request, the reset and the verification', async () => {
    const user = await registerUser(t)
    expect((await verify(tokenFromMail(await mailFor(user.email, VERIFY_SUBJECT)))).statusCode).toBe(204)
    expect((await reset(await requestReset(user.email), 'a brand new passphrase')).statusCode).toBe(204)
    const rows = await t.kitsune.database.db
      .selectFrom('audit_logs')
      .select('action')
      .where('target_id', '=', user.id)
      .execute()
    expect(rows.map((r) => r.action)).toEqual(
      expect.arrayContaining(['password.reset_requested', 'password.reset', 'email.verified']),
    )
  })

  it('never writes a reset or verification token to the log', async () => {
    const user = await registerUser(t)
    const verifyToken = tokenFromMail(await mailFor(user.email, VERIFY_SUBJECT))
    expect((await verify(verifyToken)).statusCode).toBe(204)
    const resetToken = await requestReset(user.email)
    expect((await reset(resetToken, 'a brand new passphrase')).statusCode).toBe(204)
    await t.kitsune.mailer.idle()
    const logs = t.logText()
    expect(logs).toContain('"route":"/api/v1/auth/password/reset","status":204')
    expect(logs).not.toContain(verifyToken)
    expect(logs).not.toContain(resetToken)
    expect(logs).not.toContain(encodeURIComponent(resetToken))
  })
})

describe.each(testTargets())('REQUIRE_EMAIL_VERIFICATION=true on $name', (target) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildMailingApp(target, { REQUIRE_EMAIL_VERIFICATION: 'true' })
  })
  afterAll(async () => t?.close())

  it('answers 403 EMAIL_NOT_VERIFIED to the right password, 401 to a wrong one, and logs in once verified', async () => {
    const user = await registerUser(t)
    const attempt = (password: string) =>
      t.inject({ method: 'POST', url: `${AUTH}/login`, payload: { email: user.email, password } })
    const unverified = await attempt(user.password)
    expect(unverified.statusCode).toBe(403)
    expect(unverified.json()).toMatchObject({ status: 403, code: 'EMAIL_NOT_VERIFIED' })
    const wrong = await attempt('not the password')
    expect(wrong.statusCode).toBe(401)
    expect(wrong.json().code).toBe('INVALID_CREDENTIALS')
    const token = tokenFromMail(await mailFor(user.email, VERIFY_SUBJECT))
    const verified = await t.inject({ method: 'POST', url: `${AUTH}/email/verify`, payload: { token } })
    expect(verified.statusCode).toBe(204)
    expect((await attempt(user.password)).statusCode).toBe(200)
  })
})
