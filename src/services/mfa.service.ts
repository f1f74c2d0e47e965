import { generateOpaqueToken, hashOpaqueToken } from '../auth/opaque-tokens.js'
import type { PasswordHasher } from '../auth/password-hasher.js'
import type { SecretBox } from '../auth/secret-box.js'
import {
  enrolmentFor,
  generateRecoveryCodes,
  generateTotpSecret,
  hashRecoveryCode,
  matchTotpStep,
} from '../auth/totp.js'
import type { TransactionContext, UnitOfWork } from '../db/unit-of-work.js'
import { AppError } from '../errors/app-error.js'
import type { MailOutbox } from '../jobs/mail-jobs.js'
import type { Clock } from '../lib/clock.js'
import { mailLocale, type SecurityNoticeKind, type Templates } from '../mail/templates.js'
import type { Repositories } from '../repositories/repositories.js'
import type { Store } from '../stores/store.js'
import type { AuditService } from './audit.service.js'
import { normalizePassword } from './auth.service.js'
import type { AuthStateService } from './auth-state.service.js'
import type { Principal, RequestContext } from './request-context.js'

export const MFA_TOKEN_TTL_SECONDS = 300
const MFA_MAX_WRONG_CODES = 5
/** Wrong codes one account may take per window, across every mfa_token, before it must wait. */
const MFA_MAX_WRONG_CODES_PER_ACCOUNT = 10
const MFA_ACCOUNT_WINDOW_SECONDS = 900
export const MFA_METHODS = ['totp', 'recovery_code'] as const
/** The second factors a step-up token can be answered with: TOTP (and its recovery codes), a passkey. */
export type MfaMethod = 'totp' | 'recovery_code' | 'passkey'

export interface MfaChallenge {
  mfa_required: true
  mfa_token: string
  methods: readonly MfaMethod[]
}

/** The secret box context a user's TOTP secret is sealed under: it opens only as that user's. */
export const totpSealContext = (userId: string): string => `totp:${userId}`

/**
 * TOTP (RFC 6238) with recovery codes. Secrets are encrypted with SECRET_KEY; a code is accepted
 * at most once; the login step-up token is single-use, lives five minutes and dies after five
 * wrong codes.
 */
export function createMfaService(deps: {
  uow: UnitOfWork<Repositories>
  secretBox: SecretBox
  hasher: PasswordHasher
  audit: AuditService
  authState: AuthStateService
  outbox: MailOutbox
  templates: Templates
  store: Store
  clock: Clock
  issuer: string
}) {
  const { uow, secretBox, hasher, audit, authState, outbox, templates, store, clock, issuer } = deps
  const context = totpSealContext
  const challengeKey = (hash: string) => `mfa:${hash}`
  const attemptsKey = (hash: string) => `mfa:n:${hash}`
  const accountFailuresKey = (userId: string) => `mfa:fail:${userId}`
  const accountLockKey = (userId: string) => `mfa:lock:${userId}`

  /** A security notice to the account's address, written to the queue in this transaction. */
  const notify = async (
    repos: Repositories,
    tx: TransactionContext,
    user: { id: string; email: string },
    kind: SecurityNoticeKind,
    vars?: Record<string, string>,
  ) => {
    const locale = mailLocale(await repos.users.localeOf(user.id))
    await outbox.send(tx, templates.securityNotice(user.email, kind, locale, vars))
  }

  /** Checks a current TOTP code of a confirmed factor and burns its time step. */
  const useTotp = async (repos: Repositories, userId: string, code: string): Promise<boolean> => {
    const factor = await repos.mfa.findTotp(userId)
    if (!factor?.confirmed_at) return false
    const now = clock.now()
    const step = await matchTotpStep(secretBox.open(factor.secret_enc, context(userId)), code, now)
    return step !== undefined && (await repos.mfa.useStep(userId, step, now, false))
  }

  const newRecoveryCodes = async (repos: Repositories, userId: string) => {
    const { codes, hashes } = generateRecoveryCodes()
    await repos.mfa.replaceRecoveryCodes(userId, hashes, clock.now())
    return codes
  }

  return {
    /** The e-mail notice of a change to the account's factors, sent once the transaction commits. */
    notify,

    async beginEnrolment(principal: Principal) {
      const user = await uow.read.users.getById(principal.userId)
      // Two-step verification may already be on through a passkey: an app can still be added.
      if ((await uow.read.mfa.findTotp(user.id))?.confirmed_at) throw new AppError('MFA_ALREADY_ENABLED')
      const secret = await generateTotpSecret()
      await uow.read.mfa.upsertPendingTotp(user.id, secretBox.seal(secret, context(user.id)), clock.now())
      return { secret, ...(await enrolmentFor(secret, issuer, user.email)) }
    },

    async confirmEnrolment(
      principal: Principal,
      code: string,
      ctx: RequestContext,
    ): Promise<{ recovery_codes: string[] }> {
      return uow.run(async (repos, tx) => {
        const user = await repos.users.getById(principal.userId)
        const factor = await repos.mfa.findTotp(user.id)
        if (factor?.confirmed_at) throw new AppError('MFA_ALREADY_ENABLED')
        if (!factor)
          throw new AppError('MFA_NOT_ENABLED', {
            detail: 'start enrolment with POST /users/me/mfa/totp first',
          })
        const now = clock.now()
        const step = await matchTotpStep(secretBox.open(factor.secret_enc, context(user.id)), code, now)
        if (step === undefined || !(await repos.mfa.useStep(user.id, step, now, true)))
          throw new AppError('INVALID_MFA_CODE')
        await repos.mfa.setEnabled(user.id, true, now)
        await authState.invalidate(tx, { userIds: [user.id] })
        const codes = await newRecoveryCodes(repos, user.id)
        await audit.record(repos, tx, ctx, {
          action: 'mfa.enabled',
          actorId: user.id,
          targetType: 'user',
          targetId: user.id,
        })
        await notify(repos, tx, user, 'mfa_enabled')
        return { recovery_codes: codes }
      })
    },

    /** Turns MFA off after a current code or the password. */
    async disable(
      principal: Principal,
      proof: { code?: string; password?: string },
      ctx: RequestContext,
    ): Promise<void> {
      if (proof.password !== undefined) {
        const credentials = await uow.read.users.findCredentialsById(principal.userId)
        if (
          !credentials ||
          !(await hasher.verify(credentials.password_hash, normalizePassword(proof.password)))
        ) {
          throw new AppError('INVALID_CREDENTIALS', { detail: 'the password is not correct' })
        }
      }
      await uow.run(async (repos, tx) => {
        const user = await repos.users.getById(principal.userId)
        if (!user.mfa_enabled) throw new AppError('MFA_NOT_ENABLED')
        if (proof.password === undefined && !(await useTotp(repos, user.id, proof.code ?? '')))
          throw new AppError('INVALID_MFA_CODE')
        await this.removeFactor(repos, tx, user, principal.userId, ctx)
      })
    },

    /** Shared by the user's own disable and an administrator's reset (user-admin service). */
    async removeFactor(
      repos: Repositories,
      tx: TransactionContext,
      user: { id: string; email: string },
      actorId: string,
      ctx: RequestContext,
    ) {
      await repos.mfa.deleteAll(user.id)
      await repos.mfa.setEnabled(user.id, false, clock.now())
      await authState.invalidate(tx, { userIds: [user.id] })
      await audit.record(repos, tx, ctx, {
        action: 'mfa.disabled',
        actorId,
        targetType: 'user',
        targetId: user.id,
        metadata: actorId === user.id ? {} : { by_admin: true },
      })
      await notify(repos, tx, user, 'mfa_disabled')
    },

    async regenerateRecoveryCodes(
      principal: Principal,
      code: string,
      ctx?: RequestContext,
    ): Promise<{ recovery_codes: string[] }> {
      return uow.run(async (repos, tx) => {
        if (!(await useTotp(repos, principal.userId, code))) throw new AppError('INVALID_MFA_CODE')
        const codes = await newRecoveryCodes(repos, principal.userId)
        await audit.record(repos, tx, ctx, {
          action: 'mfa.recovery_codes_regenerated',
          actorId: principal.userId,
          targetType: 'user',
          targetId: principal.userId,
        })
        return { recovery_codes: codes }
      })
    },

    /** The account's second factors: two-step verification may be on through an app, passkeys, or both. */
    async factors(userId: string): Promise<{ enabled: boolean; app: boolean; passkeys: number }> {
      const [user, totp, passkeys] = await Promise.all([
        uow.read.users.getById(userId),
        uow.read.mfa.findTotp(userId),
        uow.read.passkeys.countByUser(userId),
      ])
      return { enabled: user.mfa_enabled, app: Boolean(totp?.confirmed_at), passkeys }
    },

    /** After the password checked out for an MFA account: a single-use, five-minute step-up token. */
    async challenge(userId: string): Promise<MfaChallenge> {
      const { token, hash } = generateOpaqueToken()
      const [totp, passkeys] = await Promise.all([
        uow.read.mfa.findTotp(userId),
        uow.read.passkeys.countByUser(userId),
      ])
      await store.set(challengeKey(hash), userId, MFA_TOKEN_TTL_SECONDS)
      const methods: MfaMethod[] = totp?.confirmed_at ? [...MFA_METHODS] : []
      if (passkeys > 0) methods.push('passkey')
      return { mfa_required: true, mfa_token: token, methods }
    },

    /** The account a live step-up token belongs to (a passkey step reads it to name the passkeys asked for). */
    async challengeOwner(mfaToken: string): Promise<string | undefined> {
      return store.get(challengeKey(hashOpaqueToken(mfaToken)))
    },

    /**
     * Ends a step-up token answered with another factor (a passkey): true only for the first
     * caller, and only when the token is this account's.
     */
    async consumeChallenge(mfaToken: string, userId: string): Promise<boolean> {
      const hash = hashOpaqueToken(mfaToken)
      const owner = await store.take(challengeKey(hash))
      await store.del([attemptsKey(hash)])
      return owner === userId
    },

    /**
     * Checks the second factor; returns the user id to open a session for. Wrong codes count
     * against the token, which dies after five.
     */
    async completeChallenge(
      mfaToken: string,
      code: string,
      ctx: RequestContext,
    ): Promise<{ userId: string; method: string }> {
      const hash = hashOpaqueToken(mfaToken)
      const userId = await store.get(challengeKey(hash))
      if (!userId)
        throw new AppError('INVALID_MFA_CODE', {
          detail: 'the MFA token is invalid or expired; log in again',
        })
      // Per account, whatever mfa_token the guesses come with: logging in again for a fresh token
      // does not buy more attempts.
      const [failures, lockedUntil] = await store.mget([accountFailuresKey(userId), accountLockKey(userId)])
      const wait = lockedUntil ? Math.ceil((Number(lockedUntil) - clock.now().getTime()) / 1000) : 0
      if (wait > 0) {
        throw new AppError('RATE_LIMITED', {
          detail: `too many wrong codes; try again in ${wait} seconds`,
          retryAfter: wait,
        })
      }
      const method = /^\d{6}$/.test(code.trim()) ? 'totp' : 'recovery_code'
      const ok = await uow.run(async (repos, tx) => {
        if (method === 'totp') return useTotp(repos, userId, code.trim())
        if (!(await repos.mfa.useRecoveryCode(userId, hashRecoveryCode(code), clock.now()))) return false
        const user = await repos.users.getById(userId)
        await audit.record(repos, tx, ctx, {
          action: 'mfa.recovery_code_used',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
        })
        await notify(repos, tx, user, 'recovery_code_used')
        return true
      })
      if (!ok) {
        const [{ value }, account] = await Promise.all([
          store.incr(attemptsKey(hash), MFA_TOKEN_TTL_SECONDS),
          store.incr(accountFailuresKey(userId), MFA_ACCOUNT_WINDOW_SECONDS),
        ])
        if (value >= MFA_MAX_WRONG_CODES) await store.del([challengeKey(hash)])
        if (account.value >= MFA_MAX_WRONG_CODES_PER_ACCOUNT) {
          await store.set(
            accountLockKey(userId),
            String(clock.now().getTime() + account.ttlSeconds * 1000),
            account.ttlSeconds,
          )
        }
        throw new AppError('INVALID_MFA_CODE')
      }
      await store.del([
        challengeKey(hash),
        attemptsKey(hash),
        ...(failures ? [accountFailuresKey(userId)] : []),
      ])
      return { userId, method }
    },
  }
}

export type MfaService = ReturnType<typeof createMfaService>
