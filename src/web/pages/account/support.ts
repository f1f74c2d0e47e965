import type { FastifyReply, FastifyRequest } from 'fastify'
import type { BrowserSession } from '../../../services/browser-session.service.js'
import type { Principal } from '../../../services/request-context.js'
import { browserSessionCookieOf } from '../../browser-cookie.js'
import type { PageContext, PageDeps } from '../../page-context.js'

/** Password, e-mail, two-step and deletion need a sign-in at most this old (session.authTime). */
export const RECENT_SIGN_IN_MS = 10 * 60_000

/** Whether this sign-in is recent enough for the pages that change how the account signs in. */
export function isRecent(clock: { now(): Date }, session: BrowserSession): boolean {
  return clock.now().getTime() - session.authTime.getTime() <= RECENT_SIGN_IN_MS
}

/** The principal the JSON API would have for this browser's sign-in: the services take it. */
export function principalOf(session: BrowserSession): Principal {
  return {
    userId: session.user.id,
    sessionId: session.sessionId,
    roles: session.user.roles,
    tokenExpiresAt: 0,
  }
}

/** The sign-in page that comes back to `path`, asking for the password again when `reauth`. */
export function signInFor(page: PageContext, path: string, reauth = false): string {
  return page.href(`/ui/sign-in?return_to=${path}${reauth ? '&reauth=1' : ''}`)
}

/**
 * The browser's sign-in for a console page, or undefined after sending it to the sign-in page
 * (coming back to `path`): not signed in, or, for `recent` pages, signed in too long ago.
 */
export function sessionGuard(deps: PageDeps) {
  const { services, cookies, kitsune } = deps
  return async (
    request: FastifyRequest,
    reply: FastifyReply,
    page: PageContext,
    path: string,
    options: { recent?: boolean } = {},
  ): Promise<BrowserSession | undefined> => {
    const session = await services.browserSessions.resolve(browserSessionCookieOf(request, cookies))
    if (!session) {
      reply.redirect(signInFor(page, path), 303)
      return undefined
    }
    if (options.recent && !isRecent(kitsune.clock, session)) {
      reply.redirect(signInFor(page, path, true), 303)
      return undefined
    }
    return session
  }
}

/** A date and time in the page's language, in UTC (the server does not know the reader's zone). */
export function formatWhen(page: PageContext, when: Date): string {
  const text = new Intl.DateTimeFormat(page.locale === 'es' ? 'es-ES' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'UTC',
  }).format(when)
  return `${text} UTC`
}

const BROWSERS: ReadonlyArray<[RegExp, string]> = [
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/Chrome\/|CriOS\/|Chromium\//, 'Chrome'],
  [/Safari\//, 'Safari'],
  [/^curl\//, 'curl'],
  [/^Wget\//, 'Wget'],
  [/node|undici|axios|okhttp|python-requests|Go-http-client/i, 'a program'],
]
const SYSTEMS: ReadonlyArray<[RegExp, string]> = [
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/CrOS/, 'ChromeOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux/, 'Linux'],
]

/** "Firefox on Linux" from a User-Agent header; the header itself when neither is recognised. */
export function deviceOf(page: PageContext, userAgent: string | null): string {
  if (!userAgent) return page.t('account.unknown')
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1]
  const os = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1]
  if (browser && os) return page.t('account.device', { browser, os })
  if (browser) return browser
  return userAgent.length > 60 ? `${userAgent.slice(0, 57)}…` : userAgent
}
