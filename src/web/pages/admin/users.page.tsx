import type { FastifyInstance, FastifyReply } from 'fastify'
import { AppError } from '../../../errors/app-error.js'
import type { UserRecord } from '../../../repositories/user.repository.js'
import { formBodySchema, pageQuerySchema } from '../../form-schema.js'
import type { MessageKey } from '../../i18n/i18n.js'
import { Field, type FieldErrors, PageForm, SubmitButton } from '../../layout/form.js'
import type { PageDeps } from '../../page-context.js'
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
  formErrors,
  Pager,
  refusal,
  Select,
  Table,
  UUID,
  when,
  yesNo,
} from './admin-kit.js'

const USERS = `${ADMIN}/users`
const PAGE_SIZE = 25
const LIST_QUERY = pageQuerySchema({
  q: 200,
  role: 50,
  active: 3,
  verified: 3,
  mfa: 3,
  cursor: 200,
  back: 4200,
  done: 32,
  failed: 32,
})
const FLASH_QUERY = pageQuerySchema({ done: 32, failed: 32 })
const ID_PARAMS = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const

type Query = Record<string, string | undefined>

/** The list's yes/no filters: the query parameter, its label, and its three choices. */
const YES_NO_FILTERS = [
  {
    name: 'active',
    label: 'admin.users.active_filter',
    any: 'admin.users.any_state',
    yes: 'admin.users.only_active',
    no: 'admin.users.only_inactive',
  },
  {
    name: 'verified',
    label: 'admin.users.verified_filter',
    any: 'admin.users.any_verified',
    yes: 'admin.users.only_verified',
    no: 'admin.users.only_unverified',
  },
  {
    name: 'mfa',
    label: 'admin.users.mfa_filter',
    any: 'admin.users.any_mfa',
    yes: 'admin.users.only_mfa',
    no: 'admin.users.only_no_mfa',
  },
] as const satisfies ReadonlyArray<{
  name: string
  label: MessageKey
  any: MessageKey
  yes: MessageKey
  no: MessageKey
}>
type Confirmable = 'sessions' | 'mfa' | 'deactivate' | 'delete'
const CONFIRMABLE: readonly Confirmable[] = ['sessions', 'mfa', 'deactivate', 'delete']

const userPath = (id: string) => `${USERS}/${id}`

/** The admin console's users: search, detail, creation, changes, roles, sessions and removal. */
export function userPages(scope: FastifyInstance, deps: PageDeps, access: AdminAccess): void {
  const { services } = deps
  const { userAdmin, rbac } = services

  /** The user a path names, or the not-found page. */
  const userOf = async (id: string): Promise<UserRecord | undefined> => {
    if (!UUID.test(id)) return undefined
    try {
      return await userAdmin.get(id)
    } catch (error) {
      if (error instanceof AppError && error.code === 'NOT_FOUND') return undefined
      throw error
    }
  }
  const notFound = (reply: FastifyReply) => reply.callNotFound()

  scope.get<{ Querystring: Query }>(
    '/admin/users',
    { schema: { hide: true, querystring: LIST_QUERY } },
    async (request, reply) => {
      const admin = await access(request, reply, 'users:read')
      if (!admin) return reply
      const { page } = admin
      const { q, role, active, verified, mfa } = request.query
      const yesNoFilter = (value: string | undefined) =>
        value === 'yes' ? true : value === 'no' ? false : undefined
      const cursor = request.query.cursor && request.query.cursor !== '-' ? request.query.cursor : undefined
      const [found, roles] = await Promise.all([
        userAdmin.list({
          q,
          role: role || undefined,
          is_active: yesNoFilter(active),
          email_verified: yesNoFilter(verified),
          mfa_enabled: yesNoFilter(mfa),
          limit: PAGE_SIZE,
          cursor,
        }),
        rbac.list(),
      ])
      const filtered = Boolean(q || role || active || verified || mfa)
      return sendPage(
        reply,
        200,
        <AdminShell admin={admin} title={page.t('admin.users.title')} section={USERS} query={request.query}>
          {admin.can('users:write') && (
            <p>
              <a class="button inline" href={page.href(`${USERS}/new`)}>
                {page.t('admin.users.create')}
              </a>
            </p>
          )}
          <form method="get" action={USERS} class="filters" aria-label={page.t('admin.users.search_label')}>
            {page.locale !== 'en' && <input type="hidden" name="ui_locales" value={page.locale} />}
            <div class="field">
              <label for="q">{page.t('admin.users.q_label')}</label>
              <span class="hint" id="q-hint">
                {page.t('admin.users.q_hint')}
              </span>
              <input id="q" name="q" type="search" value={q ?? ''} aria-describedby="q-hint" />
            </div>
            <Select
              name="role"
              label={page.t('admin.users.role_filter')}
              value={role}
              options={[
                { value: '', label: page.t('admin.users.any_role') },
                ...roles.map((r) => ({ value: r.name, label: r.name })),
              ]}
            />
            {YES_NO_FILTERS.map((filter) => (
              <Select
                key={filter.name}
                name={filter.name}
                label={page.t(filter.label)}
                value={request.query[filter.name]}
                options={[
                  { value: '', label: page.t(filter.any) },
                  { value: 'yes', label: page.t(filter.yes) },
                  { value: 'no', label: page.t(filter.no) },
                ]}
              />
            ))}
            <button class="button inline" type="submit">
              {page.t('admin.users.search')}
            </button>
          </form>
          <Table
            caption={page.t(filtered ? 'admin.users.caption_filtered' : 'admin.users.caption')}
            headers={[
              page.t('admin.users.col_email'),
              page.t('admin.users.col_name'),
              page.t('admin.users.col_roles'),
              page.t('admin.users.col_active'),
              page.t('admin.users.col_verified'),
              page.t('admin.users.col_mfa'),
              page.t('admin.users.col_created'),
            ]}
            rows={found.items.length}
            empty={page.t('admin.users.none')}
          >
            {found.items.map((user) => (
              <tr key={user.id}>
                <td>
                  <a href={page.href(userPath(user.id))}>{user.email}</a>
                </td>
                <td>{user.full_name ?? '—'}</td>
                <td>{user.roles.join(', ') || '—'}</td>
                <td>{yesNo(page, user.is_active)}</td>
                <td>{yesNo(page, user.email_verified)}</td>
                <td>{yesNo(page, user.mfa_enabled)}</td>
                <td>{when(user.created_at)}</td>
              </tr>
            ))}
          </Table>
          <Pager
            page={page}
            path={USERS}
            params={{ q, role, active }}
            cursor={cursor}
            back={request.query.back}
            next={found.next_cursor}
          />
        </AdminShell>,
      )
    },
  )

  const NewUserPage = (props: {
    admin: AdminRequest
    roles: readonly string[]
    values?: { email?: string; full_name?: string; roles?: readonly string[]; verified?: boolean }
    errors?: FieldErrors
  }) => {
    const { admin, errors } = props
    const { page } = admin
    const chosen = props.values?.roles ?? ['user']
    return (
      <AdminShell
        admin={admin}
        title={page.t('admin.users.new_title')}
        section={USERS}
        hasErrors={Boolean(errors?.length)}
      >
        <PageForm page={page} action={`${USERS}/new`} errors={errors}>
          <Field
            name="email"
            type="email"
            autocomplete="off"
            label={page.t('admin.users.email_label')}
            value={props.values?.email}
            errors={errors}
          />
          <Field
            name="full_name"
            type="text"
            autocomplete="off"
            label={page.t('admin.users.name_label')}
            value={props.values?.full_name}
            errors={errors}
            required={false}
          />
          <Field
            name="password"
            type="password"
            autocomplete="new-password"
            label={page.t('admin.users.password_label')}
            hint={page.t('admin.users.password_hint')}
            errors={errors}
          />
          {admin.can('roles:assign') && (
            <fieldset>
              <legend>{page.t('admin.users.roles_legend')}</legend>
              {props.roles.map((role) => (
                <Checkbox key={role} name={`role.${role}`} label={role} checked={chosen.includes(role)} />
              ))}
            </fieldset>
          )}
          <Checkbox
            name="email_verified"
            label={page.t('admin.users.mark_verified')}
            checked={props.values?.verified}
          />
          <SubmitButton>{page.t('admin.users.create_submit')}</SubmitButton>
        </PageForm>
      </AdminShell>
    )
  }

  scope.get(
    '/admin/users/new',
    { schema: { hide: true, querystring: FLASH_QUERY } },
    async (request, reply) => {
      const admin = await access(request, reply, 'users:write')
      if (!admin) return reply
      const roles = (await rbac.list()).map((r) => r.name)
      return sendPage(reply, 200, <NewUserPage admin={admin} roles={roles} />)
    },
  )

  scope.post<{ Body: Record<string, string | undefined> }>(
    '/admin/users/new',
    {
      schema: {
        hide: true,
        querystring: pageQuerySchema(),
        // Role checkboxes are named role.<name>; their names are checked against the roles below.
        body: {
          ...formBodySchema({ email: 1024, full_name: 200, password: 4096, email_verified: 3 }),
          additionalProperties: false,
          patternProperties: { '^role\\.[a-z][a-z0-9_-]{1,49}$': { type: 'string', maxLength: 3 } },
        },
      },
    },
    async (request, reply) => {
      const admin = await access(request, reply, 'users:write')
      if (!admin) return reply
      const { page } = admin
      const form = request.body
      const allRoles = (await rbac.list()).map((r) => r.name)
      const chosen = admin.can('roles:assign')
        ? allRoles.filter((role) => form[`role.${role}`] === 'on')
        : undefined
      const values = {
        email: (form.email ?? '').trim(),
        full_name: form.full_name ?? '',
        roles: chosen,
        verified: form.email_verified === 'on',
      }
      const errors: Array<{ field: string; message: string }> = []
      if (!values.email) errors.push({ field: 'email', message: page.t('admin.users.error_email_missing') })
      if (!form.password)
        errors.push({ field: 'password', message: page.t('admin.users.error_password_missing') })
      const again = (status: number, problems: FieldErrors) =>
        sendPage(
          reply,
          status,
          <NewUserPage admin={admin} roles={allRoles} values={values} errors={problems} />,
        )
      if (errors.length > 0) return again(422, errors)
      let created: UserRecord
      try {
        created = await userAdmin.create(
          admin.principal,
          {
            email: values.email,
            password: form.password ?? '',
            full_name: values.full_name || null,
            roles: chosen,
            email_verified: values.verified,
          },
          admin.ctx,
        )
      } catch (error) {
        if (error instanceof AppError && (error.code === 'VALIDATION_FAILED' || error.code === 'EMAIL_TAKEN'))
          return again(422, formErrors(page, error, ['email', 'password', 'full_name']))
        const refused = refusal(reply, admin, error, `${USERS}/new`)
        if (refused) return refused
        throw error
      }
      return reply.redirect(page.href(`${userPath(created.id)}?done=user_created`), 303)
    },
  )

  scope.get<{ Params: { id: string }; Querystring: Query }>(
    '/admin/users/:id',
    { schema: { hide: true, params: ID_PARAMS, querystring: FLASH_QUERY } },
    async (request, reply) => {
      const admin = await access(request, reply, 'users:read')
      if (!admin) return reply
      const { page } = admin
      const user = await userOf(request.params.id)
      if (!user) return notFound(reply)
      const self = userPath(user.id)
      const [roles, sessions, passkeys] = await Promise.all([
        rbac.list(),
        services.sessions.list({ userId: user.id, sessionId: '', roles: [], tokenExpiresAt: 0 }),
        services.passkeys.list(user.id),
      ])
      const addable = roles.map((r) => r.name).filter((name) => !user.roles.includes(name))
      const canWrite = admin.can('users:write')
      return sendPage(
        reply,
        200,
        <AdminShell admin={admin} title={user.email} section={USERS} query={request.query}>
          <p>
            <a href={page.href(USERS)}>{page.t('admin.users.back')}</a>
          </p>
          <section aria-labelledby="profile-title">
            <h2 id="profile-title">{page.t('admin.users.profile')}</h2>
            <dl class="details">
              <dt>{page.t('admin.users.col_email')}</dt>
              <dd>{user.email}</dd>
              <dt>{page.t('admin.users.col_name')}</dt>
              <dd>{user.full_name ?? '—'}</dd>
              <dt>{page.t('admin.users.col_active')}</dt>
              <dd>{yesNo(page, user.is_active)}</dd>
              <dt>{page.t('admin.users.col_verified')}</dt>
              <dd>{yesNo(page, user.email_verified)}</dd>
              <dt>{page.t('admin.users.col_mfa')}</dt>
              <dd>{yesNo(page, user.mfa_enabled)}</dd>
              <dt>{page.t('admin.users.col_created')}</dt>
              <dd>{when(user.created_at)}</dd>
              <dt>{page.t('admin.users.id')}</dt>
              <dd>
                <code>{user.id}</code>
              </dd>
            </dl>
            {admin.can('audit:read') && (
              <p>
                <a href={page.href(`${ADMIN}/audit?target=${user.id}`)}>
                  {page.t('admin.users.audit_trail')}
                </a>
              </p>
            )}
          </section>

          {canWrite && (
            <section aria-labelledby="edit-title">
              <h2 id="edit-title">{page.t('admin.users.edit')}</h2>
              <PageForm page={page} action={`${self}/edit`}>
                <Field
                  name="full_name"
                  type="text"
                  autocomplete="off"
                  label={page.t('admin.users.name_label')}
                  value={user.full_name ?? ''}
                  required={false}
                />
                <Checkbox
                  name="email_verified"
                  label={page.t('admin.users.mark_verified')}
                  checked={user.email_verified}
                />
                <SubmitButton>{page.t('admin.users.save')}</SubmitButton>
              </PageForm>
            </section>
          )}

          {canWrite && (
            <section aria-labelledby="email-title">
              <h2 id="email-title">{page.t('admin.users.change_email')}</h2>
              <PageForm page={page} action={`${self}/email`}>
                <Field
                  name="new_email"
                  type="email"
                  autocomplete="off"
                  label={page.t('admin.users.new_email_label')}
                  hint={page.t('admin.users.new_email_hint')}
                />
                <Checkbox name="new_email_verified" label={page.t('admin.users.new_email_verified')} />
                <SubmitButton>{page.t('admin.users.change_email_submit')}</SubmitButton>
              </PageForm>
            </section>
          )}

          <section aria-labelledby="roles-title">
            <h2 id="roles-title">{page.t('admin.users.roles')}</h2>
            {user.roles.length === 0 ? (
              <p>{page.t('admin.users.no_roles')}</p>
            ) : (
              <ul class="chip-list">
                {user.roles.map((role) => (
                  <li key={role}>
                    <span>{role}</span>
                    {admin.can('roles:assign') && (
                      <ActionButton
                        page={page}
                        action={`${self}/roles/remove`}
                        fields={{ role }}
                        label={page.t('admin.users.remove_role', { role })}
                        tone="secondary"
                      />
                    )}
                  </li>
                ))}
              </ul>
            )}
            {admin.can('roles:assign') && addable.length > 0 && (
              <PageForm page={page} action={`${self}/roles/add`}>
                <div class="inline-form">
                  <Select
                    name="role"
                    label={page.t('admin.users.add_role_label')}
                    options={addable.map((name) => ({ value: name, label: name }))}
                  />
                  <button class="button inline" type="submit">
                    {page.t('admin.users.add_role')}
                  </button>
                </div>
              </PageForm>
            )}
          </section>

          <section aria-labelledby="sessions-title">
            <h2 id="sessions-title">{page.t('admin.users.sessions')}</h2>
            <Table
              caption={page.t('admin.users.sessions_caption', { email: user.email })}
              headers={[
                page.t('admin.users.col_kind'),
                page.t('admin.users.col_device'),
                page.t('admin.users.col_ip'),
                page.t('admin.users.col_last_used'),
                page.t('admin.users.col_applications'),
              ]}
              rows={sessions.length}
              empty={page.t('admin.users.no_sessions')}
            >
              {sessions.map((s) => (
                <tr key={s.id}>
                  <td>
                    {page.t(s.kind === 'browser' ? 'admin.users.kind_browser' : 'admin.users.kind_api')}
                  </td>
                  <td class="wrap">{s.user_agent ?? '—'}</td>
                  <td>{s.ip ?? '—'}</td>
                  <td>{when(s.last_used_at)}</td>
                  <td>{s.applications.map((a) => a.client_name).join(', ') || '—'}</td>
                </tr>
              ))}
            </Table>
            {admin.can('sessions:revoke') && sessions.length > 0 && (
              <p>
                <ConfirmLink
                  href={page.href(`${self}/confirm/sessions`)}
                  label={page.t('admin.users.end_sessions')}
                />
              </p>
            )}
          </section>

          <section aria-labelledby="passkeys-title">
            <h2 id="passkeys-title">{page.t('admin.users.passkeys')}</h2>
            <Table
              caption={page.t('admin.users.passkeys_caption', { email: user.email })}
              headers={[
                page.t('admin.users.col_passkey_name'),
                page.t('admin.users.col_passkey_added'),
                page.t('admin.users.col_last_used'),
                page.t('admin.users.col_passkey_synced'),
                ...(canWrite ? [page.t('admin.users.col_passkey_actions')] : []),
              ]}
              rows={passkeys.length}
              empty={page.t('admin.users.no_passkeys')}
            >
              {passkeys.map((passkey) => (
                <tr key={passkey.id}>
                  <td class="wrap">{passkey.name}</td>
                  <td>{when(passkey.created_at)}</td>
                  <td>{when(passkey.last_used_at)}</td>
                  <td>{yesNo(page, passkey.backup_eligible)}</td>
                  {canWrite && (
                    <td>
                      <PageForm page={page} action={`${self}/passkeys/remove`}>
                        <input type="hidden" name="passkey" value={passkey.id} />
                        <button
                          class="button secondary"
                          type="submit"
                          aria-label={page.t('admin.users.remove_passkey_named', { name: passkey.name })}
                        >
                          {page.t('admin.users.remove_passkey')}
                        </button>
                      </PageForm>
                    </td>
                  )}
                </tr>
              ))}
            </Table>
            {canWrite && passkeys.length > 0 && <p class="muted">{page.t('admin.users.passkeys_note')}</p>}
          </section>

          {(canWrite || admin.can('users:delete')) && (
            <section aria-labelledby="actions-title">
              <h2 id="actions-title">{page.t('admin.users.actions')}</h2>
              <div class="button-row">
                {canWrite && !user.email_verified && (
                  <ActionButton
                    page={page}
                    action={`${self}/resend`}
                    label={page.t('admin.users.resend')}
                    tone="secondary"
                  />
                )}
                {canWrite && user.mfa_enabled && (
                  <ConfirmLink
                    href={page.href(`${self}/confirm/mfa`)}
                    label={page.t('admin.users.reset_mfa')}
                  />
                )}
                {canWrite &&
                  (user.is_active ? (
                    <ConfirmLink
                      href={page.href(`${self}/confirm/deactivate`)}
                      label={page.t('admin.users.deactivate')}
                    />
                  ) : (
                    <ActionButton
                      page={page}
                      action={`${self}/activate`}
                      label={page.t('admin.users.activate')}
                      tone="secondary"
                    />
                  ))}
                {admin.can('users:delete') && (
                  <ConfirmLink
                    href={page.href(`${self}/confirm/delete`)}
                    label={page.t('admin.users.delete')}
                    danger
                  />
                )}
              </div>
            </section>
          )}
        </AdminShell>,
      )
    },
  )

  const CONFIRM_NEEDS = {
    sessions: 'sessions:revoke',
    mfa: 'users:write',
    deactivate: 'users:write',
    delete: 'users:delete',
  } as const

  const ConfirmPage = (props: {
    admin: AdminRequest
    user: UserRecord
    what: Confirmable
    errors?: FieldErrors
  }) => {
    const { admin, user, what, errors } = props
    const { page } = admin
    const self = userPath(user.id)
    return (
      <AdminShell
        admin={admin}
        title={page.t(`admin.users.confirm_${what}_title`, { email: user.email })}
        section={USERS}
        hasErrors={Boolean(errors?.length)}
      >
        <p>{page.t(`admin.users.confirm_${what}_body`, { email: user.email })}</p>
        <PageForm page={page} action={`${self}/${what}`} errors={errors}>
          {what === 'delete' && (
            <Field
              name="confirm"
              type="text"
              autocomplete="off"
              label={page.t('admin.users.confirm_delete_label', { email: user.email })}
              errors={errors}
            />
          )}
          <div class="button-row">
            <button class={`button${what === 'delete' ? ' danger' : ''}`} type="submit">
              {page.t(`admin.users.confirm_${what}_submit`)}
            </button>
            <a class="button secondary" href={page.href(self)}>
              {page.t('admin.cancel')}
            </a>
          </div>
        </PageForm>
      </AdminShell>
    )
  }

  scope.get<{ Params: { id: string; what: string } }>(
    '/admin/users/:id/confirm/:what',
    {
      schema: {
        hide: true,
        params: {
          type: 'object',
          properties: {
            id: { type: 'string', maxLength: 64 },
            what: { type: 'string', enum: [...CONFIRMABLE] },
          },
          required: ['id', 'what'],
        },
        querystring: pageQuerySchema(),
      },
    },
    async (request, reply) => {
      const what = request.params.what as Confirmable
      const admin = await access(request, reply, CONFIRM_NEEDS[what])
      if (!admin) return reply
      const user = await userOf(request.params.id)
      if (!user) return notFound(reply)
      return sendPage(reply, 200, <ConfirmPage admin={admin} user={user} what={what} />)
    },
  )

  type Body = Record<string, string | undefined>
  const action = (
    path: string,
    fields: Record<string, number>,
    need: Parameters<AdminAccess>[2],
    run: (admin: AdminRequest, user: UserRecord, body: Body, reply: FastifyReply) => Promise<FastifyReply>,
  ) =>
    scope.post<{ Params: { id: string }; Body: Body }>(
      `/admin/users/:id/${path}`,
      {
        schema: {
          hide: true,
          params: ID_PARAMS,
          querystring: pageQuerySchema(),
          body: formBodySchema(fields),
        },
      },
      async (request, reply) => {
        const admin = await access(request, reply, need)
        if (!admin) return reply
        const user = await userOf(request.params.id)
        if (!user) return notFound(reply)
        return run(admin, user, request.body ?? {}, reply)
      },
    )

  action('edit', { full_name: 200, email_verified: 3 }, 'users:write', (admin, user, body, reply) =>
    act(reply, admin, userPath(user.id), 'user_updated', () =>
      userAdmin.update(
        admin.principal,
        user.id,
        { full_name: body.full_name ?? null, email_verified: body.email_verified === 'on' },
        admin.ctx,
      ),
    ),
  )

  // The new address is unverified unless the form says otherwise; the service refuses a taken one.
  action(
    'email',
    { new_email: 1024, new_email_verified: 3 },
    'users:write',
    async (admin, user, body, reply) => {
      const email = (body.new_email ?? '').trim()
      if (!email) return reply.redirect(admin.page.href(`${userPath(user.id)}?failed=invalid`), 303)
      return act(reply, admin, userPath(user.id), 'email_changed', () =>
        userAdmin.update(
          admin.principal,
          user.id,
          { email, email_verified: body.new_email_verified === 'on' ? true : undefined },
          admin.ctx,
        ),
      )
    },
  )

  action('activate', {}, 'users:write', (admin, user, _body, reply) =>
    act(reply, admin, userPath(user.id), 'user_activated', () =>
      userAdmin.update(admin.principal, user.id, { is_active: true }, admin.ctx),
    ),
  )

  action('deactivate', {}, 'users:write', (admin, user, _body, reply) =>
    act(reply, admin, userPath(user.id), 'user_deactivated', () =>
      userAdmin.update(admin.principal, user.id, { is_active: false }, admin.ctx),
    ),
  )

  action('mfa', {}, 'users:write', (admin, user, _body, reply) =>
    act(reply, admin, userPath(user.id), 'mfa_reset', () =>
      userAdmin.resetMfa(admin.principal, user.id, admin.ctx),
    ),
  )

  // A lost or suspect authenticator; the service applies the rank rule and keeps a last second factor.
  action('passkeys/remove', { passkey: 64 }, 'users:write', (admin, user, body, reply) =>
    act(reply, admin, userPath(user.id), 'passkey_removed', async () => {
      const passkeyId = body.passkey ?? ''
      if (!UUID.test(passkeyId)) throw new AppError('NOT_FOUND')
      await userAdmin.removePasskey(admin.principal, user.id, passkeyId, admin.ctx)
    }),
  )

  action('sessions', {}, 'sessions:revoke', (admin, user, _body, reply) =>
    act(reply, admin, userPath(user.id), 'sessions_ended', () =>
      userAdmin.endSessions(admin.principal, user.id, admin.ctx),
    ),
  )

  // The e-mail service sends the link to the account's own address; nothing is sent once verified.
  action('resend', {}, 'users:write', (admin, user, _body, reply) =>
    act(reply, admin, userPath(user.id), 'verification_sent', () =>
      services.emailFlows.resendVerification({
        userId: user.id,
        sessionId: '',
        roles: [],
        tokenExpiresAt: 0,
      }),
    ),
  )

  action('roles/add', { role: 64 }, 'roles:assign', (admin, user, body, reply) =>
    act(reply, admin, userPath(user.id), 'role_added', () =>
      userAdmin.setRoles(admin.principal, user.id, [...user.roles, body.role ?? ''], admin.ctx),
    ),
  )

  action('roles/remove', { role: 64 }, 'roles:assign', (admin, user, body, reply) =>
    act(reply, admin, userPath(user.id), 'role_removed', () =>
      userAdmin.setRoles(
        admin.principal,
        user.id,
        user.roles.filter((role) => role !== body.role),
        admin.ctx,
      ),
    ),
  )

  action('delete', { confirm: 1024 }, 'users:delete', async (admin, user, body, reply) => {
    if ((body.confirm ?? '').trim().toLowerCase() !== user.email.toLowerCase())
      return sendPage(
        reply,
        422,
        <ConfirmPage
          admin={admin}
          user={user}
          what="delete"
          errors={[{ field: 'confirm', message: admin.page.t('admin.users.confirm_delete_mismatch') }]}
        />,
      )
    return act(reply, admin, USERS, 'user_deleted', () =>
      userAdmin.delete(admin.principal, user.id, admin.ctx),
    )
  })
}
