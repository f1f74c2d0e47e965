import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/** OpenAPI 3.1 generated from the route schemas, served at /openapi.json and browsable at /docs. */
export async function registerOpenApi(app: FastifyInstance, publicUrl: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kitsune',
        version: '0.1.0',
        description: 'User management and authentication. Errors are RFC 9457 problem+json.',
      },
      servers: [{ url: publicUrl }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'oauth2',
            description: 'Bearer access token (JWT). "Authorize" logs in through the token endpoint.',
            flows: {
              password: { tokenUrl: '/api/v1/auth/token', refreshUrl: '/api/v1/auth/token', scopes: {} },
            },
          },
        },
      },
      tags: [
        { name: 'auth', description: 'Registration, login, tokens, logout' },
        { name: 'me', description: 'The current user' },
        { name: 'tokens', description: 'Token verification keys' },
        { name: 'admin', description: 'User, role and audit administration (permission per route)' },
        { name: 'operations', description: 'Health and documentation' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  })
  // staticCSP gives the documentation pages their own CSP (hashes of its inline scripts).
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // The documentation pages get their own CSP (its assets only); over plain http (development)
    // upgrade-insecure-requests would break loading them.
    staticCSP: true,
    transformStaticCSP: (header) =>
      publicUrl.startsWith('https://') ? header : header.replace(/\s*upgrade-insecure-requests;?/, ''),
    uiConfig: { persistAuthorization: false },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
