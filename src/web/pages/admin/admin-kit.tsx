import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ComponentChildren, VNode } from 'preact'
import { PERMISSIONS, type Permission } from '../../../auth/permissions.js'
import { AppError } from '../../../errors/app-error.js'
import type { BrowserSession } from '../../../services/browser-session.service.js'
import { type Principal, type RequestContext, requestContextOf } from '../../../services/request-context.js'
import { CONSOLE_SCRIPT } from '../../assets/assets.js'
import { browserSessionCookieOf } from '../../browser-cookie.js'
import { allowScripts } from '../../csp.js'
import { CSRF_FIELD } from '../../csrf.js'
import type { MessageKey } from '../../i18n/i18n.js'
import { type FieldErrors, PageForm } from '../../layout/form.js'
import { Notice } from '../../layout/shell.js'
import type { PageContext, PageDeps } from '../../page-context.js'
import { sendPage } from '../../render.js'

export const ADMIN = '/ui/admin'
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A signed-in person holding at least one admin permission, as one request sees them. */
export interface AdminRequest {
  readonly page: PageContext
  readonly session: BrowserSession
  readonly principal: Principal
  readonly ctx: RequestContext
  /** What the screens show: the permissions the person's roles grant now. */
  can(permission: Permission): boolean
}

/** The results a page may announce after a redirect: `?done=` and `?failed=` carry only these keys. */
export const DONE = [
  'user_created',
  'user_updated',
  'email_changed',
  'user_activated',
  'user_deactivated',
  'user_deleted',
  'role_added',
  'role_removed',
  'sessions_ended',
  'mfa_reset',
  'verification_sent',
  'role_created',
  'role_updated',
  'role_deleted',
  'client_updated',
  'client_deleted',
  'passkey_removed',
  'webhook_updated',
  'webhook_deleted',
  'webhook_test_sent',
  'webhook_redelivered',
] as const
export type DoneKey = (typeof DONE)[number]

const FAILED: Readonly<Record<string, string>> = {
  LAST_ADMIN: 'last_admin',
  MFA_NOT_ENABLED: 'mfa_not_enabled',
  BUILT_IN_ROLE: 'built_in_role',
  CONFLICT: 'conflict',
  NOT_FOUND: 'not_found',
  VALIDATION_FAILED: 'invalid',
  EMAIL_TAKEN: 'email_taken',
  ROLE_EXISTS: 'role_exists',
  LAST_SECOND_FACTOR: 'last_second_factor',
}
const FAILED_KEYS = new Set(Object.values(FAILED))

/** Adds `name=value` to a path (the value is one of Kitsune's own keys, never request text). */
export function withParam(path: string, name: string, value: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`
}

/** A query string from the parameters that have a value. */
export function queryOf(params: Readonly<Record<string, string | undefined>>): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value)
  const text = search.toString()
  return text ? `?${text}` : ''
}

/** The sign-in page, coming back to this admin page afterwards. */
function signInFor(url: string): string {
  const path = url.startsWith(ADMIN) ? url : ADMIN
  const encoded = encodeURIComponent(path).replace(/%2F/g, '/').replace(/%3F/g, '?').replace(/%3D/g, '=')
  return `/ui/sign-in?return_to=${encoded}`
}

/**
 * The admin console's door: signed in through the pages (else the sign-in page, coming back
 * here), holding at least one admin permission (else 403), and, when a screen or action names
 * one, holding that permission as the RBAC service decides (the same check as the JSON API's).
 * Undefined when the answer has been sent.
 */
export function adminAccess(deps: PageDeps) {
  const { services, pageOf, cookies } = deps
  return async (
    request: FastifyRequest,
    reply: FastifyReply,
    need?: Permission,
  ): Promise<AdminRequest | undefined> => {
    const page = pageOf(request, reply)
    const session = await services.browserSessions.resolve(browserSessionCookieOf(request, cookies))
    if (!session) {
      reply.redirect(page.href(signInFor(request.method === 'GET' ? request.url : ADMIN)), 303)
      return undefined
    }
    const principal: Principal = {
      userId: session.user.id,
      sessionId: session.sessionId,
      roles: session.user.roles,
      tokenExpiresAt: 0,
    }
    const held = new Set(await services.rbac.permissionsOf(session.user.roles))
    if (!PERMISSIONS.some((permission) => held.has(permission))) {
      sendForbidden(reply, page, false, false)
      return undefined
    }
    if (need) {
      try {
        await services.rbac.require(principal, need)
      } catch (error) {
        if (error instanceof AppError && error.code === 'FORBIDDEN') {
          sendForbidden(reply, page)
          return undefined
        }
        throw error
      }
    }
    reply.header('cache-control', 'no-store')
    return { page, session, principal, ctx: requestContextOf(request), can: (p) => held.has(p) }
  }
}

export type AdminAccess = ReturnType<typeof adminAccess>

/** The 403 page; `admin` says the person may use some of the console (then the link leads back to it). */
export function sendForbidden(
  reply: FastifyReply,
  page: PageContext,
  outranked = false,
  admin = true,
): FastifyReply {
  return sendPage(
    reply,
    403,
    <PlainPage page={page} title={page.t('admin.forbidden_title')}>
      <Notice tone="warning">
        <p>{page.t(outranked ? 'admin.forbidden_outranked' : 'admin.forbidden_body')}</p>
      </Notice>
      <p>
        {admin ? (
          <a href={page.href(ADMIN)}>{page.t('admin.back_to_overview')}</a>
        ) : (
          <a href={page.href('/ui/account')}>{page.t('admin.nav.account')}</a>
        )}
      </p>
    </PlainPage>,
  )
}

/**
 * Runs an action a form asked for and answers with a redirect to `back` saying how it went
 * (POST-redirect-GET); a refusal by the services' permission checks is a 403 page.
 */
export async function act(
  reply: FastifyReply,
  admin: AdminRequest,
  back: string,
  done: DoneKey,
  work: () => Promise<unknown>,
): Promise<FastifyReply> {
  try {
    await work()
  } catch (error) {
    const refused = refusal(reply, admin, error, back)
    if (refused) return refused
    throw error
  }
  return reply.redirect(admin.page.href(withParam(back, 'done', done)), 303)
}

/** The answer to a service's refusal, or undefined for an error that is not one. */
export function refusal(
  reply: FastifyReply,
  admin: AdminRequest,
  error: unknown,
  back: string,
): FastifyReply | undefined {
  if (!(error instanceof AppError)) return undefined
  if (error.code === 'FORBIDDEN') return sendForbidden(reply, admin.page)
  if (error.code === 'TARGET_OUTRANKS_ACTOR') return sendForbidden(reply, admin.page, true)
  const key = FAILED[error.code]
  if (key) return reply.redirect(admin.page.href(withParam(back, 'failed', key)), 303)
  return undefined
}

/** The errors of a form the services refused, each on its field when the service named one. */
export function formErrors(page: PageContext, error: AppError, fields: readonly string[]): FieldErrors {
  const named = (error.errors ?? [])
    .map((e) => ({ field: e.field.replace(/^\//, '').split('/')[0] ?? '', message: e.message }))
    .filter((e) => fields.includes(e.field))
  if (named.length > 0) return named
  const key = FAILED[error.code]
  return [
    {
      field: fields[0] ?? 'form',
      message: page.t((key ? `admin.failed.${key}` : 'admin.failed.invalid') as MessageKey),
    },
  ]
}

const SECTIONS: ReadonlyArray<{ path: string; key: MessageKey; need?: Permission }> = [
  { path: ADMIN, key: 'admin.nav.overview' },
  { path: `${ADMIN}/users`, key: 'admin.nav.users', need: 'users:read' },
  { path: `${ADMIN}/roles`, key: 'admin.nav.roles', need: 'roles:read' },
  { path: `${ADMIN}/clients`, key: 'admin.nav.clients', need: 'clients:read' },
  { path: `${ADMIN}/webhooks`, key: 'admin.nav.webhooks', need: 'webhooks:read' },
  { path: `${ADMIN}/audit`, key: 'admin.nav.audit', need: 'audit:read' },
]

function Head(props: { page: PageContext; title: string; hasErrors?: boolean; script?: boolean }) {
  const { page } = props
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <meta name="robots" content="noindex, nofollow" />
      <title>{`${props.hasErrors ? `${page.t('layout.error_prefix')}: ` : ''}${props.title} – ${page.t('admin.console')} – ${page.brand.name}`}</title>
      <link rel="stylesheet" href={page.brand.stylesheet.path} />
      {props.script && <script src={CONSOLE_SCRIPT.path} defer />}
    </head>
  )
}

function Brand(props: { page: PageContext }) {
  return (
    <span class="brand">
      {props.page.brand.logoUrl && <img class="brand-logo" src={props.page.brand.logoUrl} alt="" />}
      {props.page.brand.name}
      <span class="admin-badge">{props.page.t('admin.console')}</span>
    </span>
  )
}

/** A console page without the navigation (refusals). */
function PlainPage(props: { page: PageContext; title: string; children: ComponentChildren }) {
  const { page } = props
  return (
    <html lang={page.locale}>
      <Head page={page} title={props.title} />
      <body class="admin">
        <a class="skip-link" href="#main">
          {page.t('layout.skip_link')}
        </a>
        <header class="admin-header">
          <Brand page={page} />
        </header>
        <main id="main" tabindex={-1}>
          <div class="admin-main">
            <h1>{props.title}</h1>
            {props.children}
          </div>
        </main>
      </body>
    </html>
  )
}

/**
 * The frame of every console page: the sections this person may open, who is signed in, the
 * result of the last action (from `?done=` / `?failed=`, known keys only), then the page.
 */
export function AdminShell(props: {
  admin: AdminRequest
  title: string
  section: string
  query?: { done?: string; failed?: string }
  hasErrors?: boolean
  /**
   * Loads the console's script (copy buttons). The route must also call allowScripts(reply), or
   * the page's CSP blocks it; see sendScriptedPage.
   */
  script?: boolean
  children: ComponentChildren
}) {
  const { admin } = props
  const { page } = admin
  const done = props.query?.done && (DONE as readonly string[]).includes(props.query.done)
  const failed = props.query?.failed && FAILED_KEYS.has(props.query.failed)
  return (
    <html lang={page.locale}>
      <Head page={page} title={props.title} hasErrors={props.hasErrors} script={props.script} />
      <body class="admin">
        <a class="skip-link" href="#main">
          {page.t('layout.skip_link')}
        </a>
        <header class="admin-header">
          <Brand page={page} />
          <nav aria-label={page.t('admin.nav.label')}>
            <ul>
              {SECTIONS.filter((s) => !s.need || admin.can(s.need)).map((s) => (
                <li key={s.path}>
                  <a href={page.href(s.path)} aria-current={props.section === s.path ? 'page' : undefined}>
                    {page.t(s.key)}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="admin-who">
            <span>{admin.session.user.email}</span>
            <a href={page.href('/ui/account')}>{page.t('admin.nav.account')}</a>
            <PageForm page={page} action="/ui/sign-out">
              <button class="link-button" type="submit">
                {page.t('sign_out.submit')}
              </button>
            </PageForm>
          </div>
        </header>
        <main id="main" tabindex={-1}>
          <div class="admin-main">
            <h1>{props.title}</h1>
            {done && (
              <div role="status">
                <Notice tone="success">
                  <p>{page.t(`admin.done.${props.query?.done}` as MessageKey)}</p>
                </Notice>
              </div>
            )}
            {failed && (
              <div role="alert">
                <Notice tone="warning">
                  <p>{page.t(`admin.failed.${props.query?.failed}` as MessageKey)}</p>
                </Notice>
              </div>
            )}
            {props.children}
          </div>
        </main>
      </body>
    </html>
  )
}

/** Sends a console page that loads the console's script, with the CSP that lets it run. */
export function sendScriptedPage(reply: FastifyReply, status: number, page: VNode): FastifyReply {
  allowScripts(reply)
  return sendPage(reply, status, page)
}

/**
 * A read-only field's copy button: rendered `hidden`, shown by the console's script when the
 * browser can copy (so without JavaScript there is no button that does nothing), announcing the
 * result in a live region. The page must load the script (AdminShell's `script`).
 */
export function CopyButton(props: { page: PageContext; target: string; label: string }) {
  const { page } = props
  const status = `${props.target}-copy-status`
  return (
    <>
      <button
        type="button"
        class="button secondary copy-button"
        data-copy-target={props.target}
        data-copy-status={status}
        data-copied={page.t('admin.copied')}
        data-copy-failed={page.t('admin.copy_failed')}
        hidden
      >
        {props.label}
      </button>
      <span class="copy-status" id={status} role="status" />
    </>
  )
}

/** A table in a box that scrolls sideways on a narrow screen, with its caption. */
export function Table(props: {
  caption: string
  headers: readonly string[]
  children: ComponentChildren
  empty?: string
  rows: number
}) {
  return (
    // Focusable, so a keyboard can scroll a table wider than a narrow screen.
    <section class="table-wrap" tabindex={0} aria-label={props.caption}>
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.headers.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows === 0 ? (
            <tr>
              <td colSpan={props.headers.length}>{props.empty}</td>
            </tr>
          ) : (
            props.children
          )}
        </tbody>
      </table>
    </section>
  )
}

const TRAIL_MAX = 20

/**
 * Keyset paging links: `cursor` is where this page starts, `back` the starts of the pages before
 * it (so "previous" needs no backwards query), `next` the service's next cursor.
 */
export function Pager(props: {
  page: PageContext
  path: string
  params: Readonly<Record<string, string | undefined>>
  cursor?: string
  back?: string
  next: string | null
}) {
  const { page } = props
  const trail = (props.back ?? '').split('.').filter(Boolean)
  const previous = props.cursor
    ? queryOf({ ...props.params, cursor: trail[trail.length - 1], back: trail.slice(0, -1).join('.') })
    : undefined
  const next = props.next
    ? queryOf({
        ...props.params,
        cursor: props.next,
        back: [...trail, props.cursor ?? '-'].slice(-TRAIL_MAX).join('.'),
      })
    : undefined
  if (!previous && !next) return null
  return (
    <nav class="pager" aria-label={page.t('admin.pager_label')}>
      {previous !== undefined && (
        <a href={page.href(`${props.path}${previous.replace(/cursor=-(&|$)/, '')}`)} rel="prev">
          {page.t('admin.previous')}
        </a>
      )}
      {next !== undefined && (
        <a href={page.href(`${props.path}${next}`)} rel="next">
          {page.t('admin.next')}
        </a>
      )}
    </nav>
  )
}

/** A form of one button (an action on the page's subject). */
export function ActionButton(props: {
  page: PageContext
  action: string
  label: string
  fields?: Readonly<Record<string, string>>
  tone?: 'danger' | 'secondary'
}) {
  return (
    <PageForm page={props.page} action={props.action}>
      {Object.entries(props.fields ?? {}).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <button class={`button${props.tone ? ` ${props.tone}` : ''}`} type="submit">
        {props.label}
      </button>
    </PageForm>
  )
}

/** A link to a confirmation page, styled as the button it leads to. */
export function ConfirmLink(props: { href: string; label: string; danger?: boolean }) {
  return (
    <a class={`button${props.danger ? ' danger' : ' secondary'}`} href={props.href}>
      {props.label}
    </a>
  )
}

/** A checkbox with its label. */
export function Checkbox(props: {
  name: string
  label: string
  checked?: boolean
  disabled?: boolean
  hint?: string
}) {
  const id = `cb-${props.name.replace(/[^A-Za-z0-9_-]/g, '-')}`
  return (
    <div class="checkbox">
      <input
        type="checkbox"
        id={id}
        name={props.name}
        value="on"
        checked={props.checked}
        disabled={props.disabled}
      />
      <label for={id}>
        {props.label}
        {props.hint && <span class="hint">{props.hint}</span>}
      </label>
    </div>
  )
}

/** A labelled <select>. */
export function Select(props: {
  name: string
  label: string
  value?: string
  options: ReadonlyArray<{ value: string; label: string }>
}) {
  return (
    <div class="field">
      <label for={props.name}>{props.label}</label>
      <select id={props.name} name={props.name}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value} selected={o.value === (props.value ?? '')}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  )
}

/** A labelled text area (one value a line), with its error. */
export function TextArea(props: {
  name: string
  label: string
  value?: string
  hint?: string
  errors?: FieldErrors
}) {
  const error = props.errors?.find((e) => e.field === props.name)
  const described = [props.hint ? `${props.name}-hint` : '', error ? `${props.name}-error` : '']
    .filter(Boolean)
    .join(' ')
  return (
    <div class="field">
      <label for={props.name}>{props.label}</label>
      {props.hint && (
        <span class="hint" id={`${props.name}-hint`}>
          {props.hint}
        </span>
      )}
      {error && (
        <span class="field-error" id={`${props.name}-error`}>
          {error.message}
        </span>
      )}
      <textarea
        id={props.name}
        name={props.name}
        rows={4}
        spellcheck={false}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={described || undefined}
      >
        {props.value ?? ''}
      </textarea>
    </div>
  )
}

/** A form a CSRF-checked POST carries (for forms built without PageForm's error summary). */
export function CsrfField(props: { page: PageContext }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.page.csrfToken} />
}

/** A date and time as UTC text, the same for every reader. */
export function when(date: Date | string | null | undefined): string {
  if (!date) return '—'
  const d = typeof date === 'string' ? new Date(date) : date
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/** Yes or no in the page's language. */
export function yesNo(page: PageContext, value: boolean): string {
  return page.t(value ? 'admin.yes' : 'admin.no')
}
