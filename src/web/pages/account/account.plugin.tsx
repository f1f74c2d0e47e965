import type { FastifyInstance } from 'fastify'
import { browserSessionCookieOf } from '../../browser-cookie.js'
import { pageQuerySchema } from '../../form-schema.js'
import { PageForm, SubmitButton } from '../../layout/form.js'
import { Shell } from '../../layout/shell.js'
import type { PageDeps } from '../../page-context.js'
import { sendPage } from '../../render.js'

/**
 * The account console under /ui/account: what a signed-in person does with their own account.
 * Every page needs the browser's sign-in (else the sign-in page, returning here afterwards).
 */
export function accountPages(scope: FastifyInstance, deps: PageDeps): void {
  const { services, pageOf, cookies } = deps

  scope.get(
    '/account',
    { schema: { hide: true, querystring: pageQuerySchema() } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await services.browserSessions.resolve(browserSessionCookieOf(request, cookies))
      if (!session) return reply.redirect(page.href('/ui/sign-in?return_to=/ui/account'), 303)
      return sendPage(
        reply,
        200,
        <Shell page={page} title={page.t('account.title')}>
          <p>{page.t('account.signed_in_as', { email: session.user.email })}</p>
          <PageForm page={page} action="/ui/sign-out">
            <SubmitButton>{page.t('sign_out.submit')}</SubmitButton>
          </PageForm>
        </Shell>,
      )
    },
  )
}
