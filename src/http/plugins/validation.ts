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
  const compile = (schema: object, httpPart: string | undefined) => {
    const ajv = httpPart === 'body' ? strict : coercing
    let validate = httpPart === 'body' ? undefined : cache.get(schema)
    if (!validate) {
      validate = ajv.compile(schema)
      if (httpPart !== 'body') cache.set(schema, validate)
    }
    return validate
  }
  return ({ schema, httpPart }) => {
    // Compiled on a route's first request: start-up does not wait for ~60 validators, and a route
    // that is never called costs no generated code. Fastify reads `errors` after a false result.
    let validate: ReturnType<Ajv['compile']> | undefined
    const lazy = (data: unknown) => {
      validate ??= compile(schema as object, httpPart)
      // No schema here is $async: ajv's result is a boolean.
      const valid = validate(data) as boolean
      lazy.errors = validate.errors
      return valid
    }
    lazy.errors = null as ReturnType<Ajv['compile']>['errors']
    return lazy
  }
}
