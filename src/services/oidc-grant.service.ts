import type { UnitOfWork } from '../db/unit-of-work.js'
import { AppError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import type { Repositories } from '../repositories/repositories.js'
import type { AuditService } from './audit.service.js'
import type { RequestContext } from './request-context.js'

/** An application a person allowed, as their account shows it. */
export interface ConsentView {
  client_id: string
  client_name: string
  scopes: string[]
  granted_at: Date
}

/**
 * What people grant applications through the OpenID Provider: the link from each grant to the
 * Kitsune session it was made in (so ending the session ends the grant), and remembered consent
 * for third-party clients, which the person can revoke.
 */
export function createOidcGrantService(deps: {
  uow: UnitOfWork<Repositories>
  audit: AuditService
  clock: Clock
}) {
  const { uow, audit, clock } = deps
  return {
    /** Ties a grant the engine saved to the Kitsune session it was made in. */
    async linkGrant(grantId: string, sessionId: string): Promise<void> {
      await uow.read.oidcPayloads.linkGrant(grantId, sessionId)
    },

    /** The scopes a person already granted a client, remembered across sessions. */
    async rememberedScopes(userId: string, clientId: string): Promise<readonly string[]> {
      return (await uow.read.oidcPayloads.findConsent(userId, clientId)) ?? []
    },

    /** Records consent given on the consent page (remembered) or implied for a first-party client. */
    async consentGiven(
      input: { userId: string; clientId: string; scopes: readonly string[]; remember: boolean },
      ctx: RequestContext,
    ): Promise<void> {
      await uow.run(async (repos, tx) => {
        if (input.remember)
          await repos.oidcPayloads.rememberConsent(input.userId, input.clientId, input.scopes, clock.now())
        await audit.record(repos, tx, ctx, {
          action: 'oidc.consent_granted',
          actorId: input.userId,
          targetType: 'client',
          targetId: input.clientId,
          metadata: { scopes: [...input.scopes], remembered: input.remember },
        })
      })
    },

    /** The applications a person consented to, newest first, with their names. */
    async consents(userId: string): Promise<ConsentView[]> {
      const consents = await uow.read.oidcPayloads.listConsents(userId)
      const clients = await Promise.all(
        consents.map((consent) => uow.read.oidcClients.findById(consent.client_id)),
      )
      return consents.map((consent, index) => ({
        client_id: consent.client_id,
        client_name: clients[index]?.client_name ?? consent.client_id,
        scopes: consent.scopes,
        granted_at: consent.granted_at,
      }))
    },

    /** Forgets a consent and ends the person's grants to that client (their tokens die). */
    async revokeConsent(userId: string, clientId: string, ctx: RequestContext): Promise<void> {
      await uow.run(async (repos, tx) => {
        const revoked = await repos.oidcPayloads.revokeConsent(userId, clientId)
        if (!revoked) throw new AppError('NOT_FOUND', { detail: 'no consent for this application' })
        await audit.record(repos, tx, ctx, {
          action: 'oidc.consent_revoked',
          actorId: userId,
          targetType: 'client',
          targetId: clientId,
        })
      })
    },

    /** Deletes engine objects that expired a day ago or more, in batches; returns how many. */
    async purgeExpired(limit = 1000): Promise<number> {
      return uow.read.oidcPayloads.purgeExpired(new Date(clock.now().getTime() - 86_400_000), limit)
    },
  }
}

export type OidcGrantService = ReturnType<typeof createOidcGrantService>
