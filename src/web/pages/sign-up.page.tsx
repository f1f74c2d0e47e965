import type { FastifyInstance } from 'fastify'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../auth/password-policy.js'
import { AppError } from '../../errors/app-error.js'
import { requestContextOf } from '../../services/request-context.js'
import { browserSessionCookie } from '../browser-cookie.js'
import { formBodySchema, pageQuerySchema } from '../form-schema.js'
import { pendingInteraction } from '../interaction.js'
import { Field, type FieldErrors, HiddenField, PageForm, SubmitButton } from '../layout/form.js'
import { Shell } from '../layout/shell.js'
import type { PageContext, PageDeps } from '../page-context.js'
import { passwordPolicyMessage } from '../password-messages.js'
import { sendPage } from '../render.js'
import { messageRoute } from './message.route.js'
import { SIGN_IN, SIGNED_IN } from './sign-in.page.js'

const SIGN_UP = '/ui/sign-up'
const UID_MAX = 64

interface SignUpForm {
  full_name?: string
  email?: string
  password?: string
  interaction?: string
}

function SignUpPage(props: {
  page: PageContext
  form?: SignUpForm
  interaction?: string
  errors?: FieldErrors
}) {
  const { page, errors, form } = props
  const signIn = props.interaction
    ? `${SIGN_IN}?interaction=${encodeURIComponent(props.interaction)}`
    : SIGN_IN
  return (
    <Shell page={page} title={page.t('sign_up.title')} hasErrors={Boolean(errors?.length)}>
      <PageForm page={page} action={SIGN_UP} errors={errors}>
        {props.interaction && <HiddenField name="interaction" value={props.interaction} />}
        <Field
          name="full_name"
          type="text"
          autocomplete="name"
          label={page.t('sign_up.name_label')}
          value={form?.full_name}
          required={false}
          errors={errors}
        />
        <Field
          name="email"
          type="email"
          autocomplete="email"
          label={page.t('sign_up.email_label')}
          value={form?.email}
          errors={errors}
        />
        <Field
          name="password"
          type="password"
          autocomplete="new-password"
          label={page.t('sign_up.password_label')}
          hint={page.t('sign_up.password_hint', { min: PASSWORD_MIN_LENGTH })}
          errors={errors}
        />
        <SubmitButton>{page.t('sign_up.submit')}</SubmitButton>
      </PageForm>
      <div class="actions">
        <a href={page.href(signIn)}>{page.t('sign_up.have_account')}</a>
      </div>
    </Shell>
  )
}

/**
 * Creating an account runs the JSON API's registration (services.auth.register): same password
 * policy, verification e-mail and audit. Unless verification is required first, the new account
 * is signed in at once and, inside an application's sign-in, sent back to it.
 */
export function signUpPage(scope: FastifyInstance, deps: PageDeps): void {
  const { services, pageOf, engine, cookies, kitsune } = deps

  scope.get<{ Querystring: { interaction?: string } }>(
    '/sign-up',
    { schema: { hide: true, querystring: pageQuerySchema({ interaction: UID_MAX }) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const uid = request.query.interaction
      // Inside an application's sign-in (its redirect URIs join the page's form-action).
      const interaction = uid ? await pendingInteraction(engine, request, reply, uid) : undefined
      return sendPage(reply, 200, <SignUpPage page={page} interaction={interaction?.uid} />)
    },
  )

  scope.post<{ Body: SignUpForm }>(
    '/sign-up',
    {
      config: { rateLimit: 'register' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({
          full_name: 400,
          email: 1024,
          password: 4 * PASSWORD_MAX_LENGTH,
          interaction: UID_MAX,
        }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const form = request.body
      const uid = form.interaction
      const interaction = uid ? await pendingInteraction(engine, request, reply, uid) : undefined
      const errors: Array<{ field: string; message: string }> = []
      const email = (form.email ?? '').trim()
      const password = form.password ?? ''
      const length = [...password.normalize('NFKC')].length
      if (!email) errors.push({ field: 'email', message: page.t('sign_up.error_email_missing') })
      if (!password) errors.push({ field: 'password', message: page.t('reset.error_new_missing') })
      else if (length < PASSWORD_MIN_LENGTH)
        errors.push({
          field: 'password',
          message: page.t('reset.error_too_short', { min: PASSWORD_MIN_LENGTH }),
        })
      else if (length > PASSWORD_MAX_LENGTH)
        errors.push({
          field: 'password',
          message: page.t('reset.error_too_long', { max: PASSWORD_MAX_LENGTH }),
        })
      if ((form.full_name ?? '').length > 200)
        errors.push({ field: 'full_name', message: page.t('sign_up.error_name_long') })
      const again = (status: number, problems: FieldErrors) =>
        sendPage(
          reply,
          status,
          <SignUpPage page={page} form={{ ...form, password: '' }} interaction={uid} errors={problems} />,
        )
      if (errors.length > 0) return again(422, errors)
      const ctx = requestContextOf(request)
      let userId: string
      try {
        const user = await services.auth.register(
          { email, password, full_name: form.full_name ?? null, locale: page.locale },
          ctx,
        )
        userId = user.id
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (error.code === 'EMAIL_TAKEN')
          return again(409, [{ field: 'email', message: page.t('sign_up.error_taken') }])
        if (error.code !== 'VALIDATION_FAILED') throw error
        const reason = error.errors?.[0]
        const field = reason?.field === '/email' ? 'email' : 'password'
        const message =
          field === 'email' ? page.t('sign_up.error_email_invalid') : passwordPolicyMessage(error, page.t)
        return again(422, [{ field, message }])
      }
      if (kitsune.config.requireEmailVerification)
        return reply.redirect(page.href('/ui/sign-up/check-email'), 303)
      const opened = await services.auth.openBrowserSession(userId, ctx, ['pwd'], 'registration')
      reply.header(
        'set-cookie',
        browserSessionCookie(
          cookies,
          services.browserSessions.cookieValue(opened.sessionId),
          opened.expiresAt,
          kitsune.clock.now(),
        ),
      )
      // Back to the application's sign-in, which the new session now answers.
      if (uid && interaction)
        return reply.redirect(page.href(`${SIGN_IN}?interaction=${encodeURIComponent(uid)}`), 303)
      return reply.redirect(page.href(SIGNED_IN), 303)
    },
  )

  messageRoute(scope, pageOf, '/sign-up/check-email', (page) => ({
    title: page.t('sign_up.check_email_title'),
    body: page.t('sign_up.check_email_body'),
    tone: 'success',
    action: { href: SIGN_IN, label: page.t('nav.sign_in') },
  }))
}
