import type { FastifyReply, FastifyRequest } from 'fastify'
import type { InteractionResults } from 'oidc-provider'
import { isMultiFactor } from '../auth/amr.js'
import type { OidcEngineHolder } from '../oidc/oidc.plugin.js'
import {
  ACR_MFA,
  ACR_PASSWORD,
  demandsSecondFactor,
  MFA_REQUIRED_REASON,
  REAUTHENTICATE_REASONS,
} from '../oidc/provider.js'
import type { BrowserSession } from '../services/browser-session.service.js'
import { allowFormTargets } from './csp.js'

/** What a page needs to know about the sign-in an application started. */
export interface PendingInteraction {
  readonly uid: string
  readonly prompt: 'login' | 'consent' | string
  readonly reasons: readonly string[]
  readonly clientId: string
  readonly clientName: string
  readonly firstParty: boolean
  readonly redirectUris: readonly string[]
  readonly params: Readonly<Record<string, unknown>>
  readonly accountId: string | undefined
  readonly grantId: string | undefined
  readonly missingScopes: readonly string[]
  readonly missingClaims: readonly string[]
  readonly missingResourceScopes: Readonly<Record<string, readonly string[]>>
}

const UID = /^[A-Za-z0-9_-]{1,64}$/

/**
 * The interaction this browser is in (the engine checks its cookie against the uid), or
 * undefined when it expired, was finished, or belongs to another browser.
 */
export async function pendingInteraction(
  engine: OidcEngineHolder,
  request: FastifyRequest,
  reply: FastifyReply,
  uid: string | undefined,
): Promise<PendingInteraction | undefined> {
  if (!uid || !UID.test(uid)) return undefined
  const provider = engine.provider()
  let details: Awaited<ReturnType<typeof provider.interactionDetails>>
  try {
    details = await provider.interactionDetails(request.raw, reply.raw)
  } catch (error) {
    if ((error as { name?: string }).name === 'SessionNotFound') return undefined
    throw error
  }
  if (details.uid !== uid) return undefined
  const clientId = String(details.params.client_id ?? '')
  const client = await provider.Client.find(clientId)
  if (!client) return undefined
  const prompt = details.prompt as { name: string; reasons: string[]; details: Record<string, unknown> }
  // Every form on a page of this sign-in may end in a redirect to the application, and browsers
  // check those redirects against the form-action of the page that held the form.
  allowFormTargets(reply, client.redirectUris ?? [])
  return {
    uid: details.uid,
    prompt: prompt.name,
    reasons: prompt.reasons,
    clientId,
    clientName: client.clientName || clientId,
    firstParty: (client.metadata() as { first_party?: boolean }).first_party === true,
    redirectUris: client.redirectUris ?? [],
    params: details.params,
    accountId: details.session?.accountId,
    grantId: details.grantId,
    missingScopes: (prompt.details.missingOIDCScope as string[] | undefined) ?? [],
    missingClaims: (prompt.details.missingOIDCClaims as string[] | undefined) ?? [],
    missingResourceScopes:
      (prompt.details.missingResourceScopes as Record<string, string[]> | undefined) ?? {},
  }
}

/** Whether the application asked for a second factor (acr_values, or the client's default). */
export function wantsSecondFactor(interaction: PendingInteraction): boolean {
  return (
    interaction.reasons.includes(MFA_REQUIRED_REASON) || demandsSecondFactor(interaction.params.acr_values)
  )
}

/** Whether the browser's session can answer this login prompt without the person typing anything. */
export function sessionSatisfies(interaction: PendingInteraction, session: BrowserSession): boolean {
  if (interaction.reasons.some((reason) => REAUTHENTICATE_REASONS.has(reason))) return false
  const hint =
    typeof interaction.params.login_hint === 'string'
      ? interaction.params.login_hint.trim().toLowerCase()
      : ''
  if (hint && hint !== session.user.email) return false
  if (wantsSecondFactor(interaction) && !isMultiFactor(session.amr)) return false
  return true
}

/** Hands the engine the result of a prompt and redirects the browser back into the protocol. */
export async function finishInteraction(
  engine: OidcEngineHolder,
  request: FastifyRequest,
  reply: FastifyReply,
  result: InteractionResults,
): Promise<FastifyReply> {
  const url = await engine.provider().interactionResult(request.raw, reply.raw, result, {
    mergeWithLastSubmission: false,
  })
  return reply.redirect(url, 303)
}

/** The login result for a browser session (the Kitsune session rides along for linking). */
export function loginResult(session: {
  sessionId: string
  userId: string
  authTime: Date
  amr: readonly string[]
}): InteractionResults {
  return {
    // Answers prompt=select_account too: the person chose this account by signing in with it.
    select_account: {},
    login: {
      accountId: session.userId,
      amr: [...session.amr],
      acr: isMultiFactor(session.amr) ? ACR_MFA : ACR_PASSWORD,
      ts: Math.floor(session.authTime.getTime() / 1000),
      remember: true,
    },
    kitsune: { sessionId: session.sessionId },
  }
}
