import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { ERROR_CODES, PROBLEM_BASE } from '../../errors/error-codes.js'

/**
 * A request Node's HTTP parser refuses before Fastify ever sees it (a NUL or other control
 * character in a header, a malformed request line, headers too large, a client too slow to send
 * them) is still answered as RFC 9457 problem+json, like every other error, instead of Fastify's
 * own JSON body; then the connection closes, as Node does.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection is already gone: nothing to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const status =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
  const detail =
    status === 408
      ? 'the request took too long to arrive'
      : status === 431
        ? 'the request headers are too large'
        : 'the request is not valid HTTP (e.g. a control character in a header)'
  const requestId = randomUUID()
  const body = JSON.stringify({
    type: PROBLEM_BASE + ERROR_CODES.BAD_REQUEST.slug,
    title: ERROR_CODES.BAD_REQUEST.title,
    status,
    detail,
    code: 'BAD_REQUEST',
    request_id: requestId,
  })
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
        'Content-Type: application/problem+json; charset=utf-8\r\nCache-Control: no-store\r\n' +
        `X-Content-Type-Options: nosniff\r\nX-Request-Id: ${requestId}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
  }
  socket.destroy(error)
}
