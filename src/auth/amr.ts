/**
 * RFC 8176 authentication method references Kitsune records on a session: `pwd` (a password),
 * `otp` (a TOTP or recovery code), `hwk` (a passkey: a key held by an authenticator) and `user`
 * (the authenticator verified the person: PIN or biometrics).
 */
export type AuthMethod = 'pwd' | 'otp' | 'hwk' | 'user'

/**
 * Whether a sign-in used more than one factor: a password and a second factor, or a passkey that
 * verified its holder (something held and something known or been, in one gesture).
 */
export function isMultiFactor(amr: readonly string[]): boolean {
  return amr.includes('otp') || (amr.includes('hwk') && (amr.includes('user') || amr.includes('pwd')))
}
