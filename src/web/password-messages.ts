import type { AppError } from '../errors/app-error.js'
import type { Translate } from './i18n/i18n.js'

/**
 * The password policy's refusal (auth/password-policy.ts) in the page's language: the same words
 * on the reset, sign-up and account pages.
 */
export function passwordPolicyMessage(error: AppError, t: Translate): string {
  const reason = error.errors?.[0]?.message ?? ''
  if (reason.includes('commonly used')) return t('reset.error_common')
  if (reason.includes('e-mail')) return t('reset.error_is_email')
  return t('reset.error_rejected')
}
