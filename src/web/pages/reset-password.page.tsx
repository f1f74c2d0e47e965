import type { FastifyInstance } from 'fastify'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../auth/password-policy.js'
import { AppError } from '../../errors/app-error.js'
import { requestContextOf } from '../../services/request-context.js'
import { formBodySchema, pageQuerySchema, TOKEN_MAX_LENGTH } from '../form-schema.js'
import type { Translate } from '../i18n/i18n.js'
import { Field, type FieldErrors, HiddenField, PageForm, SubmitButton } from '../layout/form.js'
import { MessagePage } from '../layout/message-page.js'
import { Shell } from '../layout/shell.js'
import type { PageContext, PageDeps } from '../page-context.js'
import { passwordPolicyMessage } from '../password-messages.js'
import { sendPage } from '../render.js'
import { messageRoute } from './message.route.js'

const PATH = '/ui/reset-password'
const DONE_PATH = '/ui/reset-password/done'
/** Room above the policy's maximum, so an over-long password is reported on the form. */
const PASSWORD_FIELD_MAX = 4 * PASSWORD_MAX_LENGTH

interface ResetForm {
  token?: string
  new_password?: string
  confirm_password?: string
}

function ResetPasswordForm(props: { page: PageContext; token: string; errors?: FieldErrors }) {
  const { page, errors } = props
  return (
    <Shell page={page} title={page.t('reset.title')} hasErrors={Boolean(errors?.length)}>
      <p>{page.t('reset.intro', { min: PASSWORD_MIN_LENGTH })}</p>
      <PageForm page={page} action={PATH} errors={errors}>
        <HiddenField name="token" value={props.token} />
        <Field
          name="new_password"
          type="password"
          autocomplete="new-password"
          label={page.t('reset.new_label')}
          hint={page.t('form.show_password_hint')}
          errors={errors}
        />
        <Field
          name="confirm_password"
          type="password"
          autocomplete="new-password"
          label={page.t('reset.confirm_label')}
          errors={errors}
        />
        <SubmitButton>{page.t('reset.submit')}</SubmitButton>
      </PageForm>
    </Shell>
  )
}

/** The page for a link that is missing its token, used, expired or never issued. */
export function InvalidResetLink(props: { page: PageContext }) {
  const { page } = props
  return (
    <MessagePage
      page={page}
      title={page.t('link.invalid_title')}
      body={page.t('link.invalid_reset_body')}
      tone="warning"
      action={{ href: '/ui/forgot-password', label: page.t('nav.new_reset_link') }}
    />
  )
}

/** What the form can tell before asking the service: NIST's length bounds and the confirmation. */
function formErrors(form: ResetForm, t: Translate): FieldErrors {
  const errors: Array<{ field: string; message: string }> = []
  const password = form.new_password ?? ''
  const length = [...password.normalize('NFKC')].length
  if (!password) errors.push({ field: 'new_password', message: t('reset.error_new_missing') })
  else if (length < PASSWORD_MIN_LENGTH)
    errors.push({ field: 'new_password', message: t('reset.error_too_short', { min: PASSWORD_MIN_LENGTH }) })
  else if (length > PASSWORD_MAX_LENGTH)
    errors.push({ field: 'new_password', message: t('reset.error_too_long', { max: PASSWORD_MAX_LENGTH }) })
  if (!form.confirm_password)
    errors.push({ field: 'confirm_password', message: t('reset.error_confirm_missing') })
  else if (password && form.confirm_password !== password)
    errors.push({ field: 'confirm_password', message: t('reset.error_mismatch') })
  return errors
}

/**
 * The e-mail's reset link lands here. The token travels only in the link and in the form's hidden
 * field: never in another link, a redirect or a log line (the request log names the route, not
 * the URL, and Referrer-Policy keeps it out of Referer headers).
 */
export function resetPasswordPage(scope: FastifyInstance, { services, pageOf }: PageDeps): void {
  scope.get<{ Querystring: { token?: string } }>(
    '/reset-password',
    { schema: { hide: true, querystring: pageQuerySchema({ token: TOKEN_MAX_LENGTH }) } },
    (request, reply) => {
      const page = pageOf(request, reply)
      const token = request.query.token
      if (!token) return sendPage(reply, 400, <InvalidResetLink page={page} />)
      return sendPage(reply, 200, <ResetPasswordForm page={page} token={token} />)
    },
  )

  scope.post<{ Body: ResetForm }>(
    '/reset-password',
    {
      // 256-bit single-use tokens cannot be guessed: the global per-IP limit is enough (as the API).
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({
          token: TOKEN_MAX_LENGTH,
          new_password: PASSWORD_FIELD_MAX,
          confirm_password: PASSWORD_FIELD_MAX,
        }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const form = request.body
      const token = form.token ?? ''
      if (!token) return sendPage(reply, 400, <InvalidResetLink page={page} />)
      const errors = formErrors(form, page.t)
      if (errors.length > 0)
        return sendPage(reply, 422, <ResetPasswordForm page={page} token={token} errors={errors} />)
      try {
        await services.emailFlows.resetPassword(token, form.new_password ?? '', requestContextOf(request))
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (error.code === 'INVALID_EMAIL_TOKEN')
          return sendPage(reply, 400, <InvalidResetLink page={page} />)
        if (error.code !== 'VALIDATION_FAILED') throw error
        const rejected = [{ field: 'new_password', message: passwordPolicyMessage(error, page.t) }]
        return sendPage(reply, 422, <ResetPasswordForm page={page} token={token} errors={rejected} />)
      }
      return reply.redirect(page.href(DONE_PATH), 303)
    },
  )

  messageRoute(scope, pageOf, '/reset-password/done', (page) => ({
    title: page.t('reset.done_title'),
    body: page.t('reset.done_body'),
    tone: 'success',
    action: { href: '/ui/sign-in', label: page.t('nav.sign_in') },
  }))
}
