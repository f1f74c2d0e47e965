import type { FastifyInstance, FastifyReply } from 'fastify'
import { BUILT_IN_ROLES, PERMISSIONS } from '../../../auth/permissions.js'
import { AppError } from '../../../errors/app-error.js'
import type { RoleRecord } from '../../../repositories/role.repository.js'
import { formBodySchema, pageQuerySchema } from '../../form-schema.js'
import { Field, type FieldErrors, PageForm, SubmitButton } from '../../layout/form.js'
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
  formErrors,
  refusal,
  Table,
} from './admin-kit.js'

const ROLES = `${ADMIN}/roles`
const ROLE_NAME = /^[a-z][a-z0-9_-]{1,49}$/
const FLASH_QUERY = pageQuerySchema({ done: 32, failed: 32 })
const NAME_PARAMS = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 64 } },
  required: ['name'],
} as const
/** Permission checkboxes are named perm.<permission>. */
const ROLE_FORM = formBodySchema({
  name: 64,
  description: 500,
  ...Object.fromEntries(PERMISSIONS.map((p) => [`perm.${p}`, 3])),
})

const isBuiltIn = (name: string) => (BUILT_IN_ROLES as readonly string[]).includes(name)
const rolePath = (name: string) => `${ROLES}/${name}`
const chosenPermissions = (body: Record<string, string | undefined>) =>
  PERMISSIONS.filter((p) => body[`perm.${p}`] === 'on')

/** The admin console's roles: list, creation, permissions (built-in roles read-only), removal. */
export function rolePages(scope: FastifyInstance, deps: PageDeps, access: AdminAccess): void {
  const { rbac } = deps.services

  const roleOf = async (name: string): Promise<RoleRecord | undefined> =>
    ROLE_NAME.test(name) ? (await rbac.list()).find((role) => role.name === name) : undefined

  const PermissionBoxes = (props: { admin: AdminRequest; held: readonly string[]; disabled?: boolean }) => (
    <fieldset>
      <legend>{props.admin.page.t('admin.roles.permissions')}</legend>
      <div class="checkbox-grid">
        {PERMISSIONS.map((p) => (
          <Checkbox
            key={p}
            name={`perm.${p}`}
            label={p}
            checked={props.held.includes(p)}
            disabled={props.disabled}
          />
        ))}
      </div>
    </fieldset>
  )

  scope.get<{ Querystring: Record<string, string> }>(
    '/admin/roles',
    { schema: { hide: true, querystring: FLASH_QUERY } },
    async (request, reply) => {
      const admin = await access(request, reply, 'roles:read')
      if (!admin) return reply
      const { page } = admin
      const roles = await rbac.list()
      return sendPage(
        reply,
        200,
        <AdminShell admin={admin} title={page.t('admin.roles.title')} section={ROLES} query={request.query}>
          {admin.can('roles:write') && (
            <p>
              <a class="button inline" href={page.href(`${ROLES}/new`)}>
                {page.t('admin.roles.create')}
              </a>
            </p>
          )}
          <Table
            caption={page.t('admin.roles.caption')}
            headers={[
              page.t('admin.roles.col_name'),
              page.t('admin.roles.col_description'),
              page.t('admin.roles.col_permissions'),
              page.t('admin.roles.col_kind'),
            ]}
            rows={roles.length}
          >
            {roles.map((role) => (
              <tr key={role.name}>
                <td>
                  <a href={page.href(rolePath(role.name))}>{role.name}</a>
                </td>
                <td>{role.description || '—'}</td>
                <td class="wrap">{role.permissions.join(', ') || '—'}</td>
                <td>{page.t(isBuiltIn(role.name) ? 'admin.roles.built_in' : 'admin.roles.custom')}</td>
              </tr>
            ))}
          </Table>
        </AdminShell>,
      )
    },
  )

  const NewRolePage = (props: {
    admin: AdminRequest
    values?: { name?: string; description?: string; permissions?: readonly string[] }
    errors?: FieldErrors
  }) => {
    const { admin, errors } = props
    const { page } = admin
    return (
      <AdminShell
        admin={admin}
        title={page.t('admin.roles.new_title')}
        section={ROLES}
        hasErrors={Boolean(errors?.length)}
      >
        <PageForm page={page} action={`${ROLES}/new`} errors={errors}>
          <Field
            name="name"
            type="text"
            autocomplete="off"
            label={page.t('admin.roles.name_label')}
            hint={page.t('admin.roles.name_hint')}
            value={props.values?.name}
            errors={errors}
          />
          <Field
            name="description"
            type="text"
            autocomplete="off"
            label={page.t('admin.roles.description_label')}
            value={props.values?.description}
            errors={errors}
            required={false}
          />
          <PermissionBoxes admin={admin} held={props.values?.permissions ?? []} />
          <SubmitButton>{page.t('admin.roles.create_submit')}</SubmitButton>
        </PageForm>
      </AdminShell>
    )
  }

  scope.get(
    '/admin/roles/new',
    { schema: { hide: true, querystring: pageQuerySchema() } },
    async (request, reply) => {
      const admin = await access(request, reply, 'roles:write')
      if (!admin) return reply
      return sendPage(reply, 200, <NewRolePage admin={admin} />)
    },
  )

  scope.post<{ Body: Record<string, string | undefined> }>(
    '/admin/roles/new',
    { schema: { hide: true, querystring: pageQuerySchema(), body: ROLE_FORM } },
    async (request, reply) => {
      const admin = await access(request, reply, 'roles:write')
      if (!admin) return reply
      const { page } = admin
      const values = {
        name: (request.body.name ?? '').trim(),
        description: (request.body.description ?? '').trim(),
        permissions: chosenPermissions(request.body),
      }
      const again = (problems: FieldErrors) =>
        sendPage(reply, 422, <NewRolePage admin={admin} values={values} errors={problems} />)
      if (!ROLE_NAME.test(values.name))
        return again([{ field: 'name', message: page.t('admin.roles.error_name') }])
      try {
        await rbac.create(admin.principal, values, admin.ctx)
      } catch (error) {
        if (error instanceof AppError && error.code === 'ROLE_EXISTS')
          return again([{ field: 'name', message: page.t('admin.failed.role_exists') }])
        if (error instanceof AppError && error.code === 'VALIDATION_FAILED')
          return again(formErrors(page, error, ['name', 'description']))
        const refused = refusal(reply, admin, error, ROLES)
        if (refused) return refused
        throw error
      }
      return reply.redirect(page.href(`${rolePath(values.name)}?done=role_created`), 303)
    },
  )

  scope.get<{ Params: { name: string }; Querystring: Record<string, string> }>(
    '/admin/roles/:name',
    { schema: { hide: true, params: NAME_PARAMS, querystring: FLASH_QUERY } },
    async (request, reply) => {
      const admin = await access(request, reply, 'roles:read')
      if (!admin) return reply
      const { page } = admin
      const role = await roleOf(request.params.name)
      if (!role) return reply.callNotFound()
      const builtIn = role.built_in || isBuiltIn(role.name)
      const editable = admin.can('roles:write') && !builtIn
      return sendPage(
        reply,
        200,
        <AdminShell
          admin={admin}
          title={page.t('admin.roles.role_title', { name: role.name })}
          section={ROLES}
          query={request.query}
        >
          <p>
            <a href={page.href(ROLES)}>{page.t('admin.roles.back')}</a>
          </p>
          {builtIn && (
            <p>{page.t(role.name === 'admin' ? 'admin.roles.admin_note' : 'admin.roles.built_in_note')}</p>
          )}
          {editable ? (
            <PageForm page={page} action={rolePath(role.name)}>
              <Field
                name="description"
                type="text"
                autocomplete="off"
                label={page.t('admin.roles.description_label')}
                value={role.description}
                required={false}
              />
              <PermissionBoxes admin={admin} held={role.permissions} />
              <SubmitButton>{page.t('admin.roles.save')}</SubmitButton>
            </PageForm>
          ) : (
            <section aria-labelledby="perm-title">
              <h2 id="perm-title">{page.t('admin.roles.permissions')}</h2>
              <p>{role.description || ''}</p>
              <ul>
                {role.permissions.map((p) => (
                  <li key={p}>
                    <code>{p}</code>
                  </li>
                ))}
              </ul>
            </section>
          )}
          {admin.can('roles:write') && !builtIn && (
            <p class="danger-zone">
              <ConfirmLink
                href={page.href(`${rolePath(role.name)}/delete`)}
                label={page.t('admin.roles.delete')}
                danger
              />
            </p>
          )}
        </AdminShell>,
      )
    },
  )

  scope.post<{ Params: { name: string }; Body: Record<string, string | undefined> }>(
    '/admin/roles/:name',
    { schema: { hide: true, params: NAME_PARAMS, querystring: pageQuerySchema(), body: ROLE_FORM } },
    async (request, reply) => {
      const admin = await access(request, reply, 'roles:write')
      if (!admin) return reply
      const role = await roleOf(request.params.name)
      if (!role) return reply.callNotFound()
      // Built-in roles are read-only here (the console's rule; the service guards admin itself).
      if (role.built_in || isBuiltIn(role.name))
        return reply.redirect(admin.page.href(`${rolePath(role.name)}?failed=built_in_role`), 303)
      return act(reply, admin, rolePath(role.name), 'role_updated', () =>
        rbac.update(
          admin.principal,
          role.name,
          {
            description: (request.body.description ?? '').trim(),
            permissions: chosenPermissions(request.body),
          },
          admin.ctx,
        ),
      )
    },
  )

  const deletePage = async (admin: AdminRequest, reply: FastifyReply, name: string) => {
    const { page } = admin
    return sendPage(
      reply,
      200,
      <AdminShell admin={admin} title={page.t('admin.roles.confirm_delete_title', { name })} section={ROLES}>
        <p>{page.t('admin.roles.confirm_delete_body', { name })}</p>
        <PageForm page={page} action={`${rolePath(name)}/delete`}>
          <div class="button-row">
            <button class="button danger" type="submit">
              {page.t('admin.roles.confirm_delete_submit')}
            </button>
            <a class="button secondary" href={page.href(rolePath(name))}>
              {page.t('admin.cancel')}
            </a>
          </div>
        </PageForm>
      </AdminShell>,
    )
  }

  scope.get<{ Params: { name: string } }>(
    '/admin/roles/:name/delete',
    { schema: { hide: true, params: NAME_PARAMS, querystring: pageQuerySchema() } },
    async (request, reply) => {
      const admin = await access(request, reply, 'roles:write')
      if (!admin) return reply
      const role = await roleOf(request.params.name)
      if (!role) return reply.callNotFound()
      return deletePage(admin, reply, role.name)
    },
  )

  scope.post<{ Params: { name: string } }>(
    '/admin/roles/:name/delete',
    { schema: { hide: true, params: NAME_PARAMS, querystring: pageQuerySchema(), body: formBodySchema({}) } },
    async (request, reply) => {
      const admin = await access(request, reply, 'roles:write')
      if (!admin) return reply
      const role = await roleOf(request.params.name)
      if (!role) return reply.callNotFound()
      return act(reply, admin, ROLES, 'role_deleted', () =>
        rbac.delete(admin.principal, role.name, admin.ctx),
      )
    },
  )
}
