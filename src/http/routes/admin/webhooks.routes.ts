import type { Kitsune } from '../../../kitsune.js'
import type { KitsuneApp } from '../../app-types.js'
import { contextOf, principalOf } from '../../plugins/authenticate.js'
import { problemResponses } from '../../schemas/common.schemas.js'
import { Type } from '../../schemas/type.js'
import {
  WebhookCreate,
  WebhookCreated,
  WebhookDeliveryPage,
  WebhookDeliveryParams,
  WebhookDeliveryPublic,
  WebhookListQuery,
  WebhookPage,
  WebhookParams,
  WebhookPublic,
  WebhookUpdate,
} from '../../schemas/webhook.schemas.js'

const tags = ['admin']
const security = [{ bearer: [] }]

/** Webhook endpoints and their deliveries; the signing secret appears in the 201 answer only. */
export async function adminWebhookRoutes(app: KitsuneApp, kitsune: Kitsune): Promise<void> {
  const { webhooks } = kitsune.services

  app.get('/', {
    config: { permission: 'webhooks:read' },
    schema: {
      tags,
      security,
      summary: 'List webhook endpoints, newest first (keyset pagination)',
      querystring: WebhookListQuery,
      response: { 200: WebhookPage, ...problemResponses },
    },
    handler: async (request) => webhooks.list(request.query),
  })

  app.post('/', {
    config: { permission: 'webhooks:write' },
    schema: {
      tags,
      security,
      summary: 'Register a webhook endpoint; its signing secret is in this answer only',
      body: WebhookCreate,
      response: { 201: WebhookCreated, ...problemResponses },
    },
    handler: async (request, reply) => {
      const created = await webhooks.create(principalOf(request).userId, request.body, contextOf(request))
      reply.code(201)
      return created
    },
  })

  app.get('/:id', {
    config: { permission: 'webhooks:read' },
    schema: {
      tags,
      security,
      summary: 'Get a webhook endpoint',
      params: WebhookParams,
      response: { 200: WebhookPublic, ...problemResponses },
    },
    handler: async (request) => webhooks.get(request.params.id),
  })

  app.patch('/:id', {
    config: { permission: 'webhooks:write' },
    schema: {
      tags,
      security,
      summary: 'Change a webhook endpoint (URL, events, enabled, description)',
      params: WebhookParams,
      body: WebhookUpdate,
      response: { 200: WebhookPublic, ...problemResponses },
    },
    handler: async (request) =>
      webhooks.update(principalOf(request).userId, request.params.id, request.body, contextOf(request)),
  })

  app.delete('/:id', {
    config: { permission: 'webhooks:write' },
    schema: {
      tags,
      security,
      summary: 'Delete a webhook endpoint and its deliveries',
      params: WebhookParams,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await webhooks.remove(principalOf(request).userId, request.params.id, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.get('/:id/deliveries', {
    config: { permission: 'webhooks:read' },
    schema: {
      tags,
      security,
      summary: "An endpoint's deliveries, newest first, with each body and its last attempt",
      params: WebhookParams,
      querystring: WebhookListQuery,
      response: { 200: WebhookDeliveryPage, ...problemResponses },
    },
    handler: async (request) => webhooks.listDeliveries(request.params.id, request.query),
  })

  app.post('/:id/deliveries/:delivery_id/retry', {
    config: { permission: 'webhooks:write' },
    schema: {
      tags,
      security,
      summary: 'Attempt a delivery again now (same webhook-id and body), whatever its state',
      params: WebhookDeliveryParams,
      response: { 202: WebhookDeliveryPublic, ...problemResponses },
    },
    handler: async (request, reply) => {
      const delivery = await webhooks.redeliver(request.params.id, request.params.delivery_id)
      reply.code(202)
      return delivery
    },
  })
}
