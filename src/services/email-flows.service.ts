import { generateOpaqueToken, hashOpaqueToken } from '../auth/opaque-tokens.js'
import type { PasswordHasher } from '../auth/password-hasher.js'
import { assertAcceptablePassword } from '../auth/password-policy.js'
import type { EmailTokenPurpose } from '../db/schema.js'
import type { TransactionContext, UnitOfWork } from '../db/unit-of-work.js'
import { AppError } from '../errors/app-error.js'
import type { MailOutbox } from '../jobs/mail-jobs.js'
import type { Clock } from '../lib/clock.js'
import { normalizeEmail } from '../lib/email.js'
import { mailLocale, type Templates } from '../mail/templates.js'
import type { AuthMetrics } from '../observability/metrics.js'
import type { Repositories } from '../repositories/repositories.js'
import type { Store } from '../stores/store.js'
import type { AuditService } from './audit.service.js'
import { normalizePassword } from './auth.service.js'
import type { AuthStateService } from './auth-state.service.js'
import type { Principal, RequestContext } from './request-context.js'

/** The job that answers a forgot-password request (sendResetLink), whatever the address. */
export const RESET_REQUEST_JOB = 'password_reset.request'

/** At most this many reset or verification mails per address per hour; more are silently dropped. */
const MAILS_PER_ADDRESS_PER_HOUR = 3

/**
 * Password reset (OWASP Forgot Password cheat sheet) and e-mail verification. Tokens are random
 * 256-bit, stored as SHA-256, single-use, short-lived, and a newer one kills the older. Mail goes
 * out after the transaction commits.
 */
export function createEmailFlowsService(deps: {
  uow: UnitOfWork<Repositories>
  hasher: PasswordHasher
  authState: AuthStateService
  audit: AuditService
  outbox: MailOutbox
  templates: Templates
  store: Store
  clock: Clock
  passwordResetTtlSeconds: number
  emailVerificationTtlSeconds: number
  metrics: AuthMetrics
}) {
  const { uow, hasher, authState, audit, outbox, templates, store, clock } = deps

  const issue = async (
    repos: Repositories,
    userId: string,
    purpose: EmailTokenPurpose,
    ttlSeconds: number,
  ) => {
    const now = clock.now()
    const { token, hash } = generateOpaqueToken()
    await repos.emailTokens.invalidate(userId, purpose, now)
    await repos.emailTokens.insert({
      token_hash: hash,
      user_id: userId,
      purpose,
      created_at: now,
      expires_at: new Date(now.getTime() + ttlSeconds * 1000),
    })
    return token
  }

  /** Per-address mail budget, so the endpoints cannot be used to flood someone's inbox. */
  const withinBudget = async (purpose: EmailTokenPurpose, email: string) =>
    (await store.incr(`mail:${purpose}:${email}`, 3600)).value <= MAILS_PER_ADDRESS_PER_HOUR

  return {
    /** Inside the registration transaction: issue a verification token and mail it after commit. */
    async sendVerificationOnRegister(
      repos: Repositories,
      tx: TransactionContext,
      user: { id: string; email: string },
    ) {
      const token = await issue(repos, user.id, 'email_verification', deps.emailVerificationTtlSeconds)
      const locale = mailLocale(await repos.users.localeOf(user.id))
      await outbox.send(
        tx,
        templates.verifyEmail(user.email, token, Math.round(deps.emailVerificationTtlSeconds / 3600), locale),
      )
    },

    /**
     * Writes the request to the job queue and answers: the same work whether or not the account
     * exists, so neither the answer nor its timing tells (OWASP Forgot Password cheat sheet). The
     * job (sendResetLink) looks the address up; once this has answered, a crash loses nothing.
     */
    async forgotPassword(rawEmail: string, ctx: RequestContext): Promise<void> {
      const email = normalizeEmail(rawEmail)
      if (!email) return
      await uow.run((_repos, tx) => tx.enqueue({ kind: RESET_REQUEST_JOB, payload: { email, ctx } }))
    },

    async sendResetLink(email: string, ctx: RequestContext): Promise<void> {
      if (!(await withinBudget('password_reset', email))) return
      const user = await uow.read.users.findCredentialsByEmail(email)
      if (!user?.is_active) return
      await uow.run(async (repos, tx) => {
        const token = await issue(repos, user.id, 'password_reset', deps.passwordResetTtlSeconds)
        await audit.record(repos, tx, ctx, {
          action: 'password.reset_requested',
          actorId: null,
          targetType: 'user',
          targetId: user.id,
        })
        await outbox.send(
          tx,
          templates.passwordReset(
            email,
            token,
            Math.round(deps.passwordResetTtlSeconds / 60),
            mailLocale(user.locale),
          ),
        )
      })
    },

    /** Sets a new password with a reset token, ends every session and sends a notice. */
    async resetPassword(token: string, newPassword: string, ctx: RequestContext): Promise<void> {
      const tokenHash = hashOpaqueToken(token)
      const live = await uow.read.emailTokens.findLive(tokenHash, 'password_reset', clock.now())
      const user = live ? await uow.read.users.findById(live.user_id) : undefined
      if (!user) throw new AppError('INVALID_EMAIL_TOKEN')
      const password = normalizePassword(newPassword)
      await assertAcceptablePassword(password, user.email, '/new_password')
      const passwordHash = await hasher.hash(password)
      await uow.run(async (repos, tx) => {
        const now = clock.now()
        if (!(await repos.emailTokens.consume(tokenHash, 'password_reset', now)))
          throw new AppError('INVALID_EMAIL_TOKEN')
        await repos.users.updatePassword(user.id, passwordHash, now)
        const ended = await authState.endUserSessions(repos, tx, user.id, 'password_reset')
        await audit.record(repos, tx, ctx, {
          action: 'password.reset',
          actorId: user.id,
          targetType: 'user',
          targetId: user.id,
          metadata: { sessions_ended: ended },
        })
        const locale = mailLocale(await repos.users.localeOf(user.id))
        await outbox.send(tx, templates.passwordChanged(user.email, locale))
      })
      deps.metrics.passwordReset()
    },

    async verifyEmail(token: string, ctx: RequestContext): Promise<void> {
      await uow.run(async (repos, tx) => {
        const used = await repos.emailTokens.consume(
          hashOpaqueToken(token),
          'email_verification',
          clock.now(),
        )
        if (!used) throw new AppError('INVALID_EMAIL_TOKEN')
        await repos.users.update(used.user_id, { email_verified: true }, clock.now())
        await authState.invalidate(tx, { userIds: [used.user_id] })
        await audit.record(repos, tx, ctx, {
          action: 'email.verified',
          actorId: used.user_id,
          targetType: 'user',
          targetId: used.user_id,
        })
      })
    },

    /** Sends a fresh verification link (the older one dies); nothing when already verified. */
    async resendVerification(principal: Principal): Promise<void> {
      const user = await uow.read.users.getById(principal.userId)
      if (user.email_verified || !(await withinBudget('email_verification', user.email))) return
      await uow.run(async (repos, tx) => this.sendVerificationOnRegister(repos, tx, user))
    },
  }
}

export type EmailFlowsService = ReturnType<typeof createEmailFlowsService>
