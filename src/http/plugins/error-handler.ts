import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, type FieldError, isDependencyDown } from '../../errors/app-error.js'
import type { ErrorCode } from '../../errors/error-codes.js'
import { sendProblem } from './problem.js'

interface AjvError {
  instancePath: string
  keyword: string
  message?: string
  params: Record<string, unknown>
}

/**
 * Ajv errors → `{field: JSON pointer, message}`, naming the offending property where Ajv knows it.
 * Body fields are named from the body's root (`/email`); other parts under their name, the query
 * string as `/query` like the services' own errors (`/query/cursor`), not Fastify's `querystring`.
 */
export function fieldErrors(errors: readonly AjvError[], part: string): FieldError[] {
  const prefix = part === 'body' ? '' : part === 'querystring' ? '/query' : `/${part}`
  return errors
    .filter((e) => !['anyOf', 'oneOf', 'if'].includes(e.keyword))
    .map((e) => {
      let field = e.instancePath
      let message = e.message ?? 'is invalid'
      if (e.keyword === 'required') {
        field += `/${String(e.params.missingProperty)}`
        message = 'is required'
      }
      if (e.keyword === 'additionalProperties') {
        field += `/${String(e.params.additionalProperty)}`
        message = 'is not an accepted field'
      }
      return { field: prefix + (field || ''), message }
    })
    .filter((e, index, all) => all.findIndex((o) => o.field === e.field && o.message === e.message) === index)
}

const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_TYPE: 'BAD_REQUEST',
}

/** The one place errors become HTTP: RFC 9457 problem+json, never a stack trace or SQL. */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  {
    if (error instanceof AppError) {
      if (error.code === 'INVALID_TOKEN') reply.header('www-authenticate', 'Bearer error="invalid_token"')
      if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter))
      if (error.code === 'DEPENDENCY_DOWN') request.log.warn({ err: error.cause ?? error }, 'dependency down')
      return sendProblem(request, reply, error.code, { detail: error.detail, errors: error.errors })
    }
    if (error.validation) {
      const errors = fieldErrors(error.validation as AjvError[], error.validationContext ?? 'body')
      return sendProblem(request, reply, 'VALIDATION_FAILED', {
        detail: errors.map((e) => `${e.field || '(body)'} ${e.message}`).join('; '),
        errors,
      })
    }
    const frameworkCode = error.code ? FRAMEWORK_CODES[error.code] : undefined
    if (frameworkCode) return sendProblem(request, reply, frameworkCode, { detail: error.message })
    if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return sendProblem(request, reply, 'MALFORMED_JSON', { detail: 'the body is not valid JSON' })
    }
    if (isDependencyDown(error)) {
      request.log.warn({ err: error }, 'dependency down')
      return sendProblem(request, reply, 'DEPENDENCY_DOWN')
    }
    // Fastify's own client errors (prototype poisoning, bad headers…): keep their status, generic text.
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(request, reply, 'BAD_REQUEST', { status: error.statusCode, detail: error.message })
    }
    request.log.error({ err: error }, 'unhandled error')
    return sendProblem(request, reply, 'INTERNAL')
  }
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(handleError)

  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 'NOT_FOUND', {
      detail: `no route for ${request.method} ${request.url.split('?')[0]}`,
    }),
  )
}
