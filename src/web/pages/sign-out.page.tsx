import type { FastifyInstance } from 'fastify'
import { requestContextOf } from '../../services/request-context.js'
import { browserSessionCookieOf, clearedBrowserSessionCookie } from '../browser-cookie.js'
import { formBodySchema, pageQuerySchema } from '../form-schema.js'
import { PageForm, SubmitButton } from '../layout/form.js'
import { MessagePage } from '../layout/message-page.js'
import { Shell } from '../layout/shell.js'
import type { PageDeps } from '../page-context.js'
import { sendPage } from '../render.js'
import { messageRoute } from './message.route.js'

/**
 * Signing out of Kitsune: ends the browser's session and everything signed in through it (the
 * applications' grants and tokens; back-channel logout notices go to those that asked). An
 * application signs a person out through the end-session endpoint instead (RP-initiated logout).
 */
export function signOutPage(scope: FastifyInstance, deps: PageDeps): void {
  const { services, pageOf, cookies } = deps

  scope.get(
    '/sign-out',
    { schema: { hide: true, querystring: pageQuerySchema() } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await services.browserSessions.resolve(browserSessionCookieOf(request, cookies))
      if (!session)
        return sendPage(
          reply,
          200,
          <MessagePage
            page={page}
            title={page.t('sign_out.done_title')}
            body={page.t('sign_out.not_signed_in')}
            action={{ href: '/ui/sign-in', label: page.t('nav.sign_in') }}
          />,
        )
      return sendPage(
        reply,
        200,
        <Shell page={page} title={page.t('sign_out.title')}>
          <p>{page.t('sign_out.signed_in_as', { email: session.user.email })}</p>
          <PageForm page={page} action="/ui/sign-out">
            <SubmitButton>{page.t('sign_out.submit')}</SubmitButton>
          </PageForm>
        </Shell>,
      )
    },
  )

  scope.post(
    '/sign-out',
    { schema: { hide: true, querystring: pageQuerySchema(), body: formBodySchema({}) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await services.browserSessions.resolve(browserSessionCookieOf(request, cookies))
      if (session)
        await services.browserSessions.end(
          { sessionId: session.sessionId, userId: session.user.id },
          requestContextOf(request),
        )
      reply.header('set-cookie', clearedBrowserSessionCookie(cookies))
      return reply.redirect(page.href('/ui/sign-out/done'), 303)
    },
  )

  messageRoute(scope, pageOf, '/sign-out/done', (page) => ({
    title: page.t('sign_out.done_title'),
    body: page.t('sign_out.done_body'),
    tone: 'success',
    action: { href: '/ui/sign-in', label: page.t('nav.sign_in_again') },
  }))
}
