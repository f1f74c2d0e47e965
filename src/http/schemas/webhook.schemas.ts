import type { TSchema } from 'typebox'
import { ALL_EVENTS, EVENT_TYPES } from '../../events/catalogue.js'
import { DateTime } from './common.schemas.js'
import { Type } from './type.js'

// Values (URL target, event names) are checked by the service, which answers 422 naming the field;
// the schemas bound sizes and shapes and list the accepted values for the documentation.
const strict = { additionalProperties: false } as const
const Url = Type.String({
  minLength: 1,
  maxLength: 2000,
  description:
    'http(s) URL the events are POSTed to; loopback, private and link-local targets are refused unless WEBHOOKS_ALLOW_PRIVATE=true',
})
const Events = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  minItems: 1,
  maxItems: 100,
  description: `Event types to receive, or ["${ALL_EVENTS}"] for all: ${EVENT_TYPES.join(', ')}`,
})
const Description = Type.Union([Type.String({ maxLength: 500 }), Type.Null()])
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

export const WebhookCreate = Type.Object(
  {
    url: Url,
    events: Events,
    enabled: Type.Optional(Type.Boolean({ description: 'Default true' })),
    description: Type.Optional(Description),
  },
  strict,
)

export const WebhookUpdate = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    enabled: Type.Optional(
      Type.Boolean({ description: 'true again after an automatic disabling clears its failure record' }),
    ),
    description: Type.Optional(Description),
  },
  { ...strict, description: 'The fields to change' },
)

const endpointFields = {
  id: Type.String({ format: 'uuid' }),
  url: Type.String(),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  description: Nullable(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
  created_by: Nullable(Type.String()),
  failing_since: Nullable(
    Type.String({ format: 'date-time', description: 'Since when deliveries have failed without a success' }),
  ),
  disabled_reason: Nullable(
    Type.String({ description: 'Why Kitsune disabled it (after 3 days of failed deliveries)' }),
  ),
}

/** An endpoint as every answer but the creation shows it: never its secret. */
export const WebhookPublic = Type.Object(endpointFields)

export const WebhookCreated = Type.Object({
  ...endpointFields,
  secret: Type.String({
    description:
      'The signing secret (whsec_ + base64), shown only in this answer: verify each delivery with it (Standard Webhooks)',
  }),
})

export const WebhookParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, strict)
export const WebhookDeliveryParams = Type.Object(
  { id: Type.String({ format: 'uuid' }), delivery_id: Type.String({ format: 'uuid' }) },
  strict,
)

export const WebhookListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  strict,
)

export const WebhookPage = Type.Object({
  items: Type.Array(WebhookPublic),
  next_cursor: Nullable(Type.String()),
})

export const WebhookDeliveryPublic = Type.Object({
  id: Type.String({ format: 'uuid', description: 'The webhook-id header: the same on every attempt' }),
  endpoint_id: Type.String({ format: 'uuid' }),
  event_id: Type.String({ format: 'uuid' }),
  event_type: Type.String(),
  payload: Type.Unknown({ description: 'The body sent: {type, timestamp, data}' }),
  state: Type.Union(
    ['queued', 'succeeded', 'failed', 'dead'].map((s) => Type.Literal(s)),
    {
      description:
        'queued: an attempt is due; failed: the last attempt failed, retried at next_attempt_at when set (a retry asked for by hand is one attempt); dead: given up after the retry window (retry by hand)',
    },
  ),
  attempts: Type.Integer(),
  last_status: Nullable(Type.Integer({ description: "The receiver's last HTTP status" })),
  last_error: Nullable(Type.String()),
  last_response_ms: Nullable(Type.Integer()),
  created_at: DateTime,
  last_attempt_at: Nullable(Type.String({ format: 'date-time' })),
  next_attempt_at: Nullable(Type.String({ format: 'date-time' })),
})

export const WebhookDeliveryPage = Type.Object({
  items: Type.Array(WebhookDeliveryPublic),
  next_cursor: Nullable(Type.String()),
})

/** The OpenAPI components for the event bodies, one per type (API.md, "Events and webhooks"). */
export const eventSchemas = EVENT_TYPES.map((type) =>
  Type.Object(
    {
      type: Type.Literal(type),
      timestamp: DateTime,
      data: Type.Object(
        {
          id: Type.String({ format: 'uuid', description: 'The event id' }),
          actor_id: Nullable(
            Type.String({ description: 'Who did it (null: the system or an anonymous caller)' }),
          ),
          target_type: Nullable(Type.String()),
          target_id: Nullable(Type.String()),
        },
        { additionalProperties: true, description: 'Also the non-secret fields that changed' },
      ),
    },
    { $id: `WebhookEvent.${type}`, description: `The body of a ${type} delivery` },
  ),
)
