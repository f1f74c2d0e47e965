import type { FastifyInstance } from 'fastify'
import { PASSWORD_MAX_LENGTH } from '../../../auth/password-policy.js'
import { AppError } from '../../../errors/app-error.js'
import { requestContextOf } from '../../../services/request-context.js'
import { formBodySchema, pageQuerySchema } from '../../form-schema.js'
import { Field, type FieldErrors, PageForm, SubmitButton } from '../../layout/form.js'
import type { PageContext, PageDeps } from '../../page-context.js'
import { sendPage } from '../../render.js'
import { AccountShell, PASSKEYS, Section, TWO_FACTOR } from './layout.js'
import { principalOf, sessionGuard } from './support.js'

const CODE_MAX = 64
const PASSWORD_FIELD_MAX = 4 * PASSWORD_MAX_LENGTH
const DONE = { enabled: 'account.done_enabled', disabled: 'account.done_disabled' } as const

const cleanCode = (code: string | undefined) => (code ?? '').replace(/\s+/g, '')

/** What the status page shows: two-step on or off, through an authenticator app and/or passkeys. */
interface Factors {
  enabled: boolean
  /** A confirmed authenticator app (TOTP). */
  app: boolean
  passkeys: number
}

function StatusPage(props: {
  page: PageContext
  factors: Factors
  done?: string
  regenerateErrors?: FieldErrors
  disableErrors?: FieldErrors
}) {
  const { page, factors } = props
  const errors = Boolean(props.regenerateErrors?.length || props.disableErrors?.length)
  const passkeysLink = (
    <p>
      <a href={page.href(PASSKEYS)}>{page.t('account.two_factor_passkeys_link')}</a>
    </p>
  )
  const setUpApp = (
    <PageForm page={page} action={`${TWO_FACTOR}/setup`}>
      <SubmitButton>{page.t('account.enrol_start')}</SubmitButton>
    </PageForm>
  )
  return (
    <AccountShell
      page={page}
      title={page.t('account.two_factor_title')}
      current={TWO_FACTOR}
      hasErrors={errors}
      done={props.done}
    >
      {factors.enabled ? (
        <>
          {factors.app ? (
            <>
              <p>{page.t('account.two_factor_on')}</p>
              {factors.passkeys > 0 && <p>{page.t('account.two_factor_passkey_alternative')}</p>}
              {passkeysLink}
              <Section id="regenerate" title={page.t('account.regenerate_title')}>
                <p>{page.t('account.regenerate_body')}</p>
                <PageForm page={page} action={`${TWO_FACTOR}/recovery-codes`} errors={props.regenerateErrors}>
                  <Field
                    name="regenerate_code"
                    type="text"
                    autocomplete="one-time-code"
                    label={page.t('account.code_label')}
                    hint={page.t('account.code_hint')}
                    errors={props.regenerateErrors}
                  />
                  <button class="button secondary" type="submit">
                    {page.t('account.regenerate_submit')}
                  </button>
                </PageForm>
              </Section>
            </>
          ) : (
            <>
              <p>{page.t('account.two_factor_on_passkeys')}</p>
              {passkeysLink}
              {setUpApp}
            </>
          )}
          <Section id="disable" title={page.t('account.disable_title')}>
            <p>{page.t(factors.passkeys > 0 ? 'account.disable_body_passkeys' : 'account.disable_body')}</p>
            <PageForm page={page} action={`${TWO_FACTOR}/disable`} errors={props.disableErrors}>
              {factors.app && (
                <Field
                  name="disable_code"
                  type="text"
                  autocomplete="one-time-code"
                  label={page.t('account.disable_code_label')}
                  hint={page.t('account.code_hint')}
                  required={false}
                  errors={props.disableErrors}
                />
              )}
              <Field
                name="disable_password"
                type="password"
                autocomplete="current-password"
                label={page.t(
                  factors.app ? 'account.disable_password_label' : 'account.disable_password_only_label',
                )}
                required={!factors.app}
                errors={props.disableErrors}
              />
              <button class="button danger" type="submit">
                {page.t('account.disable_submit')}
              </button>
            </PageForm>
          </Section>
        </>
      ) : (
        <>
          <p>{page.t('account.two_factor_off')}</p>
          {setUpApp}
          <p>{page.t('account.two_factor_passkey_alternative')}</p>
          {passkeysLink}
        </>
      )}
      <p class="muted">{page.t('account.recent_sign_in_note')}</p>
    </AccountShell>
  )
}

function EnrolPage(props: { page: PageContext; secret: string; qrSvg: string; errors?: FieldErrors }) {
  const { page, errors } = props
  const qr = `data:image/svg+xml;base64,${Buffer.from(props.qrSvg).toString('base64')}`
  return (
    <AccountShell
      page={page}
      title={page.t('account.enrol_title')}
      current={TWO_FACTOR}
      hasErrors={Boolean(errors?.length)}
    >
      {errors?.length ? <p>{page.t('account.enrol_retry')}</p> : null}
      <p>{page.t('account.enrol_intro')}</p>
      <img class="qr" src={qr} alt={page.t('account.enrol_qr_alt')} width={200} height={200} />
      <p>{page.t('account.enrol_manual')}</p>
      <p class="code account-key">{props.secret.replace(/(.{4})/g, '$1 ').trim()}</p>
      <PageForm page={page} action={`${TWO_FACTOR}/confirm`} errors={errors}>
        <Field
          name="code"
          type="text"
          autocomplete="one-time-code"
          label={page.t('account.code_label')}
          hint={page.t('account.code_hint')}
          errors={errors}
        />
        <SubmitButton>{page.t('account.enrol_submit')}</SubmitButton>
      </PageForm>
    </AccountShell>
  )
}

/**
 * The recovery codes, shown once: they are not stored in clear, so the text file is offered from
 * this response itself (a data: URL with a download attribute), never from a later request.
 */
function CodesPage(props: { page: PageContext; email: string; codes: readonly string[]; done?: string }) {
  const { page } = props
  const text = `${page.t('account.codes_file_heading', { email: props.email, brand: page.brand.name })}\n\n${props.codes.join('\n')}\n`
  const file = `data:text/plain;charset=utf-8;base64,${Buffer.from(text).toString('base64')}`
  return (
    <AccountShell page={page} title={page.t('account.codes_title')} current={TWO_FACTOR} done={props.done}>
      <p>{page.t('account.codes_intro')}</p>
      <ul class="recovery-codes" aria-label={page.t('account.codes_caption')}>
        {props.codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <div class="actions account-actions">
        <a class="button secondary" href={file} download="recovery-codes.txt">
          {page.t('account.codes_download')}
        </a>
        <a class="button" href={page.href(TWO_FACTOR)}>
          {page.t('account.codes_done')}
        </a>
      </div>
    </AccountShell>
  )
}

/** Two-step verification: mfa.beginEnrolment, confirmEnrolment, regenerateRecoveryCodes, disable. */
export function twoFactorPages(scope: FastifyInstance, deps: PageDeps): void {
  const { services, pageOf } = deps
  const signedIn = sessionGuard(deps)
  const recent = { recent: true }
  /** The account's second factors now: two-step may be on through an app, passkeys, or both. */
  const factorsOf = (user: { id: string }): Promise<Factors> => services.mfa.factors(user.id)

  scope.get<{ Querystring: { done?: string } }>(
    '/account/two-factor',
    { schema: { hide: true, querystring: pageQuerySchema({ done: 32 }) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, TWO_FACTOR, recent)
      if (!session) return reply
      const done = request.query.done ?? ''
      return sendPage(
        reply,
        200,
        <StatusPage
          page={page}
          factors={await factorsOf(session.user)}
          done={Object.hasOwn(DONE, done) ? page.t(DONE[done as keyof typeof DONE]) : undefined}
        />,
      )
    },
  )

  scope.post(
    '/account/two-factor/setup',
    { schema: { hide: true, querystring: pageQuerySchema(), body: formBodySchema({}) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, TWO_FACTOR, recent)
      if (!session) return reply
      // Two-step may already be on through a passkey: an app can still be added (not a second one).
      let enrolment: Awaited<ReturnType<typeof services.mfa.beginEnrolment>>
      try {
        enrolment = await services.mfa.beginEnrolment(principalOf(session))
      } catch (error) {
        if (error instanceof AppError && error.code === 'MFA_ALREADY_ENABLED')
          return reply.redirect(page.href(TWO_FACTOR), 303)
        throw error
      }
      return sendPage(
        reply,
        200,
        <EnrolPage page={page} secret={enrolment.secret} qrSvg={enrolment.qr_svg} />,
      )
    },
  )

  scope.post<{ Body: { code?: string } }>(
    '/account/two-factor/confirm',
    {
      config: { rateLimit: 'mfa' },
      schema: { hide: true, querystring: pageQuerySchema(), body: formBodySchema({ code: CODE_MAX }) },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, TWO_FACTOR, recent)
      if (!session) return reply
      const principal = principalOf(session)
      const code = cleanCode(request.body.code)
      let codes: string[]
      try {
        if (!code) throw new AppError('INVALID_MFA_CODE')
        codes = (await services.mfa.confirmEnrolment(principal, code, requestContextOf(request)))
          .recovery_codes
      } catch (error) {
        if (error instanceof AppError && error.code === 'MFA_ALREADY_ENABLED')
          return reply.redirect(page.href(TWO_FACTOR), 303)
        if (!(error instanceof AppError) || !['INVALID_MFA_CODE', 'MFA_NOT_ENABLED'].includes(error.code))
          throw error
        // A fresh secret each time: the page never echoes one back from a form.
        const enrolment = await services.mfa.beginEnrolment(principal)
        const message = page.t(code ? 'account.error_code_invalid' : 'account.error_code_missing')
        return sendPage(
          reply,
          422,
          <EnrolPage
            page={page}
            secret={enrolment.secret}
            qrSvg={enrolment.qr_svg}
            errors={[{ field: 'code', message }]}
          />,
        )
      }
      // The factor was just proven here: this browser's session counts as signed in with it, as
      // after the sign-in page's own enrolment.
      await services.auth.openBrowserSession(
        session.user.id,
        requestContextOf(request),
        ['pwd', 'otp'],
        'totp_enrolment',
        {
          sessionId: session.sessionId,
          userId: session.user.id,
        },
      )
      return sendPage(
        reply,
        200,
        <CodesPage
          page={page}
          email={session.user.email}
          codes={codes}
          done={page.t('account.done_enabled')}
        />,
      )
    },
  )

  scope.post<{ Body: { regenerate_code?: string } }>(
    '/account/two-factor/recovery-codes',
    {
      config: { rateLimit: 'mfa' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({ regenerate_code: CODE_MAX }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, TWO_FACTOR, recent)
      if (!session) return reply
      if (!session.user.mfa_enabled) return reply.redirect(page.href(TWO_FACTOR), 303)
      const code = cleanCode(request.body.regenerate_code)
      let codes: string[]
      try {
        if (!code) throw new AppError('INVALID_MFA_CODE')
        codes = (
          await services.mfa.regenerateRecoveryCodes(principalOf(session), code, requestContextOf(request))
        ).recovery_codes
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'INVALID_MFA_CODE') throw error
        const message = page.t(code ? 'account.error_code_invalid' : 'account.error_code_missing')
        return sendPage(
          reply,
          422,
          <StatusPage
            page={page}
            factors={await factorsOf(session.user)}
            regenerateErrors={[{ field: 'regenerate_code', message }]}
          />,
        )
      }
      return sendPage(
        reply,
        200,
        <CodesPage
          page={page}
          email={session.user.email}
          codes={codes}
          done={page.t('account.done_regenerated')}
        />,
      )
    },
  )

  scope.post<{ Body: { disable_code?: string; disable_password?: string } }>(
    '/account/two-factor/disable',
    {
      config: { rateLimit: 'mfa' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({ disable_code: CODE_MAX, disable_password: PASSWORD_FIELD_MAX }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, TWO_FACTOR, recent)
      if (!session) return reply
      if (!session.user.mfa_enabled) return reply.redirect(page.href(TWO_FACTOR), 303)
      const code = cleanCode(request.body.disable_code)
      const password = request.body.disable_password ?? ''
      const factors = await factorsOf(session.user)
      const again = (status: number, field: string, message: string) =>
        sendPage(
          reply,
          status,
          <StatusPage page={page} factors={factors} disableErrors={[{ field, message }]} />,
        )
      if (!code && !password)
        return factors.app
          ? again(422, 'disable_code', page.t('account.error_disable_missing'))
          : again(422, 'disable_password', page.t('account.error_current_missing'))
      try {
        await services.mfa.disable(
          principalOf(session),
          code ? { code } : { password },
          requestContextOf(request),
        )
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (error.code === 'INVALID_MFA_CODE')
          return again(401, 'disable_code', page.t('account.error_code_invalid'))
        if (error.code === 'INVALID_CREDENTIALS')
          return again(401, 'disable_password', page.t('account.error_current_wrong'))
        if (error.code !== 'MFA_NOT_ENABLED') throw error
      }
      return reply.redirect(page.href(`${TWO_FACTOR}?done=disabled`), 303)
    },
  )
}
