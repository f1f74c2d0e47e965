import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Kitsune } from '../kitsune.js'
import type { OidcEngineHolder } from '../oidc/oidc.plugin.js'
import { DEFAULT_BRAND, type PageBrand } from './assets/assets.js'
import { parseCookies } from './cookies.js'
import { type CookiePolicy, csrfCookie, generateCsrfToken, isCsrfToken } from './csrf.js'
import { chooseLocale, type Locale, type Translate, translator } from './i18n/i18n.js'

/** What every page component gets: the language, its messages, and the browser's CSRF token. */
export interface PageContext {
  readonly locale: Locale
  readonly t: Translate
  /** The token every form sends back in its hidden field. */
  readonly csrfToken: string
  /** A path under /ui/, keeping `?ui_locales=` when the URL chose the language. */
  href(path: string): string
  /** BRAND_NAME, BRAND_LOGO_URL and the stylesheet with BRAND_COLOR. */
  readonly brand: PageBrand
}

export type PageContextOf = (request: FastifyRequest, reply: FastifyReply) => PageContext

/**
 * Builds a request's page context once (handlers, the error page and the not-found page share it).
 * A browser without a valid CSRF cookie gets a new one with this response.
 */
export function createPageContexts(policy: CookiePolicy, brand: PageBrand = DEFAULT_BRAND): PageContextOf {
  const built = new WeakMap<FastifyRequest, PageContext>()
  return (request, reply) => {
    const existing = built.get(request)
    if (existing) return existing
    const query = request.query as Record<string, unknown> | undefined
    const uiLocales = typeof query?.ui_locales === 'string' ? query.ui_locales : undefined
    const { locale, fromQuery } = chooseLocale(uiLocales, request.headers['accept-language'])
    let csrfToken = csrfTokenOf(request, policy)
    if (!csrfToken) {
      csrfToken = generateCsrfToken()
      reply.header('set-cookie', csrfCookie(policy, csrfToken))
    }
    const context: PageContext = {
      locale,
      t: translator(locale),
      csrfToken,
      href: (path) => (fromQuery ? `${path}${path.includes('?') ? '&' : '?'}ui_locales=${locale}` : path),
      brand,
    }
    built.set(request, context)
    return context
  }
}

/**
 * A page context for HTML the OpenID Provider engine renders (device entry, sign-out, protocol
 * errors): the language from `ui_locales` or Accept-Language; those forms carry the engine's own
 * anti-forgery field, so there is no CSRF token here.
 */
export function enginePageContext(
  uiLocales: string | undefined,
  acceptLanguage: string | undefined,
  brand: PageBrand = DEFAULT_BRAND,
): PageContext {
  const { locale } = chooseLocale(uiLocales, acceptLanguage)
  return { locale, t: translator(locale), csrfToken: '', href: (path) => path, brand }
}

/** The browser's CSRF token from its cookie, when it holds one Kitsune could have issued. */
export function csrfTokenOf(request: FastifyRequest, policy: CookiePolicy): string | undefined {
  const token = parseCookies(request.headers.cookie).get(policy.csrfCookieName)
  return isCsrfToken(token) ? token : undefined
}

/** What a page module gets: the services it calls (like routes do) and the page context. */
export interface PageDeps {
  readonly services: Kitsune['services']
  readonly pageOf: PageContextOf
  readonly engine: OidcEngineHolder
  readonly cookies: CookiePolicy
  readonly kitsune: Kitsune
}
