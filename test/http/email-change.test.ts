import { describe, expect, it } from 'vitest'
import { CONFIRM_SUBJECT, emailChangeSuite, NOTICE_SUBJECT } from '../helpers/email-change.js'
import { bearer, login, registerUser, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const AUTH = '/api/v1/auth'
const HOUR = 3600
const DAY = 24 * HOUR

describe.each(testTargets())('change of e-mail address through the API on $name', (target) => {
  const s = emailChangeSuite(target)
  const {
    clock,
    requestChange,
    confirm,
    undo,
    mailsTo,
    lastMail,
    linkOf,
    tokenOf,
    accountOf,
    auditOf,
    expectInvalidLink,
  } = s

  describe('POST /api/v1/users/me/email and the confirmation link', () => {
    it('mails a link to the new address and an undo notice to the old one; the link changes the address once', async () => {
      const user = await registerUser(s.t())
      const newEmail = uniqueEmail('new')
      const response = await requestChange(user, newEmail)
      expect(response.statusCode).toBe(202)
      expect(response.json()).toMatchObject({ status: 'accepted' })

      const link = linkOf(await lastMail(newEmail, CONFIRM_SUBJECT))
      expect(`${link.origin}${link.pathname}`).toBe('https://kitsune.test/ui/email-change')
      const notice = await lastMail(user.email, NOTICE_SUBJECT)
      expect(notice.text).toContain(newEmail)
      const undoLink = linkOf(notice)
      expect(`${undoLink.origin}${undoLink.pathname}`).toBe('https://kitsune.test/ui/email-change/undo')
      // Nothing changes before the link is used.
      expect((await accountOf(user.id)).email).toBe(user.email)

      const token = link.searchParams.get('token') ?? ''
      expect((await confirm(token)).statusCode).toBe(204)
      expect(await accountOf(user.id)).toMatchObject({ email: newEmail, email_verified: true })
      expect((await login(s.t(), { email: newEmail, password: user.password })).access_token).toBeTruthy()
      const old = await s.t().inject({
        method: 'POST',
        url: `${AUTH}/login`,
        payload: { email: user.email, password: user.password },
      })
      expect(old.statusCode).toBe(401)
      expectInvalidLink(await confirm(token))

      expect(await auditOf(user.id, 'email.change_requested')).toMatchObject([
        { actor_id: user.id, metadata: { new_email: newEmail, confirmation_sent: true } },
      ])
      expect(await auditOf(user.id, 'email.changed')).toMatchObject([
        { actor_id: user.id, metadata: { from: user.email, to: newEmail } },
      ])
      expect(s.t().logText()).not.toContain(token)
      expect(s.t().logText()).not.toContain(tokenOf(notice))
    })

    it('shows the new address at once on GET /users/me (the cached state is invalidated)', async () => {
      const user = await registerUser(s.t())
      const tokens = await login(s.t(), user)
      const me = () =>
        s.t().inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(tokens.access_token) })
      expect((await me()).json().email).toBe(user.email)
      const newEmail = uniqueEmail('cached')
      await requestChange(user, newEmail)
      expect((await confirm(tokenOf(await lastMail(newEmail, CONFIRM_SUBJECT)))).statusCode).toBe(204)
      expect((await me()).json()).toMatchObject({ email: newEmail, email_verified: true })
    })

    it('answers 401 INVALID_CREDENTIALS for a wrong password and sends nothing', async () => {
      const user = await registerUser(s.t())
      const newEmail = uniqueEmail('wrongpw')
      const response = await requestChange(user, newEmail, 'not the password')
      expect(response.statusCode).toBe(401)
      expect(response.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' })
      expect(await mailsTo(newEmail, CONFIRM_SUBJECT)).toHaveLength(0)
      expect(await mailsTo(user.email, NOTICE_SUBJECT)).toHaveLength(0)
    })

    it('refuses a malformed address, an unknown field and a missing bearer token', async () => {
      const user = await registerUser(s.t())
      const headers = bearer((await login(s.t(), user)).access_token)
      const post = (payload: object, h: Record<string, string> = headers) =>
        s.t().inject({ method: 'POST', url: '/api/v1/users/me/email', headers: h, payload })
      expect((await post({ new_email: 'not an address', password: user.password })).statusCode).toBe(422)
      expect((await post({ new_email: user.email, password: user.password })).statusCode).toBe(422)
      expect(
        (await post({ new_email: uniqueEmail(), password: user.password, email_verified: true })).statusCode,
      ).toBe(422)
      expect((await post({ new_email: uniqueEmail(), password: user.password }, {})).statusCode).toBe(401)
    })

    it('does not tell that the new address is taken: same answer, no link to it, the same notice', async () => {
      const user = await registerUser(s.t())
      const other = await registerUser(s.t())
      const free = await requestChange(user, uniqueEmail('free'))
      const taken = await requestChange(user, other.email)
      expect(taken.statusCode).toBe(free.statusCode)
      expect(taken.json()).toEqual(free.json())
      expect(await mailsTo(other.email, CONFIRM_SUBJECT)).toHaveLength(0)
      expect((await lastMail(user.email, NOTICE_SUBJECT)).text).toContain(other.email)
      expect(await auditOf(user.id, 'email.change_requested')).toContainEqual(
        expect.objectContaining({ metadata: { new_email: other.email, confirmation_sent: false } }),
      )
    })

    it('fails the confirmation cleanly (409 EMAIL_TAKEN) when the address was taken meanwhile', async () => {
      const user = await registerUser(s.t())
      const newEmail = uniqueEmail('race')
      await requestChange(user, newEmail)
      const token = tokenOf(await lastMail(newEmail, CONFIRM_SUBJECT))
      await registerUser(s.t(), { email: newEmail })
      const response = await confirm(token)
      expect(response.statusCode).toBe(409)
      expect(response.json()).toMatchObject({ code: 'EMAIL_TAKEN' })
      expect(response.json().detail).toContain('another account')
      expect((await accountOf(user.id)).email).toBe(user.email)
      expect(await auditOf(user.id, 'email.changed')).toHaveLength(0)
    })

    it('a newer request kills the older confirmation link', async () => {
      const user = await registerUser(s.t())
      const first = uniqueEmail('first')
      await requestChange(user, first)
      const older = tokenOf(await lastMail(first, CONFIRM_SUBJECT))
      await requestChange(user, uniqueEmail('second'))
      expectInvalidLink(await confirm(older))
      // A request for a taken address replaces the pending one just the same.
      const other = await registerUser(s.t())
      const third = uniqueEmail('third')
      await requestChange(other, third)
      const pending = tokenOf(await lastMail(third, CONFIRM_SUBJECT))
      await requestChange(other, user.email)
      expectInvalidLink(await confirm(pending))
    })

    it('the confirmation link expires after EMAIL_VERIFICATION_TTL (48 h)', async () => {
      const user = await registerUser(s.t())
      const newEmail = uniqueEmail('late')
      await requestChange(user, newEmail)
      const mail = await lastMail(newEmail, CONFIRM_SUBJECT)
      expect(mail.text).toContain('48 hours')
      clock.advance(48 * HOUR + 1)
      expectInvalidLink(await confirm(tokenOf(mail)))
      expect((await accountOf(user.id)).email).toBe(user.email)
    })

    it('answers 400 INVALID_EMAIL_TOKEN for an unknown token on both paths', async () => {
      expectInvalidLink(await confirm('A'.repeat(43)))
      expectInvalidLink(await undo('A'.repeat(43)))
      expectInvalidLink(await confirm('x'))
    })

    it('writes the mails in the account’s language', async () => {
      const user = await registerUser(s.t())
      await s.t().kitsune.services.users.rememberLocale(user.id, 'es')
      const newEmail = uniqueEmail('es')
      await requestChange(user, newEmail)
      const mail = await lastMail(newEmail, 'Confirma tu nueva dirección de correo')
      expect(linkOf(mail).searchParams.get('ui_locales')).toBe('es')
      expect((await lastMail(user.email, 'Se ha pedido cambiar tu dirección de correo')).text).toContain(
        newEmail,
      )
    })

    it('sends at most 3 change mails an hour to one address', async () => {
      const user = await registerUser(s.t())
      for (let n = 0; n < 5; n++)
        expect((await requestChange(user, uniqueEmail(`budget${n}`))).statusCode).toBe(202)
      expect(await mailsTo(user.email, NOTICE_SUBJECT)).toHaveLength(3)
    })
  })

  describe('POST /api/v1/auth/email/change/undo', () => {
    it('restores the old address, ends every session and kills pending changes', async () => {
      const user = await registerUser(s.t())
      const newEmail = uniqueEmail('hijack')
      const tokens = await login(s.t(), user)
      await requestChange(user, newEmail)
      const undoToken = tokenOf(await lastMail(user.email, NOTICE_SUBJECT))
      expect((await confirm(tokenOf(await lastMail(newEmail, CONFIRM_SUBJECT)))).statusCode).toBe(204)
      // The new address asks for another change: its link must die with the undo.
      const moved = { ...user, email: newEmail }
      const third = uniqueEmail('third')
      await requestChange(moved, third)
      const pending = tokenOf(await lastMail(third, CONFIRM_SUBJECT))

      expect((await undo(undoToken)).statusCode).toBe(204)
      expect(await accountOf(user.id)).toMatchObject({ email: user.email, email_verified: true })
      const refresh = await s.t().inject({
        method: 'POST',
        url: `${AUTH}/refresh`,
        payload: { refresh_token: tokens.refresh_token },
      })
      expect(refresh.statusCode).toBe(401)
      expect(
        (await s.t().inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(tokens.access_token) }))
          .statusCode,
      ).toBe(401)
      expectInvalidLink(await confirm(pending))
      expectInvalidLink(await undo(undoToken))
      const [entry] = await auditOf(user.id, 'email.change_undone')
      expect(entry?.metadata).toMatchObject({ from: newEmail, to: user.email, restored: true })
      expect(Number(entry?.metadata.sessions_ended)).toBeGreaterThan(0)
    })

    it('a later undo link cannot cancel an earlier one', async () => {
      const user = await registerUser(s.t())
      const hijacked = uniqueEmail('taker')
      await requestChange(user, hijacked)
      const ownersUndo = tokenOf(await lastMail(user.email, NOTICE_SUBJECT))
      clock.advance(1)
      await confirm(tokenOf(await lastMail(hijacked, CONFIRM_SUBJECT)))
      await requestChange({ ...user, email: hijacked }, uniqueEmail('again'))
      const takersUndo = tokenOf(await lastMail(hijacked, NOTICE_SUBJECT))
      clock.advance(1)
      expect((await undo(takersUndo)).statusCode).toBe(204)
      expect((await undo(ownersUndo)).statusCode).toBe(204)
      expect((await accountOf(user.id)).email).toBe(user.email)
    })

    it('works for 7 days and not after', async () => {
      const user = await registerUser(s.t())
      await requestChange(user, uniqueEmail('week1'))
      const inTime = tokenOf(await lastMail(user.email, NOTICE_SUBJECT))
      clock.advance(7 * DAY - 60)
      expect((await undo(inTime)).statusCode).toBe(204)

      const other = await registerUser(s.t())
      await requestChange(other, uniqueEmail('week2'))
      const late = tokenOf(await lastMail(other.email, NOTICE_SUBJECT))
      clock.advance(7 * DAY + 1)
      expectInvalidLink(await undo(late))
    })
  })
})
