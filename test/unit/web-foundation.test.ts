import { describe, expect, it } from 'vitest'
import { parseCookies, serializeCookie } from '../../src/web/cookies.js'
import {
  cookiePolicy,
  csrfCookie,
  csrfTokensMatch,
  generateCsrfToken,
  isCsrfToken,
} from '../../src/web/csrf.js'
import { chooseLocale, translator } from '../../src/web/i18n/i18n.js'

describe('parseCookies', () => {
  it('reads name=value pairs separated by semicolons, trimming spaces and quotes', () => {
    const cookies = parseCookies('a=1; b="two" ;c=three=3;  d=')
    expect([...cookies]).toEqual([
      ['a', '1'],
      ['b', 'two'],
      ['c', 'three=3'],
      ['d', ''],
    ])
  })

  it('keeps the first of two cookies with one name (the most specific path comes first)', () => {
    expect(parseCookies('k=first; k=second').get('k')).toBe('first')
  })

  it('skips pairs without a name or with an invalid one, and an absent or huge header', () => {
    expect([...parseCookies('=x; bad name=1; ok=2; noequals')]).toEqual([['ok', '2']])
    expect(parseCookies(undefined).size).toBe(0)
    expect(parseCookies(`a=${'x'.repeat(9000)}`).size).toBe(0)
  })

  it('does not let a cookie named __proto__ reach an object prototype', () => {
    const cookies = parseCookies('__proto__=polluted; constructor=x')
    expect(cookies.get('__proto__')).toBe('polluted')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('serializeCookie', () => {
  it('writes the attributes in a fixed order, with Max-Age only when asked', () => {
    expect(serializeCookie('n', 'v', { secure: true, httpOnly: true, sameSite: 'Lax' })).toBe(
      'n=v; Path=/; Secure; HttpOnly; SameSite=Lax',
    )
    expect(serializeCookie('n', '', { secure: false, httpOnly: false, sameSite: 'Strict', maxAge: 0 })).toBe(
      'n=; Path=/; Max-Age=0; SameSite=Strict',
    )
  })

  it('refuses a name or value that would break the header', () => {
    const options = { secure: true, httpOnly: true, sameSite: 'Lax' } as const
    expect(() => serializeCookie('a b', 'v', options)).toThrow()
    expect(() => serializeCookie('n', 'v; Domain=evil.example', options)).toThrow()
    expect(() => serializeCookie('n', 'line\r\nbreak', options)).toThrow()
  })
})

describe('cookiePolicy', () => {
  it.each([
    ['https://id.example.com', true],
    ['https://id.example.com:8443', true],
    ['http://localhost:8000', true],
    ['http://127.0.0.1:8000', true],
    ['http://[::1]:8000', true],
    ['http://id.example.com', false],
    ['http://192.168.1.10:8000', false],
  ])('%s: __Host- prefix and Secure is %s', (publicUrl, secure) => {
    const policy = cookiePolicy(publicUrl)
    expect(policy.secure).toBe(secure)
    expect(policy.csrfCookieName).toBe(secure ? '__Host-kitsune-csrf' : 'kitsune-csrf')
    expect(policy.warning === undefined).toBe(secure)
  })

  it('sets the CSRF cookie host-only on Path=/, HttpOnly and SameSite=Lax', () => {
    const token = generateCsrfToken()
    expect(csrfCookie(cookiePolicy('https://id.example.com'), token)).toBe(
      `__Host-kitsune-csrf=${token}; Path=/; Secure; HttpOnly; SameSite=Lax`,
    )
    expect(csrfCookie(cookiePolicy('http://id.example.com'), token)).toBe(
      `kitsune-csrf=${token}; Path=/; HttpOnly; SameSite=Lax`,
    )
  })
})

describe('CSRF tokens', () => {
  it('are 256-bit base64url strings, different every time', () => {
    const a = generateCsrfToken()
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(isCsrfToken(a)).toBe(true)
    expect(generateCsrfToken()).not.toBe(a)
  })

  it('match only the same token, and never a cookie Kitsune could not have issued', () => {
    const token = generateCsrfToken()
    expect(csrfTokensMatch(token, token)).toBe(true)
    expect(csrfTokensMatch(token, generateCsrfToken())).toBe(false)
    expect(csrfTokensMatch(token, `${token}x`)).toBe(false)
    expect(csrfTokensMatch(token, token.slice(0, 42))).toBe(false)
    expect(csrfTokensMatch(token, undefined)).toBe(false)
    expect(csrfTokensMatch(token, [token])).toBe(false)
    expect(csrfTokensMatch(undefined, token)).toBe(false)
    expect(csrfTokensMatch('', '')).toBe(false)
    expect(csrfTokensMatch('short', 'short')).toBe(false)
  })
})

describe('chooseLocale', () => {
  it.each([
    ['es', undefined, 'es', true],
    ['fr es', 'en', 'es', true],
    ['es-MX', undefined, 'es', true],
    ['de', 'es', 'es', false],
    [undefined, 'es-ES,es;q=0.9,en;q=0.8', 'es', false],
    [undefined, 'fr, en;q=0.5, es;q=0.8', 'es', false],
    [undefined, 'es;q=0, en', 'en', false],
    [undefined, 'ES', 'es', false],
    [undefined, '*', 'en', false],
    [undefined, 'garbage;;;q=x,,', 'en', false],
    [undefined, undefined, 'en', false],
  ])('ui_locales=%s, Accept-Language=%s → %s', (uiLocales, acceptLanguage, locale, fromQuery) => {
    expect(chooseLocale(uiLocales, acceptLanguage)).toEqual({ locale, fromQuery })
  })
})

describe('translator', () => {
  it('fills {places} and leaves unknown ones as they are', () => {
    expect(translator('en')('reset.error_too_short', { min: 8 })).toBe('Use at least 8 characters')
    expect(translator('es')('reset.error_too_short', { min: 8 })).toBe('Usa al menos 8 caracteres')
    expect(translator('en')('reset.error_too_short')).toBe('Use at least {min} characters')
  })
})
