import type * as TypeBox from 'typebox'

type Builders = typeof TypeBox.Type
/** The TypeBox builders the route schemas use, with TypeBox's static types. */
export type SchemaBuilder = Pick<
  Builders,
  | 'Array'
  | 'Boolean'
  | 'Integer'
  | 'Literal'
  | 'Null'
  | 'Object'
  | 'Optional'
  | 'Record'
  | 'Ref'
  | 'String'
  | 'Union'
  | 'Unknown'
>

type Schema = Record<string, unknown>
type Options = Schema | undefined

const OPTIONAL = '~optional'
const isOptional = (schema: Schema) => (schema as { [OPTIONAL]?: boolean })[OPTIONAL] === true

/**
 * The JSON Schema that TypeBox's builders produce, built without loading TypeBox at run time
 * (its ~370 modules took a sixth of start-up). The types, and so `Static<>` and the Fastify type
 * provider, are TypeBox's own; test/unit/schema-builder.test.ts checks the output against TypeBox.
 */
export const Type = {
  String: (options?: Options) => ({ type: 'string', ...options }),
  Integer: (options?: Options) => ({ type: 'integer', ...options }),
  Boolean: (options?: Options) => ({ type: 'boolean', ...options }),
  Null: (options?: Options) => ({ type: 'null', ...options }),
  Unknown: (options?: Options) => ({ ...options }),
  Literal: (value: string | number | boolean, options?: Options) => ({
    type: typeof value,
    const: value,
    ...options,
  }),
  Array: (items: Schema, options?: Options) => ({ type: 'array', items, ...options }),
  Union: (anyOf: Schema[], options?: Options) => ({ anyOf, ...options }),
  Ref: ($ref: string, options?: Options) => ({ $ref, ...options }),
  Record: (_key: Schema, value: Schema, options?: Options) => ({
    type: 'object',
    patternProperties: { '^.*$': value },
    ...options,
  }),
  /** A copy marked (like TypeBox, by a non-enumerable `~optional`) to stay out of `required`. */
  Optional: (schema: Schema) =>
    Object.defineProperty({ ...schema }, OPTIONAL, { value: true, enumerable: false, writable: true }),
  Object: (properties: Record<string, Schema>, options?: Options) => {
    const required = Object.keys(properties).filter((key) => !isOptional(properties[key] as Schema))
    return { type: 'object', ...(required.length > 0 ? { required } : {}), properties, ...options }
  },
} as unknown as SchemaBuilder
