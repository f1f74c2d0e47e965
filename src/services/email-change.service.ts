import { generateOpaqueToken, hashOpaqueToken } from '../auth/opaque-tokens.js'
import type { PasswordHasher } from '../auth/password-hasher.js'
import type { EmailTokenPurpose } from '../db/schema.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import { AppError, validationError } from '../errors/app-error.js'
import type { MailOutbox } from '../jobs/mail-jobs.js'
import type { Clock } from '../lib/clock.js'
import type { MailMessage } from '../mail/mailer.js'
import { mailLocale, type Templates } from '../mail/templates.js'
import type { Repositories } from '../repositories/repositories.js'
import type { Store } from '../stores/store.js'
import type { AuditService } from './audit.service.js'
import { normalizePassword, requireEmail } from './auth.service.js'
import type { AuthStateService } from './auth-state.service.js'
import type { RequestContext } from './request-context.js'

/** How long the old address can undo a change: long enough to notice it after a holiday. */
export const UNDO_TTL_SECONDS = 7 * 24 * 3600
/** At most this many change mails per address per hour; more are silently dropped. */
const MAILS_PER_ADDRESS_PER_HOUR = 3

/** Links that went to an address the account no longer answers to die with the change. */
const STALE_ON_CHANGE: readonly EmailTokenPurpose[] = ['email_verification', 'password_reset']

/**
 * Change of e-mail address. The new address gets a confirmation link, the old one a notice with an
 * undo link; the address changes only when the confirmation link is used. Whether the new address
 * belongs to another account is never told at request time: no confirmation link is sent to it,
 * the answer and the notice are the same, and a confirmation that meets a taken address (taken
 * meanwhile: the unique index decides) fails with EMAIL_TAKEN and changes nothing.
 */
export function createEmailChangeService(deps: {
  uow: UnitOfWork<Repositories>
  hasher: PasswordHasher
  authState: AuthStateService
  audit: AuditService
  outbox: MailOutbox
  templates: Templates
  store: Store
  clock: Clock
  confirmTtlSeconds: number
}) {
  const { uow, hasher, authState, audit, outbox, templates, store, clock } = deps

  const issue = async (
    repos: Repositories,
    userId: string,
    purpose: EmailTokenPurpose,
    email: string,
    ttlSeconds: number,
  ) => {
    const now = clock.now()
    const { token, hash } = generateOpaqueToken()
    // Every undo link stays valid: a later request must not kill the one the owner holds.
    if (purpose !== 'email_change_undo') await repos.emailTokens.invalidate(userId, purpose, now)
    await repos.emailTokens.insert({
      token_hash: hash,
      user_id: userId,
      purpose,
      email,
      created_at: now,
      expires_at: new Date(now.getTime() + ttlSeconds * 1000),
    })
    return token
  }

  /** Per-address mail budget, so the endpoint cannot be used to flood someone's inbox. */
  const withinBudget = async (kind: string, email: string) =>
    (await store.incr(`mail:${kind}:${email}`, 3600)).value <= MAILS_PER_ADDRESS_PER_HOUR

  return {
    /**
     * Asks for a change of the account's address (the password is checked as for every sensitive
     * change). Answers the same whether or not the new address is free. When the old address's
     * mail budget is spent nothing is sent at all: no confirmation ever goes out without the
     * notice that can undo it.
     */
    async request(
      userId: string,
      input: { new_email: string; password: string },
      ctx: RequestContext,
    ): Promise<void> {
      const newEmail = requireEmail(input.new_email, '/new_email')
      const credentials = await uow.read.users.findCredentialsById(userId)
      if (
        !credentials ||
        !(await hasher.verify(credentials.password_hash, normalizePassword(input.password)))
      ) {
        throw new AppError('INVALID_CREDENTIALS', { detail: 'the password is not correct' })
      }
      const user = await uow.read.users.getById(userId)
      if (newEmail === user.email.toLowerCase())
        throw validationError('/new_email', 'is already the address of this account')
      if (!(await withinBudget('email_change_notice', user.email))) return
      const owner = await uow.read.userEmails.findOwner(newEmail)
      const confirm = owner === undefined && (await withinBudget('email_change', newEmail))
      const locale = mailLocale(credentials.locale)
      await uow.run(async (repos, tx) => {
        await repos.users.lock(userId)
        const mails: MailMessage[] = []
        if (confirm) {
          const token = await issue(repos, userId, 'email_change', newEmail, deps.confirmTtlSeconds)
          mails.push(
            templates.emailChangeConfirm(newEmail, token, Math.round(deps.confirmTtlSeconds / 3600), locale),
          )
        } else {
          // A newer request replaces the older one either way.
          await repos.emailTokens.invalidate(userId, 'email_change', clock.now())
        }
        const undo = await issue(repos, userId, 'email_change_undo', user.email, UNDO_TTL_SECONDS)
        mails.push(templates.emailChangeNotice(user.email, newEmail, undo, locale))
        await audit.record(repos, tx, ctx, {
          action: 'email.change_requested',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
          metadata: { new_email: newEmail, confirmation_sent: confirm },
        })
        for (const mail of mails) await outbox.send(tx, mail)
      })
    },

    /** Uses the confirmation link: the new address becomes the account's, verified (the link proved it). */
    async confirm(token: string, ctx: RequestContext): Promise<void> {
      await uow.run(async (repos, tx) => {
        const now = clock.now()
        const used = await repos.emailTokens.consume(hashOpaqueToken(token), 'email_change', now)
        if (!used?.email) throw new AppError('INVALID_EMAIL_TOKEN')
        await repos.users.lock(used.user_id)
        const before = await repos.users.getById(used.user_id)
        const owner = await repos.userEmails.findOwner(used.email)
        if (owner !== undefined && owner !== used.user_id)
          throw new AppError('EMAIL_TAKEN', {
            detail: 'this address now belongs to another account; the address was not changed',
          })
        await repos.userEmails.setEmail(used.user_id, used.email, true, now)
        for (const purpose of STALE_ON_CHANGE) await repos.emailTokens.invalidate(used.user_id, purpose, now)
        await authState.invalidate(tx, { userIds: [used.user_id] })
        await audit.record(repos, tx, ctx, {
          action: 'email.changed',
          actorId: used.user_id,
          targetType: 'user',
          targetId: used.user_id,
          metadata: { from: before.email, to: used.email },
        })
      })
    },

    /**
     * Uses the undo link sent to the old address: that address comes back (verified: the link
     * reached it), every session ends, and pending changes die. Undo links made after this one
     * die too, so a newer change cannot be used to undo the owner's undo; older ones stay. When the
     * old address was taken meanwhile, the sessions still end, and EMAIL_TAKEN follows the commit.
     */
    async undo(token: string, ctx: RequestContext): Promise<void> {
      const restored = await uow.run(async (repos, tx) => {
        const now = clock.now()
        const used = await repos.emailTokens.consume(hashOpaqueToken(token), 'email_change_undo', now)
        if (!used?.email) throw new AppError('INVALID_EMAIL_TOKEN')
        const userId = used.user_id
        await repos.users.lock(userId)
        const before = await repos.users.getById(userId)
        const owner = await repos.userEmails.findOwner(used.email)
        const free = owner === undefined || owner === userId
        if (free) await repos.userEmails.setEmail(userId, used.email, true, now)
        await repos.emailTokens.invalidate(userId, 'email_change', now)
        await repos.emailTokens.invalidate(userId, 'email_change_undo', now, {
          createdAfter: used.created_at,
        })
        if (before.email !== used.email)
          for (const purpose of STALE_ON_CHANGE) await repos.emailTokens.invalidate(userId, purpose, now)
        const ended = await authState.endUserSessions(repos, tx, userId, 'email_change_undone')
        await audit.record(repos, tx, ctx, {
          action: 'email.change_undone',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
          metadata: {
            from: before.email,
            to: free ? used.email : before.email,
            restored: free,
            sessions_ended: ended,
          },
        })
        return free
      })
      if (!restored)
        throw new AppError('EMAIL_TAKEN', {
          detail:
            'every session was ended, but the old address now belongs to another account and was not restored',
        })
    },
  }
}

export type EmailChangeService = ReturnType<typeof createEmailChangeService>
