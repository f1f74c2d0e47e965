import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { createAdminOverviewService } from '../../../services/admin-overview.service.js'
import { createMailCheck } from '../../../services/health.service.js'
import { pageQuerySchema } from '../../form-schema.js'
import type { MessageKey } from '../../i18n/i18n.js'
import type { PageDeps } from '../../page-context.js'
import { sendPage } from '../../render.js'
import { ADMIN, type AdminAccess, AdminShell } from './admin-kit.js'

/** Kitsune's version, as package.json states it (src/ and dist/ sit at the same depth). */
export const KITSUNE_VERSION: string = (() => {
  try {
    const text = readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')
    return String((JSON.parse(text) as { version?: unknown }).version ?? 'unknown')
  } catch {
    return 'unknown'
  }
})()

const STATUS_KEYS: Readonly<Record<string, MessageKey>> = {
  ok: 'admin.overview.status_ok',
  down: 'admin.overview.status_down',
  disabled: 'admin.overview.status_disabled',
  pending: 'admin.overview.status_pending',
  log: 'admin.overview.status_log',
}

const NOTE_KEYS: Readonly<Record<string, MessageKey>> = {
  log: 'admin.overview.mail_log_note',
  down: 'admin.overview.mail_down_note',
}

/** `/ui/admin`: counts, health and version, and the sections this person may open. */
export function overviewPage(scope: FastifyInstance, deps: PageDeps, access: AdminAccess): void {
  const { services, kitsune } = deps
  const overview = createAdminOverviewService({ db: kitsune.database.db, clock: kitsune.clock })
  // Mail is shown beside the readiness checks but is not one of them (/health/ready ignores it).
  const mail = createMailCheck({
    smtpUrl: kitsune.mailer.kind === 'smtp' ? kitsune.config.smtpUrl : undefined,
    clock: kitsune.clock,
  })

  scope.get(
    '/admin',
    { schema: { hide: true, querystring: pageQuerySchema({ done: 32, failed: 32 }) } },
    async (request, reply) => {
      const admin = await access(request, reply)
      if (!admin) return reply
      const { page } = admin
      const [counts, health, mailStatus] = await Promise.all([
        overview.counts(),
        services.health.readiness(),
        mail.status(),
      ])
      const stat = (label: MessageKey, value: number) => (
        <div class="stat">
          <dt>{page.t(label)}</dt>
          <dd>{value.toLocaleString(page.locale)}</dd>
        </div>
      )
      const check = (label: MessageKey, status: string, note?: MessageKey) => (
        <div class="stat">
          <dt>{page.t(label)}</dt>
          <dd class={`status status-${status}`}>
            {page.t(STATUS_KEYS[status] ?? 'admin.overview.status_down')}
          </dd>
          {note && <dd class="stat-note">{page.t(note)}</dd>}
        </div>
      )
      const links: Array<{ href: string; key: MessageKey }> = []
      if (admin.can('users:read')) links.push({ href: `${ADMIN}/users`, key: 'admin.overview.link_users' })
      if (admin.can('users:write'))
        links.push({ href: `${ADMIN}/users/new`, key: 'admin.overview.link_new_user' })
      if (admin.can('roles:read')) links.push({ href: `${ADMIN}/roles`, key: 'admin.overview.link_roles' })
      if (admin.can('clients:read'))
        links.push({ href: `${ADMIN}/clients`, key: 'admin.overview.link_clients' })
      if (admin.can('audit:read')) links.push({ href: `${ADMIN}/audit`, key: 'admin.overview.link_audit' })
      return sendPage(
        reply,
        200,
        <AdminShell
          admin={admin}
          title={page.t('admin.overview.title')}
          section={ADMIN}
          query={request.query as Record<string, string>}
        >
          <section aria-labelledby="counts-title">
            <h2 id="counts-title">{page.t('admin.overview.counts')}</h2>
            <dl class="stats">
              {admin.can('users:read') && stat('admin.overview.users', counts.users)}
              {admin.can('users:read') && stat('admin.overview.sessions', counts.activeSessions)}
              {admin.can('audit:read') && stat('admin.overview.sign_ins', counts.signIns24h)}
              {admin.can('audit:read') && stat('admin.overview.failed_sign_ins', counts.failedSignIns24h)}
            </dl>
          </section>
          <section aria-labelledby="health-title">
            <h2 id="health-title">{page.t('admin.overview.health')}</h2>
            <dl class="stats">
              {check('admin.overview.database', health.checks.database)}
              {check('admin.overview.redis', health.checks.redis)}
              {check('admin.overview.migrations', health.checks.migrations)}
              {check('admin.overview.mail', mailStatus, NOTE_KEYS[mailStatus])}
              <div class="stat">
                <dt>{page.t('admin.overview.version')}</dt>
                <dd>{KITSUNE_VERSION}</dd>
              </div>
            </dl>
          </section>
          {links.length > 0 && (
            <section aria-labelledby="links-title">
              <h2 id="links-title">{page.t('admin.overview.links')}</h2>
              <ul class="admin-links">
                {links.map((link) => (
                  <li key={link.href}>
                    <a href={page.href(link.href)}>{page.t(link.key)}</a>
                  </li>
                ))}
              </ul>
            </section>
          )}
        </AdminShell>,
      )
    },
  )
}
