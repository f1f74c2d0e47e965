import type { FastifyInstance } from 'fastify'
import { AppError } from '../../../errors/app-error.js'
import type { ConsentView } from '../../../services/oidc-grant.service.js'
import { requestContextOf } from '../../../services/request-context.js'
import type { SessionView } from '../../../services/session.service.js'
import { clearedBrowserSessionCookie } from '../../browser-cookie.js'
import { formBodySchema, pageQuerySchema } from '../../form-schema.js'
import { HiddenField, PageForm } from '../../layout/form.js'
import type { PageContext, PageDeps } from '../../page-context.js'
import { sendPage } from '../../render.js'
import { messageRoute } from '../message.route.js'
import { AccountShell, SESSIONS, Section } from './layout.js'
import { deviceOf, formatWhen, principalOf, sessionGuard } from './support.js'

const ALL_ENDED = '/ui/account/signed-out'

const DONE = {
  ended: 'account.done_session_ended',
  others: 'account.done_others_ended',
  revoked: 'account.done_revoked',
} as const
const WARNINGS = { gone: 'account.error_session_gone', 'consent-gone': 'account.error_consent_gone' } as const

function When(props: { page: PageContext; at: Date }) {
  return <time datetime={props.at.toISOString()}>{formatWhen(props.page, props.at)}</time>
}

function SessionsTable(props: { page: PageContext; sessions: readonly SessionView[] }) {
  const { page } = props
  return (
    <div class="account-table-wrap">
      <table class="account-table">
        <caption>{page.t('account.sessions_caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{page.t('account.col_device')}</th>
            <th scope="col">{page.t('account.col_ip')}</th>
            <th scope="col">{page.t('account.col_last_used')}</th>
            <th scope="col">{page.t('account.col_created')}</th>
            <th scope="col">{page.t('account.col_applications')}</th>
            <th scope="col">{page.t('account.col_action')}</th>
          </tr>
        </thead>
        <tbody>
          {props.sessions.map((session) => {
            const device = deviceOf(page, session.user_agent)
            return (
              <tr key={session.id} class={session.current ? 'current' : undefined}>
                <th scope="row" data-label={page.t('account.col_device')}>
                  {device}
                  {session.current && <span class="account-badge">{page.t('account.this_session')}</span>}
                  {session.kind === 'api' && (
                    <span class="account-badge muted">{page.t('account.session_api')}</span>
                  )}
                </th>
                <td data-label={page.t('account.col_ip')}>{session.ip ?? page.t('account.unknown')}</td>
                <td data-label={page.t('account.col_last_used')}>
                  <When page={page} at={session.last_used_at} />
                </td>
                <td data-label={page.t('account.col_created')}>
                  <When page={page} at={session.created_at} />
                </td>
                <td data-label={page.t('account.col_applications')}>
                  {session.applications.length > 0
                    ? session.applications.map((app) => app.client_name).join(', ')
                    : page.t('account.no_applications')}
                </td>
                <td data-label={page.t('account.col_action')}>
                  {session.current ? (
                    <a href={page.href('/ui/sign-out')}>{page.t('sign_out.submit')}</a>
                  ) : (
                    <PageForm page={page} action={`${SESSIONS}/end`}>
                      <HiddenField name="session_id" value={session.id} />
                      <button class="button secondary small" type="submit">
                        {page.t('account.end_session')}
                        <span class="account-visually-hidden">
                          {' '}
                          (
                          {page.t('account.end_session_label', {
                            device,
                            when: formatWhen(page, session.last_used_at),
                          })}
                          )
                        </span>
                      </button>
                    </PageForm>
                  )}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

function ConsentsTable(props: { page: PageContext; consents: readonly ConsentView[] }) {
  const { page } = props
  if (props.consents.length === 0) return <p>{page.t('account.no_consents')}</p>
  return (
    <>
      <div class="account-table-wrap">
        <table class="account-table">
          <caption>{page.t('account.applications_caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{page.t('account.col_application')}</th>
              <th scope="col">{page.t('account.col_scopes')}</th>
              <th scope="col">{page.t('account.col_granted')}</th>
              <th scope="col">{page.t('account.col_action')}</th>
            </tr>
          </thead>
          <tbody>
            {props.consents.map((consent) => (
              <tr key={consent.client_id}>
                <th scope="row" data-label={page.t('account.col_application')}>
                  {consent.client_name}
                </th>
                <td data-label={page.t('account.col_scopes')}>{consent.scopes.join(' ')}</td>
                <td data-label={page.t('account.col_granted')}>
                  <When page={page} at={consent.granted_at} />
                </td>
                <td data-label={page.t('account.col_action')}>
                  <PageForm page={page} action="/ui/account/applications/revoke">
                    <HiddenField name="client_id" value={consent.client_id} />
                    <button class="button secondary small" type="submit">
                      {page.t('account.revoke')}
                      <span class="account-visually-hidden"> ({consent.client_name})</span>
                    </button>
                  </PageForm>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted">{page.t('account.revoke_note')}</p>
    </>
  )
}

/** Sessions (sessions.list, revokeOwn, endAllSessions) and applications allowed (oidcGrants). */
export function sessionsPages(scope: FastifyInstance, deps: PageDeps): void {
  const { services, pageOf, cookies } = deps
  const signedIn = sessionGuard(deps)

  scope.get<{ Querystring: { done?: string } }>(
    '/account/sessions',
    { schema: { hide: true, querystring: pageQuerySchema({ done: 32 }) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, SESSIONS)
      if (!session) return reply
      const [sessions, consents] = await Promise.all([
        services.sessions.list(principalOf(session)),
        services.oidcGrants.consents(session.user.id),
      ])
      const done = request.query.done ?? ''
      const others = sessions.filter((s) => !s.current).length
      return sendPage(
        reply,
        200,
        <AccountShell
          page={page}
          title={page.t('account.sessions_title')}
          current={SESSIONS}
          done={Object.hasOwn(DONE, done) ? page.t(DONE[done as keyof typeof DONE]) : undefined}
          warning={
            Object.hasOwn(WARNINGS, done) ? page.t(WARNINGS[done as keyof typeof WARNINGS]) : undefined
          }
        >
          <SessionsTable page={page} sessions={sessions} />
          <Section id="end-others" title={page.t('account.end_others_title')}>
            {others > 0 ? (
              <>
                <p>{page.t('account.end_others_body')}</p>
                <PageForm page={page} action={`${SESSIONS}/end-others`}>
                  <button class="button secondary" type="submit">
                    {page.t('account.end_others_submit')}
                  </button>
                </PageForm>
              </>
            ) : (
              <p>{page.t('account.no_other_sessions')}</p>
            )}
          </Section>
          <Section id="end-all" title={page.t('account.end_all_title')}>
            <p>{page.t('account.end_all_body')}</p>
            <PageForm page={page} action={`${SESSIONS}/end-all`}>
              <button class="button danger" type="submit">
                {page.t('account.end_all_submit')}
              </button>
            </PageForm>
          </Section>
          <Section id="applications" title={page.t('account.applications_title')}>
            <ConsentsTable page={page} consents={consents} />
          </Section>
        </AccountShell>,
      )
    },
  )

  scope.post<{ Body: { session_id?: string } }>(
    '/account/sessions/end',
    { schema: { hide: true, querystring: pageQuerySchema(), body: formBodySchema({ session_id: 64 }) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, SESSIONS)
      if (!session) return reply
      const target = request.body.session_id ?? ''
      if (target === session.sessionId) return reply.redirect(page.href('/ui/sign-out'), 303)
      try {
        if (!/^[0-9a-f-]{36}$/.test(target)) throw new AppError('NOT_FOUND')
        await services.sessions.revokeOwn(principalOf(session), target, requestContextOf(request))
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'NOT_FOUND') throw error
        return reply.redirect(page.href(`${SESSIONS}?done=gone`), 303)
      }
      return reply.redirect(page.href(`${SESSIONS}?done=ended`), 303)
    },
  )

  scope.post(
    '/account/sessions/end-others',
    { schema: { hide: true, querystring: pageQuerySchema(), body: formBodySchema({}) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, SESSIONS)
      if (!session) return reply
      const principal = principalOf(session)
      const ctx = requestContextOf(request)
      for (const other of await services.sessions.list(principal)) {
        if (other.current) continue
        try {
          await services.sessions.revokeOwn(principal, other.id, ctx)
        } catch (error) {
          // Ended meanwhile (it expired, or another tab ended it): nothing left to do for it.
          if (!(error instanceof AppError) || error.code !== 'NOT_FOUND') throw error
        }
      }
      return reply.redirect(page.href(`${SESSIONS}?done=others`), 303)
    },
  )

  scope.post(
    '/account/sessions/end-all',
    { schema: { hide: true, querystring: pageQuerySchema(), body: formBodySchema({}) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, SESSIONS)
      if (!session) return reply
      await services.sessions.endAllSessions(principalOf(session), requestContextOf(request))
      reply.header('set-cookie', clearedBrowserSessionCookie(cookies))
      return reply.redirect(page.href(ALL_ENDED), 303)
    },
  )

  scope.post<{ Body: { client_id?: string } }>(
    '/account/applications/revoke',
    { schema: { hide: true, querystring: pageQuerySchema(), body: formBodySchema({ client_id: 200 }) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, SESSIONS)
      if (!session) return reply
      try {
        await services.oidcGrants.revokeConsent(
          session.user.id,
          request.body.client_id ?? '',
          requestContextOf(request),
        )
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'NOT_FOUND') throw error
        return reply.redirect(page.href(`${SESSIONS}?done=consent-gone`), 303)
      }
      return reply.redirect(page.href(`${SESSIONS}?done=revoked`), 303)
    },
  )

  messageRoute(scope, pageOf, '/account/signed-out', (page) => ({
    title: page.t('account.all_ended_title'),
    body: page.t('account.all_ended_body'),
    tone: 'success',
    action: { href: '/ui/sign-in', label: page.t('nav.sign_in_again') },
  }))
}
