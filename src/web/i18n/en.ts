import { accountEn } from './account.en.js'
import { adminEn } from './admin.en.js'
import { passkeyEn } from './passkey.en.js'

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

  'nav.sign_in_again': 'Sign in again',
  'sign_in.title': 'Sign in',
  'sign_in.for_client': 'to continue to {client}',
  'sign_in.email_label': 'E-mail address',
  'sign_in.password_label': 'Password',
  'sign_in.submit': 'Sign in',
  'sign_in.forgot': 'Forgot your password?',
  'sign_in.sign_up': 'Create an account',
  'sign_in.error_email_missing': 'Enter your e-mail address',
  'sign_in.error_password_missing': 'Enter your password',
  'sign_in.error_invalid': 'The e-mail address or the password is not correct',
  'sign_in.error_unverified': 'Confirm your e-mail address with the link we sent you, then sign in',
  'sign_in.expired_title': 'This sign-in has expired',
  'sign_in.expired_body': 'Go back to the application and start again.',
  'mfa.title': 'Two-step verification',
  'mfa.intro': 'Enter the 6-digit code from your authenticator app, or one of your recovery codes.',
  'mfa.code_label': 'Verification code',
  'mfa.code_hint': 'For example 123456',
  'mfa.submit': 'Verify',
  'mfa.error_missing': 'Enter the code from your authenticator app',
  'mfa.error_invalid': 'That code is not correct or has expired',
  'account.title': 'Your account',
  'account.signed_in_as': 'You are signed in as {email}.',
  'sign_up.title': 'Create an account',
  'sign_up.name_label': 'Full name (optional)',
  'sign_up.email_label': 'E-mail address',
  'sign_up.password_label': 'Password',
  'sign_up.password_hint': 'At least {min} characters. A few unrelated words make a strong password.',
  'sign_up.submit': 'Create account',
  'sign_up.have_account': 'Already have an account? Sign in',
  'sign_up.error_email_missing': 'Enter your e-mail address',
  'sign_up.error_email_invalid': 'Enter a valid e-mail address, like name@example.com',
  'sign_up.error_taken': 'An account with this e-mail address already exists: sign in instead',
  'sign_up.error_name_long': 'The name must be 200 characters or fewer',
  'sign_up.check_email_title': 'Check your e-mail',
  'sign_up.check_email_body': 'We sent you a link to confirm your e-mail address. Open it, then sign in.',
  'consent.title': 'Allow {client}?',
  'consent.intro': '{client} wants to use your account {email} to:',
  'consent.scope_openid': 'Know who you are',
  'consent.scope_profile': 'See your name',
  'consent.scope_email': 'See your e-mail address',
  'consent.scope_offline_access': 'Stay signed in when you are not using it',
  'consent.scope_roles': 'See your roles and permissions',
  'consent.resource': 'Call {resource} on your behalf',
  'consent.revoke_later': 'You can withdraw this permission at any time from your account.',
  'consent.allow': 'Allow',
  'consent.deny': 'Deny',
  'sign_out.title': 'Sign out',
  'sign_out.body': 'Do you want to sign out?',
  'sign_out.from_client': '{client} is signing you out. Sign out of every application too?',
  'sign_out.signed_in_as':
    'You are signed in as {email}. Signing out also signs you out of the applications you opened with this account here.',
  'sign_out.submit': 'Sign out',
  'sign_out.stay': 'Stay signed in',
  'sign_out.done_title': 'You are signed out',
  'sign_out.done_body': 'You have been signed out.',
  'sign_out.not_signed_in': 'You are not signed in on this browser.',
  'device.title': 'Connect a device',
  'device.intro': 'Enter the code shown on your device.',
  'device.code_label': 'Code',
  'device.submit': 'Continue',
  'device.error_invalid': 'That code is not valid: check it and try again',
  'device.error_expired': 'That code has expired: ask your device for a new one',
  'device.confirm_title': 'Confirm the device',
  'device.confirm_body':
    '{client} is asking to sign in with your account. Make sure this code matches the one on your device:',
  'device.confirm_submit': 'Continue',
  'device.abort': 'Cancel',
  'device.done_title': 'Device connected',
  'device.done_body': 'You can go back to your device now.',
  'oidc_error.title': 'The application could not sign you in',
  'oidc_error.body':
    'The request from the application was not valid. Go back to the application and try again; if this keeps happening, tell its administrator the details below.',
  'oidc_error.code': 'Error',
  'oidc_error.description': 'Details',
  'select_account.title': 'Choose an account',
  'select_account.body': 'Which account do you want to use with {client}?',
  'select_account.continue_as': 'Continue as {email}',
  'select_account.other': 'Use another account',
  'enrol.title': 'Set up two-step verification',
  'enrol.intro':
    'This application asks for a second step when you sign in. Scan this QR code with an authenticator app (such as Aegis, Google Authenticator or 1Password), then enter the 6-digit code it shows.',
  'enrol.qr_alt': 'QR code for your authenticator app',
  'enrol.manual': 'Cannot scan it? Enter this key in the app instead:',
  'enrol.submit': 'Turn on two-step verification',
  'enrol.codes_title': 'Save your recovery codes',
  'enrol.codes_intro':
    'Each code signs you in once if you lose your authenticator. Store them somewhere safe: they are shown only now.',
  'enrol.continue': 'I have saved them: continue',
  'sign_in.reauth': 'For your security, enter your password again to continue.',
  'email_change.title': 'Confirm your new e-mail address',
  'email_change.intro': 'Select the button below to make this address the e-mail address of your account.',
  'email_change.submit': 'Confirm my new address',
  'email_change.done_title': 'Your e-mail address has been changed',
  'email_change.done_body': 'From now on, sign in and receive messages with your new address.',
  'email_change.invalid_body':
    'A confirmation link works only once and only for a short time. Sign in and ask for the change again.',
  'email_change.taken_title': 'This address is already in use',
  'email_change.taken_body':
    'Another account uses this e-mail address, so the address of your account was not changed.',
  'email_change.undo_title': 'Undo the change of e-mail address',
  'email_change.undo_intro':
    'Select the button below to keep (or restore) this address as the e-mail address of your account. For your security, every session of your account will be signed out.',
  'email_change.undo_submit': 'Undo the change and sign out everywhere',
  'email_change.undo_done_title': 'The change has been undone',
  'email_change.undo_done_body':
    'Your account has this e-mail address again and every session was signed out. If you did not ask for the change, reset your password now.',
  'email_change.undo_invalid_body': 'An undo link works only once and for 7 days.',
  'email_change.undo_taken_body':
    'Every session of your account was signed out, but the old address now belongs to another account and could not be restored. Contact your administrator.',
  'email_change.reset_password': 'Reset my password',
  ...accountEn,
  ...adminEn,
  ...passkeyEn,
} as const satisfies Record<string, string>

export type MessageKey = keyof typeof en
