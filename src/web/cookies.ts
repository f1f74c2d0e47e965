/** The attributes Kitsune sets on its cookies; there is no Domain attribute, ever (host-only). */
export interface CookieOptions {
  readonly path?: string
  readonly secure: boolean
  readonly httpOnly: boolean
  readonly sameSite: 'Strict' | 'Lax'
  /** Seconds; absent for a cookie that ends with the browser session, 0 to delete. */
  readonly maxAge?: number
}

// RFC 6265 section 4.1.1: a cookie name is a token, a value is cookie-octets (no space, quote,
// comma, semicolon or backslash). Kitsune only ever writes values of this shape.
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/
/** Longer Cookie headers are not parsed at all: nothing Kitsune sets comes close. */
const MAX_HEADER_LENGTH = 8192

/**
 * The cookies of a Cookie request header, by name. The first of two cookies with one name wins
 * (browsers send the one with the longer path first, RFC 6265 section 5.4). Values in double
 * quotes lose them; values are not percent-decoded, since Kitsune never encodes its own.
 */
export function parseCookies(header: string | undefined): ReadonlyMap<string, string> {
  const cookies = new Map<string, string>()
  if (!header || header.length > MAX_HEADER_LENGTH) return cookies
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq <= 0) continue
    const name = pair.slice(0, eq).trim()
    let value = pair.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    if (!NAME.test(name) || cookies.has(name)) continue
    cookies.set(name, value)
  }
  return cookies
}

/** A Set-Cookie header value; throws on a name or value that would need escaping. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  if (!NAME.test(name)) throw new Error(`invalid cookie name: ${name}`)
  if (!VALUE.test(value)) throw new Error(`invalid value for cookie ${name}`)
  const parts = [`${name}=${value}`, `Path=${options.path ?? '/'}`]
  if (options.maxAge !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAge))}`)
  if (options.secure) parts.push('Secure')
  if (options.httpOnly) parts.push('HttpOnly')
  parts.push(`SameSite=${options.sameSite}`)
  return parts.join('; ')
}
