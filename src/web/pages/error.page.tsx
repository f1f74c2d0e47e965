import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, isDependencyDown } from '../../errors/app-error.js'
import { ERROR_CODES } from '../../errors/error-codes.js'
import { pageQuerySchema } from '../form-schema.js'
import type { MessageKey } from '../i18n/i18n.js'
import { MessagePage } from '../layout/message-page.js'
import type { PageContext, PageContextOf, PageDeps } from '../page-context.js'
import { sendPage } from '../render.js'

/** A POST whose CSRF field does not match the browser's cookie. */
export class CsrfRefused extends Error {
  constructor() {
    super('the form did not carry this browser’s CSRF token')
    this.name = 'CsrfRefused'
  }
}

function ErrorPage(props: { page: PageContext; title: MessageKey; body: MessageKey; seconds?: number }) {
  const { page } = props
  return (
    <MessagePage
      page={page}
      title={page.t(props.title)}
      body={page.t(props.body, props.seconds === undefined ? undefined : { seconds: props.seconds })}
      tone="warning"
      links={[{ href: '/ui/sign-in', label: page.t('nav.sign_in') }]}
    />
  )
}

/** `/ui/error`: where a flow that cannot go on sends the person. */
export function errorPage(scope: FastifyInstance, { pageOf }: PageDeps): void {
  scope.get('/error', { schema: { hide: true, querystring: pageQuerySchema() } }, (request, reply) =>
    sendPage(reply, 200, <ErrorPage page={pageOf(request, reply)} title="error.title" body="error.body" />),
  )
}

/** Unknown paths under /ui/ get a page, not the API's problem+json. */
export function notFoundPage(pageOf: PageContextOf) {
  return (request: FastifyRequest, reply: FastifyReply) =>
    sendPage(
      reply,
      404,
      <ErrorPage page={pageOf(request, reply)} title="error.not_found_title" body="error.not_found_body" />,
    )
}

/**
 * Errors under /ui/ as pages, with the statuses the JSON API would give: 403 for a CSRF mismatch,
 * 429 (with Retry-After) past a rate limit, 503 when a dependency is down, 400 for a request no
 * form of Kitsune's sends, 500 (logged) for anything else.
 */
export function pageErrorHandler(pageOf: PageContextOf) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const page = pageOf(request, reply)
    const show = (status: number, title: MessageKey, body: MessageKey, seconds?: number) =>
      sendPage(reply, status, <ErrorPage page={page} title={title} body={body} seconds={seconds} />)
    if (error instanceof CsrfRefused) return show(403, 'error.csrf_title', 'error.csrf_body')
    if (error instanceof AppError && error.code === 'RATE_LIMITED') {
      const seconds = error.retryAfter ?? 60
      reply.header('retry-after', String(seconds))
      return show(429, 'error.rate_limited_title', 'error.rate_limited_body', seconds)
    }
    if (
      (error instanceof AppError && (error.code === 'DEPENDENCY_DOWN' || error.code === 'SERVER_BUSY')) ||
      isDependencyDown(error)
    ) {
      request.log.warn({ err: error instanceof AppError ? (error.cause ?? error) : error }, 'dependency down')
      return show(503, 'error.unavailable_title', 'error.unavailable_body')
    }
    const status =
      error instanceof AppError ? ERROR_CODES[error.code].status : error.validation ? 400 : error.statusCode
    if (status !== undefined && status >= 400 && status < 500)
      return show(status, 'error.bad_request_title', 'error.bad_request_body')
    request.log.error({ err: error }, 'unhandled error')
    return show(500, 'error.title', 'error.body')
  }
}
