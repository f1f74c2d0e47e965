/** Passkey messages of the sign-in pages (the consoles keep theirs in account.* and admin.*). */
export const passkeyEn = {
  'passkey.error': 'That did not work. Try again, or use another way to sign in.',
  'passkey.cancelled': 'The passkey request was cancelled or timed out.',
  'passkey.needs_js': 'Passkeys need JavaScript, which is off in this browser.',
  'passkey.sign_in': 'Continue with a passkey',
  'passkey.or': 'or',
  'passkey.use_for_mfa': 'Use a passkey',
  'passkey.mfa_intro_passkey': 'Confirm it is you with one of your passkeys.',
  'passkey.mfa_intro_both':
    'Confirm it is you with one of your passkeys, or enter the 6-digit code from your authenticator app or a recovery code.',
  'passkey.refused': 'This passkey was not accepted: {reason}',
  'passkey.expired': 'The passkey request expired. Try again.',
} as const satisfies Record<string, string>
