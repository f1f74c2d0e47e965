import type { FastifyInstance } from 'fastify'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../../auth/password-policy.js'
import { AppError } from '../../../errors/app-error.js'
import { requestContextOf } from '../../../services/request-context.js'
import { formBodySchema, pageQuerySchema } from '../../form-schema.js'
import type { MessageKey, Translate } from '../../i18n/i18n.js'
import { Field, type FieldErrors, PageForm, SubmitButton } from '../../layout/form.js'
import type { PageContext, PageDeps } from '../../page-context.js'
import { passwordPolicyMessage } from '../../password-messages.js'
import { sendPage } from '../../render.js'
import { AccountShell, EMAIL, PASSWORD, PROFILE } from './layout.js'
import { principalOf, sessionGuard } from './support.js'

const NAME_MAX = 200
const PASSWORD_FIELD_MAX = 4 * PASSWORD_MAX_LENGTH
const EMAIL_FIELD_MAX = 1024

function ProfilePage(props: { page: PageContext; name: string; errors?: FieldErrors; done?: string }) {
  const { page, errors } = props
  return (
    <AccountShell
      page={page}
      title={page.t('account.profile_title')}
      current={PROFILE}
      hasErrors={Boolean(errors?.length)}
      done={props.done}
    >
      <p>{page.t('account.profile_intro')}</p>
      <PageForm page={page} action={PROFILE} errors={errors}>
        <Field
          name="full_name"
          type="text"
          autocomplete="name"
          label={page.t('account.name_label')}
          hint={page.t('account.name_hint')}
          value={props.name}
          required={false}
          errors={errors}
        />
        <SubmitButton>{page.t('account.profile_submit')}</SubmitButton>
      </PageForm>
    </AccountShell>
  )
}

function EmailPage(props: {
  page: PageContext
  email: string
  newEmail?: string
  errors?: FieldErrors
  done?: string
}) {
  const { page, errors } = props
  return (
    <AccountShell
      page={page}
      title={page.t('account.email_title')}
      current={EMAIL}
      hasErrors={Boolean(errors?.length)}
      done={props.done}
    >
      <p>{page.t('account.email_current', { email: props.email })}</p>
      <p>{page.t('account.email_change_intro')}</p>
      <PageForm page={page} action={EMAIL} errors={errors}>
        <Field
          name="new_email"
          type="email"
          autocomplete="email"
          label={page.t('account.new_email_label')}
          value={props.newEmail}
          errors={errors}
        />
        <Field
          name="password"
          type="password"
          autocomplete="current-password"
          label={page.t('account.current_password_label')}
          errors={errors}
        />
        <SubmitButton>{page.t('account.email_submit')}</SubmitButton>
      </PageForm>
      <p class="muted">{page.t('account.recent_sign_in_note')}</p>
    </AccountShell>
  )
}

function PasswordPage(props: { page: PageContext; errors?: FieldErrors; done?: string }) {
  const { page, errors } = props
  return (
    <AccountShell
      page={page}
      title={page.t('account.password_title')}
      current={PASSWORD}
      hasErrors={Boolean(errors?.length)}
      done={props.done}
    >
      <p>{page.t('account.password_intro', { min: PASSWORD_MIN_LENGTH })}</p>
      <PageForm page={page} action={PASSWORD} errors={errors}>
        <Field
          name="current_password"
          type="password"
          autocomplete="current-password"
          label={page.t('account.current_password_label')}
          errors={errors}
        />
        <Field
          name="new_password"
          type="password"
          autocomplete="new-password"
          label={page.t('account.new_password_label')}
          hint={page.t('form.show_password_hint')}
          errors={errors}
        />
        <Field
          name="confirm_password"
          type="password"
          autocomplete="new-password"
          label={page.t('account.confirm_password_label')}
          errors={errors}
        />
        <SubmitButton>{page.t('account.password_submit')}</SubmitButton>
      </PageForm>
      <p class="muted">{page.t('account.recent_sign_in_note')}</p>
    </AccountShell>
  )
}

/** What the password form can tell before asking the service (NIST's length bounds, the confirmation). */
function passwordErrors(
  form: { current_password?: string; new_password?: string; confirm_password?: string },
  t: Translate,
): FieldErrors {
  const errors: Array<{ field: string; message: string }> = []
  if (!form.current_password)
    errors.push({ field: 'current_password', message: t('account.error_current_missing') })
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

const doneText = (page: PageContext, done: string | undefined, key: string, message: MessageKey) =>
  done === key ? page.t(message) : undefined

/** Profile (name), e-mail address and password: users.updateMe, emailChange.request, users.changePassword. */
export function detailsPages(scope: FastifyInstance, deps: PageDeps): void {
  const { services, pageOf } = deps
  const signedIn = sessionGuard(deps)
  const query = pageQuerySchema({ done: 32 })

  scope.get<{ Querystring: { done?: string } }>(
    '/account/profile',
    { schema: { hide: true, querystring: query } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, PROFILE)
      if (!session) return reply
      return sendPage(
        reply,
        200,
        <ProfilePage
          page={page}
          name={session.user.full_name ?? ''}
          done={doneText(page, request.query.done, 'saved', 'account.done_profile')}
        />,
      )
    },
  )

  scope.post<{ Body: { full_name?: string } }>(
    '/account/profile',
    {
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({ full_name: 4 * NAME_MAX }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, PROFILE)
      if (!session) return reply
      const name = (request.body.full_name ?? '').trim()
      if ([...name].length > NAME_MAX)
        return sendPage(
          reply,
          422,
          <ProfilePage
            page={page}
            name={name}
            errors={[{ field: 'full_name', message: page.t('account.error_name_long') }]}
          />,
        )
      await services.users.updateMe(
        principalOf(session),
        { full_name: name || null },
        requestContextOf(request),
      )
      return reply.redirect(page.href(`${PROFILE}?done=saved`), 303)
    },
  )

  scope.get<{ Querystring: { done?: string } }>(
    '/account/email',
    { schema: { hide: true, querystring: query } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, EMAIL, { recent: true })
      if (!session) return reply
      return sendPage(
        reply,
        200,
        <EmailPage
          page={page}
          email={session.user.email}
          done={doneText(page, request.query.done, 'sent', 'account.done_email_sent')}
        />,
      )
    },
  )

  scope.post<{ Body: { new_email?: string; password?: string } }>(
    '/account/email',
    {
      config: { rateLimit: 'login' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({ new_email: EMAIL_FIELD_MAX, password: PASSWORD_FIELD_MAX }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, EMAIL, { recent: true })
      if (!session) return reply
      const newEmail = (request.body.new_email ?? '').trim()
      const again = (status: number, errors: FieldErrors) =>
        sendPage(
          reply,
          status,
          <EmailPage page={page} email={session.user.email} newEmail={newEmail} errors={errors} />,
        )
      const errors: Array<{ field: string; message: string }> = []
      if (!newEmail) errors.push({ field: 'new_email', message: page.t('account.error_email_missing') })
      else if (!/^[^\s@]+@[^\s@]+$/.test(newEmail) || newEmail.length > 254)
        errors.push({ field: 'new_email', message: page.t('account.error_email_invalid') })
      else if (newEmail.toLowerCase() === session.user.email.toLowerCase())
        errors.push({ field: 'new_email', message: page.t('account.error_email_same') })
      if (!request.body.password)
        errors.push({ field: 'password', message: page.t('account.error_current_missing') })
      if (errors.length > 0) return again(422, errors)
      try {
        await services.emailChange.request(
          session.user.id,
          { new_email: newEmail, password: request.body.password ?? '' },
          requestContextOf(request),
        )
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (error.code === 'INVALID_CREDENTIALS')
          return again(401, [{ field: 'password', message: page.t('account.error_current_wrong') }])
        if (error.code === 'VALIDATION_FAILED')
          return again(422, [{ field: 'new_email', message: page.t('account.error_email_invalid') }])
        throw error
      }
      return reply.redirect(page.href(`${EMAIL}?done=sent`), 303)
    },
  )

  scope.get<{ Querystring: { done?: string } }>(
    '/account/password',
    { schema: { hide: true, querystring: query } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, PASSWORD, { recent: true })
      if (!session) return reply
      return sendPage(
        reply,
        200,
        <PasswordPage
          page={page}
          done={doneText(page, request.query.done, 'changed', 'account.done_password')}
        />,
      )
    },
  )

  scope.post<{ Body: { current_password?: string; new_password?: string; confirm_password?: string } }>(
    '/account/password',
    {
      config: { rateLimit: 'login' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({
          current_password: PASSWORD_FIELD_MAX,
          new_password: PASSWORD_FIELD_MAX,
          confirm_password: PASSWORD_FIELD_MAX,
        }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, PASSWORD, { recent: true })
      if (!session) return reply
      const form = request.body
      const errors = passwordErrors(form, page.t)
      if (errors.length > 0) return sendPage(reply, 422, <PasswordPage page={page} errors={errors} />)
      try {
        await services.users.changePassword(
          principalOf(session),
          { current_password: form.current_password ?? '', new_password: form.new_password ?? '' },
          requestContextOf(request),
        )
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (error.code === 'INVALID_CREDENTIALS')
          return sendPage(
            reply,
            401,
            <PasswordPage
              page={page}
              errors={[{ field: 'current_password', message: page.t('account.error_current_wrong') }]}
            />,
          )
        if (error.code !== 'VALIDATION_FAILED') throw error
        return sendPage(
          reply,
          422,
          <PasswordPage
            page={page}
            errors={[{ field: 'new_password', message: passwordPolicyMessage(error, page.t) }]}
          />,
        )
      }
      return reply.redirect(page.href(`${PASSWORD}?done=changed`), 303)
    },
  )
}
