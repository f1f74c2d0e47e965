import type { Kitsune } from '../../../kitsune.js'
import type { KitsuneApp } from '../../app-types.js'
import { contextOf, principalOf } from '../../plugins/authenticate.js'
import { RoleCreate, RoleParams, RoleUpdate } from '../../schemas/admin.schemas.js'
import { problemResponses } from '../../schemas/common.schemas.js'
import { Type } from '../../schemas/type.js'

const tags = ['admin']
const security = [{ bearer: [] }]
const Role = Type.Ref('RolePublic')

export async function adminRoleRoutes(app: KitsuneApp, kitsune: Kitsune): Promise<void> {
  const { rbac } = kitsune.services

  app.get('/', {
    config: { permission: 'roles:read' },
    schema: {
      tags,
      security,
      summary: 'List roles and their permissions',
      response: { 200: Type.Object({ items: Type.Array(Role) }), ...problemResponses },
    },
    handler: async () => ({ items: await rbac.list() }),
  })

  app.post('/', {
    config: { permission: 'roles:write' },
    schema: {
      tags,
      security,
      summary: 'Create a custom role',
      body: RoleCreate,
      response: { 201: Role, ...problemResponses },
    },
    handler: async (request, reply) =>
      reply.code(201).send(await rbac.create(principalOf(request), request.body, contextOf(request))),
  })

  app.patch('/:name', {
    config: { permission: 'roles:write' },
    schema: {
      tags,
      security,
      summary: "Change a role's description or permissions",
      params: RoleParams,
      body: RoleUpdate,
      response: { 200: Role, ...problemResponses },
    },
    handler: async (request) =>
      rbac.update(principalOf(request), request.params.name, request.body, contextOf(request)),
  })

  app.delete('/:name', {
    config: { permission: 'roles:write' },
    schema: {
      tags,
      security,
      summary: 'Delete a custom role',
      params: RoleParams,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await rbac.delete(principalOf(request), request.params.name, contextOf(request))
      return reply.code(204).send(null)
    },
  })
}
