import { Ajv, type Options } from 'ajv'
import addFormatsImport from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = addFormatsImport as unknown as typeof addFormatsImport.default

function createAjv(options: Options): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true, ...options })
  addFormats(ajv)
  return ajv
}

/**
 * Bodies are validated strictly: no type coercion and no silent removal of unknown fields (an
 * unknown field is a 422, never a mass assignment). Query strings and path parameters arrive as
 * text, so only they are coerced.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = createAjv({ coerceTypes: false, removeAdditional: false })
  const coercing = createAjv({ coerceTypes: 'array', removeAdditional: false })
  const cache = new WeakMap<object, ReturnType<Ajv['compile']>>()
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing
    const key = schema as object
    let validate = httpPart === 'body' ? undefined : cache.get(key)
    if (!validate) {
      validate = ajv.compile(schema as object)
      if (httpPart !== 'body') cache.set(key, validate)
    }
    return validate
  }
}
