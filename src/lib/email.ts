import { domainToASCII } from 'node:url'

const MAX_EMAIL_LENGTH = 254
// Deliberately simple (WHATWG's "valid e-mail address" shape): the real check is the
// verification mail; this only keeps obvious garbage out.
const LOCAL_PART = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+$/
const DOMAIN =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/

/**
 * Trims, lower-cases and IDNA-normalises the domain (`bücher.example` → `xn--bcher-kva.example`);
 * undefined when the result is not a plausible address of at most 254 characters.
 */
export function normalizeEmail(raw: string): string | undefined {
  const trimmed = raw.trim().toLowerCase()
  const at = trimmed.lastIndexOf('@')
  if (at <= 0 || at === trimmed.length - 1) return undefined
  const local = trimmed.slice(0, at)
  const domain = domainToASCII(trimmed.slice(at + 1))
  if (!domain || local.length > 64 || !LOCAL_PART.test(local) || !DOMAIN.test(domain)) return undefined
  const email = `${local}@${domain}`
  return email.length <= MAX_EMAIL_LENGTH ? email : undefined
}
