import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FieldError } from '../../errors/app-error.js'
import { ERROR_CODES, type ErrorCode, PROBLEM_BASE } from '../../errors/error-codes.js'

export interface ProblemBody {
  type: string
  title: string
  status: number
  detail?: string
  instance: string
  code: string
  request_id: string
  errors?: readonly FieldError[]
}

/** Renders an error code as RFC 9457 problem+json. */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  extra: { detail?: string | undefined; errors?: readonly FieldError[] | undefined; status?: number } = {},
): FastifyReply {
  const entry = ERROR_CODES[code]
  const status = extra.status ?? entry.status
  const body: ProblemBody = {
    type: PROBLEM_BASE + entry.slug,
    title: entry.title,
    status,
    ...(extra.detail ? { detail: extra.detail } : {}),
    instance: request.url.split('?')[0] ?? request.url,
    code,
    request_id: request.id,
    ...(extra.errors ? { errors: extra.errors } : {}),
  }
  return reply.code(status).type('application/problem+json; charset=utf-8').send(body)
}
