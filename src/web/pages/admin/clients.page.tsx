import type { FastifyInstance, FastifyReply } from 'fastify'
import {
  CLIENT_APPLICATION_TYPES,
  CLIENT_AUTH_METHODS,
  CLIENT_GRANT_TYPES,
  CLIENT_SCOPES,
  type ClientMetadataInput,
} from '../../../auth/client-metadata.js'
import { AppError } from '../../../errors/app-error.js'
import type { OidcClientRecord } from '../../../repositories/oidc-client.repository.js'
import { formBodySchema, pageQuerySchema } from '../../form-schema.js'
import { Field, type FieldErrors, PageForm, SubmitButton } from '../../layout/form.js'
import { Notice } from '../../layout/shell.js'
import type { PageDeps } from '../../page-context.js'
import { sendPage } from '../../render.js'
import {
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
  Select,
  sendScriptedPage,
  Table,
  TextArea,
  when,
  yesNo,
} from './admin-kit.js'

const CLIENTS = `${ADMIN}/clients`
const PAGE_SIZE = 25
const CLIENT_ID = /^[A-Za-z0-9_-]{1,128}$/
const ID_PARAMS = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 128 } },
  required: ['id'],
} as const
const FLASH_QUERY = pageQuerySchema({ done: 32, failed: 32 })
/** Grant and scope checkboxes are named grant.<grant> and scope.<scope>. */
const CLIENT_FORM = formBodySchema({
  client_name: 200,
  redirect_uris: 8000,
  post_logout_redirect_uris: 8000,
  token_endpoint_auth_method: 40,
  application_type: 10,
  first_party: 3,
  ...Object.fromEntries(CLIENT_GRANT_TYPES.map((g) => [`grant.${g}`, 3])),
  ...Object.fromEntries(CLIENT_SCOPES.map((s) => [`scope.${s}`, 3])),
})
const FORM_FIELDS = ['client_name', 'redirect_uris', 'post_logout_redirect_uris', 'grant_types', 'scope']

const clientPath = (id: string) => `${CLIENTS}/${id}`
const lines = (text: string | undefined) =>
  (text ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)

interface ClientFormValues {
  client_name: string
  redirect_uris: string
  post_logout_redirect_uris: string
  grant_types: readonly string[]
  scopes: readonly string[]
  token_endpoint_auth_method: string
  application_type: string
  first_party: boolean
}

const valuesOf = (body: Record<string, string | undefined>): ClientFormValues => ({
  client_name: (body.client_name ?? '').trim(),
  redirect_uris: body.redirect_uris ?? '',
  post_logout_redirect_uris: body.post_logout_redirect_uris ?? '',
  grant_types: CLIENT_GRANT_TYPES.filter((g) => body[`grant.${g}`] === 'on'),
  scopes: CLIENT_SCOPES.filter((s) => body[`scope.${s}`] === 'on'),
  token_endpoint_auth_method: body.token_endpoint_auth_method ?? 'client_secret_basic',
  application_type: body.application_type ?? 'web',
  first_party: body.first_party === 'on',
})

const valuesFrom = (client: OidcClientRecord): ClientFormValues => ({
  client_name: client.client_name,
  redirect_uris: client.redirect_uris.join('\n'),
  post_logout_redirect_uris: client.post_logout_redirect_uris.join('\n'),
  grant_types: client.grant_types,
  scopes: client.scope.split(' ').filter(Boolean),
  token_endpoint_auth_method: client.token_endpoint_auth_method,
  application_type: client.application_type,
  first_party: client.first_party,
})

const metadataOf = (values: ClientFormValues): ClientMetadataInput => ({
  client_name: values.client_name,
  redirect_uris: lines(values.redirect_uris),
  post_logout_redirect_uris: lines(values.post_logout_redirect_uris),
  grant_types: [...values.grant_types],
  scope: values.scopes.join(' '),
  first_party: values.first_party,
})

/** The admin console's applications (OpenID clients): list, registration, changes, secrets, removal. */
export function clientPages(scope: FastifyInstance, deps: PageDeps, access: AdminAccess): void {
  const { clients } = deps.services

  const clientOf = async (id: string): Promise<OidcClientRecord | undefined> => {
    if (!CLIENT_ID.test(id)) return undefined
    try {
      return await clients.get(id)
    } catch (error) {
      if (error instanceof AppError && error.code === 'NOT_FOUND') return undefined
      throw error
    }
  }

  const ClientFields = (props: {
    admin: AdminRequest
    values?: ClientFormValues
    errors?: FieldErrors
    creating: boolean
  }) => {
    const { admin, errors } = props
    const { page } = admin
    const v = props.values
    return (
      <>
        <Field
          name="client_name"
          type="text"
          autocomplete="off"
          label={page.t('admin.clients.name_label')}
          value={v?.client_name}
          errors={errors}
        />
        <TextArea
          name="redirect_uris"
          label={page.t('admin.clients.redirect_uris_label')}
          hint={page.t('admin.clients.uris_hint')}
          value={v?.redirect_uris}
          errors={errors}
        />
        <TextArea
          name="post_logout_redirect_uris"
          label={page.t('admin.clients.post_logout_label')}
          hint={page.t('admin.clients.uris_hint')}
          value={v?.post_logout_redirect_uris}
          errors={errors}
        />
        <fieldset>
          <legend>{page.t('admin.clients.grants')}</legend>
          {CLIENT_GRANT_TYPES.map((g) => (
            <Checkbox
              key={g}
              name={`grant.${g}`}
              label={g}
              checked={(v?.grant_types ?? ['authorization_code']).includes(g)}
            />
          ))}
        </fieldset>
        <fieldset>
          <legend>{page.t('admin.clients.scopes')}</legend>
          <div class="checkbox-grid">
            {CLIENT_SCOPES.map((s) => (
              <Checkbox
                key={s}
                name={`scope.${s}`}
                label={s}
                checked={(v?.scopes ?? ['openid']).includes(s)}
              />
            ))}
          </div>
        </fieldset>
        {props.creating && (
          <>
            <Select
              name="token_endpoint_auth_method"
              label={page.t('admin.clients.auth_method')}
              value={v?.token_endpoint_auth_method ?? 'client_secret_basic'}
              options={CLIENT_AUTH_METHODS.map((m) => ({ value: m, label: m }))}
            />
            <Select
              name="application_type"
              label={page.t('admin.clients.application_type')}
              value={v?.application_type ?? 'web'}
              options={CLIENT_APPLICATION_TYPES.map((m) => ({ value: m, label: m }))}
            />
          </>
        )}
        <Checkbox
          name="first_party"
          label={page.t('admin.clients.first_party')}
          hint={page.t('admin.clients.first_party_hint')}
          checked={v?.first_party}
        />
      </>
    )
  }

  /** The page that shows a secret, this once. */
  const SecretPage = (props: {
    admin: AdminRequest
    client: { client_id: string }
    secret?: string
    title: string
  }) => {
    const { admin } = props
    const { page } = admin
    return (
      <AdminShell admin={admin} title={props.title} section={CLIENTS} script>
        <div role="status">
          <Notice tone="success">
            <p>{page.t(props.secret ? 'admin.clients.secret_once' : 'admin.clients.no_secret')}</p>
          </Notice>
        </div>
        <div class="field">
          <label for="client_id">{page.t('admin.clients.client_id')}</label>
          <div class="copy-row">
            <input id="client_id" type="text" readonly value={props.client.client_id} class="copy-field" />
            <CopyButton page={page} target="client_id" label={page.t('admin.clients.copy_id')} />
          </div>
        </div>
        {props.secret && (
          <div class="field">
            <label for="client_secret">{page.t('admin.clients.client_secret')}</label>
            <span class="hint" id="client_secret-hint">
              {page.t('admin.clients.copy_hint')}
            </span>
            <div class="copy-row">
              <input
                id="client_secret"
                type="text"
                readonly
                value={props.secret}
                class="copy-field"
                aria-describedby="client_secret-hint"
                autocomplete="off"
                spellcheck={false}
              />
              <CopyButton page={page} target="client_secret" label={page.t('admin.clients.copy_secret')} />
            </div>
          </div>
        )}
        <p>
          <a href={page.href(clientPath(props.client.client_id))}>{page.t('admin.clients.to_client')}</a>
        </p>
      </AdminShell>
    )
  }

  scope.get<{ Querystring: Record<string, string | undefined> }>(
    '/admin/clients',
    {
      schema: { hide: true, querystring: pageQuerySchema({ cursor: 400, back: 8400, done: 32, failed: 32 }) },
    },
    async (request, reply) => {
      const admin = await access(request, reply, 'clients:read')
      if (!admin) return reply
      const { page } = admin
      const cursor = request.query.cursor && request.query.cursor !== '-' ? request.query.cursor : undefined
      const found = await clients.list({ limit: PAGE_SIZE, cursor })
      return sendPage(
        reply,
        200,
        <AdminShell
          admin={admin}
          title={page.t('admin.clients.title')}
          section={CLIENTS}
          query={request.query}
        >
          {admin.can('clients:write') && (
            <p>
              <a class="button inline" href={page.href(`${CLIENTS}/new`)}>
                {page.t('admin.clients.create')}
              </a>
            </p>
          )}
          <Table
            caption={page.t('admin.clients.caption')}
            headers={[
              page.t('admin.clients.col_name'),
              page.t('admin.clients.client_id'),
              page.t('admin.clients.grants'),
              page.t('admin.clients.first_party'),
              page.t('admin.clients.col_created'),
            ]}
            rows={found.items.length}
            empty={page.t('admin.clients.none')}
          >
            {found.items.map((client) => (
              <tr key={client.client_id}>
                <td>
                  <a href={page.href(clientPath(client.client_id))}>{client.client_name}</a>
                </td>
                <td>
                  <code>{client.client_id}</code>
                </td>
                <td class="wrap">{client.grant_types.join(', ')}</td>
                <td>{yesNo(page, client.first_party)}</td>
                <td>{when(client.created_at)}</td>
              </tr>
            ))}
          </Table>
          <Pager
            page={page}
            path={CLIENTS}
            params={{}}
            cursor={cursor}
            back={request.query.back}
            next={found.next_cursor}
          />
        </AdminShell>,
      )
    },
  )

  const NewClientPage = (props: { admin: AdminRequest; values?: ClientFormValues; errors?: FieldErrors }) => {
    const { admin, errors } = props
    return (
      <AdminShell
        admin={admin}
        title={admin.page.t('admin.clients.new_title')}
        section={CLIENTS}
        hasErrors={Boolean(errors?.length)}
      >
        <PageForm page={admin.page} action={`${CLIENTS}/new`} errors={errors}>
          <ClientFields admin={admin} values={props.values} errors={errors} creating />
          <SubmitButton>{admin.page.t('admin.clients.create_submit')}</SubmitButton>
        </PageForm>
      </AdminShell>
    )
  }

  scope.get(
    '/admin/clients/new',
    { schema: { hide: true, querystring: pageQuerySchema() } },
    async (request, reply) => {
      const admin = await access(request, reply, 'clients:write')
      if (!admin) return reply
      return sendPage(reply, 200, <NewClientPage admin={admin} />)
    },
  )

  scope.post<{ Body: Record<string, string | undefined> }>(
    '/admin/clients/new',
    { schema: { hide: true, querystring: pageQuerySchema(), body: CLIENT_FORM } },
    async (request, reply) => {
      const admin = await access(request, reply, 'clients:write')
      if (!admin) return reply
      const values = valuesOf(request.body)
      let created: Awaited<ReturnType<typeof clients.create>>
      try {
        created = await clients.create(
          admin.principal.userId,
          {
            ...metadataOf(values),
            token_endpoint_auth_method: values.token_endpoint_auth_method,
            application_type: values.application_type,
          },
          admin.ctx,
        )
      } catch (error) {
        if (error instanceof AppError && error.code === 'VALIDATION_FAILED')
          return sendPage(
            reply,
            422,
            <NewClientPage
              admin={admin}
              values={values}
              errors={formErrors(admin.page, error, FORM_FIELDS)}
            />,
          )
        const refused = refusal(reply, admin, error, CLIENTS)
        if (refused) return refused
        throw error
      }
      return sendScriptedPage(
        reply,
        201,
        <SecretPage
          admin={admin}
          client={created}
          secret={created.client_secret}
          title={admin.page.t('admin.clients.created_title', { name: created.client_name })}
        />,
      )
    },
  )

  const ClientPage = (props: {
    admin: AdminRequest
    client: OidcClientRecord
    query?: Record<string, string | undefined>
    values?: ClientFormValues
    errors?: FieldErrors
  }) => {
    const { admin, client, errors } = props
    const { page } = admin
    const self = clientPath(client.client_id)
    const secretBased = ['client_secret_basic', 'client_secret_post'].includes(
      client.token_endpoint_auth_method,
    )
    return (
      <AdminShell
        admin={admin}
        title={client.client_name}
        section={CLIENTS}
        query={props.query}
        hasErrors={Boolean(errors?.length)}
      >
        <p>
          <a href={page.href(CLIENTS)}>{page.t('admin.clients.back')}</a>
        </p>
        <dl class="details">
          <dt>{page.t('admin.clients.client_id')}</dt>
          <dd>
            <code>{client.client_id}</code>
          </dd>
          <dt>{page.t('admin.clients.auth_method')}</dt>
          <dd>{client.token_endpoint_auth_method}</dd>
          <dt>{page.t('admin.clients.application_type')}</dt>
          <dd>{client.application_type}</dd>
          <dt>{page.t('admin.clients.col_created')}</dt>
          <dd>{when(client.created_at)}</dd>
        </dl>
        {admin.can('clients:write') ? (
          <section aria-labelledby="edit-title">
            <h2 id="edit-title">{page.t('admin.clients.edit')}</h2>
            <PageForm page={page} action={self} errors={errors}>
              <ClientFields
                admin={admin}
                values={props.values ?? valuesFrom(client)}
                errors={errors}
                creating={false}
              />
              <SubmitButton>{page.t('admin.clients.save')}</SubmitButton>
            </PageForm>
            <div class="button-row danger-zone">
              {secretBased && (
                <ConfirmLink href={page.href(`${self}/rotate`)} label={page.t('admin.clients.rotate')} />
              )}
              <ConfirmLink href={page.href(`${self}/delete`)} label={page.t('admin.clients.delete')} danger />
            </div>
          </section>
        ) : (
          <dl class="details">
            <dt>{page.t('admin.clients.redirect_uris_label')}</dt>
            <dd>{client.redirect_uris.join(', ') || '—'}</dd>
            <dt>{page.t('admin.clients.grants')}</dt>
            <dd>{client.grant_types.join(', ')}</dd>
            <dt>{page.t('admin.clients.scopes')}</dt>
            <dd>{client.scope}</dd>
            <dt>{page.t('admin.clients.first_party')}</dt>
            <dd>{yesNo(page, client.first_party)}</dd>
          </dl>
        )}
      </AdminShell>
    )
  }

  scope.get<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>(
    '/admin/clients/:id',
    { schema: { hide: true, params: ID_PARAMS, querystring: FLASH_QUERY } },
    async (request, reply) => {
      const admin = await access(request, reply, 'clients:read')
      if (!admin) return reply
      const client = await clientOf(request.params.id)
      if (!client) return reply.callNotFound()
      return sendPage(reply, 200, <ClientPage admin={admin} client={client} query={request.query} />)
    },
  )

  scope.post<{ Params: { id: string }; Body: Record<string, string | undefined> }>(
    '/admin/clients/:id',
    { schema: { hide: true, params: ID_PARAMS, querystring: pageQuerySchema(), body: CLIENT_FORM } },
    async (request, reply) => {
      const admin = await access(request, reply, 'clients:write')
      if (!admin) return reply
      const client = await clientOf(request.params.id)
      if (!client) return reply.callNotFound()
      const values = valuesOf(request.body)
      try {
        await clients.update(admin.principal.userId, client.client_id, metadataOf(values), admin.ctx)
      } catch (error) {
        if (error instanceof AppError && error.code === 'VALIDATION_FAILED')
          return sendPage(
            reply,
            422,
            <ClientPage
              admin={admin}
              client={client}
              values={{ ...values, token_endpoint_auth_method: client.token_endpoint_auth_method }}
              errors={formErrors(admin.page, error, FORM_FIELDS)}
            />,
          )
        const refused = refusal(reply, admin, error, clientPath(client.client_id))
        if (refused) return refused
        throw error
      }
      return reply.redirect(admin.page.href(`${clientPath(client.client_id)}?done=client_updated`), 303)
    },
  )

  const confirmPage = (
    admin: AdminRequest,
    reply: FastifyReply,
    client: OidcClientRecord,
    what: 'rotate' | 'delete',
  ) => {
    const { page } = admin
    const self = clientPath(client.client_id)
    return sendPage(
      reply,
      200,
      <AdminShell
        admin={admin}
        title={page.t(`admin.clients.confirm_${what}_title`, { name: client.client_name })}
        section={CLIENTS}
      >
        <p>{page.t(`admin.clients.confirm_${what}_body`, { name: client.client_name })}</p>
        <PageForm page={page} action={`${self}/${what}`}>
          <div class="button-row">
            <button class={`button${what === 'delete' ? ' danger' : ''}`} type="submit">
              {page.t(`admin.clients.confirm_${what}_submit`)}
            </button>
            <a class="button secondary" href={page.href(self)}>
              {page.t('admin.cancel')}
            </a>
          </div>
        </PageForm>
      </AdminShell>,
    )
  }

  for (const what of ['rotate', 'delete'] as const) {
    scope.get<{ Params: { id: string } }>(
      `/admin/clients/:id/${what}`,
      { schema: { hide: true, params: ID_PARAMS, querystring: pageQuerySchema() } },
      async (request, reply) => {
        const admin = await access(request, reply, 'clients:write')
        if (!admin) return reply
        const client = await clientOf(request.params.id)
        if (!client) return reply.callNotFound()
        return confirmPage(admin, reply, client, what)
      },
    )
  }

  scope.post<{ Params: { id: string } }>(
    '/admin/clients/:id/rotate',
    { schema: { hide: true, params: ID_PARAMS, querystring: pageQuerySchema(), body: formBodySchema({}) } },
    async (request, reply) => {
      const admin = await access(request, reply, 'clients:write')
      if (!admin) return reply
      const client = await clientOf(request.params.id)
      if (!client) return reply.callNotFound()
      let rotated: { client_id: string; client_secret: string }
      try {
        rotated = await clients.rotateSecret(admin.principal.userId, client.client_id, admin.ctx)
      } catch (error) {
        const refused = refusal(reply, admin, error, clientPath(client.client_id))
        if (refused) return refused
        throw error
      }
      return sendScriptedPage(
        reply,
        200,
        <SecretPage
          admin={admin}
          client={rotated}
          secret={rotated.client_secret}
          title={admin.page.t('admin.clients.rotated_title', { name: client.client_name })}
        />,
      )
    },
  )

  scope.post<{ Params: { id: string } }>(
    '/admin/clients/:id/delete',
    { schema: { hide: true, params: ID_PARAMS, querystring: pageQuerySchema(), body: formBodySchema({}) } },
    async (request, reply) => {
      const admin = await access(request, reply, 'clients:write')
      if (!admin) return reply
      const client = await clientOf(request.params.id)
      if (!client) return reply.callNotFound()
      return act(reply, admin, CLIENTS, 'client_deleted', () =>
        clients.delete(admin.principal.userId, client.client_id, admin.ctx),
      )
    },
  )
}
