import fastJsonStringify, { type Options } from 'fast-json-stringify'

type Serializer = (data: unknown) => string

/**
 * Fastify's response serializer factory, with one compiled serializer per schema object. Every
 * route shares the same problem+json schema objects for its 4xx/5xx answers, so they are compiled
 * once instead of once per route and status (a measurable part of start-up).
 */
export function buildCachedSerializer(externalSchemas?: unknown, serializerOpts?: Options) {
  const options: Options = { ...serializerOpts, schema: externalSchemas as Options['schema'] }
  const compiled = new WeakMap<object, Serializer>()
  const compile = (key: object) => {
    let serialize = compiled.get(key)
    if (!serialize) {
      serialize = fastJsonStringify(key, options) as Serializer
      compiled.set(key, serialize)
    }
    return serialize
  }
  return ({ schema }: { schema?: unknown }): Serializer => {
    // Compiled on first use, like the validators: most routes' error schemas are never needed.
    let serialize: Serializer | undefined
    return (data) => {
      serialize ??= compile(schema as object)
      return serialize(data)
    }
  }
}
