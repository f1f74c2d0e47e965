import { afterAll, beforeAll, expect } from 'vitest'
import { fixedClock } from '../../src/lib/clock.js'
import type { MailMessage } from '../../src/mail/mailer.js'
import { buildTestApp, type TestApp } from './build-test-app.js'
import { bearer, login, type TestUser } from './factories.js'
import { memoryMailer } from './oidc.js'
import type { TestTarget } from './test-targets.js'

export const ADMIN = { email: 'email-change-admin@example.com', password: 'admin password 1234' }
export const CONFIRM_SUBJECT = 'Confirm your new e-mail address'
export const NOTICE_SUBJECT = 'A change of your e-mail address was requested'
const AUTH = '/api/v1/auth'

/**
 * One app per suite for the change-of-address tests: mails captured in memory, a clock the tests
 * move, an administrator, and the requests and look-ups the suites share.
 */
export function emailChangeSuite(target: TestTarget) {
  const mailer = memoryMailer()
  const clock = fixedClock('2030-01-01T00:00:00Z')
  let app: TestApp | undefined
  const t = () => {
    if (!app) throw new Error('the app is built in beforeAll')
    return app
  }
  beforeAll(async () => {
    app = await buildTestApp({
      target,
      clock,
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, PUBLIC_URL: 'https://kitsune.test' },
      kitsune: { mailer },
    })
  })
  afterAll(async () => app?.close())

  /** The messages sent so far to `to` with `subject`, once every e-mail due has been through the queue. */
  const mailsTo = async (to: string, subject: string) => {
    await t().kitsune.mailer.idle()
    return mailer.messages.filter((m) => m.to === to && m.subject === subject)
  }
  const linkOf = (mail: MailMessage) => new URL(mail.text.match(/https?:\/\/\S+/)?.[0] ?? '')
  const confirm = (token: string) =>
    t().inject({ method: 'POST', url: `${AUTH}/email/change/confirm`, payload: { token } })

  return {
    t,
    clock,
    /** A fresh administrator token: tests move the clock past an access token's life. */
    adminAuth: async () => bearer((await login(t(), ADMIN)).access_token),
    requestChange: async (user: TestUser, newEmail: string, password = user.password) =>
      t().inject({
        method: 'POST',
        url: '/api/v1/users/me/email',
        headers: bearer((await login(t(), user)).access_token),
        payload: { new_email: newEmail, password },
      }),
    confirm,
    undo: (token: string) =>
      t().inject({ method: 'POST', url: `${AUTH}/email/change/undo`, payload: { token } }),
    mailsTo,
    lastMail: async (to: string, subject: string): Promise<MailMessage> => {
      const mail = (await mailsTo(to, subject)).at(-1)
      if (!mail) throw new Error(`no "${subject}" mail to ${to}`)
      return mail
    },
    linkOf,
    tokenOf: (mail: MailMessage) => linkOf(mail).searchParams.get('token') ?? '',
    accountOf: (id: string) =>
      t()
        .kitsune.database.db.selectFrom('users')
        .select(['email', 'email_verified'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow(),
    auditOf: (id: string, action: string) =>
      t()
        .kitsune.database.db.selectFrom('audit_logs')
        .select(['actor_id', 'metadata'])
        .where('target_id', '=', id)
        .where('action', '=', action)
        .execute(),
    expectInvalidLink: (response: Awaited<ReturnType<typeof confirm>>) => {
      expect(response.statusCode).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json()).toMatchObject({ status: 400, code: 'INVALID_EMAIL_TOKEN' })
    },
  }
}
