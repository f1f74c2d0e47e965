import type { AccessTokens } from '../auth/access-tokens.js'
import { generateOpaqueToken } from '../auth/opaque-tokens.js'
import type { PasswordHasher } from '../auth/password-hasher.js'
import { assertAcceptablePassword } from '../auth/password-policy.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import { AppError, validationError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import { normalizeEmail } from '../lib/email.js'
import { uuidv7 } from '../lib/uuid.js'
import type { AuthMetrics } from '../observability/metrics.js'
import type { Repositories } from '../repositories/repositories.js'
import type { UserRecord } from '../repositories/user.repository.js'
import type { AuditService } from './audit.service.js'
import type { AuthStateService } from './auth-state.service.js'
import type { EmailFlowsService } from './email-flows.service.js'
import type { LoginThrottle } from './login-throttle.service.js'
import type { MfaChallenge, MfaService } from './mfa.service.js'
import type { Principal, RequestContext } from './request-context.js'
import { type TokenPair, tokenPair } from './token-pair.js'

export const DEFAULT_ROLE = 'user'

/** A browser session opened by the pages' sign-in. */
export interface BrowserSignIn {
  sessionId: string
  userId: string
  expiresAt: Date
  authTime: Date
  /** RFC 8176 methods: pwd, otp. */
  amr: string[]
}

/** NIST SP 800-63B 5.1.1.2: Unicode passwords are NFKC-normalised before hashing. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC')
}

export function requireEmail(raw: string, field = '/email'): string {
  const email = normalizeEmail(raw)
  if (!email) throw validationError(field, 'must be a valid e-mail address of at most 254 characters')
  return email
}

export function createAuthService(deps: {
  uow: UnitOfWork<Repositories>
  hasher: PasswordHasher
  accessTokens: AccessTokens
  authState: AuthStateService
  audit: AuditService
  throttle: LoginThrottle
  emailFlows: EmailFlowsService
  mfa: MfaService
  clock: Clock
  refreshTokenTtlSeconds: number
  requireEmailVerification: boolean
  metrics: AuthMetrics
}) {
  const { metrics } = deps
  const { uow, hasher, accessTokens, authState, audit, throttle, emailFlows, clock, refreshTokenTtlSeconds } =
    deps

  return {
    async register(
      input: { email: string; password: string; full_name?: string | null; locale?: string },
      ctx: RequestContext,
    ): Promise<UserRecord> {
      const email = requireEmail(input.email)
      await assertAcceptablePassword(normalizePassword(input.password), email)
      const fullName = input.full_name?.trim() || null
      // Hash before the transaction: no row lock or connection is held during the slow part.
      const passwordHash = await hasher.hash(normalizePassword(input.password))
      const now = clock.now()
      const user = await uow.run(async (repos, tx) => {
        const id = uuidv7()
        await repos.users.insert({
          id,
          email,
          full_name: fullName,
          password_hash: passwordHash,
          created_at: now,
          updated_at: now,
          password_changed_at: now,
          // The pages' language at sign-up (API registrations keep the default, English).
          locale: input.locale === 'es' || input.locale === 'en' ? input.locale : null,
        })
        await repos.users.addRole(id, DEFAULT_ROLE)
        const user = await repos.users.getById(id)
        await emailFlows.sendVerificationOnRegister(repos, tx, user)
        await audit.record(repos, tx, ctx, {
          action: 'user.registered',
          actorId: id,
          targetType: 'user',
          targetId: id,
        })
        return user
      })
      metrics.registration()
      return user
    },

    /**
     * Checks e-mail and password and opens a session. Every failure before the password checks
     * out is the same INVALID_CREDENTIALS, and an unknown e-mail still costs one argon2 verify,
     * so neither the answer nor its timing tells whether the account exists.
     */
    async login(
      input: { email: string; password: string },
      ctx: RequestContext,
    ): Promise<TokenPair | MfaChallenge> {
      const checked = await this.checkPassword(input, ctx)
      // The password alone never opens a session for an MFA account: a step-up token instead.
      if (checked.mfaEnabled) {
        metrics.login('mfa_required')
        return deps.mfa.challenge(checked.userId)
      }
      const pair = await this.openSession(checked.userId, ctx, 'password')
      metrics.login('success')
      return pair
    },

    /**
     * The pages' sign-in: the same checks as login() (one code path: throttle, argon2id, the
     * uniform failure, e-mail verification, rehash, MFA), opening a browser session instead of
     * issuing tokens.
     */
    async signIn(
      input: { email: string; password: string },
      ctx: RequestContext,
      current?: { sessionId: string; userId: string },
    ): Promise<BrowserSignIn | MfaChallenge> {
      const checked = await this.checkPassword(input, ctx)
      if (checked.mfaEnabled) {
        metrics.login('mfa_required')
        return deps.mfa.challenge(checked.userId)
      }
      const opened = await this.openBrowserSession(checked.userId, ctx, ['pwd'], 'password', current)
      metrics.login('success')
      return opened
    },

    /** Second step of a page sign-in for an MFA account. */
    async signInMfa(
      input: { mfa_token: string; code: string },
      ctx: RequestContext,
      current?: { sessionId: string; userId: string },
    ): Promise<BrowserSignIn> {
      const { userId, method } = await deps.mfa.completeChallenge(input.mfa_token, input.code, ctx)
      return this.openBrowserSession(userId, ctx, ['pwd', 'otp'], method, current)
    },

    /** Everything login() checks before it opens a session; throws the uniform failure. */
    async checkPassword(
      input: { email: string; password: string },
      ctx: RequestContext,
    ): Promise<{ userId: string; mfaEnabled: boolean }> {
      const email = normalizeEmail(input.email)
      const account = email ?? input.email.trim().toLowerCase().slice(0, 254)
      let hadFailures: boolean
      try {
        hadFailures = await throttle.check(account, ctx.ip)
      } catch (error) {
        metrics.login('locked')
        throw error
      }
      const password = normalizePassword(input.password)
      const credentials = email ? await uow.read.users.findCredentialsByEmail(email) : undefined
      if (!credentials) {
        await hasher.verifyDummy(password)
        return this.loginFailed(null, account, 'unknown_email', ctx)
      }
      let ok = await hasher.verify(credentials.password_hash, password)
      // An imported hash was made by a system that did not normalise: the password as typed is
      // tried too (once; it is re-hashed below in its normalised form).
      if (!ok && password !== input.password && !credentials.password_hash.startsWith('$argon2id$'))
        ok = await hasher.verify(credentials.password_hash, input.password)
      if (!ok) await this.loginFailed(credentials.id, account, 'bad_password', ctx)
      if (!credentials.is_active) await this.loginFailed(credentials.id, account, 'inactive', ctx)
      if (hadFailures) await throttle.succeeded(account, ctx.ip)
      // Only after the password checked out, so this answer reveals nothing to a guesser.
      if (deps.requireEmailVerification && !credentials.email_verified) {
        throw new AppError('EMAIL_NOT_VERIFIED', {
          detail: 'confirm your e-mail address with the link we sent, then log in',
        })
      }
      if (hasher.needsRehash(credentials.password_hash)) {
        // Imported bcrypt hashes and older argon2 parameters are upgraded while we hold the password.
        const upgraded = await hasher.hash(password)
        await uow.read.users.replaceHash(credentials.id, credentials.password_hash, upgraded)
      }
      return { userId: credentials.id, mfaEnabled: credentials.mfa_enabled }
    },

    /**
     * Opens a browser session (the pages' cookie) for a user whose credentials have been checked.
     * A browser already signed in as this user (signing in again for prompt=login, max_age or a
     * second factor) keeps its session, with the new sign-in time and methods.
     */
    async openBrowserSession(
      userId: string,
      ctx: RequestContext,
      amr: readonly string[],
      method: string,
      current?: { sessionId: string; userId: string },
    ): Promise<BrowserSignIn> {
      const now = clock.now()
      const expiresAt = new Date(now.getTime() + refreshTokenTtlSeconds * 1000)
      return uow.run(async (repos, tx) => {
        if (
          current?.userId === userId &&
          (await repos.sessions.reauthenticate(current.sessionId, userId, amr, now))
        ) {
          await audit.record(repos, tx, ctx, {
            action: 'user.login',
            actorId: userId,
            targetType: 'session',
            targetId: current.sessionId,
            metadata: { method, browser: true, reauthenticated: true },
          })
          const session = await repos.sessions.findById(current.sessionId)
          return {
            sessionId: current.sessionId,
            userId,
            expiresAt: session?.expires_at ?? expiresAt,
            authTime: now,
            amr: [...amr],
          }
        }
        const id = uuidv7()
        const opened = await repos.sessions.openBrowser(
          {
            id,
            user_id: userId,
            created_at: now,
            last_used_at: now,
            expires_at: expiresAt,
            ip: ctx.ip,
            user_agent: ctx.userAgent,
          },
          amr,
        )
        if (!opened) throw new AppError('INVALID_CREDENTIALS')
        await audit.record(repos, tx, ctx, {
          action: 'user.login',
          actorId: userId,
          targetType: 'session',
          targetId: id,
          metadata: { method, browser: true },
        })
        return { sessionId: id, userId, expiresAt, authTime: now, amr: [...amr] }
      })
    },

    /** Audits the failure (never the password) and throws the one uniform error. */
    async loginFailed(
      userId: string | null,
      email: string,
      reason: string,
      ctx: RequestContext,
    ): Promise<never> {
      metrics.login('bad_credentials')
      const lockedForSeconds = await throttle.failed(email, ctx.ip)
      await audit.recordAlone(ctx, {
        action: 'user.login_failed',
        actorId: userId,
        targetType: 'user',
        targetId: userId ?? undefined,
        metadata: { email, reason },
      })
      // The account took its hourly maximum of wrong passwords: it waits out the hour.
      if (lockedForSeconds !== undefined && userId)
        await audit.recordAlone(ctx, {
          action: 'user.locked',
          actorId: null,
          targetType: 'user',
          targetId: userId,
          metadata: { seconds: lockedForSeconds, failures: 'hourly maximum' },
        })
      throw new AppError('INVALID_CREDENTIALS')
    },

    /** Second step of an MFA login: a TOTP or recovery code against the step-up token. */
    async loginMfa(input: { mfa_token: string; code: string }, ctx: RequestContext): Promise<TokenPair> {
      const { userId, method } = await deps.mfa.completeChallenge(input.mfa_token, input.code, ctx)
      return this.openSession(userId, ctx, method)
    },

    /** Starts a session for a user whose credentials have been checked. */
    async openSession(userId: string, ctx: RequestContext, method: string): Promise<TokenPair> {
      const now = clock.now()
      const expiresAt = new Date(now.getTime() + refreshTokenTtlSeconds * 1000)
      return uow.run(async (repos, tx) => {
        const id = uuidv7()
        const refresh = generateOpaqueToken()
        const opened = await repos.sessions.open(
          {
            id,
            user_id: userId,
            created_at: now,
            last_used_at: now,
            expires_at: expiresAt,
            ip: ctx.ip,
            user_agent: ctx.userAgent,
          },
          refresh.hash,
        )
        if (!opened) throw new AppError('INVALID_CREDENTIALS')
        const access = await accessTokens.issue({ userId, sessionId: id, roles: opened.roles })
        const pair = tokenPair(access, refresh.token, expiresAt, now)
        await audit.record(repos, tx, ctx, {
          action: 'user.login',
          actorId: userId,
          targetType: 'session',
          targetId: id,
          metadata: { method },
        })
        return pair
      })
    },

    /** Resolves a bearer token to a principal, or throws INVALID_TOKEN (or DEPENDENCY_DOWN). */
    async authenticate(token: string): Promise<Principal> {
      const claims = await accessTokens.verify(token)
      return authState.principalFor(claims)
    },
  }
}

export type AuthService = ReturnType<typeof createAuthService>
