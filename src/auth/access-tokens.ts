import { randomUUID } from 'node:crypto'
import { type JWTPayload, jwtVerify } from 'jose'
import type { JwtAlgorithm } from '../config/config.schema.js'
import { AppError } from '../errors/app-error.js'
import { type Clock, epochSeconds } from '../lib/clock.js'
import type { SigningKey } from './signing-keys.js'

export interface AccessTokenClaims {
  readonly sub: string
  readonly sid: string
  readonly jti: string
  readonly iat: number
  readonly exp: number
  readonly roles: readonly string[]
}

export interface KeySource {
  /** The key that signs new tokens. */
  current(): SigningKey
  /** The key for a `kid`, or undefined when it is unknown or retired. */
  find(kid: string): Promise<SigningKey | undefined>
}

export interface AccessTokens {
  issue(subject: { userId: string; sessionId: string; roles: readonly string[] }): Promise<{
    token: string
    expiresIn: number
    claims: AccessTokenClaims
  }>
  /** Verifies signature and claims; throws INVALID_TOKEN for anything that does not check out. */
  verify(token: string): Promise<AccessTokenClaims>
}

// RFC 9068 media type: an access token cannot be confused with another JWT from the same key.
const TOKEN_TYPE = 'at+jwt'
const CLOCK_SKEW_SECONDS = 5
const base64url = (text: string) => Buffer.from(text).toString('base64url')
/** Verified tokens kept in memory (oldest evicted first): roughly one per active client. */
const VERIFIED_CACHE_SIZE = 10_000

export function createAccessTokens(options: {
  keys: KeySource
  algorithm: JwtAlgorithm
  issuer: string
  audience: string
  ttlSeconds: number
  clock: Clock
}): AccessTokens {
  const { keys, algorithm, issuer, audience, ttlSeconds, clock } = options
  const verified = new Map<string, AccessTokenClaims>()
  return {
    async issue({ userId, sessionId, roles }) {
      const key = keys.current()
      if (!key.sign) throw new Error('current signing key cannot sign')
      const iat = epochSeconds(clock.now())
      const claims: AccessTokenClaims = {
        sub: userId,
        sid: sessionId,
        jti: randomUUID(),
        iat,
        exp: iat + ttlSeconds,
        roles,
      }
      // Header and claims exactly as jose would write them; verification stays with jose.
      const header = { alg: key.algorithm, kid: key.kid, typ: TOKEN_TYPE }
      const payload = {
        sid: sessionId,
        roles: [...roles],
        iss: issuer,
        aud: audience,
        sub: userId,
        jti: claims.jti,
        iat,
        nbf: iat,
        exp: claims.exp,
      }
      const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`
      const token = `${signingInput}.${key.sign(signingInput).toString('base64url')}`
      return { token, expiresIn: ttlSeconds, claims }
    },
    async verify(token) {
      const cached = verified.get(token)
      // A token is immutable: once its signature and claims checked out, only time can change
      // the verdict. Revocation is decided separately, on every request, by the auth state.
      if (cached && cached.exp > epochSeconds(clock.now())) return cached
      const claims = await verifyFully(token)
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value as string)
      verified.set(token, claims)
      return claims
    },
  }

  async function verifyFully(token: string): Promise<AccessTokenClaims> {
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(
        token,
        async (header) => {
          const key = header.kid ? await keys.find(header.kid) : undefined
          if (!key || key.algorithm !== header.alg) throw new Error('unknown key')
          return key.verifyKey
        },
        {
          algorithms: [algorithm],
          issuer,
          audience,
          typ: TOKEN_TYPE,
          currentDate: clock.now(),
          clockTolerance: CLOCK_SKEW_SECONDS,
          requiredClaims: ['sub', 'exp', 'iat', 'nbf', 'jti', 'sid'],
        },
      ))
    } catch (error) {
      if (error instanceof AppError) throw error
      throw new AppError('INVALID_TOKEN', { cause: error })
    }
    const { sub, sid, jti, iat, exp, roles } = payload
    if (typeof sid !== 'string' || !Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) {
      throw new AppError('INVALID_TOKEN')
    }
    return { sub: sub as string, sid, jti: jti as string, iat: iat as number, exp: exp as number, roles }
  }
}
