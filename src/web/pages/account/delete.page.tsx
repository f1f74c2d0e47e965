import type { FastifyInstance } from 'fastify'
import { PASSWORD_MAX_LENGTH } from '../../../auth/password-policy.js'
import { AppError } from '../../../errors/app-error.js'
import { requestContextOf } from '../../../services/request-context.js'
import { clearedBrowserSessionCookie } from '../../browser-cookie.js'
import { formBodySchema, pageQuerySchema } from '../../form-schema.js'
import { Field, type FieldErrors, PageForm } from '../../layout/form.js'
import type { PageContext, PageDeps } from '../../page-context.js'
import { sendPage } from '../../render.js'
import { messageRoute } from '../message.route.js'
import { AccountShell, DELETE, DELETED } from './layout.js'
import { principalOf, sessionGuard } from './support.js'

function DeletePage(props: { page: PageContext; errors?: FieldErrors }) {
  const { page, errors } = props
  const word = page.t('account.delete_word')
  return (
    <AccountShell
      page={page}
      title={page.t('account.delete_title')}
      current={DELETE}
      hasErrors={Boolean(errors?.length)}
    >
      <div class="account-danger-zone">
        <p>{page.t('account.delete_intro')}</p>
      </div>
      <PageForm page={page} action={DELETE} errors={errors}>
        <Field
          name="password"
          type="password"
          autocomplete="current-password"
          label={page.t('account.delete_password_label')}
          errors={errors}
        />
        <Field
          name="confirm"
          type="text"
          autocomplete="off"
          label={page.t('account.delete_confirm_label', { word })}
          errors={errors}
        />
        <button class="button danger" type="submit">
          {page.t('account.delete_submit')}
        </button>
      </PageForm>
      <p class="muted">{page.t('account.recent_sign_in_note')}</p>
    </AccountShell>
  )
}

/** Deleting the account (users.deleteMe): password and a typed word; its sessions end with it. */
export function deletePages(scope: FastifyInstance, deps: PageDeps): void {
  const { services, pageOf, cookies } = deps
  const signedIn = sessionGuard(deps)

  scope.get(
    '/account/delete',
    { schema: { hide: true, querystring: pageQuerySchema() } },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, DELETE, { recent: true })
      if (!session) return reply
      return sendPage(reply, 200, <DeletePage page={page} />)
    },
  )

  scope.post<{ Body: { password?: string; confirm?: string } }>(
    '/account/delete',
    {
      config: { rateLimit: 'login' },
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        body: formBodySchema({ password: 4 * PASSWORD_MAX_LENGTH, confirm: 64 }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request, reply)
      const session = await signedIn(request, reply, page, DELETE, { recent: true })
      if (!session) return reply
      const word = page.t('account.delete_word')
      const errors: Array<{ field: string; message: string }> = []
      if (!request.body.password)
        errors.push({ field: 'password', message: page.t('account.error_current_missing') })
      if ((request.body.confirm ?? '').trim().toLocaleUpperCase(page.locale) !== word)
        errors.push({ field: 'confirm', message: page.t('account.error_confirm_word', { word }) })
      if (errors.length > 0) return sendPage(reply, 422, <DeletePage page={page} errors={errors} />)
      try {
        await services.users.deleteMe(
          principalOf(session),
          request.body.password ?? '',
          requestContextOf(request),
        )
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (error.code === 'INVALID_CREDENTIALS')
          return sendPage(
            reply,
            401,
            <DeletePage
              page={page}
              errors={[{ field: 'password', message: page.t('account.error_current_wrong') }]}
            />,
          )
        if (error.code === 'LAST_ADMIN')
          return sendPage(
            reply,
            409,
            <DeletePage
              page={page}
              errors={[{ field: 'password', message: page.t('account.error_last_admin') }]}
            />,
          )
        throw error
      }
      reply.header('set-cookie', clearedBrowserSessionCookie(cookies))
      return reply.redirect(page.href(DELETED), 303)
    },
  )

  messageRoute(scope, pageOf, '/account/deleted', (page) => ({
    title: page.t('account.deleted_title'),
    body: page.t('account.deleted_body', { brand: page.brand.name }),
    tone: 'success',
    links: [{ href: '/ui/sign-up', label: page.t('account.create_new') }],
  }))
}
