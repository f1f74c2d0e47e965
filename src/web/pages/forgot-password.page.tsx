import type { FastifyInstance } from 'fastify'
import { normalizeEmail } from '../../lib/email.js'
import { requestContextOf } from '../../services/request-context.js'
import { formBodySchema, pageQuerySchema } from '../form-schema.js'
import { Field, type FieldErrors, PageForm, SubmitButton } from '../layout/form.js'
import { Shell } from '../layout/shell.js'
import type { PageContext, PageDeps } from '../page-context.js'
import { sendPage } from '../render.js'
import { messageRoute } from './message.route.js'

const PATH = '/ui/forgot-password'
const SENT_PATH = '/ui/forgot-password/sent'
/** Longer than any address (254) so an over-long one is reported on the form, not as a bad request. */
const EMAIL_FIELD_MAX = 1024

interface ForgotForm {
  email?: string
}

function ForgotPasswordForm(props: { page: PageContext; email?: string; errors?: FieldErrors }) {
  const { page } = props
  return (
    <Shell page={page} title={page.t('forgot.title')} hasErrors={Boolean(props.errors?.length)}>
      <p>{page.t('forgot.intro')}</p>
      <PageForm page={page} action={PATH} errors={props.errors}>
        <Field
          name="email"
          type="email"
          autocomplete="email"
          label={page.t('forgot.email_label')}
          value={props.email}
          errors={props.errors}
        />
        <SubmitButton>{page.t('forgot.submit')}</SubmitButton>
      </PageForm>
      <div class="actions">
        <a href={page.href('/ui/sign-in')}>{page.t('nav.back_to_sign_in')}</a>
      </div>
    </Shell>
  )
}

/**
 * Asks for a reset link. Whatever the address, the answer is the same page, reached by a redirect
 * (so reloading it sends nothing again); the service does the work after answering, so the timing
 * does not tell either (OWASP Forgot Password cheat sheet).
 */
export function forgotPasswordPage(scope: FastifyInstance, { services, pageOf }: PageDeps): void {
  scope.get(
    '/forgot-password',
    { schema: { hide: true, querystring: pageQuerySchema() } },
    (request, reply) => sendPage(reply, 200, <ForgotPasswordForm page={pageOf(request, reply)} />),
  )

  scope.post<{ Body: ForgotForm }>(
    '/forgot-password',
    {
      config: { rateLimit: 'forgot' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({ email: EMAIL_FIELD_MAX }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const email = request.body.email ?? ''
      const errors: FieldErrors = !email.trim()
        ? [{ field: 'email', message: page.t('forgot.error_email_missing') }]
        : !normalizeEmail(email)
          ? [{ field: 'email', message: page.t('forgot.error_email_invalid') }]
          : []
      if (errors.length > 0)
        return sendPage(reply, 422, <ForgotPasswordForm page={page} email={email} errors={errors} />)
      await services.emailFlows.forgotPassword(email, requestContextOf(request))
      return reply.redirect(page.href(SENT_PATH), 303)
    },
  )

  messageRoute(scope, pageOf, '/forgot-password/sent', (page) => ({
    title: page.t('forgot.sent_title'),
    body: page.t('forgot.sent_body'),
    tone: 'success',
    links: [{ href: PATH, label: page.t('nav.new_reset_link') }],
    children: <p class="muted">{page.t('forgot.sent_hint')}</p>,
  }))
}
