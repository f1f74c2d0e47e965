/**
 * English, the reference catalogue: its keys are the MessageKey type, which every other catalogue
 * must cover. `{name}` marks a value filled in by t().
 */
export const en = {
  'layout.skip_link': 'Skip to main content',
  'layout.error_prefix': 'Error',
  'layout.home_label': 'Kitsune, home',

  'form.error_summary_title': 'There is a problem',
  'form.show_password_hint': 'Passwords are case-sensitive.',

  'nav.sign_in': 'Go to sign in',
  'nav.back_to_sign_in': 'Back to sign in',
  'nav.new_reset_link': 'Ask for a new link',

  'forgot.title': 'Forgot your password?',
  'forgot.intro':
    'Enter the e-mail address of your account and we will send you a link to choose a new password.',
  'forgot.email_label': 'E-mail address',
  'forgot.submit': 'Send me a link',
  'forgot.error_email_missing': 'Enter your e-mail address',
  'forgot.error_email_invalid': 'Enter an e-mail address in the right format, like name@example.com',
  'forgot.sent_title': 'Check your inbox',
  'forgot.sent_body':
    'If an account exists for that address, a link to choose a new password is on its way. The link works once and expires soon.',
  'forgot.sent_hint': 'Nothing after a few minutes? Check your spam folder, or ask for a new link.',

  'reset.title': 'Choose a new password',
  'reset.intro':
    'Use at least {min} characters. A few unrelated words make a password that is long and easy to remember.',
  'reset.new_label': 'New password',
  'reset.confirm_label': 'Confirm the new password',
  'reset.submit': 'Save my new password',
  'reset.error_new_missing': 'Enter a new password',
  'reset.error_too_short': 'Use at least {min} characters',
  'reset.error_too_long': 'Use at most {max} characters',
  'reset.error_common': 'This password is one of the most commonly used: choose another',
  'reset.error_is_email': 'Do not use your e-mail address as your password',
  'reset.error_rejected': 'Choose another password',
  'reset.error_confirm_missing': 'Type the new password a second time',
  'reset.error_mismatch': 'The two passwords do not match',
  'reset.done_title': 'Your password has been changed',
  'reset.done_body':
    'For your security, every session of your account has been signed out. Sign in again with your new password.',

  'verify.title': 'Confirm your e-mail address',
  'verify.intro': 'Select the button below to confirm that this e-mail address is yours.',
  'verify.submit': 'Confirm my address',
  'verify.done_title': 'Your address is confirmed',
  'verify.done_body': 'Thank you: your e-mail address is now verified.',

  'link.invalid_title': 'This link is invalid or has expired',
  'link.invalid_reset_body':
    'A reset link works only once and only for a short time. Ask for a new one and use the latest e-mail.',
  'link.invalid_verify_body':
    'A verification link works only once and only for a short time. Sign in and ask for a new one from your account.',

  'error.title': 'Something went wrong',
  'error.body': 'We could not complete your request. Please try again in a moment.',
  'error.not_found_title': 'Page not found',
  'error.not_found_body':
    'Check the address. If you followed a link from an e-mail, it may have been cut short.',
  'error.csrf_title': 'This form has expired',
  'error.csrf_body':
    'For your security, the form was not sent. Go back, reload the page and try again. Cookies must be allowed for this site.',
  'error.rate_limited_title': 'Too many attempts',
  'error.rate_limited_body': 'Please wait {seconds} seconds, then try again.',
  'error.unavailable_title': 'Temporarily unavailable',
  'error.unavailable_body': 'The service cannot answer right now. Please try again in a moment.',
  'error.bad_request_title': 'The request could not be understood',
  'error.bad_request_body': 'Go back, reload the page and try again.',
} as const satisfies Record<string, string>

export type MessageKey = keyof typeof en
