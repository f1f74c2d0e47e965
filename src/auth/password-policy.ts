import { validationError } from '../errors/app-error.js'

/**
 * NIST SP 800-63B 5.1.1.2: check new passwords against commonly used ones. The list is the
 * 10,000 highest-ranked entries of zxcvbn-ts's frequency-ordered common-password dictionary
 * (@zxcvbn-ts/language-common, MIT), compared case-insensitively.
 */
const COMMON_LIMIT = 10_000
let common: Promise<Set<string>> | undefined

/** Loaded on first use: the dictionary costs ~10 MB of memory a process that never sets a password need not pay. */
function commonPasswords(): Promise<Set<string>> {
  common ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => {
    const ranked = (dictionary as Record<string, string[]>)['passwords-common'] ?? []
    return new Set(ranked.slice(0, COMMON_LIMIT).map((p) => p.toLowerCase()))
  })
  return common
}

/** Throws a 422 on `field` when a new password is too common or is the account's e-mail. */
export async function assertAcceptablePassword(
  password: string,
  email: string | undefined,
  field = '/password',
): Promise<void> {
  const lowered = password.toLowerCase()
  if ((await commonPasswords()).has(lowered)) {
    throw validationError(field, 'is one of the most commonly used passwords; choose another')
  }
  if (email) {
    const address = email.toLowerCase()
    if (lowered === address || lowered === address.slice(0, address.lastIndexOf('@'))) {
      throw validationError(field, 'must not be your e-mail address')
    }
  }
}
