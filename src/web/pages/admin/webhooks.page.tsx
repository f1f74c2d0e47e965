import type { FastifyInstance } from 'fastify'
import { AppError } from '../../../errors/app-error.js'
import { ALL_EVENTS, EVENT_TYPES } from '../../../events/catalogue.js'
import type {
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointInput,
} from '../../../services/webhook.service.js'
import { formBodySchema, pageQuerySchema } from '../../form-schema.js'
import type { MessageKey } from '../../i18n/i18n.js'
import { Field, type FieldErrors, PageForm, SubmitButton } from '../../layout/form.js'
import { Notice } from '../../layout/shell.js'
import type { PageContext, PageDeps } from '../../page-context.js'
import { sendPage } from '../../render.js'
import {
  ActionButton,
  ADMIN,
  type AdminAccess,
  type AdminRequest,
  AdminShell,
  act,
  Checkbox,
  ConfirmLink,
  CopyButton,
  formErrors,
  Pager,
  refusal,
  sendScriptedPage,
  Table,
  UUID,
  when,
} from './admin-kit.js'

const WEBHOOKS = `${ADMIN}/webhooks`
const PAGE_SIZE = 25
const DELIVERY_PAGE_SIZE = 25
const ID_PARAMS = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const
const DELIVERY_PARAMS = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 }, delivery_id: { type: 'string', maxLength: 64 } },
  required: ['id', 'delivery_id'],
} as const
const LIST_QUERY = pageQuerySchema({ cursor: 400, back: 8400, done: 32, failed: 32 })
/** Event checkboxes are named event.<type>; "all events" is all_events. */
const WEBHOOK_FORM = formBodySchema({
  url: 2000,
  all_events: 3,
  enabled: 3,
  ...Object.fromEntries(EVENT_TYPES.map((type) => [`event.${type}`, 3])),
})
const FORM_FIELDS = ['url', 'events']
/** The reason the delivery job gives when it disables an endpoint (jobs/webhook-jobs.ts). */
const AUTO_DISABLED_REASON = 'deliveries failed continuously for 3 days'
const DELIVERY_STATES = ['queued', 'succeeded', 'failed', 'dead'] as const

const webhookPath = (id: string) => `${WEBHOOKS}/${id}`

interface WebhookFormValues {
  url: string
  all: boolean
  events: readonly string[]
  enabled: boolean
}

const valuesOf = (body: Record<string, string | undefined>): WebhookFormValues => ({
  url: (body.url ?? '').trim(),
  all: body.all_events === 'on',
  events: EVENT_TYPES.filter((type) => body[`event.${type}`] === 'on'),
  enabled: body.enabled === 'on',
})

const valuesFrom = (endpoint: WebhookEndpoint): WebhookFormValues => ({
  url: endpoint.url,
  all: endpoint.events.includes(ALL_EVENTS),
  events: endpoint.events.filter((e) => e !== ALL_EVENTS),
  enabled: endpoint.enabled,
})

const inputOf = (values: WebhookFormValues): WebhookEndpointInput => ({
  url: values.url,
  events: values.all ? [ALL_EVENTS] : [...values.events],
  enabled: values.enabled,
})

/** The events an endpoint receives, as text. */
const eventsText = (page: PageContext, events: readonly string[]) =>
  events.includes(ALL_EVENTS) ? page.t('admin.webhooks.all_events') : events.join(', ')

/** Enabled, or disabled with its reason (the automatic one in the page's language). */
function stateText(page: PageContext, endpoint: WebhookEndpoint): string {
  if (endpoint.enabled) return page.t('admin.webhooks.enabled')
  if (!endpoint.disabled_reason) return page.t('admin.webhooks.disabled')
  const reason =
    endpoint.disabled_reason === AUTO_DISABLED_REASON
      ? page.t('admin.webhooks.reason_failing')
      : endpoint.disabled_reason
  return page.t('admin.webhooks.disabled_because', { reason })
}

const stateOf = (page: PageContext, delivery: WebhookDelivery) =>
  (DELIVERY_STATES as readonly string[]).includes(delivery.state)
    ? page.t(`admin.webhooks.state_${delivery.state}` as MessageKey)
    : delivery.state

/**
 * The admin console's webhooks: endpoints (list, registration showing the secret once, changes,
 * removal), a test event, and each endpoint's delivery log with redelivery. Every action goes
 * through the webhook service, which validates and audits; the permissions are the API's.
 */
export function webhookPages(scope: FastifyInstance, deps: PageDeps, access: AdminAccess): void {
  const { webhooks } = deps.services

  const endpointOf = async (id: string): Promise<WebhookEndpoint | undefined> => {
    if (!UUID.test(id)) return undefined
    try {
      return await webhooks.get(id)
    } catch (error) {
      if (error instanceof AppError && error.code === 'NOT_FOUND') return undefined
      throw error
    }
  }

  const WebhookFields = (props: {
    admin: AdminRequest
    values?: WebhookFormValues
    errors?: FieldErrors
  }) => {
    const { admin, errors } = props
    const { page } = admin
    const v = props.values
    const eventsError = errors?.find((e) => e.field === 'events')
    return (
      <>
        <Field
          name="url"
          type="text"
          autocomplete="url"
          label={page.t('admin.webhooks.url_label')}
          hint={page.t('admin.webhooks.url_hint')}
          value={v?.url}
          errors={errors}
        />
        <fieldset id="events" tabindex={-1} aria-describedby={eventsError ? 'events-error' : undefined}>
          <legend>{page.t('admin.webhooks.events')}</legend>
          {eventsError && (
            <span class="field-error" id="events-error">
              {eventsError.message}
            </span>
          )}
          <Checkbox
            name="all_events"
            label={page.t('admin.webhooks.all_events')}
            hint={page.t('admin.webhooks.all_events_hint')}
            checked={v ? v.all : true}
          />
          {/* Event names are long (mfa.recovery_codes_regenerated): wider columns than roles' permissions. */}
          <div class="checkbox-grid wide">
            {EVENT_TYPES.map((type) => (
              <Checkbox key={type} name={`event.${type}`} label={type} checked={v?.events.includes(type)} />
            ))}
          </div>
        </fieldset>
        <Checkbox
          name="enabled"
          label={page.t('admin.webhooks.enabled_label')}
          hint={page.t('admin.webhooks.enabled_hint')}
          checked={v ? v.enabled : true}
        />
      </>
    )
  }

  scope.get<{ Querystring: Record<string, string | undefined> }>(
    '/admin/webhooks',
    { schema: { hide: true, querystring: LIST_QUERY } },
    async (request, reply) => {
      const admin = await access(request, reply, 'webhooks:read')
      if (!admin) return reply
      const { page } = admin
      const cursor = request.query.cursor && request.query.cursor !== '-' ? request.query.cursor : undefined
      let found: Awaited<ReturnType<typeof webhooks.list>>
      try {
        found = await webhooks.list({ limit: PAGE_SIZE, cursor })
      } catch (error) {
        const refused = refusal(reply, admin, error, WEBHOOKS)
        if (refused) return refused
        throw error
      }
      return sendPage(
        reply,
        200,
        <AdminShell
          admin={admin}
          title={page.t('admin.webhooks.title')}
          section={WEBHOOKS}
          query={request.query}
        >
          <p>{page.t('admin.webhooks.intro')}</p>
          {admin.can('webhooks:write') && (
            <p>
              <a class="button inline" href={page.href(`${WEBHOOKS}/new`)}>
                {page.t('admin.webhooks.create')}
              </a>
            </p>
          )}
          <Table
            caption={page.t('admin.webhooks.caption')}
            headers={[
              page.t('admin.webhooks.col_url'),
              page.t('admin.webhooks.events'),
              page.t('admin.webhooks.col_state'),
              page.t('admin.webhooks.col_failing_since'),
            ]}
            rows={found.items.length}
            empty={page.t('admin.webhooks.none')}
          >
            {found.items.map((endpoint) => (
              <tr key={endpoint.id}>
                <td class="wrap">
                  <a href={page.href(webhookPath(endpoint.id))}>{endpoint.url}</a>
                </td>
                <td class="wrap">{eventsText(page, endpoint.events)}</td>
                <td class="wrap">{stateText(page, endpoint)}</td>
                <td>{when(endpoint.failing_since)}</td>
              </tr>
            ))}
          </Table>
          <Pager
            page={page}
            path={WEBHOOKS}
            params={{}}
            cursor={cursor}
            back={request.query.back}
            next={found.next_cursor}
          />
        </AdminShell>,
      )
    },
  )

  const NewWebhookPage = (props: {
    admin: AdminRequest
    values?: WebhookFormValues
    errors?: FieldErrors
  }) => {
    const { admin, errors } = props
    return (
      <AdminShell
        admin={admin}
        title={admin.page.t('admin.webhooks.new_title')}
        section={WEBHOOKS}
        hasErrors={Boolean(errors?.length)}
      >
        <p>
          <a href={admin.page.href(WEBHOOKS)}>{admin.page.t('admin.webhooks.back')}</a>
        </p>
        <PageForm page={admin.page} action={`${WEBHOOKS}/new`} errors={errors}>
          <WebhookFields admin={admin} values={props.values} errors={errors} />
          <SubmitButton>{admin.page.t('admin.webhooks.create_submit')}</SubmitButton>
        </PageForm>
      </AdminShell>
    )
  }

  scope.get(
    '/admin/webhooks/new',
    { schema: { hide: true, querystring: pageQuerySchema() } },
    async (request, reply) => {
      const admin = await access(request, reply, 'webhooks:write')
      if (!admin) return reply
      return sendPage(reply, 200, <NewWebhookPage admin={admin} />)
    },
  )

  scope.post<{ Body: Record<string, string | undefined> }>(
    '/admin/webhooks/new',
    { schema: { hide: true, querystring: pageQuerySchema(), body: WEBHOOK_FORM } },
    async (request, reply) => {
      const admin = await access(request, reply, 'webhooks:write')
      if (!admin) return reply
      const { page } = admin
      const values = valuesOf(request.body)
      let created: Awaited<ReturnType<typeof webhooks.create>>
      try {
        created = await webhooks.create(admin.principal.userId, inputOf(values), admin.ctx)
      } catch (error) {
        if (error instanceof AppError && error.code === 'VALIDATION_FAILED')
          return sendPage(
            reply,
            422,
            <NewWebhookPage admin={admin} values={values} errors={formErrors(page, error, FORM_FIELDS)} />,
          )
        const refused = refusal(reply, admin, error, WEBHOOKS)
        if (refused) return refused
        throw error
      }
      return sendScriptedPage(
        reply,
        201,
        <AdminShell admin={admin} title={page.t('admin.webhooks.created_title')} section={WEBHOOKS} script>
          <div role="status">
            <Notice tone="success">
              <p>{page.t('admin.webhooks.secret_once')}</p>
            </Notice>
          </div>
          <dl class="details">
            <dt>{page.t('admin.webhooks.col_url')}</dt>
            <dd>
              <code>{created.url}</code>
            </dd>
            <dt>{page.t('admin.webhooks.id')}</dt>
            <dd>
              <code>{created.id}</code>
            </dd>
          </dl>
          <div class="field">
            <label for="webhook_secret">{page.t('admin.webhooks.secret')}</label>
            <span class="hint" id="webhook_secret-hint">
              {page.t('admin.webhooks.secret_hint')}
            </span>
            <div class="copy-row">
              <input
                id="webhook_secret"
                type="text"
                readonly
                value={created.secret}
                class="copy-field"
                aria-describedby="webhook_secret-hint"
                autocomplete="off"
                spellcheck={false}
              />
              <CopyButton page={page} target="webhook_secret" label={page.t('admin.webhooks.copy_secret')} />
            </div>
          </div>
          <p>
            <a href={page.href(webhookPath(created.id))}>{page.t('admin.webhooks.to_webhook')}</a>
          </p>
        </AdminShell>,
      )
    },
  )

  const WebhookPage = (props: {
    admin: AdminRequest
    endpoint: WebhookEndpoint
    deliveries: Awaited<ReturnType<typeof webhooks.listDeliveries>>
    cursor?: string
    query?: Record<string, string | undefined>
    values?: WebhookFormValues
    errors?: FieldErrors
  }) => {
    const { admin, endpoint, errors, deliveries } = props
    const { page } = admin
    const self = webhookPath(endpoint.id)
    const write = admin.can('webhooks:write')
    return (
      <AdminShell
        admin={admin}
        title={page.t('admin.webhooks.webhook_title', { host: new URL(endpoint.url).host })}
        section={WEBHOOKS}
        query={props.query}
        hasErrors={Boolean(errors?.length)}
      >
        <p>
          <a href={page.href(WEBHOOKS)}>{page.t('admin.webhooks.back')}</a>
        </p>
        <dl class="details">
          <dt>{page.t('admin.webhooks.col_url')}</dt>
          <dd>
            <code>{endpoint.url}</code>
          </dd>
          <dt>{page.t('admin.webhooks.id')}</dt>
          <dd>
            <code>{endpoint.id}</code>
          </dd>
          <dt>{page.t('admin.webhooks.events')}</dt>
          <dd>{eventsText(page, endpoint.events)}</dd>
          <dt>{page.t('admin.webhooks.col_state')}</dt>
          <dd>{stateText(page, endpoint)}</dd>
          <dt>{page.t('admin.webhooks.col_failing_since')}</dt>
          <dd>{when(endpoint.failing_since)}</dd>
          <dt>{page.t('admin.webhooks.col_created')}</dt>
          <dd>{when(endpoint.created_at)}</dd>
        </dl>
        {write && (
          <>
            <div class="button-row">
              <ActionButton
                page={page}
                action={`${self}/test`}
                label={page.t('admin.webhooks.send_test')}
                tone="secondary"
              />
            </div>
            <section aria-labelledby="edit-title">
              <h2 id="edit-title">{page.t('admin.webhooks.edit')}</h2>
              <PageForm page={page} action={self} errors={errors}>
                <WebhookFields admin={admin} values={props.values ?? valuesFrom(endpoint)} errors={errors} />
                <SubmitButton>{page.t('admin.webhooks.save')}</SubmitButton>
              </PageForm>
            </section>
          </>
        )}
        <section aria-labelledby="deliveries-title">
          <h2 id="deliveries-title">{page.t('admin.webhooks.deliveries')}</h2>
          <Table
            caption={page.t('admin.webhooks.deliveries_caption')}
            headers={[
              page.t('admin.webhooks.col_time'),
              page.t('admin.webhooks.col_event'),
              page.t('admin.webhooks.col_delivery_state'),
              page.t('admin.webhooks.col_attempts'),
              page.t('admin.webhooks.col_status'),
              page.t('admin.webhooks.col_response_time'),
              page.t('admin.webhooks.col_error'),
              ...(write ? [page.t('admin.webhooks.col_actions')] : []),
            ]}
            rows={deliveries.items.length}
            empty={page.t('admin.webhooks.no_deliveries')}
          >
            {deliveries.items.map((delivery) => (
              <tr key={delivery.id}>
                <td>{when(delivery.created_at)}</td>
                <td>
                  <code>{delivery.event_type}</code>
                </td>
                <td>{stateOf(page, delivery)}</td>
                <td>{delivery.attempts}</td>
                <td>{delivery.last_status ?? '—'}</td>
                <td>
                  {delivery.last_response_ms === null
                    ? '—'
                    : page.t('admin.webhooks.ms', { ms: String(delivery.last_response_ms) })}
                </td>
                <td class="wrap">{delivery.last_error ?? '—'}</td>
                {write && (
                  <td>
                    <PageForm page={page} action={`${self}/deliveries/${delivery.id}/redeliver`}>
                      <button
                        class="button secondary compact"
                        type="submit"
                        aria-label={page.t('admin.webhooks.redeliver_named', {
                          event: delivery.event_type,
                          time: when(delivery.created_at),
                        })}
                      >
                        {page.t('admin.webhooks.redeliver')}
                      </button>
                    </PageForm>
                  </td>
                )}
              </tr>
            ))}
          </Table>
          <Pager
            page={page}
            path={self}
            params={{}}
            cursor={props.cursor}
            back={props.query?.back}
            next={deliveries.next_cursor}
          />
        </section>
        {write && (
          <div class="button-row danger-zone">
            <ConfirmLink href={page.href(`${self}/delete`)} label={page.t('admin.webhooks.delete')} danger />
          </div>
        )}
      </AdminShell>
    )
  }

  /** The detail page's delivery log, from `cursor` (a bad cursor starts again at the newest). */
  const deliveriesOf = async (endpoint: WebhookEndpoint, cursor: string | undefined) => {
    try {
      return await webhooks.listDeliveries(endpoint.id, { limit: DELIVERY_PAGE_SIZE, cursor })
    } catch (error) {
      if (cursor && error instanceof AppError && error.code === 'VALIDATION_FAILED')
        return webhooks.listDeliveries(endpoint.id, { limit: DELIVERY_PAGE_SIZE })
      throw error
    }
  }

  scope.get<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>(
    '/admin/webhooks/:id',
    { schema: { hide: true, params: ID_PARAMS, querystring: LIST_QUERY } },
    async (request, reply) => {
      const admin = await access(request, reply, 'webhooks:read')
      if (!admin) return reply
      const endpoint = await endpointOf(request.params.id)
      if (!endpoint) return reply.callNotFound()
      const cursor = request.query.cursor && request.query.cursor !== '-' ? request.query.cursor : undefined
      const deliveries = await deliveriesOf(endpoint, cursor)
      return sendPage(
        reply,
        200,
        <WebhookPage
          admin={admin}
          endpoint={endpoint}
          deliveries={deliveries}
          cursor={cursor}
          query={request.query}
        />,
      )
    },
  )

  scope.post<{ Params: { id: string }; Body: Record<string, string | undefined> }>(
    '/admin/webhooks/:id',
    { schema: { hide: true, params: ID_PARAMS, querystring: pageQuerySchema(), body: WEBHOOK_FORM } },
    async (request, reply) => {
      const admin = await access(request, reply, 'webhooks:write')
      if (!admin) return reply
      const endpoint = await endpointOf(request.params.id)
      if (!endpoint) return reply.callNotFound()
      const values = valuesOf(request.body)
      const self = webhookPath(endpoint.id)
      try {
        await webhooks.update(admin.principal.userId, endpoint.id, inputOf(values), admin.ctx)
      } catch (error) {
        if (error instanceof AppError && error.code === 'VALIDATION_FAILED')
          return sendPage(
            reply,
            422,
            <WebhookPage
              admin={admin}
              endpoint={endpoint}
              deliveries={await deliveriesOf(endpoint, undefined)}
              values={values}
              errors={formErrors(admin.page, error, FORM_FIELDS)}
            />,
          )
        const refused = refusal(reply, admin, error, self)
        if (refused) return refused
        throw error
      }
      return reply.redirect(admin.page.href(`${self}?done=webhook_updated`), 303)
    },
  )

  scope.get<{ Params: { id: string } }>(
    '/admin/webhooks/:id/delete',
    { schema: { hide: true, params: ID_PARAMS, querystring: pageQuerySchema() } },
    async (request, reply) => {
      const admin = await access(request, reply, 'webhooks:write')
      if (!admin) return reply
      const endpoint = await endpointOf(request.params.id)
      if (!endpoint) return reply.callNotFound()
      const { page } = admin
      const self = webhookPath(endpoint.id)
      return sendPage(
        reply,
        200,
        <AdminShell admin={admin} title={page.t('admin.webhooks.confirm_delete_title')} section={WEBHOOKS}>
          <p>{page.t('admin.webhooks.confirm_delete_body', { url: endpoint.url })}</p>
          <PageForm page={page} action={`${self}/delete`}>
            <div class="button-row">
              <button class="button danger" type="submit">
                {page.t('admin.webhooks.confirm_delete_submit')}
              </button>
              <a class="button secondary" href={page.href(self)}>
                {page.t('admin.cancel')}
              </a>
            </div>
          </PageForm>
        </AdminShell>,
      )
    },
  )

  scope.post<{ Params: { id: string } }>(
    '/admin/webhooks/:id/delete',
    { schema: { hide: true, params: ID_PARAMS, querystring: pageQuerySchema(), body: formBodySchema({}) } },
    async (request, reply) => {
      const admin = await access(request, reply, 'webhooks:write')
      if (!admin) return reply
      const endpoint = await endpointOf(request.params.id)
      if (!endpoint) return reply.callNotFound()
      return act(reply, admin, WEBHOOKS, 'webhook_deleted', () =>
        webhooks.remove(admin.principal.userId, endpoint.id, admin.ctx),
      )
    },
  )

  scope.post<{ Params: { id: string } }>(
    '/admin/webhooks/:id/test',
    { schema: { hide: true, params: ID_PARAMS, querystring: pageQuerySchema(), body: formBodySchema({}) } },
    async (request, reply) => {
      const admin = await access(request, reply, 'webhooks:write')
      if (!admin) return reply
      const endpoint = await endpointOf(request.params.id)
      if (!endpoint) return reply.callNotFound()
      return act(reply, admin, webhookPath(endpoint.id), 'webhook_test_sent', () =>
        webhooks.sendTest(admin.principal.userId, endpoint.id),
      )
    },
  )

  scope.post<{ Params: { id: string; delivery_id: string } }>(
    '/admin/webhooks/:id/deliveries/:delivery_id/redeliver',
    {
      schema: {
        hide: true,
        params: DELIVERY_PARAMS,
        querystring: pageQuerySchema(),
        body: formBodySchema({}),
      },
    },
    async (request, reply) => {
      const admin = await access(request, reply, 'webhooks:write')
      if (!admin) return reply
      const endpoint = await endpointOf(request.params.id)
      if (!endpoint || !UUID.test(request.params.delivery_id)) return reply.callNotFound()
      return act(reply, admin, webhookPath(endpoint.id), 'webhook_redelivered', () =>
        webhooks.redeliver(endpoint.id, request.params.delivery_id),
      )
    },
  )
}
