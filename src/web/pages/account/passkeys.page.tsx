import { isIP } from 'node:net'
import type { RegistrationResponseJSON } from '@simplewebauthn/server'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { AppError } from '../../../errors/app-error.js'
import type { PasskeyView } from '../../../services/passkey.service.js'
import { requestContextOf } from '../../../services/request-context.js'
import { PASSKEY_SCRIPT } from '../../assets/assets.js'
import { browserSessionCookieOf } from '../../browser-cookie.js'
import { allowScripts } from '../../csp.js'
import { CSRF_FIELD } from '../../csrf.js'
import { formBodySchema, pageQuerySchema } from '../../form-schema.js'
import type { MessageKey } from '../../i18n/i18n.js'
import { Field, type FieldErrors, PageForm } from '../../layout/form.js'
import { PasskeyForm } from '../../layout/passkey-form.js'
import type { PageContext, PageDeps } from '../../page-context.js'
import { sendPage } from '../../render.js'
import { AccountShell, PASSKEYS, Section, TWO_FACTOR } from './layout.js'
import { formatWhen, isRecent, principalOf, sessionGuard } from './support.js'

/** A WebAuthn answer as JSON: a few hundred bytes to a few kilobytes. */
const CREDENTIAL_MAX = 32_768
/** The form field's limit; the service keeps names to 64 characters and says so. */
const NAME_FIELD_MAX = 256
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const DONE = {
  added: 'account.done_passkey_added',
  renamed: 'account.done_passkey_renamed',
  removed: 'account.done_passkey_removed',
} as const satisfies Record<string, MessageKey>

/** The service's refusals of a registration: the status and the message shown by the form. */
const REGISTER_REFUSALS: Readonly<Record<string, { status: number; key: MessageKey; field: string }>> = {
  INVALID_PASSKEY: { status: 422, key: 'account.error_passkey_invalid', field: 'passkey' },
  PASSKEY_EXISTS: { status: 409, key: 'account.error_passkey_exists', field: 'passkey' },
  AUTHENTICATOR_NOT_ALLOWED: { status: 403, key: 'account.error_passkey_not_allowed', field: 'passkey' },
  VALIDATION_FAILED: { status: 422, key: 'account.error_passkey_name', field: 'name' },
}

interface PageState {
  done?: string
  warning?: string
  /** Problems with the "add a passkey" form (`passkey` for the ceremony, `name` for its field). */
  addErrors?: FieldErrors
  name?: string
  /** A rename refused, shown on that passkey's row. */
  renameError?: { id: string; message: string }
}

function PasskeysPage(
  props: PageState & { page: PageContext; passkeys: readonly PasskeyView[]; usable: boolean },
) {
  const { page, passkeys } = props
  const addErrors = props.addErrors ?? []
  const ceremonyError = addErrors.find((e) => e.field === 'passkey')
  return (
    <AccountShell
      page={page}
      title={page.t('account.passkeys_title')}
      current={PASSKEYS}
      hasErrors={addErrors.length > 0 || Boolean(props.renameError)}
      done={props.done}
      warning={props.warning}
      scripts={props.usable ? [PASSKEY_SCRIPT.path] : undefined}
    >
      <p>{page.t('account.passkeys_intro')}</p>
      <p>{page.t('account.passkeys_mfa_note')}</p>
      {passkeys.length === 0 ? (
        <p>{page.t('account.passkeys_none')}</p>
      ) : (
        <div class="account-table-wrap">
          <table class="account-table">
            <caption>{page.t('account.passkeys_caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{page.t('account.passkey_col_name')}</th>
                <th scope="col">{page.t('account.passkey_col_added')}</th>
                <th scope="col">{page.t('account.passkey_col_last_used')}</th>
                <th scope="col">{page.t('account.passkey_col_synced')}</th>
                <th scope="col">{page.t('account.passkey_col_actions')}</th>
              </tr>
            </thead>
            <tbody>
              {passkeys.map((passkey) => {
                const inputId = `rename-${passkey.id}`
                const error = props.renameError?.id === passkey.id ? props.renameError.message : undefined
                return (
                  <tr key={passkey.id}>
                    <th scope="row" data-label={page.t('account.passkey_col_name')}>
                      {passkey.name}
                    </th>
                    <td data-label={page.t('account.passkey_col_added')}>
                      {formatWhen(page, passkey.created_at)}
                    </td>
                    <td data-label={page.t('account.passkey_col_last_used')}>
                      {passkey.last_used_at
                        ? formatWhen(page, passkey.last_used_at)
                        : page.t('account.passkey_never_used')}
                    </td>
                    <td data-label={page.t('account.passkey_col_synced')}>
                      {page.t(
                        passkey.backup_eligible ? 'account.passkey_synced' : 'account.passkey_device_bound',
                      )}
                    </td>
                    <td data-label={page.t('account.passkey_col_actions')} class="passkey-actions">
                      <form
                        method="post"
                        action={page.href(`${PASSKEYS}/${passkey.id}/rename`)}
                        class="passkey-rename"
                        novalidate
                      >
                        <input type="hidden" name={CSRF_FIELD} value={page.csrfToken} />
                        <label for={inputId} class="account-visually-hidden">
                          {page.t('account.passkey_rename_label', { name: passkey.name })}
                        </label>
                        {error && (
                          <span class="field-error" id={`${inputId}-error`} role="alert">
                            {error}
                          </span>
                        )}
                        <input
                          id={inputId}
                          name="name"
                          type="text"
                          autocomplete="off"
                          value={passkey.name}
                          maxlength={64}
                          aria-invalid={error ? 'true' : undefined}
                          aria-describedby={error ? `${inputId}-error` : undefined}
                        />
                        <button class="button secondary small" type="submit">
                          {page.t('account.passkey_rename_submit')}
                          <span class="account-visually-hidden"> ({passkey.name})</span>
                        </button>
                      </form>
                      <PageForm page={page} action={`${PASSKEYS}/${passkey.id}/remove`}>
                        <button class="button danger small" type="submit">
                          {page.t('account.passkey_remove_submit')}
                          <span class="account-visually-hidden"> ({passkey.name})</span>
                        </button>
                      </PageForm>
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      <Section id="add-passkey" title={page.t('account.passkey_add_title')}>
        {props.usable ? (
          <>
            {ceremonyError && (
              <div class="error-summary" role="alert" id="passkey" tabindex={-1}>
                <p>{ceremonyError.message}</p>
              </div>
            )}
            <PasskeyForm
              page={page}
              mode="register"
              action={PASSKEYS}
              optionsUrl={`${PASSKEYS}/options`}
              label={page.t('account.passkey_add_submit')}
              noScriptHint
            >
              <Field
                name="name"
                type="text"
                autocomplete="off"
                label={page.t('account.passkey_name_label')}
                hint={page.t('account.passkey_name_hint')}
                value={props.name}
                required={false}
                errors={addErrors}
              />
            </PasskeyForm>
          </>
        ) : (
          <p>{page.t('account.passkeys_unavailable')}</p>
        )}
      </Section>
      <p>
        <a href={page.href(TWO_FACTOR)}>{page.t('account.nav_two_factor')}</a>
      </p>
      <p class="muted">{page.t('account.recent_sign_in_note')}</p>
    </AccountShell>
  )
}

/** A form's `credential`: the authenticator's answer as JSON, or undefined when it is not an object. */
function parseCredential(raw: string | undefined): RegistrationResponseJSON | undefined {
  if (!raw) return undefined
  try {
    const value: unknown = JSON.parse(raw)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
    const response = (value as { response?: unknown }).response
    if (typeof response !== 'object' || response === null) return undefined
    return value as RegistrationResponseJSON
  } catch {
    return undefined
  }
}

/**
 * Passkeys: the list (passkeys.list), adding one through the browser's WebAuthn ceremony
 * (registrationOptions, then register), renaming and removing. Every action needs a sign-in from
 * the last 10 minutes, as the two-step page does; the options endpoint answers JSON (the passkey
 * script fetches it), so it says 401/403 instead of redirecting.
 */
export function passkeysPages(scope: FastifyInstance, deps: PageDeps): void {
  const { services, pageOf, kitsune, cookies } = deps
  const signedIn = sessionGuard(deps)
  const recent = { recent: true }
  // Browsers refuse WebAuthn on an IP-address RP ID: no "add" form (nor script) then.
  const usable = isIP(kitsune.config.webauthn.rpId) === 0

  const show = async (
    reply: FastifyReply,
    page: PageContext,
    userId: string,
    status: number,
    state: PageState,
  ) => {
    if (usable) allowScripts(reply)
    const passkeys = await services.passkeys.list(userId)
    return sendPage(
      reply,
      status,
      <PasskeysPage page={page} passkeys={passkeys} usable={usable} {...state} />,
    )
  }

  scope.get<{ Querystring: { done?: string } }>(
    '/account/passkeys',
    { schema: { hide: true, querystring: pageQuerySchema({ done: 32 }) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, PASSKEYS, recent)
      if (!session) return reply
      const done = request.query.done ?? ''
      return show(reply, page, session.user.id, 200, {
        done: Object.hasOwn(DONE, done) ? page.t(DONE[done as keyof typeof DONE]) : undefined,
      })
    },
  )

  scope.post(
    '/account/passkeys/options',
    {
      config: { rateLimit: 'mfa' },
      schema: { hide: true, querystring: pageQuerySchema(), body: formBodySchema({ name: NAME_FIELD_MAX }) },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store')
      const session = await services.browserSessions.resolve(browserSessionCookieOf(request, cookies))
      if (!session)
        return reply
          .code(401)
          .type('application/json')
          .send({ code: 'UNAUTHENTICATED', detail: 'sign in first' })
      if (!isRecent(kitsune.clock, session))
        return reply.code(403).type('application/json').send({
          code: 'REAUTHENTICATION_REQUIRED',
          detail: 'sign in again to add a passkey',
        })
      const options = await services.passkeys.registrationOptions(principalOf(session))
      return reply.type('application/json').send(options)
    },
  )

  scope.post<{ Body: { credential?: string; name?: string } }>(
    '/account/passkeys',
    {
      config: { rateLimit: 'mfa' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({ credential: CREDENTIAL_MAX, name: NAME_FIELD_MAX }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, PASSKEYS, recent)
      if (!session) return reply
      const rawName = request.body.name ?? ''
      const again = (status: number, field: string, key: MessageKey) =>
        show(reply, page, session.user.id, status, {
          addErrors: [{ field, message: page.t(key) }],
          name: rawName,
        })
      const credential = parseCredential(request.body.credential)
      if (!credential) return again(422, 'passkey', 'account.error_passkey_unreadable')
      try {
        await services.passkeys.register(
          principalOf(session),
          { credential, name: rawName.trim() ? rawName : undefined },
          requestContextOf(request),
        )
      } catch (error) {
        const refusal = error instanceof AppError ? REGISTER_REFUSALS[error.code] : undefined
        if (!refusal) throw error
        return again(refusal.status, refusal.field, refusal.key)
      }
      return reply.redirect(page.href(`${PASSKEYS}?done=added`), 303)
    },
  )

  scope.post<{ Params: { id: string }; Body: { name?: string } }>(
    '/account/passkeys/:id/rename',
    {
      schema: {
        hide: true,
        params: ID_PARAMS,
        querystring: pageQuerySchema(),
        body: formBodySchema({ name: NAME_FIELD_MAX }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, PASSKEYS, recent)
      if (!session) return reply
      const { id } = request.params
      try {
        if (!UUID.test(id)) throw new AppError('NOT_FOUND')
        await services.passkeys.rename(
          principalOf(session),
          id,
          request.body.name ?? '',
          requestContextOf(request),
        )
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (error.code === 'VALIDATION_FAILED')
          return show(reply, page, session.user.id, 422, {
            renameError: { id, message: page.t('account.error_passkey_name') },
          })
        if (error.code === 'NOT_FOUND')
          return show(reply, page, session.user.id, 404, {
            warning: page.t('account.error_passkey_not_found'),
          })
        throw error
      }
      return reply.redirect(page.href(`${PASSKEYS}?done=renamed`), 303)
    },
  )

  scope.post<{ Params: { id: string } }>(
    '/account/passkeys/:id/remove',
    { schema: { hide: true, params: ID_PARAMS, querystring: pageQuerySchema(), body: formBodySchema({}) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, PASSKEYS, recent)
      if (!session) return reply
      const { id } = request.params
      try {
        if (!UUID.test(id)) throw new AppError('NOT_FOUND')
        await services.passkeys.remove(principalOf(session), id, requestContextOf(request))
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (error.code === 'LAST_SECOND_FACTOR')
          return show(reply, page, session.user.id, 409, {
            warning: page.t('account.error_passkey_last_factor'),
          })
        if (error.code === 'NOT_FOUND')
          return show(reply, page, session.user.id, 404, {
            warning: page.t('account.error_passkey_not_found'),
          })
        throw error
      }
      return reply.redirect(page.href(`${PASSKEYS}?done=removed`), 303)
    },
  )
}

const ID_PARAMS = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const
