import type { Kitsune } from '../../../kitsune.js'
import type { OidcEngineHolder } from '../../../oidc/oidc.plugin.js'
import { initialAccessTokenMinter } from '../../../oidc/provider.js'
import type { KitsuneApp } from '../../app-types.js'
import { contextOf, principalOf } from '../../plugins/authenticate.js'
import {
  ClientAdminCreate,
  ClientAdminUpdate,
  ClientCreated,
  ClientListQuery,
  ClientPage,
  ClientParams,
  ClientPublic,
  ClientSecretRotated,
  InitialTokenCreate,
  InitialTokenIssued,
} from '../../schemas/client.schemas.js'
import { problemResponses } from '../../schemas/common.schemas.js'
import { Type } from '../../schemas/type.js'

const tags = ['admin']
const security = [{ bearer: [] }]

/**
 * The registry of OpenID clients. A secret appears only in the 201 and rotation answers. `engine`
 * is the OpenID Provider the application serves, which keeps the initial access tokens for dynamic
 * registration.
 */
export async function adminClientRoutes(
  app: KitsuneApp,
  kitsune: Kitsune,
  engine: OidcEngineHolder,
): Promise<void> {
  const { clients } = kitsune.services
  const mint = kitsune.config.oidc.dynamicRegistration
    ? (ttlSeconds: number) => initialAccessTokenMinter(engine.provider())(ttlSeconds)
    : undefined

  app.get('/', {
    config: { permission: 'clients:read' },
    schema: {
      tags,
      security,
      summary: 'List OpenID clients, newest first (keyset pagination)',
      querystring: ClientListQuery,
      response: { 200: ClientPage, ...problemResponses },
    },
    handler: async (request) => clients.list(request.query),
  })

  app.post('/', {
    config: { permission: 'clients:write' },
    schema: {
      tags,
      security,
      summary: 'Register an OpenID client; a confidential client gets its secret in this answer only',
      body: ClientAdminCreate,
      response: { 201: ClientCreated, ...problemResponses },
    },
    handler: async (request, reply) => {
      const created = await clients.create(principalOf(request).userId, request.body, contextOf(request))
      reply.code(201)
      return created
    },
  })

  app.post('/initial-tokens', {
    config: { permission: 'clients:write' },
    schema: {
      tags,
      security,
      summary:
        'Issue an initial access token for dynamic client registration at /oidc/reg (OIDC_DYNAMIC_REGISTRATION); shown in this answer only',
      body: InitialTokenCreate,
      response: { 201: InitialTokenIssued, ...problemResponses },
    },
    handler: async (request, reply) => {
      const issued = await clients.issueInitialAccessToken(
        principalOf(request).userId,
        { ttlSeconds: request.body?.ttl_seconds, mint },
        contextOf(request),
      )
      reply.code(201)
      return issued
    },
  })

  app.get('/:id', {
    config: { permission: 'clients:read' },
    schema: {
      tags,
      security,
      summary: 'Get an OpenID client',
      params: ClientParams,
      response: { 200: ClientPublic, ...problemResponses },
    },
    handler: async (request) => clients.get(request.params.id),
  })

  app.patch('/:id', {
    config: { permission: 'clients:write' },
    schema: {
      tags,
      security,
      summary: "Change an OpenID client's metadata",
      params: ClientParams,
      body: ClientAdminUpdate,
      response: { 200: ClientPublic, ...problemResponses },
    },
    handler: async (request) =>
      clients.update(principalOf(request).userId, request.params.id, request.body, contextOf(request)),
  })

  app.delete('/:id', {
    config: { permission: 'clients:write' },
    schema: {
      tags,
      security,
      summary: 'Delete an OpenID client',
      params: ClientParams,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await clients.delete(principalOf(request).userId, request.params.id, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.post('/:id/secret', {
    config: { permission: 'clients:write' },
    schema: {
      tags,
      security,
      summary:
        "Rotate a confidential client's secret: the new one is in this answer only, the old one stops working",
      params: ClientParams,
      response: { 200: ClientSecretRotated, ...problemResponses },
    },
    handler: async (request) =>
      clients.rotateSecret(principalOf(request).userId, request.params.id, contextOf(request)),
  })
}
