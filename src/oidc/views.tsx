import type { KoaContextWithOIDC } from 'oidc-provider'
import type { VNode } from 'preact'
import { render } from 'preact-render-to-string'
import type { Kitsune } from '../kitsune.js'
import { brandOf, type PageBrand } from '../web/assets/assets.js'
import { formTargetsOf, logoOrigins, pageCspWithFormTargets } from '../web/csp.js'
import { MessagePage } from '../web/layout/message-page.js'
import { ButtonLink, Notice, Shell } from '../web/layout/shell.js'
import { enginePageContext } from '../web/page-context.js'

type Ctx = KoaContextWithOIDC

/** Pages the engine renders itself (its routes, its forms and anti-forgery field), in Kitsune's look. */
export interface EngineViews {
  deviceInput(ctx: Ctx, form: string, out?: { error?: string }, err?: unknown): Promise<void>
  deviceConfirm(ctx: Ctx, form: string, client: unknown, deviceInfo: unknown, userCode: string): Promise<void>
  deviceSuccess(ctx: Ctx): Promise<void>
  logout(ctx: Ctx, form: string): Promise<void>
  logoutSuccess(ctx: Ctx): Promise<void>
  error(ctx: Ctx, out: { error: string; error_description?: string }, error: unknown): Promise<void>
}

/** The engine's anti-forgery value from the form it built (its value is base64url: safe to read back). */
function xsrfOf(ctx: Ctx, form: string): string {
  const state = (ctx.oidc?.session as { state?: { secret?: string } } | undefined)?.state
  return state?.secret ?? /name="xsrf" value="([^"]*)"/.exec(form)?.[1] ?? ''
}

const clientNameOf = (client: unknown) => {
  const c = client as { clientName?: string; clientId?: string } | undefined
  return c?.clientName || c?.clientId || ''
}

export function engineViews(kitsune: Kitsune): EngineViews {
  const brand: PageBrand = brandOf(kitsune.config.brand)
  const imageOrigins = logoOrigins(brand.logoUrl)

  const pageFor = (ctx: Ctx) => {
    const params = ctx.oidc?.params as { ui_locales?: unknown } | undefined
    const locales = typeof params?.ui_locales === 'string' ? params.ui_locales : undefined
    return enginePageContext(locales, ctx.get('accept-language') || undefined, brand)
  }

  const send = (ctx: Ctx, page: VNode, csp = pageCspWithFormTargets([], imageOrigins)): void => {
    ctx.type = 'html'
    ctx.set('content-security-policy', csp)
    ctx.set('cache-control', 'no-store')
    ctx.body = `<!doctype html>${render(page)}`
  }

  return {
    async deviceInput(ctx, form, out) {
      const page = pageFor(ctx)
      const failed = Boolean(out?.error)
      send(
        ctx,
        <Shell page={page} title={page.t('device.title')} hasErrors={failed}>
          <p>{page.t('device.intro')}</p>
          <form method="post" action={ctx.oidc.urlFor('code_verification')} novalidate>
            {failed && (
              <div class="error-summary" role="alert" tabindex={-1} autofocus>
                <h2>{page.t('form.error_summary_title')}</h2>
                <ul>
                  <li>
                    <a href="#user_code">
                      {out?.error === 'expired_token'
                        ? page.t('device.error_expired')
                        : page.t('device.error_invalid')}
                    </a>
                  </li>
                </ul>
              </div>
            )}
            <input type="hidden" name="xsrf" value={xsrfOf(ctx, form)} />
            <div class="field">
              <label for="user_code">{page.t('device.code_label')}</label>
              <input
                id="user_code"
                name="user_code"
                type="text"
                autocomplete="one-time-code"
                autocapitalize="characters"
                spellcheck={false}
                aria-invalid={failed ? 'true' : undefined}
              />
            </div>
            <button class="button" type="submit">
              {page.t('device.submit')}
            </button>
          </form>
        </Shell>,
      )
    },

    async deviceConfirm(ctx, form, client, _deviceInfo, userCode) {
      const page = pageFor(ctx)
      const xsrf = xsrfOf(ctx, form)
      const action = ctx.oidc.urlFor('code_verification')
      send(
        ctx,
        <Shell page={page} title={page.t('device.confirm_title')}>
          <p>{page.t('device.confirm_body', { client: clientNameOf(client) })}</p>
          <p class="code">{userCode}</p>
          <div class="actions">
            <form method="post" action={action}>
              <input type="hidden" name="xsrf" value={xsrf} />
              <input type="hidden" name="user_code" value={userCode} />
              <input type="hidden" name="confirm" value="yes" />
              <button class="button" type="submit">
                {page.t('device.confirm_submit')}
              </button>
            </form>
            <form method="post" action={action}>
              <input type="hidden" name="xsrf" value={xsrf} />
              <input type="hidden" name="user_code" value={userCode} />
              <input type="hidden" name="abort" value="yes" />
              <button class="button secondary" type="submit">
                {page.t('device.abort')}
              </button>
            </form>
          </div>
        </Shell>,
      )
    },

    async deviceSuccess(ctx) {
      const page = pageFor(ctx)
      send(
        ctx,
        <MessagePage
          page={page}
          title={page.t('device.done_title')}
          body={page.t('device.done_body')}
          tone="success"
        />,
      )
    },

    async logout(ctx, form) {
      const page = pageFor(ctx)
      const xsrf = xsrfOf(ctx, form)
      const action = ctx.oidc.urlFor('end_session_confirm')
      const client = ctx.oidc.client ? clientNameOf(ctx.oidc.client) : ''
      const state = (ctx.oidc.session as { state?: { postLogoutRedirectUri?: string } } | undefined)?.state
      const targets = state?.postLogoutRedirectUri ? formTargetsOf([state.postLogoutRedirectUri]) : []
      send(
        ctx,
        <Shell page={page} title={page.t('sign_out.title')}>
          <p>{client ? page.t('sign_out.from_client', { client }) : page.t('sign_out.body')}</p>
          <div class="actions">
            <form method="post" action={action}>
              <input type="hidden" name="xsrf" value={xsrf} />
              <input type="hidden" name="logout" value="yes" />
              <button class="button" type="submit">
                {page.t('sign_out.submit')}
              </button>
            </form>
            <form method="post" action={action}>
              <input type="hidden" name="xsrf" value={xsrf} />
              <button class="button secondary" type="submit">
                {page.t('sign_out.stay')}
              </button>
            </form>
          </div>
        </Shell>,
        pageCspWithFormTargets(targets, imageOrigins),
      )
    },

    async logoutSuccess(ctx) {
      const page = pageFor(ctx)
      send(
        ctx,
        <MessagePage
          page={page}
          title={page.t('sign_out.done_title')}
          body={page.t('sign_out.done_body')}
          tone="success"
          action={{ href: '/ui/sign-in', label: page.t('nav.sign_in_again') }}
        />,
      )
    },

    async error(ctx, out) {
      const page = pageFor(ctx)
      const unavailable = out.error === 'temporarily_unavailable'
      send(
        ctx,
        <Shell
          page={page}
          title={unavailable ? page.t('error.unavailable_title') : page.t('oidc_error.title')}
        >
          <Notice tone="warning">
            <p>{unavailable ? page.t('error.unavailable_body') : page.t('oidc_error.body')}</p>
          </Notice>
          <dl class="details">
            <dt>{page.t('oidc_error.code')}</dt>
            <dd>
              <code>{out.error}</code>
            </dd>
            {out.error_description && (
              <>
                <dt>{page.t('oidc_error.description')}</dt>
                <dd>{out.error_description}</dd>
              </>
            )}
          </dl>
          <div class="actions">
            <ButtonLink href="/ui/sign-in">{page.t('nav.sign_in')}</ButtonLink>
          </div>
        </Shell>,
      )
    },
  }
}
