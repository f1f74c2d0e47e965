import type { AccessTokens } from '../auth/access-tokens.js'
import { generateOpaqueToken } from '../auth/opaque-tokens.js'
import type { Repositories } from '../repositories/repositories.js'

/** The body every successful login, MFA step-up and refresh returns. */
export interface TokenPair {
  access_token: string
  token_type: 'bearer'
  expires_in: number
  refresh_token: string
  refresh_expires_in: number
}

/**
 * Issues a fresh refresh token for the session (inside the caller's transaction) and a signed
 * access token carrying the session id.
 */
export async function issueTokenPair(
  repos: Repositories,
  accessTokens: AccessTokens,
  session: { id: string; userId: string; expiresAt: Date; roles: readonly string[] },
  now: Date,
): Promise<TokenPair> {
  const refresh = generateOpaqueToken()
  await repos.refreshTokens.insert({
    token_hash: refresh.hash,
    session_id: session.id,
    created_at: now,
    expires_at: session.expiresAt,
  })
  const access = await accessTokens.issue({
    userId: session.userId,
    sessionId: session.id,
    roles: session.roles,
  })
  return {
    access_token: access.token,
    token_type: 'bearer',
    expires_in: access.expiresIn,
    refresh_token: refresh.token,
    refresh_expires_in: Math.max(0, Math.floor((session.expiresAt.getTime() - now.getTime()) / 1000)),
  }
}
