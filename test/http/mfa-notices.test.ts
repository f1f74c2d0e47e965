import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/lib/clock.js'
import type { Mailer, MailMessage } from '../../src/mail/mailer.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { enrolMfa, loginMfa, startMfaLogin, totpAt } from '../helpers/mfa.js'
import { testTargets } from '../helpers/test-targets.js'

/** Collects messages instead of sending them; SMTP itself is covered elsewhere. */
function createCollectingMailer(): Mailer & { sent: MailMessage[] } {
  const sent: MailMessage[] = []
  return {
    kind: 'log',
    sent,
    send: (message) => {
      sent.push(message)
    },
    deliver: async (message) => {
      sent.push(message)
    },
    defer: (task) => {
      void task()
    },
    idle: async () => {},
    close: async () => {},
  }
}

describe.each(testTargets())('MFA security notices on $name', (target) => {
  let t: TestApp
  const clock = fixedClock('2030-01-01T00:00:00Z')
  const mailer = createCollectingMailer()
  const subjectsTo = async (email: string) => {
    await t.kitsune.mailer.idle()
    return mailer.sent.filter((message) => message.to === email).map((message) => message.subject)
  }

  beforeAll(async () => {
    t = await buildTestApp({ target, clock, kitsune: { mailer } })
  })
  afterAll(async () => t?.close())

  it('tells the user when MFA is turned on', async () => {
    const { user } = await enrolMfa(t, clock)
    expect(await subjectsTo(user.email)).toContain('Two-factor authentication is on')
  })

  it('tells the user when MFA is turned off, and not before', async () => {
    const { user, headers, secret } = await enrolMfa(t, clock)
    expect(await subjectsTo(user.email)).not.toContain('Two-factor authentication is off')
    const response = await t.inject({
      method: 'DELETE',
      url: '/api/v1/users/me/mfa/totp',
      headers,
      payload: { code: totpAt(clock, secret) },
    })
    expect(response.statusCode).toBe(204)
    expect(await subjectsTo(user.email)).toContain('Two-factor authentication is off')
  })

  it('tells the user when a recovery code is used to sign in, but not for a TOTP login', async () => {
    const { user, secret, recoveryCodes } = await enrolMfa(t, clock)
    expect((await loginMfa(t, await startMfaLogin(t, user), totpAt(clock, secret))).statusCode).toBe(200)
    expect(await subjectsTo(user.email)).not.toContain('A recovery code was used')
    const response = await loginMfa(t, await startMfaLogin(t, user), recoveryCodes[0] as string)
    expect(response.statusCode).toBe(200)
    await t.kitsune.mailer.idle()
    const notice = mailer.sent.find(
      (message) => message.to === user.email && message.subject === 'A recovery code was used',
    )
    expect(notice?.text).toMatch(/recovery code/i)
    expect(notice?.text).not.toContain(recoveryCodes[0])
  })
})
