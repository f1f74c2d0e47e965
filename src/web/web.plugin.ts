import type { FastifyInstance } from 'fastify'
import type { Kitsune } from '../kitsune.js'
import type { OidcEngineHolder } from '../oidc/oidc.plugin.js'
import { brandOf, CONSOLE_SCRIPT, PASSKEY_SCRIPT } from './assets/assets.js'
import { logoOrigins, pageCspFor } from './csp.js'
import { type CookiePolicy, CSRF_FIELD, csrfTokensMatch } from './csrf.js'
import { createPageContexts, csrfTokenOf, type PageDeps } from './page-context.js'
import { accountPages } from './pages/account/account.plugin.js'
import { adminPages } from './pages/admin/admin.plugin.js'
import { consentPage } from './pages/consent.page.js'
import { emailChangePage } from './pages/email-change.page.js'
import { CsrfRefused, errorPage, notFoundPage, pageErrorHandler } from './pages/error.page.js'
import { forgotPasswordPage } from './pages/forgot-password.page.js'
import { resetPasswordPage } from './pages/reset-password.page.js'
import { signInPage } from './pages/sign-in.page.js'
import { signOutPage } from './pages/sign-out.page.js'
import { signUpPage } from './pages/sign-up.page.js'
import { verifyEmailPage } from './pages/verify-email.page.js'

export { PAGE_CSP } from './csp.js'

const ASSET_CACHE = 'public, max-age=31536000, immutable'

/**
 * The HTML side of Kitsune, registered under the /ui prefix: page CSP, form bodies, the CSRF check
 * on every POST, errors and unknown paths as pages, the stylesheet and the console's script, then
 * one module per page.
 */
export async function webPages(
  scope: FastifyInstance,
  kitsune: Kitsune,
  engine: OidcEngineHolder,
  policy: CookiePolicy,
): Promise<void> {
  const brand = brandOf(kitsune.config.brand)
  const imageOrigins = logoOrigins(brand.logoUrl)
  const pageOf = createPageContexts(policy, brand)
  const deps: PageDeps = { services: kitsune.services, pageOf, engine, cookies: policy, kitsune }

  // onSend, not onRequest: a request refused before the scope's own hooks (a rate limit) still
  // gets its error page with the policy that lets the page load its stylesheet.
  scope.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', pageCspFor(reply, imageOrigins))
    return payload
  })

  // Forms post application/x-www-form-urlencoded; the API outside this scope still refuses it.
  scope.removeContentTypeParser('application/x-www-form-urlencoded')
  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)))
    },
  )

  // Double-submit CSRF check on every POST, after the body is parsed and before any handler. A
  // browser that says the form came from another site (Fetch Metadata) is refused even with a
  // matching token: defence in depth where the cookie cannot carry the __Host- prefix.
  scope.addHook('preHandler', async (request) => {
    if (request.method !== 'POST') return
    const field = (request.body as Record<string, unknown> | undefined)?.[CSRF_FIELD]
    if (request.headers['sec-fetch-site'] === 'cross-site') throw new CsrfRefused()
    if (!csrfTokensMatch(csrfTokenOf(request, policy), field)) throw new CsrfRefused()
  })

  scope.setErrorHandler(pageErrorHandler(pageOf))
  scope.setNotFoundHandler(notFoundPage(pageOf))

  for (const asset of [brand.stylesheet, CONSOLE_SCRIPT, PASSKEY_SCRIPT]) {
    scope.get(asset.path.slice('/ui'.length), { schema: { hide: true } }, (_request, reply) =>
      reply.type(asset.contentType).header('cache-control', ASSET_CACHE).send(asset.body),
    )
  }

  forgotPasswordPage(scope, deps)
  resetPasswordPage(scope, deps)
  verifyEmailPage(scope, deps)
  emailChangePage(scope, deps)
  errorPage(scope, deps)
  signInPage(scope, deps)
  signUpPage(scope, deps)
  consentPage(scope, deps)
  signOutPage(scope, deps)
  accountPages(scope, deps)
  adminPages(scope, deps)
}
