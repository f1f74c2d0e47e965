import type { FastifyInstance } from 'fastify'
import type { Kitsune } from '../kitsune.js'
import { ASSETS } from './assets/assets.js'
import { CSRF_FIELD, cookiePolicy, csrfTokensMatch } from './csrf.js'
import { createPageContexts, csrfTokenOf, type PageDeps } from './page-context.js'
import { CsrfRefused, errorPage, notFoundPage, pageErrorHandler } from './pages/error.page.js'
import { forgotPasswordPage } from './pages/forgot-password.page.js'
import { resetPasswordPage } from './pages/reset-password.page.js'
import { verifyEmailPage } from './pages/verify-email.page.js'

/**
 * The pages' CSP: Kitsune's own stylesheet and images, forms posting back to Kitsune only, no
 * script and no inline style at all, never framed (the API keeps its allow-nothing policy).
 */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const ASSET_CACHE = 'public, max-age=31536000, immutable'

/**
 * The HTML side of Kitsune, registered under the /ui prefix: page CSP, form bodies, the CSRF check
 * on every POST, errors and unknown paths as pages, the stylesheet, then one module per page.
 */
export async function webPages(scope: FastifyInstance, kitsune: Kitsune): Promise<void> {
  const policy = cookiePolicy(kitsune.config.publicUrl)
  if (policy.warning) kitsune.logger.warn({ public_url: kitsune.config.publicUrl }, policy.warning)
  const pageOf = createPageContexts(policy)
  const deps: PageDeps = { services: kitsune.services, pageOf }

  // onSend, not onRequest: a request refused before the scope's own hooks (a rate limit) still
  // gets its error page with the policy that lets the page load its stylesheet.
  scope.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', PAGE_CSP)
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

  for (const asset of ASSETS) {
    scope.get(asset.path.slice('/ui'.length), { schema: { hide: true } }, (_request, reply) =>
      reply.type(asset.contentType).header('cache-control', ASSET_CACHE).send(asset.body),
    )
  }

  forgotPasswordPage(scope, deps)
  resetPasswordPage(scope, deps)
  verifyEmailPage(scope, deps)
  errorPage(scope, deps)
}
