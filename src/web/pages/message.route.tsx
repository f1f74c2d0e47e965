import type { FastifyInstance } from 'fastify'
import type { ComponentProps } from 'preact'
import { pageQuerySchema } from '../form-schema.js'
import { MessagePage } from '../layout/message-page.js'
import type { PageContext, PageContextOf } from '../page-context.js'
import { sendPage } from '../render.js'

/**
 * A GET page that only shows a message: where a form that succeeded redirects to (303), so that
 * reloading it re-sends nothing.
 */
export function messageRoute(
  scope: FastifyInstance,
  pageOf: PageContextOf,
  path: string,
  message: (page: PageContext) => Omit<ComponentProps<typeof MessagePage>, 'page'>,
): void {
  scope.get(path, { schema: { hide: true, querystring: pageQuerySchema() } }, (request, reply) => {
    const page = pageOf(request, reply)
    return sendPage(reply, 200, <MessagePage page={page} {...message(page)} />)
  })
}
