import { describe, expect, it } from 'vitest'
import { en } from '../../src/web/i18n/en.js'
import { CONFIRM_SUBJECT, emailChangeSuite, NOTICE_SUBJECT } from '../helpers/email-change.js'
import { login, registerUser, uniqueEmail } from '../helpers/factories.js'
import { hiddenField, type PageClient, pageClient } from '../helpers/page-client.js'
import { testTargets } from '../helpers/test-targets.js'

const AUTH = '/api/v1/auth'
const CSRF_COOKIE = '__Host-kitsune-csrf'

describe.each(testTargets())('change-of-address pages on $name', (target) => {
  const s = emailChangeSuite(target)
  const { requestChange, lastMail, linkOf, accountOf } = s

  describe('pages', () => {
    const csrfOf = (browser: PageClient) => browser.cookie(CSRF_COOKIE) ?? ''
    const pendingChange = async () => {
      const user = await registerUser(s.t())
      const newEmail = uniqueEmail('page')
      await requestChange(user, newEmail)
      const link = linkOf(await lastMail(newEmail, CONFIRM_SUBJECT))
      const undoLink = linkOf(await lastMail(user.email, NOTICE_SUBJECT))
      return {
        user,
        newEmail,
        url: link.pathname + link.search,
        token: link.searchParams.get('token') ?? '',
        undoUrl: undoLink.pathname + undoLink.search,
        undoToken: undoLink.searchParams.get('token') ?? '',
      }
    }

    it('shows a button on GET, confirms on POST, then the link is spent', async () => {
      const { user, newEmail, url, token } = await pendingChange()
      const browser = pageClient(s.t())
      const page = await browser.get(url)
      expect(page.statusCode).toBe(200)
      expect(page.body).toContain(en['email_change.submit'])
      expect(hiddenField(page.body, 'token')).toBe(token)
      expect((await accountOf(user.id)).email).toBe(user.email)

      const confirmed = await browser.post('/ui/email-change', { csrf: csrfOf(browser), token })
      expect(confirmed.statusCode).toBe(303)
      expect(confirmed.headers.location).toBe('/ui/email-change/done')
      expect((await browser.get('/ui/email-change/done')).body).toContain(en['email_change.done_title'])
      expect((await accountOf(user.id)).email).toBe(newEmail)

      const spent = await browser.post('/ui/email-change', { csrf: csrfOf(browser), token })
      expect(spent.statusCode).toBe(400)
      expect(spent.body).toContain(en['link.invalid_title'])
      expect(s.t().logText()).not.toContain(token)
    })

    it('refuses the POST without the browser’s CSRF token and changes nothing', async () => {
      const { user, token, undoToken } = await pendingChange()
      expect((await pageClient(s.t()).post('/ui/email-change', { token })).statusCode).toBe(403)
      expect((await pageClient(s.t()).post('/ui/email-change/undo', { token: undoToken })).statusCode).toBe(
        403,
      )
      expect((await accountOf(user.id)).email).toBe(user.email)
    })

    it('answers a missing or unknown token with the invalid-link page', async () => {
      const browser = pageClient(s.t())
      expect((await browser.get('/ui/email-change')).statusCode).toBe(400)
      const response = await browser.post('/ui/email-change', { csrf: csrfOf(browser), token: 'nope' })
      expect(response.statusCode).toBe(400)
      expect(response.body).toContain(en['email_change.invalid_body'])
      const undoResponse = await browser.post('/ui/email-change/undo', {
        csrf: csrfOf(browser),
        token: 'nope',
      })
      expect(undoResponse.statusCode).toBe(400)
      expect(undoResponse.body).toContain(en['email_change.undo_invalid_body'])
    })

    it('tells on the page when the address was taken meanwhile', async () => {
      const { newEmail, url, token } = await pendingChange()
      await registerUser(s.t(), { email: newEmail })
      const browser = pageClient(s.t())
      await browser.get(url)
      const response = await browser.post('/ui/email-change', { csrf: csrfOf(browser), token })
      expect(response.statusCode).toBe(409)
      expect(response.body).toContain(en['email_change.taken_title'])
    })

    it('undoes from the old address’s link: button, POST, a page that says every session was signed out', async () => {
      const { user, undoUrl, undoToken } = await pendingChange()
      const tokens = await login(s.t(), user)
      const browser = pageClient(s.t())
      const page = await browser.get(undoUrl)
      expect(page.statusCode).toBe(200)
      expect(page.body).toContain(en['email_change.undo_submit'])
      expect(hiddenField(page.body, 'token')).toBe(undoToken)
      const undone = await browser.post('/ui/email-change/undo', { csrf: csrfOf(browser), token: undoToken })
      expect(undone.statusCode).toBe(303)
      expect(undone.headers.location).toBe('/ui/email-change/undo/done')
      const done = await browser.get('/ui/email-change/undo/done')
      expect(done.body).toContain(en['email_change.undo_done_title'])
      expect(done.body).toContain('/ui/forgot-password')
      const refresh = await s.t().inject({
        method: 'POST',
        url: `${AUTH}/refresh`,
        payload: { refresh_token: tokens.refresh_token },
      })
      expect(refresh.statusCode).toBe(401)
      expect(s.t().logText()).not.toContain(undoToken)
    })
  })
})
