import type { FastifyInstance } from 'fastify'
import type { PageDeps } from '../../page-context.js'
import { activityPage } from './activity.page.js'
import { deletePages } from './delete.page.js'
import { detailsPages } from './details.page.js'
import { overviewPage } from './overview.page.js'
import { passkeysPages } from './passkeys.page.js'
import { sessionsPages } from './sessions.page.js'
import { twoFactorPages } from './two-factor.page.js'

/**
 * The account console under /ui/account: what a signed-in person does with their own account,
 * through the same services and checks as the JSON API's /users/me. Every page needs the browser's
 * sign-in (else the sign-in page, returning here afterwards); password, e-mail, two-step, passkeys
 * and deletion need one from the last 10 minutes (else the sign-in page asks for the password again).
 */
export function accountPages(scope: FastifyInstance, deps: PageDeps): void {
  overviewPage(scope, deps)
  detailsPages(scope, deps)
  sessionsPages(scope, deps)
  twoFactorPages(scope, deps)
  passkeysPages(scope, deps)
  activityPage(scope, deps)
  deletePages(scope, deps)
}
