import { validationError } from '../errors/app-error.js'

/** NIST SP 800-63B 5.1.1.2: at least 8 characters, and room for long passphrases. */
export const PASSWORD_MIN_LENGTH = 8
export const PASSWORD_MAX_LENGTH = 256

/**
 * NIST SP 800-63B 5.1.1.2: check new passwords against commonly used ones. The list is the
 * 10,000 highest-ranked entries of zxcvbn-ts's frequency-ordered common-password dictionary
 * (@zxcvbn-ts/language-common, MIT), lowercased and compared case-insensitively; it is extracted
 * into common-passwords.data.ts by scripts/common-passwords.ts (the whole dictionary would keep
 * ~3 MB of heap that this list does not need).
 */
let common: Promise<Set<string>> | undefined

/** Loaded on first use: a process that never sets a password does not hold the list. */
function commonPasswords(): Promise<Set<string>> {
  common ??= import('./common-passwords.data.js').then(
    ({ COMMON_PASSWORDS }) => new Set(COMMON_PASSWORDS.split('\n')),
  )
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
