import type { FastifyInstance } from 'fastify'
import type { PageDeps } from '../../page-context.js'
import { adminAccess } from './admin-kit.js'
import { auditPages } from './audit.page.js'
import { clientPages } from './clients.page.js'
import { overviewPage } from './overview.page.js'
import { rolePages } from './roles.page.js'
import { userPages } from './users.page.js'
import { webhookPages } from './webhooks.page.js'

/**
 * The admin console under /ui/admin: for people holding any admin permission; each screen and
 * action is shown only to those whose permissions allow it, and checked again by the services.
 */
export function adminPages(scope: FastifyInstance, deps: PageDeps): void {
  const access = adminAccess(deps)
  overviewPage(scope, deps, access)
  userPages(scope, deps, access)
  rolePages(scope, deps, access)
  clientPages(scope, deps, access)
  webhookPages(scope, deps, access)
  auditPages(scope, deps, access)
}
