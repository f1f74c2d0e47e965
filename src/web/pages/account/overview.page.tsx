import type { FastifyInstance } from 'fastify'
import { pageQuerySchema } from '../../form-schema.js'
import { PageForm } from '../../layout/form.js'
import type { PageDeps } from '../../page-context.js'
import { sendPage } from '../../render.js'
import { ACCOUNT, AccountShell, SECTIONS, Section } from './layout.js'
import { formatWhen, sessionGuard } from './support.js'

/** /ui/account: who is signed in, a summary of the account, each section, and signing out. */
export function overviewPage(scope: FastifyInstance, deps: PageDeps): void {
  const signedIn = sessionGuard(deps)
  scope.get(
    '/account',
    { schema: { hide: true, querystring: pageQuerySchema() } },
    async (request, reply) => {
      const page = deps.pageOf(request, reply)
      const session = await signedIn(request, reply, page, ACCOUNT)
      if (!session) return reply
      const { user } = session
      return sendPage(
        reply,
        200,
        <AccountShell page={page} title={page.t('account.title')} current={ACCOUNT}>
          <p>{page.t('account.signed_in_as', { email: user.email })}</p>
          <dl class="details account-summary">
            <dt>{page.t('account.name')}</dt>
            <dd>{user.full_name ?? page.t('account.no_name')}</dd>
            <dt>{page.t('account.email')}</dt>
            <dd>
              {user.email} (
              {page.t(user.email_verified ? 'account.email_verified' : 'account.email_unverified')})
            </dd>
            <dt>{page.t('account.two_factor')}</dt>
            <dd>{page.t(user.mfa_enabled ? 'account.on' : 'account.off')}</dd>
            <dt>{page.t('account.member_since')}</dt>
            <dd>
              <time datetime={user.created_at.toISOString()}>{formatWhen(page, user.created_at)}</time>
            </dd>
          </dl>
          <Section id="sections" title={page.t('account.sections_title')}>
            <ul class="account-sections">
              {SECTIONS.map((section) => (
                <li key={section.path}>
                  <a href={page.href(section.path)}>{page.t(section.nav)}</a>
                  <span class="muted">{page.t(section.about)}</span>
                </li>
              ))}
            </ul>
          </Section>
          <Section id="sign-out" title={page.t('account.sign_out_title')}>
            <p>{page.t('account.sign_out_body')}</p>
            <PageForm page={page} action="/ui/sign-out">
              <button class="button secondary" type="submit">
                {page.t('sign_out.submit')}
              </button>
            </PageForm>
          </Section>
        </AccountShell>,
      )
    },
  )
}
