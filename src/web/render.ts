import type { FastifyReply } from 'fastify'
import type { VNode } from 'preact'
import { render } from 'preact-render-to-string'

/** Renders a page component (text escaped by preact) and sends it as the response. */
export function sendPage(reply: FastifyReply, status: number, page: VNode): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>${render(page)}`)
}
