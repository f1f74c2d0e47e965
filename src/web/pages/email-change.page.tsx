import type { FastifyInstance } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import { type RequestContext, requestContextOf } from '../../services/request-context.js'
import { formBodySchema, pageQuerySchema, TOKEN_MAX_LENGTH } from '../form-schema.js'
import type { MessageKey } from '../i18n/en.js'
import { HiddenField, PageForm, SubmitButton } from '../layout/form.js'
import { MessagePage } from '../layout/message-page.js'
import { Shell } from '../layout/shell.js'
import type { PageContext, PageDeps } from '../page-context.js'
import { sendPage } from '../render.js'
import { messageRoute } from './message.route.js'

const CONFIRM_PATH = '/ui/email-change'
const UNDO_PATH = '/ui/email-change/undo'

/** The confirmation link (sent to the new address) and the undo link (sent to the old one). */
const FLOWS = {
  confirm: {
    path: CONFIRM_PATH,
    title: 'email_change.title',
    intro: 'email_change.intro',
    submit: 'email_change.submit',
    invalid: 'email_change.invalid_body',
    takenBody: 'email_change.taken_body',
  },
  undo: {
    path: UNDO_PATH,
    title: 'email_change.undo_title',
    intro: 'email_change.undo_intro',
    submit: 'email_change.undo_submit',
    invalid: 'email_change.undo_invalid_body',
    takenBody: 'email_change.undo_taken_body',
  },
} as const satisfies Record<string, Record<string, string>>

type Flow = (typeof FLOWS)[keyof typeof FLOWS]

function ConfirmButton(props: { page: PageContext; flow: Flow; token: string }) {
  const { page, flow } = props
  return (
    <Shell page={page} title={page.t(flow.title)}>
      <p>{page.t(flow.intro)}</p>
      <PageForm page={page} action={flow.path}>
        <HiddenField name="token" value={props.token} />
        <SubmitButton>{page.t(flow.submit)}</SubmitButton>
      </PageForm>
    </Shell>
  )
}

function Message(props: { page: PageContext; title: MessageKey; body: MessageKey; tone?: 'warning' }) {
  const { page } = props
  return (
    <MessagePage
      page={page}
      title={page.t(props.title)}
      body={page.t(props.body)}
      tone={props.tone}
      action={{ href: '/ui/sign-in', label: page.t('nav.sign_in') }}
    />
  )
}

/**
 * The e-mail's address-change links land here. Opening one changes nothing: the button's POST
 * does, so a mail scanner that fetches every link cannot use the token up (as /ui/verify-email).
 */
export function emailChangePage(scope: FastifyInstance, { services, pageOf }: PageDeps): void {
  const route = (flow: Flow, run: (token: string, ctx: RequestContext) => Promise<void>) => {
    const local = flow.path.slice('/ui'.length)
    const invalid = (page: PageContext) => (
      <Message page={page} title="link.invalid_title" body={flow.invalid} tone="warning" />
    )
    scope.get<{ Querystring: { token?: string } }>(
      local,
      { schema: { hide: true, querystring: pageQuerySchema({ token: TOKEN_MAX_LENGTH }) } },
      (request, reply) => {
        const page = pageOf(request, reply)
        const token = request.query.token
        if (!token) return sendPage(reply, 400, invalid(page))
        return sendPage(reply, 200, <ConfirmButton page={page} flow={flow} token={token} />)
      },
    )
    scope.post<{ Body: { token?: string } }>(
      local,
      {
        // 256-bit single-use tokens cannot be guessed: the global per-IP limit is enough (as the API).
        schema: {
          hide: true,
          querystring: pageQuerySchema(),
          body: formBodySchema({ token: TOKEN_MAX_LENGTH }),
        },
      },
      async (request, reply) => {
        const page = pageOf(request, reply)
        const token = request.body.token
        if (!token) return sendPage(reply, 400, invalid(page))
        try {
          await run(token, requestContextOf(request))
        } catch (error) {
          if (error instanceof AppError && error.code === 'INVALID_EMAIL_TOKEN')
            return sendPage(reply, 400, invalid(page))
          if (error instanceof AppError && error.code === 'EMAIL_TAKEN')
            return sendPage(
              reply,
              409,
              <Message page={page} title="email_change.taken_title" body={flow.takenBody} tone="warning" />,
            )
          throw error
        }
        return reply.redirect(page.href(`${flow.path}/done`), 303)
      },
    )
  }

  route(FLOWS.confirm, (token, ctx) => services.emailChange.confirm(token, ctx))
  route(FLOWS.undo, (token, ctx) => services.emailChange.undo(token, ctx))

  messageRoute(scope, pageOf, '/email-change/done', (page) => ({
    title: page.t('email_change.done_title'),
    body: page.t('email_change.done_body'),
    tone: 'success',
    action: { href: '/ui/sign-in', label: page.t('nav.sign_in') },
  }))
  messageRoute(scope, pageOf, '/email-change/undo/done', (page) => ({
    title: page.t('email_change.undo_done_title'),
    body: page.t('email_change.undo_done_body'),
    tone: 'success',
    action: { href: '/ui/forgot-password', label: page.t('email_change.reset_password') },
    links: [{ href: '/ui/sign-in', label: page.t('nav.sign_in') }],
  }))
}
