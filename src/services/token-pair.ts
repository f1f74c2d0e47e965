/** The body every successful login, MFA step-up and refresh returns. */
export interface TokenPair {
  access_token: string
  token_type: 'bearer'
  expires_in: number
  refresh_token: string
  refresh_expires_in: number
}

export function tokenPair(
  access: { token: string; expiresIn: number },
  refreshToken: string,
  sessionExpiresAt: Date,
  now: Date,
): TokenPair {
  return {
    access_token: access.token,
    token_type: 'bearer',
    expires_in: access.expiresIn,
    refresh_token: refreshToken,
    refresh_expires_in: Math.max(0, Math.floor((sessionExpiresAt.getTime() - now.getTime()) / 1000)),
  }
}
