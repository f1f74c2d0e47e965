import type { Kitsune } from '../../../kitsune.js'
import type { KitsuneApp } from '../../app-types.js'
import { contextOf, principalOf } from '../../plugins/authenticate.js'
import {
  RoleAssignment,
  UserAdminCreate,
  UserAdminUpdate,
  UserListQuery,
  UserPage,
} from '../../schemas/admin.schemas.js'
import { IdParams, problemResponses } from '../../schemas/common.schemas.js'
import { AdminPasskeyParams, PasskeyList } from '../../schemas/passkey.schemas.js'
import { Type } from '../../schemas/type.js'

const tags = ['admin']
const security = [{ bearer: [] }]
const User = Type.Ref('UserPublic')

export async function adminUserRoutes(app: KitsuneApp, kitsune: Kitsune): Promise<void> {
  const { userAdmin } = kitsune.services

  app.get('/', {
    config: { permission: 'users:read' },
    schema: {
      tags,
      security,
      summary: 'List and search users (keyset pagination)',
      querystring: UserListQuery,
      response: { 200: UserPage, ...problemResponses },
    },
    handler: async (request) => userAdmin.list(request.query),
  })

  app.post('/', {
    config: { permission: 'users:write' },
    schema: {
      tags,
      security,
      summary: 'Create a user',
      body: UserAdminCreate,
      response: { 201: User, ...problemResponses },
    },
    handler: async (request, reply) =>
      reply.code(201).send(await userAdmin.create(principalOf(request), request.body, contextOf(request))),
  })

  app.get('/:id', {
    config: { permission: 'users:read' },
    schema: {
      tags,
      security,
      summary: 'Get a user',
      params: IdParams,
      response: { 200: User, ...problemResponses },
    },
    handler: async (request) => userAdmin.get(request.params.id),
  })

  app.patch('/:id', {
    config: { permission: 'users:write' },
    schema: {
      tags,
      security,
      summary: 'Update a user (deactivation ends their sessions; a new email is unverified unless told)',
      params: IdParams,
      body: UserAdminUpdate,
      response: { 200: User, ...problemResponses },
    },
    handler: async (request) =>
      userAdmin.update(principalOf(request), request.params.id, request.body, contextOf(request)),
  })

  app.delete('/:id', {
    config: { permission: 'users:delete' },
    schema: {
      tags,
      security,
      summary: 'Delete a user (audit entries stay)',
      params: IdParams,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await userAdmin.delete(principalOf(request), request.params.id, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.put('/:id/roles', {
    config: { permission: 'roles:assign' },
    schema: {
      tags,
      security,
      summary: "Replace a user's roles",
      params: IdParams,
      body: RoleAssignment,
      response: { 200: User, ...problemResponses },
    },
    handler: async (request) =>
      userAdmin.setRoles(principalOf(request), request.params.id, request.body.roles, contextOf(request)),
  })

  app.post('/:id/sessions/revoke', {
    config: { permission: 'sessions:revoke' },
    schema: {
      tags,
      security,
      summary: 'End every session of a user',
      params: IdParams,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await userAdmin.endSessions(principalOf(request), request.params.id, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.delete('/:id/mfa', {
    config: { permission: 'users:write' },
    schema: {
      tags,
      security,
      summary: "Reset a user's MFA",
      params: IdParams,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await userAdmin.resetMfa(principalOf(request), request.params.id, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.get('/:id/passkeys', {
    config: { permission: 'users:read' },
    schema: {
      tags,
      security,
      summary: "List a user's passkeys",
      params: IdParams,
      response: { 200: PasskeyList, ...problemResponses },
    },
    handler: async (request) => ({ items: await kitsune.services.passkeys.list(request.params.id) }),
  })

  app.delete('/:id/passkeys/:pid', {
    config: { permission: 'users:write' },
    schema: {
      tags,
      security,
      summary: "Remove a user's passkey",
      description:
        'Audited (passkey.removed). Refused (409 last-second-factor) when it is the last second factor of an account with two-step verification on: reset its MFA first.',
      params: AdminPasskeyParams,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await userAdmin.removePasskey(
        principalOf(request),
        request.params.id,
        request.params.pid,
        contextOf(request),
      )
      return reply.code(204).send(null)
    },
  })
}
