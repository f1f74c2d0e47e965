import swagger from '@fastify/swagger'
import swaggerUi, { type FastifySwaggerUiOptions } from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/** The name the documentation shows: the API's title, the page title and the top bar. */
const NAME = 'Kitsune'

type SwaggerUiPlugin = NonNullable<NonNullable<FastifySwaggerUiOptions['uiConfig']>['plugins']>[number]

/**
 * A Swagger UI plugin given as browser JavaScript. @fastify/swagger-ui writes each uiConfig function
 * into the docs' initializer script (a file, which the docs CSP allows as 'self') as the text its
 * toString() returns. The source is text here because a compiled TypeScript function may call the
 * compiler's helpers (esbuild's __name), which do not exist in the browser.
 */
function browserPlugin(source: string): SwaggerUiPlugin {
  const plugin = () => ({})
  plugin.toString = () => source
  return plugin
}

/**
 * The top bar's logo becomes Kitsune's name, as text. Swagger UI's own logo is an SVG with a <style>
 * element, which the docs CSP (no inline styles) blocks and Chromium reports as a violation.
 */
const brandTopBar = browserPlugin(`function brandTopBar(system) {
  return {
    components: {
      Logo: function () {
        return system.React.createElement('span', { className: 'kitsune-docs-name' }, ${JSON.stringify(NAME)})
      },
    },
  }
}`)

const THEME_CSS = `.swagger-ui .topbar .kitsune-docs-name {
  color: #fff;
  font-family: sans-serif;
  font-size: 1.5rem;
  font-weight: 700;
}
`

/** OpenAPI 3.1 generated from the route schemas, served at /openapi.json and browsable at /docs. */
export async function registerOpenApi(app: FastifyInstance, publicUrl: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: NAME,
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
        {
          name: 'admin',
          description: 'Users, roles, OpenID clients and the audit log (permission per route)',
        },
        { name: 'operations', description: 'Health and documentation' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // The documentation pages get their own CSP (its assets only, no inline script or style); over
    // plain http (development) upgrade-insecure-requests would break loading them.
    staticCSP: true,
    transformStaticCSP: (header) =>
      publicUrl.startsWith('https://') ? header : header.replace(/\s*upgrade-insecure-requests;?/, ''),
    theme: {
      title: `${NAME} API`,
      css: [{ filename: 'kitsune.css', content: THEME_CSS }],
    },
    // null, not undefined: no logo swap at all. Undefined swaps the top bar's logo for Fastify's;
    // brandTopBar puts Kitsune's name there instead.
    logo: null as unknown as FastifySwaggerUiOptions['logo'],
    // These plugins come after the API preset, which already brings the spec download plugin.
    uiConfig: { persistAuthorization: false, plugins: [brandTopBar] },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
