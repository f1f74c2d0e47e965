import { isIP } from 'node:net'
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isMultiFactor } from '../../auth/amr.js'
import { AppError } from '../../errors/app-error.js'
import type { BrowserSignIn } from '../../services/auth.service.js'
import type { MfaMethod } from '../../services/mfa.service.js'
import { type Principal, requestContextOf } from '../../services/request-context.js'
import { PASSKEY_SCRIPT } from '../assets/assets.js'
import { browserSessionCookie, browserSessionCookieOf } from '../browser-cookie.js'
import { allowFormTargets, allowScripts } from '../csp.js'
import { formBodySchema, pageQuerySchema } from '../form-schema.js'
import {
  finishInteraction,
  loginResult,
  type PendingInteraction,
  pendingInteraction,
  sessionSatisfies,
  wantsSecondFactor,
} from '../interaction.js'
import { Field, type FieldErrors, HiddenField, PageForm, SubmitButton } from '../layout/form.js'
import { MessagePage } from '../layout/message-page.js'
import { PasskeyForm } from '../layout/passkey-form.js'
import { Shell } from '../layout/shell.js'
import type { PageContext, PageDeps } from '../page-context.js'
import { sendPage } from '../render.js'

export const SIGN_IN = '/ui/sign-in'
const MFA = '/ui/sign-in/mfa'
const SELECT = '/ui/sign-in/select'
const ENROL = '/ui/sign-in/enrol'
const CONTINUE = '/ui/sign-in/continue'
const PASSKEY = '/ui/sign-in/passkey'
const PASSKEY_OPTIONS = '/ui/sign-in/passkey/options'
/** A WebAuthn answer as JSON: a few hundred bytes to a few kilobytes. */
const CREDENTIAL_MAX = 32_768
const METHODS_MAX = 64
export const SIGNED_IN = '/ui/account'

/**
 * Where a direct sign-in may send the browser afterwards: a path of Kitsune's own pages, never
 * another site (no scheme, no `//host`, no backslash), and never back to the sign-in itself.
 */
export function safeReturnTo(value: string | undefined): string | undefined {
  if (!value || value.length > 512) return undefined
  if (
    !/^\/ui\/[A-Za-z0-9\-._~/?=&%]*$/.test(value) ||
    value.includes('//') ||
    value.startsWith('/ui/sign-in')
  )
    return undefined
  return value
}
const EMAIL_FIELD_MAX = 1024
const PASSWORD_FIELD_MAX = 4096
const UID_MAX = 64

interface SignInForm {
  email?: string
  password?: string
  interaction?: string
  return_to?: string
}

interface MfaForm {
  mfa_token?: string
  code?: string
  interaction?: string
  return_to?: string
  methods?: string
}

interface PasskeyFormBody {
  csrf?: string
  credential?: string
  mfa_token?: string
  interaction?: string
  return_to?: string
  methods?: string
}

/**
 * What a page's passwordless challenge is bound to: this browser (its CSRF token, checked against
 * its cookie before any handler runs) and this sign-in (the interaction, if an application asked).
 */
function attemptOf(form: PasskeyFormBody): string {
  return `${form.csrf ?? ''}:${form.interaction ?? ''}`
}

/** The second factors an MFA step offers, from the step-up token's answer (or the form that carried it). */
function methodsOf(raw: string | readonly string[] | undefined): MfaMethod[] {
  const list = typeof raw === 'string' ? raw.split(',') : (raw ?? [])
  const methods = list.filter((m): m is MfaMethod => m === 'totp' || m === 'recovery_code' || m === 'passkey')
  return methods.length > 0 ? methods : ['totp', 'recovery_code']
}

function SignInPage(props: {
  page: PageContext
  interaction?: PendingInteraction
  email?: string
  errors?: FieldErrors
  returnTo?: string
  reauth?: boolean
  /** Offer "sign in with a passkey" (the page then loads the passkey script). */
  passkeys?: boolean
}) {
  const { page, interaction, errors } = props
  const signUp = interaction
    ? `/ui/sign-up?interaction=${encodeURIComponent(interaction.uid)}`
    : '/ui/sign-up'
  return (
    <Shell
      page={page}
      title={page.t('sign_in.title')}
      hasErrors={Boolean(errors?.length)}
      scripts={props.passkeys ? [PASSKEY_SCRIPT.path] : undefined}
    >
      {interaction && <p>{page.t('sign_in.for_client', { client: interaction.clientName })}</p>}
      {props.reauth && <p>{page.t('sign_in.reauth')}</p>}
      <PageForm page={page} action={SIGN_IN} errors={errors}>
        {interaction && <HiddenField name="interaction" value={interaction.uid} />}
        {props.returnTo && <HiddenField name="return_to" value={props.returnTo} />}
        <Field
          name="email"
          type="email"
          autocomplete={props.passkeys ? 'username webauthn' : 'username'}
          label={page.t('sign_in.email_label')}
          value={props.email}
          errors={errors}
        />
        <Field
          name="password"
          type="password"
          autocomplete="current-password"
          label={page.t('sign_in.password_label')}
          errors={errors}
        />
        <SubmitButton>{page.t('sign_in.submit')}</SubmitButton>
      </PageForm>
      {props.passkeys && (
        <PasskeyForm
          page={page}
          mode="sign-in"
          action={PASSKEY}
          optionsUrl={PASSKEY_OPTIONS}
          label={page.t('passkey.sign_in')}
          buttonId="passkey"
          hidden={{ interaction: interaction?.uid, return_to: props.returnTo }}
          autofill
        >
          <p class="divider" data-passkey-note hidden>
            {page.t('passkey.or')}
          </p>
        </PasskeyForm>
      )}
      <div class="actions">
        <a href={page.href('/ui/forgot-password')}>{page.t('sign_in.forgot')}</a>
        <a href={page.href(signUp)}>{page.t('sign_in.sign_up')}</a>
      </div>
    </Shell>
  )
}

function MfaPage(props: {
  page: PageContext
  mfaToken: string
  methods: readonly MfaMethod[]
  interaction?: string
  errors?: FieldErrors
  returnTo?: string
}) {
  const { page, errors } = props
  const passkey = props.methods.includes('passkey')
  const code = props.methods.includes('totp')
  const intro = passkey ? (code ? 'passkey.mfa_intro_both' : 'passkey.mfa_intro_passkey') : 'mfa.intro'
  const methods = props.methods.join(',')
  return (
    <Shell
      page={page}
      title={page.t('mfa.title')}
      hasErrors={Boolean(errors?.length)}
      scripts={passkey ? [PASSKEY_SCRIPT.path] : undefined}
    >
      <p>{page.t(intro)}</p>
      {passkey && (
        <PasskeyForm
          page={page}
          mode="second-factor"
          action={PASSKEY}
          optionsUrl={PASSKEY_OPTIONS}
          label={page.t('passkey.use_for_mfa')}
          buttonId="passkey"
          hidden={{
            mfa_token: props.mfaToken,
            interaction: props.interaction,
            return_to: props.returnTo,
            methods,
          }}
          noScriptHint={!code}
        />
      )}
      {code && (
        <PageForm page={page} action={MFA} errors={errors}>
          <HiddenField name="mfa_token" value={props.mfaToken} />
          <HiddenField name="methods" value={methods} />
          {props.interaction && <HiddenField name="interaction" value={props.interaction} />}
          {props.returnTo && <HiddenField name="return_to" value={props.returnTo} />}
          <Field
            name="code"
            type="text"
            autocomplete="one-time-code"
            label={page.t('mfa.code_label')}
            hint={page.t('mfa.code_hint')}
            errors={errors}
          />
          <SubmitButton>{page.t('mfa.submit')}</SubmitButton>
        </PageForm>
      )}
    </Shell>
  )
}

function SelectAccountPage(props: { page: PageContext; interaction: PendingInteraction; email: string }) {
  const { page, interaction } = props
  return (
    <Shell page={page} title={page.t('select_account.title')}>
      <p>{page.t('select_account.body', { client: interaction.clientName })}</p>
      <div class="actions">
        <PageForm page={page} action={SELECT}>
          <HiddenField name="interaction" value={interaction.uid} />
          <HiddenField name="choice" value="continue" />
          <button class="button" type="submit">
            {page.t('select_account.continue_as', { email: props.email })}
          </button>
        </PageForm>
        <PageForm page={page} action={SELECT}>
          <HiddenField name="interaction" value={interaction.uid} />
          <HiddenField name="choice" value="other" />
          <button class="button secondary" type="submit">
            {page.t('select_account.other')}
          </button>
        </PageForm>
      </div>
    </Shell>
  )
}

function EnrolPage(props: {
  page: PageContext
  interaction: string
  secret: string
  qrSvg: string
  errors?: FieldErrors
}) {
  const { page, errors } = props
  const qr = `data:image/svg+xml;base64,${Buffer.from(props.qrSvg).toString('base64')}`
  return (
    <Shell page={page} title={page.t('enrol.title')} hasErrors={Boolean(errors?.length)}>
      <p>{page.t('enrol.intro')}</p>
      <img class="qr" src={qr} alt={page.t('enrol.qr_alt')} width={200} height={200} />
      <p>{page.t('enrol.manual')}</p>
      <p class="code">{props.secret.replace(/(.{4})/g, '$1 ').trim()}</p>
      <PageForm page={page} action={ENROL} errors={errors}>
        <HiddenField name="interaction" value={props.interaction} />
        <Field
          name="code"
          type="text"
          autocomplete="one-time-code"
          label={page.t('mfa.code_label')}
          hint={page.t('mfa.code_hint')}
          errors={errors}
        />
        <SubmitButton>{page.t('enrol.submit')}</SubmitButton>
      </PageForm>
    </Shell>
  )
}

function RecoveryCodesPage(props: { page: PageContext; interaction: string; codes: readonly string[] }) {
  const { page } = props
  return (
    <Shell page={page} title={page.t('enrol.codes_title')}>
      <p>{page.t('enrol.codes_intro')}</p>
      <ul class="recovery-codes">
        {props.codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <PageForm page={page} action={CONTINUE}>
        <HiddenField name="interaction" value={props.interaction} />
        <SubmitButton>{page.t('enrol.continue')}</SubmitButton>
      </PageForm>
    </Shell>
  )
}

function ExpiredInteraction(props: { page: PageContext }) {
  const { page } = props
  return (
    <MessagePage
      page={page}
      title={page.t('sign_in.expired_title')}
      body={page.t('sign_in.expired_body')}
      tone="warning"
      action={{ href: SIGN_IN, label: page.t('nav.sign_in') }}
    />
  )
}

/**
 * Sign-in: e-mail and password, then the second factor when the account has one. It runs the
 * JSON API's login path (services.auth), so throttling, the uniform failure and its timing, e-mail
 * verification and the audit are the same. Opened by an application (an OpenID interaction), it
 * hands the engine the result; opened directly, it signs in to Kitsune itself.
 */
/** The MFA service acts for a principal; a page acts for the browser's signed-in person. */
function browserPrincipal(userId: string, sessionId = ''): Principal {
  return { userId, sessionId, roles: [], tokenExpiresAt: 0 }
}

export function signInPage(scope: FastifyInstance, deps: PageDeps): void {
  const { services, pageOf, engine, cookies, kitsune } = deps

  // Browsers refuse WebAuthn on an IP-address RP ID (Kitsune warns at start): no passkey button then.
  const passkeysOn = isIP(kitsune.config.webauthn.rpId) === 0
  /** Whether this page offers passkeys; if so its CSP lets it run the passkey script. */
  const withPasskeys = (reply: FastifyReply) => {
    if (passkeysOn) allowScripts(reply)
    return passkeysOn
  }
  /** The second factors an MFA page offers here (passkeys only where they can work). */
  const offered = (reply: FastifyReply, raw: string | readonly string[] | undefined) => {
    const methods = methodsOf(raw)
    const usable = passkeysOn ? methods : methods.filter((method) => method !== 'passkey')
    if (usable.includes('passkey')) allowScripts(reply)
    return usable.length > 0 ? usable : methods
  }

  const currentSession = (request: FastifyRequest) =>
    services.browserSessions.resolve(browserSessionCookieOf(request, cookies))

  /** The second-factor step for an account, or the refusal when it has none and one is demanded. */
  const secondFactor = async (
    request: FastifyRequest,
    reply: FastifyReply,
    page: PageContext,
    userId: string,
    mfaEnabled: boolean,
    interaction: PendingInteraction,
  ) => {
    if (mfaEnabled) {
      const challenge = await services.mfa.challenge(userId)
      return sendPage(
        reply,
        200,
        <MfaPage
          page={page}
          mfaToken={challenge.mfa_token}
          methods={offered(reply, challenge.methods)}
          interaction={interaction.uid}
        />,
      )
    }
    // OIDC_MFA_MISSING=enrol: the person sets up an authenticator app here and then goes on.
    if (kitsune.config.oidc.mfaMissing === 'enrol') {
      const enrolment = await services.mfa.beginEnrolment(browserPrincipal(userId))
      return sendPage(
        reply,
        200,
        <EnrolPage
          page={page}
          interaction={interaction.uid}
          secret={enrolment.secret}
          qrSvg={enrolment.qr_svg}
        />,
      )
    }
    allowFormTargets(reply, interaction.redirectUris)
    return finishInteraction(engine, request, reply, {
      error: 'access_denied',
      error_description: 'this application requires a second factor and the account has none set up',
    })
  }

  /** A different person signing in on this browser ends the previous person's session. */
  const endOtherPerson = async (
    current: Awaited<ReturnType<typeof currentSession>>,
    userId: string,
    ctx: ReturnType<typeof requestContextOf>,
  ) => {
    if (current && current.user.id !== userId)
      await services.browserSessions.end({ sessionId: current.sessionId, userId: current.user.id }, ctx)
  }

  /** After a successful sign-in: the cookie, then back to the application or to the account page. */
  const signedIn = async (
    request: FastifyRequest,
    reply: FastifyReply,
    page: PageContext,
    opened: BrowserSignIn,
    interaction: PendingInteraction | undefined,
    user: { mfa_enabled: boolean },
    returnTo?: string,
  ) => {
    await services.users.rememberLocale(opened.userId, page.locale)
    reply.header(
      'set-cookie',
      browserSessionCookie(
        cookies,
        services.browserSessions.cookieValue(opened.sessionId),
        opened.expiresAt,
        kitsune.clock.now(),
      ),
    )
    if (!interaction) return reply.redirect(returnTo ?? page.href(SIGNED_IN), 303)
    if (wantsSecondFactor(interaction) && !isMultiFactor(opened.amr))
      return secondFactor(request, reply, page, opened.userId, user.mfa_enabled, interaction)
    allowFormTargets(reply, interaction.redirectUris)
    return finishInteraction(engine, request, reply, loginResult(opened))
  }

  scope.get<{ Querystring: { interaction?: string; return_to?: string; reauth?: string } }>(
    '/sign-in',
    {
      schema: {
        hide: true,
        querystring: pageQuerySchema({ interaction: UID_MAX, return_to: 512, reauth: 8 }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const uid = request.query.interaction
      const interaction = uid ? await pendingInteraction(engine, request, reply, uid) : undefined
      if (uid && !interaction) return sendPage(reply, 400, <ExpiredInteraction page={page} />)
      const session = await currentSession(request)
      if (!interaction) {
        const returnTo = safeReturnTo(request.query.return_to)
        // reauth=1: a console asks the signed-in person to type their password again.
        const reauth = request.query.reauth === '1' && session !== undefined
        if (session && !reauth) return reply.redirect(returnTo ?? page.href(SIGNED_IN), 303)
        return sendPage(
          reply,
          200,
          <SignInPage
            passkeys={withPasskeys(reply)}
            page={page}
            returnTo={returnTo}
            reauth={reauth}
            email={session?.user.email}
          />,
        )
      }
      if (interaction.prompt === 'consent')
        return reply.redirect(
          page.href(`/ui/consent?interaction=${encodeURIComponent(interaction.uid)}`),
          303,
        )
      if (interaction.prompt === 'select_account' && session)
        return sendPage(
          reply,
          200,
          <SelectAccountPage page={page} interaction={interaction} email={session.user.email} />,
        )
      if (session && sessionSatisfies(interaction, session)) {
        allowFormTargets(reply, interaction.redirectUris)
        return finishInteraction(engine, request, reply, loginResult({ ...session, userId: session.user.id }))
      }
      // Signed in with a password alone, and the application wants a second factor: just that step.
      if (
        session &&
        wantsSecondFactor(interaction) &&
        !isMultiFactor(session.amr) &&
        sessionSatisfies(
          { ...interaction, params: { ...interaction.params, acr_values: '' }, reasons: [] },
          session,
        )
      )
        return secondFactor(request, reply, page, session.user.id, session.user.mfa_enabled, interaction)
      const hint =
        typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint : undefined
      return sendPage(
        reply,
        200,
        <SignInPage
          passkeys={withPasskeys(reply)}
          page={page}
          interaction={interaction}
          email={hint ?? session?.user.email}
        />,
      )
    },
  )

  scope.post<{ Body: SignInForm }>(
    '/sign-in',
    {
      config: { rateLimit: 'login' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({
          email: EMAIL_FIELD_MAX,
          password: PASSWORD_FIELD_MAX,
          interaction: UID_MAX,
          return_to: 512,
        }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const form = request.body
      const uid = form.interaction
      const interaction = uid ? await pendingInteraction(engine, request, reply, uid) : undefined
      if (uid && !interaction) return sendPage(reply, 400, <ExpiredInteraction page={page} />)
      const email = (form.email ?? '').trim()
      const returnTo = interaction ? undefined : safeReturnTo(form.return_to)
      const errors: Array<{ field: string; message: string }> = []
      if (!email) errors.push({ field: 'email', message: page.t('sign_in.error_email_missing') })
      if (!form.password)
        errors.push({ field: 'password', message: page.t('sign_in.error_password_missing') })
      const again = (status: number, problems: FieldErrors) =>
        sendPage(
          reply,
          status,
          <SignInPage
            passkeys={withPasskeys(reply)}
            page={page}
            interaction={interaction}
            email={email}
            errors={problems}
            returnTo={returnTo}
          />,
        )
      if (errors.length > 0) return again(422, errors)
      const current = await currentSession(request)
      const ctx = requestContextOf(request)
      let outcome: Awaited<ReturnType<typeof services.auth.signIn>>
      try {
        outcome = await services.auth.signIn(
          { email, password: form.password ?? '' },
          ctx,
          current ? { sessionId: current.sessionId, userId: current.user.id } : undefined,
        )
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (error.code === 'INVALID_CREDENTIALS')
          return again(401, [{ field: 'email', message: page.t('sign_in.error_invalid') }])
        if (error.code === 'EMAIL_NOT_VERIFIED')
          return again(403, [{ field: 'email', message: page.t('sign_in.error_unverified') }])
        throw error
      }
      if ('mfa_required' in outcome)
        return sendPage(
          reply,
          200,
          <MfaPage
            page={page}
            mfaToken={outcome.mfa_token}
            methods={offered(reply, outcome.methods)}
            interaction={interaction?.uid}
            returnTo={returnTo}
          />,
        )
      await endOtherPerson(current, outcome.userId, ctx)
      return signedIn(request, reply, page, outcome, interaction, { mfa_enabled: false }, returnTo)
    },
  )

  scope.post<{ Body: MfaForm }>(
    '/sign-in/mfa',
    {
      config: { rateLimit: 'mfa' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({
          mfa_token: 256,
          code: 64,
          interaction: UID_MAX,
          return_to: 512,
          methods: METHODS_MAX,
        }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const form = request.body
      const uid = form.interaction
      const interaction = uid ? await pendingInteraction(engine, request, reply, uid) : undefined
      if (uid && !interaction) return sendPage(reply, 400, <ExpiredInteraction page={page} />)
      const mfaToken = form.mfa_token ?? ''
      const returnTo = interaction ? undefined : safeReturnTo(form.return_to)
      const code = (form.code ?? '').replace(/\s+/g, '')
      if (!mfaToken) return sendPage(reply, 400, <ExpiredInteraction page={page} />)
      const again = (status: number, message: string) =>
        sendPage(
          reply,
          status,
          <MfaPage
            page={page}
            mfaToken={mfaToken}
            methods={offered(reply, form.methods)}
            interaction={uid}
            returnTo={returnTo}
            errors={[{ field: 'code', message }]}
          />,
        )
      if (!code) return again(422, page.t('mfa.error_missing'))
      const current = await currentSession(request)
      const ctx = requestContextOf(request)
      let opened: BrowserSignIn
      try {
        opened = await services.auth.signInMfa(
          { mfa_token: mfaToken, code },
          ctx,
          current ? { sessionId: current.sessionId, userId: current.user.id } : undefined,
        )
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (error.code === 'INVALID_MFA_CODE') return again(401, page.t('mfa.error_invalid'))
        throw error
      }
      await endOtherPerson(current, opened.userId, ctx)
      return signedIn(request, reply, page, opened, interaction, { mfa_enabled: true }, returnTo)
    },
  )

  // The options of a passkey ceremony (fetched by the passkey script with the form's fields).
  scope.post<{ Body: PasskeyFormBody }>(
    '/sign-in/passkey/options',
    {
      config: { rateLimit: 'login' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({ mfa_token: 256, interaction: UID_MAX, return_to: 512, methods: METHODS_MAX }),
      },
    },
    async (request, reply) => {
      const mfaToken = request.body.mfa_token || undefined
      const options = await services.passkeys.authenticationOptions(
        mfaToken ? { mfaToken } : { binding: attemptOf(request.body) },
      )
      return reply.header('cache-control', 'no-store').type('application/json').send(options)
    },
  )

  // The answer of a passkey ceremony: a passwordless sign-in, or the second factor after a password.
  scope.post<{ Body: PasskeyFormBody }>(
    '/sign-in/passkey',
    {
      config: { rateLimit: 'login' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({
          credential: CREDENTIAL_MAX,
          mfa_token: 256,
          interaction: UID_MAX,
          return_to: 512,
          methods: METHODS_MAX,
        }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const form = request.body
      const uid = form.interaction
      const interaction = uid ? await pendingInteraction(engine, request, reply, uid) : undefined
      if (uid && !interaction) return sendPage(reply, 400, <ExpiredInteraction page={page} />)
      const returnTo = interaction ? undefined : safeReturnTo(form.return_to)
      const mfaToken = form.mfa_token || undefined
      const refused = (status: number, message: string) => {
        const errors = [{ field: 'passkey', message }]
        if (mfaToken)
          return sendPage(
            reply,
            status,
            <MfaPage
              page={page}
              mfaToken={mfaToken}
              methods={offered(reply, form.methods)}
              interaction={uid}
              returnTo={returnTo}
              errors={errors}
            />,
          )
        return sendPage(
          reply,
          status,
          <SignInPage
            passkeys={withPasskeys(reply)}
            page={page}
            interaction={interaction}
            errors={errors}
            returnTo={returnTo}
          />,
        )
      }
      let credential: AuthenticationResponseJSON
      try {
        credential = JSON.parse(form.credential ?? '') as AuthenticationResponseJSON
        if (!credential || typeof credential !== 'object' || typeof credential.response !== 'object')
          throw new TypeError('not a credential')
      } catch {
        return refused(400, page.t('passkey.error'))
      }
      const current = await currentSession(request)
      const ctx = requestContextOf(request)
      let opened: BrowserSignIn
      try {
        const assertion = await services.passkeys.authenticate(
          mfaToken ? { credential, mfaToken } : { credential, binding: attemptOf(form) },
          ctx,
        )
        opened = await services.auth.openBrowserSession(
          assertion.userId,
          ctx,
          mfaToken ? ['pwd', ...assertion.amr] : assertion.amr,
          'passkey',
          current ? { sessionId: current.sessionId, userId: current.user.id } : undefined,
        )
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (error.code === 'INVALID_PASSKEY') return refused(401, page.t('passkey.error'))
        if (error.code === 'EMAIL_NOT_VERIFIED') return refused(403, page.t('sign_in.error_unverified'))
        if (error.code === 'INVALID_MFA_CODE') return sendPage(reply, 400, <ExpiredInteraction page={page} />)
        throw error
      }
      await endOtherPerson(current, opened.userId, ctx)
      return signedIn(request, reply, page, opened, interaction, { mfa_enabled: true }, returnTo)
    },
  )

  scope.post<{ Body: { interaction?: string; choice?: string } }>(
    '/sign-in/select',
    {
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({ interaction: UID_MAX, choice: 16 }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const interaction = await pendingInteraction(engine, request, reply, request.body.interaction)
      if (!interaction) return sendPage(reply, 400, <ExpiredInteraction page={page} />)
      const session = await currentSession(request)
      if (request.body.choice === 'continue' && session) {
        if (wantsSecondFactor(interaction) && !isMultiFactor(session.amr))
          return secondFactor(request, reply, page, session.user.id, session.user.mfa_enabled, interaction)
        allowFormTargets(reply, interaction.redirectUris)
        return finishInteraction(engine, request, reply, loginResult({ ...session, userId: session.user.id }))
      }
      return sendPage(
        reply,
        200,
        <SignInPage passkeys={withPasskeys(reply)} page={page} interaction={interaction} />,
      )
    },
  )

  scope.post<{ Body: { interaction?: string; code?: string } }>(
    '/sign-in/enrol',
    {
      config: { rateLimit: 'mfa' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({ interaction: UID_MAX, code: 64 }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const interaction = await pendingInteraction(engine, request, reply, request.body.interaction)
      const session = await currentSession(request)
      if (!interaction || !session || kitsune.config.oidc.mfaMissing !== 'enrol')
        return sendPage(reply, 400, <ExpiredInteraction page={page} />)
      const principal = browserPrincipal(session.user.id, session.sessionId)
      const code = (request.body.code ?? '').replace(/\s+/g, '')
      const ctx = requestContextOf(request)
      let codes: string[]
      try {
        if (!code) throw new AppError('INVALID_MFA_CODE')
        codes = (await services.mfa.confirmEnrolment(principal, code, ctx)).recovery_codes
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'INVALID_MFA_CODE') throw error
        // A fresh secret each time: the page never echoes one back from a form.
        const enrolment = await services.mfa.beginEnrolment(principal)
        return sendPage(
          reply,
          422,
          <EnrolPage
            page={page}
            interaction={interaction.uid}
            secret={enrolment.secret}
            qrSvg={enrolment.qr_svg}
            errors={[{ field: 'code', message: page.t(code ? 'mfa.error_invalid' : 'mfa.error_missing') }]}
          />,
        )
      }
      // The factor was just proven: this browser's session now counts as signed in with it.
      await services.auth.openBrowserSession(session.user.id, ctx, ['pwd', 'otp'], 'totp_enrolment', {
        sessionId: session.sessionId,
        userId: session.user.id,
      })
      return sendPage(
        reply,
        200,
        <RecoveryCodesPage page={page} interaction={interaction.uid} codes={codes} />,
      )
    },
  )

  scope.post<{ Body: { interaction?: string } }>(
    '/sign-in/continue',
    {
      schema: { hide: true, querystring: pageQuerySchema(), body: formBodySchema({ interaction: UID_MAX }) },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const interaction = await pendingInteraction(engine, request, reply, request.body.interaction)
      const session = await currentSession(request)
      if (!interaction || !session || !sessionSatisfies({ ...interaction, reasons: [] }, session))
        return sendPage(reply, 400, <ExpiredInteraction page={page} />)
      allowFormTargets(reply, interaction.redirectUris)
      return finishInteraction(engine, request, reply, loginResult({ ...session, userId: session.user.id }))
    },
  )
}
