import type { FastifyInstance } from 'fastify'
import type { PageDeps } from '../../page-context.js'

/**
 * The admin console under /ui/admin: for people holding any admin permission; each screen and
 * action is shown only to those whose permissions allow it, and checked again by the services.
 */
export function adminPages(_scope: FastifyInstance, _deps: PageDeps): void {}
