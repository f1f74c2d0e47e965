import type { FastifyRequest } from 'fastify'
import { parseCookies, serializeCookie } from './cookies.js'
import type { CookiePolicy } from './csrf.js'

/** The pages' sign-in cookie: `__Host-` prefixed wherever the CSRF cookie is. */
export function browserSessionCookieName(policy: CookiePolicy): string {
  return policy.secure ? '__Host-kitsune-session' : 'kitsune-session'
}

export function browserSessionCookie(
  policy: CookiePolicy,
  value: string,
  expiresAt: Date,
  now: Date,
): string {
  return serializeCookie(browserSessionCookieName(policy), value, {
    secure: policy.secure,
    httpOnly: true,
    sameSite: 'Lax',
    maxAge: Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)),
  })
}

export function clearedBrowserSessionCookie(policy: CookiePolicy): string {
  return serializeCookie(browserSessionCookieName(policy), '', {
    secure: policy.secure,
    httpOnly: true,
    sameSite: 'Lax',
    maxAge: 0,
  })
}

/** The sign-in cookie's value, if the browser sent one. */
export function browserSessionCookieOf(request: FastifyRequest, policy: CookiePolicy): string | undefined {
  return parseCookies(request.headers.cookie).get(browserSessionCookieName(policy))
}
