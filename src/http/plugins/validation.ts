import { Ajv, type Options } from 'ajv'
import addFormatsImport from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'
import { findUnstorableText } from '../../lib/storable-text.js'

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = addFormatsImport as unknown as typeof addFormatsImport.default

function createAjv(options: Options): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true, ...options })
  addFormats(ajv)
  return ajv
}

type ValidationErrors = ReturnType<Ajv['compile']>['errors']

/**
 * Text the database cannot store (U+0000, a lone surrogate) anywhere in a request part, as errors
 * of the same shape as Ajv's, so they join the schema's own errors in one 422 naming the field.
 * Checked here for every string and property name of every part a route declares a schema for
 * (house rule: every route declares one for each part it reads), rather than field by field, so a
 * route added later is covered without thinking of it.
 */
function textErrors(data: unknown): NonNullable<ValidationErrors> {
  return findUnstorableText(data).map(({ pointer, message }) => ({
    instancePath: pointer,
    schemaPath: '#',
    keyword: 'storableText',
    params: {},
    message,
  }))
}

/**
 * Bodies are validated strictly: no type coercion and no silent removal of unknown fields (an
 * unknown field is a 422, never a mass assignment). Query strings and path parameters arrive as
 * text, so only they are coerced. Every part is also refused when it holds text PostgreSQL cannot
 * store (see lib/storable-text.ts), which would otherwise fail the statement with a 500.
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
      const unstorable = textErrors(data)
      lazy.errors = unstorable.length > 0 ? [...(validate.errors ?? []), ...unstorable] : validate.errors
      return valid && unstorable.length === 0
    }
    lazy.errors = null as ValidationErrors
    return lazy
  }
}
