import type { FastifyInstance } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import { requestContextOf } from '../../services/request-context.js'
import { formBodySchema, pageQuerySchema, TOKEN_MAX_LENGTH } from '../form-schema.js'
import { HiddenField, PageForm, SubmitButton } from '../layout/form.js'
import { MessagePage } from '../layout/message-page.js'
import { Shell } from '../layout/shell.js'
import type { PageContext, PageDeps } from '../page-context.js'
import { sendPage } from '../render.js'
import { messageRoute } from './message.route.js'

const PATH = '/ui/verify-email'
const DONE_PATH = '/ui/verify-email/done'

function ConfirmAddress(props: { page: PageContext; token: string }) {
  const { page } = props
  return (
    <Shell page={page} title={page.t('verify.title')}>
      <p>{page.t('verify.intro')}</p>
      <PageForm page={page} action={PATH}>
        <HiddenField name="token" value={props.token} />
        <SubmitButton>{page.t('verify.submit')}</SubmitButton>
      </PageForm>
    </Shell>
  )
}

function InvalidVerifyLink(props: { page: PageContext }) {
  const { page } = props
  return (
    <MessagePage
      page={page}
      title={page.t('link.invalid_title')}
      body={page.t('link.invalid_verify_body')}
      tone="warning"
      action={{ href: '/ui/sign-in', label: page.t('nav.sign_in') }}
    />
  )
}

/**
 * The e-mail's verification link lands here. Opening it changes nothing: the address is confirmed
 * by the button's POST, so a mail scanner that fetches every link cannot use the token up.
 */
export function verifyEmailPage(scope: FastifyInstance, { services, pageOf }: PageDeps): void {
  scope.get<{ Querystring: { token?: string } }>(
    '/verify-email',
    { schema: { hide: true, querystring: pageQuerySchema({ token: TOKEN_MAX_LENGTH }) } },
    (request, reply) => {
      const page = pageOf(request, reply)
      const token = request.query.token
      if (!token) return sendPage(reply, 400, <InvalidVerifyLink page={page} />)
      return sendPage(reply, 200, <ConfirmAddress page={page} token={token} />)
    },
  )

  scope.post<{ Body: { token?: string } }>(
    '/verify-email',
    {
      // 256-bit single-use tokens cannot be guessed: the global per-IP limit is enough (as the API).
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({ token: TOKEN_MAX_LENGTH }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const token = request.body.token
      if (!token) return sendPage(reply, 400, <InvalidVerifyLink page={page} />)
      try {
        await services.emailFlows.verifyEmail(token, requestContextOf(request))
      } catch (error) {
        if (error instanceof AppError && error.code === 'INVALID_EMAIL_TOKEN')
          return sendPage(reply, 400, <InvalidVerifyLink page={page} />)
        throw error
      }
      return reply.redirect(page.href(DONE_PATH), 303)
    },
  )

  messageRoute(scope, pageOf, '/verify-email/done', (page) => ({
    title: page.t('verify.done_title'),
    body: page.t('verify.done_body'),
    tone: 'success',
    action: { href: '/ui/sign-in', label: page.t('nav.sign_in') },
  }))
}
