import type { FastifyInstance } from 'fastify'
import type { AuditLogRow } from '../../../db/schema.js'
import { accountActivity } from '../../../services/account-activity.js'
import { pageQuerySchema } from '../../form-schema.js'
import { accountEn } from '../../i18n/account.en.js'
import type { MessageKey } from '../../i18n/i18n.js'
import type { PageContext, PageDeps } from '../../page-context.js'
import { sendPage } from '../../render.js'
import { ACTIVITY, AccountShell } from './layout.js'
import { deviceOf, formatWhen, sessionGuard } from './support.js'

const PAGE_SIZE = 25

/** What an entry says happened, in the page's language. */
function eventOf(page: PageContext, row: AuditLogRow, userId: string): string {
  const key = `account.event_${row.action}`
  const label = Object.hasOwn(accountEn, key)
    ? page.t(key as MessageKey)
    : page.t('account.event_other', { action: row.action })
  const byOther = row.actor_id !== null && row.actor_id !== userId
  return byOther ? `${label} (${page.t('account.by_admin')})` : label
}

/** The person's own audit entries (done by them or to their account), newest first, paged by seq. */
export function activityPage(scope: FastifyInstance, deps: PageDeps): void {
  const { services, pageOf } = deps
  const signedIn = sessionGuard(deps)

  scope.get<{ Querystring: { before?: string } }>(
    '/account/activity',
    { schema: { hide: true, querystring: pageQuerySchema({ before: 20 }) } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, ACTIVITY)
      if (!session) return reply
      const before = /^[1-9]\d{0,18}$/.test(request.query.before ?? '') ? request.query.before : undefined
      const userId = session.user.id
      const { entries, nextBefore } = await accountActivity(services.audit, userId, {
        beforeSeq: before,
        limit: PAGE_SIZE,
      })
      return sendPage(
        reply,
        200,
        <AccountShell page={page} title={page.t('account.activity_title')} current={ACTIVITY}>
          <p>{page.t('account.activity_intro')}</p>
          {entries.length === 0 ? (
            <p>{page.t('account.activity_empty')}</p>
          ) : (
            <div class="account-table-wrap">
              <table class="account-table">
                <caption>{page.t('account.activity_caption')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{page.t('account.col_when')}</th>
                    <th scope="col">{page.t('account.col_event')}</th>
                    <th scope="col">{page.t('account.col_ip')}</th>
                    <th scope="col">{page.t('account.col_device')}</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map((row) => (
                    <tr key={row.id} class={row.action === 'user.login_failed' ? 'failed' : undefined}>
                      <td data-label={page.t('account.col_when')}>
                        <time datetime={row.at.toISOString()}>{formatWhen(page, row.at)}</time>
                      </td>
                      <th scope="row" data-label={page.t('account.col_event')}>
                        {eventOf(page, row, userId)}
                      </th>
                      <td data-label={page.t('account.col_ip')}>{row.ip ?? page.t('account.unknown')}</td>
                      <td data-label={page.t('account.col_device')}>{deviceOf(page, row.user_agent)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {(nextBefore || before) && (
            <nav class="account-pager" aria-label={page.t('account.activity_caption')}>
              {before && <a href={page.href(ACTIVITY)}>{page.t('account.activity_newest')}</a>}
              {nextBefore && (
                <a href={page.href(`${ACTIVITY}?before=${nextBefore}`)} rel="next">
                  {page.t('account.activity_older')}
                </a>
              )}
            </nav>
          )}
        </AccountShell>,
      )
    },
  )
}
