import type { Static } from 'typebox'
import type { Kitsune } from '../../kitsune.js'
import type { KitsuneApp } from '../app-types.js'
import { Type } from '../schemas/type.js'

const Jwk = Type.Object(
  {
    kty: Type.String(),
    kid: Type.String(),
    alg: Type.String(),
    use: Type.String(),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String()),
    n: Type.Optional(Type.String()),
    e: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)

export async function jwksRoutes(app: KitsuneApp, kitsune: Kitsune): Promise<void> {
  app.get('/.well-known/jwks.json', {
    schema: {
      tags: ['tokens'],
      summary: 'Public keys that verify the tokens Kitsune signs (RFC 7517)',
      response: { 200: Type.Object({ keys: Type.Array(Jwk) }) },
    },
    handler: async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return kitsune.services.keys.jwks() as { keys: Static<typeof Jwk>[] }
    },
  })
}
