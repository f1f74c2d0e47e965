import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { requestContextOf } from '../../services/request-context.js'
import { browserSessionCookieOf } from '../browser-cookie.js'
import { allowFormTargets } from '../csp.js'
import { formBodySchema, pageQuerySchema } from '../form-schema.js'
import type { MessageKey } from '../i18n/i18n.js'
import { finishInteraction, type PendingInteraction, pendingInteraction } from '../interaction.js'
import { HiddenField, PageForm } from '../layout/form.js'
import { MessagePage } from '../layout/message-page.js'
import { Shell } from '../layout/shell.js'
import type { PageContext, PageDeps } from '../page-context.js'
import { sendPage } from '../render.js'

const CONSENT = '/ui/consent'
const UID_MAX = 64

const SCOPE_MESSAGES: Readonly<Record<string, MessageKey>> = {
  openid: 'consent.scope_openid',
  profile: 'consent.scope_profile',
  email: 'consent.scope_email',
  offline_access: 'consent.scope_offline_access',
  roles: 'consent.scope_roles',
}

function ConsentPage(props: { page: PageContext; interaction: PendingInteraction; email: string }) {
  const { page, interaction } = props
  const scopes = interaction.missingScopes.filter((scope) => SCOPE_MESSAGES[scope])
  const resources = Object.keys(interaction.missingResourceScopes)
  return (
    <Shell page={page} title={page.t('consent.title', { client: interaction.clientName })}>
      <p>{page.t('consent.intro', { client: interaction.clientName, email: props.email })}</p>
      <ul class="scopes">
        {scopes.map((scope) => (
          <li key={scope}>{page.t(SCOPE_MESSAGES[scope] as MessageKey)}</li>
        ))}
        {resources.map((resource) => (
          <li key={resource}>{page.t('consent.resource', { resource })}</li>
        ))}
      </ul>
      <p class="hint">{page.t('consent.revoke_later')}</p>
      <div class="actions">
        <PageForm page={page} action={CONSENT}>
          <HiddenField name="interaction" value={interaction.uid} />
          <HiddenField name="decision" value="allow" />
          <button class="button" type="submit">
            {page.t('consent.allow')}
          </button>
        </PageForm>
        <PageForm page={page} action={CONSENT}>
          <HiddenField name="interaction" value={interaction.uid} />
          <HiddenField name="decision" value="deny" />
          <button class="button secondary" type="submit">
            {page.t('consent.deny')}
          </button>
        </PageForm>
      </div>
    </Shell>
  )
}

function Expired(props: { page: PageContext }) {
  const { page } = props
  return (
    <MessagePage
      page={page}
      title={page.t('sign_in.expired_title')}
      body={page.t('sign_in.expired_body')}
      tone="warning"
      action={{ href: '/ui/sign-in', label: page.t('nav.sign_in') }}
    />
  )
}

/**
 * Consent: what a third-party application asks for, allowed or denied by the person; remembered
 * (the account console lists and revokes it). A first-party client, or a request within what the
 * person already allowed, is granted without a page. Each grant is tied to the Kitsune session it
 * was made in, so ending that session ends it.
 */
export function consentPage(scope: FastifyInstance, deps: PageDeps): void {
  const { services, pageOf, engine, cookies } = deps

  /** The interaction and the signed-in person it belongs to, or the expired page. */
  const load = async (request: FastifyRequest, reply: FastifyReply, uid: string | undefined) => {
    const interaction = uid ? await pendingInteraction(engine, request, reply, uid) : undefined
    const session = await services.browserSessions.resolve(browserSessionCookieOf(request, cookies))
    if (interaction?.prompt !== 'consent' || !session || session.user.id !== interaction.accountId)
      return undefined
    return { interaction, session }
  }

  const grant = async (
    request: FastifyRequest,
    reply: FastifyReply,
    interaction: PendingInteraction,
    session: { sessionId: string; user: { id: string } },
    remember: boolean,
  ) => {
    const provider = engine.provider()
    const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined
    const record =
      existing ?? new provider.Grant({ accountId: session.user.id, clientId: interaction.clientId })
    if (interaction.missingScopes.length > 0) record.addOIDCScope(interaction.missingScopes.join(' '))
    if (interaction.missingClaims.length > 0) record.addOIDCClaims([...interaction.missingClaims])
    for (const [resource, scopes] of Object.entries(interaction.missingResourceScopes))
      record.addResourceScope(resource, scopes.join(' '))
    const grantId = await record.save()
    await services.oidcGrants.linkGrant(grantId, session.sessionId)
    await services.oidcGrants.consentGiven(
      {
        userId: session.user.id,
        clientId: interaction.clientId,
        scopes: [...interaction.missingScopes, ...Object.keys(interaction.missingResourceScopes)],
        remember,
      },
      requestContextOf(request),
    )
    allowFormTargets(reply, interaction.redirectUris)
    return finishInteraction(engine, request, reply, {
      consent: { grantId },
      kitsune: { sessionId: session.sessionId },
    })
  }

  scope.get<{ Querystring: { interaction?: string } }>(
    '/consent',
    { schema: { hide: true, querystring: pageQuerySchema({ interaction: UID_MAX }) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const loaded = await load(request, reply, request.query.interaction)
      if (!loaded) return sendPage(reply, 400, <Expired page={page} />)
      const { interaction, session } = loaded
      if (interaction.firstParty) return grant(request, reply, interaction, session, false)
      const remembered = new Set(
        await services.oidcGrants.rememberedScopes(session.user.id, interaction.clientId),
      )
      const wanted = [...interaction.missingScopes, ...Object.keys(interaction.missingResourceScopes)]
      if (wanted.every((item) => remembered.has(item)))
        return grant(request, reply, interaction, session, false)
      return sendPage(
        reply,
        200,
        <ConsentPage page={page} interaction={interaction} email={session.user.email} />,
      )
    },
  )

  scope.post<{ Body: { interaction?: string; decision?: string } }>(
    '/consent',
    {
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({ interaction: UID_MAX, decision: 16 }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const loaded = await load(request, reply, request.body.interaction)
      if (!loaded) return sendPage(reply, 400, <Expired page={page} />)
      const { interaction, session } = loaded
      if (request.body.decision === 'allow') return grant(request, reply, interaction, session, true)
      allowFormTargets(reply, interaction.redirectUris)
      return finishInteraction(engine, request, reply, {
        error: 'access_denied',
        error_description: 'the person declined to allow this application',
      })
    },
  )
}
