import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { serializeCookie } from './cookies.js'

/** The name of the hidden form field that carries the CSRF token. */
export const CSRF_FIELD = 'csrf'

const TOKEN = /^[A-Za-z0-9_-]{43}$/
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

export interface CookiePolicy {
  /** `__Host-kitsune-csrf`, or `kitsune-csrf` when the cookie cannot be Secure. */
  readonly csrfCookieName: string
  readonly secure: boolean
  /** Why the cookies lose their protection, for a warning at start; undefined when they keep it. */
  readonly warning: string | undefined
}

/**
 * `__Host-` cookies must be Secure, host-only and Path=/ (RFC 6265bis section 4.1.3.2), so no
 * subdomain can plant or overwrite them. Browsers keep Secure cookies over https and over plain
 * http on localhost (a potentially trustworthy origin); for any other plain-http PUBLIC_URL a
 * Secure cookie would never come back, so the cookies lose the prefix and Secure.
 */
export function cookiePolicy(publicUrl: string): CookiePolicy {
  const url = new URL(publicUrl)
  const secure = url.protocol === 'https:' || LOCAL_HOSTS.has(url.hostname)
  return {
    csrfCookieName: secure ? '__Host-kitsune-csrf' : 'kitsune-csrf',
    secure,
    warning: secure
      ? undefined
      : 'PUBLIC_URL is plain http on a host other than localhost: page cookies are sent without Secure or the __Host- prefix; use https in production',
  }
}

/** 256 random bits, base64url: one per browser, kept for its session. */
export function generateCsrfToken(): string {
  return randomBytes(32).toString('base64url')
}

/** A cookie value Kitsune could have issued (anything else is replaced, never trusted). */
export function isCsrfToken(value: string | undefined): value is string {
  return value !== undefined && TOKEN.test(value)
}

/** The Set-Cookie value that gives a browser its CSRF token. */
export function csrfCookie(policy: CookiePolicy, token: string): string {
  // HttpOnly: the token reaches the page in the form's hidden field, scripts never need the cookie.
  return serializeCookie(policy.csrfCookieName, token, {
    secure: policy.secure,
    httpOnly: true,
    sameSite: 'Lax',
  })
}

const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * Double-submit check (OWASP CSRF cheat sheet): the form's field must equal the browser's cookie,
 * which another site can neither read nor, with `__Host-`, set. Compared as SHA-256 digests with
 * timingSafeEqual, so neither the length nor a common prefix shows in the timing.
 */
export function csrfTokensMatch(cookieToken: string | undefined, fieldToken: unknown): boolean {
  if (!isCsrfToken(cookieToken) || typeof fieldToken !== 'string') return false
  return timingSafeEqual(digest(cookieToken), digest(fieldToken))
}
