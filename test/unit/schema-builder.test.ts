import { Type as TypeBox } from 'typebox'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Type } from '../../src/http/schemas/type.js'

/** What a schema says as JSON Schema (TypeBox's non-enumerable markers left out). */
const json = (schema: unknown) => JSON.parse(JSON.stringify(schema))

describe('the route schema builder', () => {
  it.each([
    ['String', () => [Type.String(), TypeBox.String()]],
    [
      'String with options',
      () => [
        Type.String({ format: 'email', minLength: 3, maxLength: 254, description: 'd' }),
        TypeBox.String({ format: 'email', minLength: 3, maxLength: 254, description: 'd' }),
      ],
    ],
    [
      'Integer',
      () => [Type.Integer({ minimum: 1, default: 50 }), TypeBox.Integer({ minimum: 1, default: 50 })],
    ],
    ['Boolean', () => [Type.Boolean(), TypeBox.Boolean()]],
    ['Null', () => [Type.Null(), TypeBox.Null()]],
    ['Unknown', () => [Type.Unknown(), TypeBox.Unknown()]],
    ['Literal string', () => [Type.Literal('ok'), TypeBox.Literal('ok')]],
    ['Literal number', () => [Type.Literal(3), TypeBox.Literal(3)]],
    ['Literal boolean', () => [Type.Literal(true), TypeBox.Literal(true)]],
    [
      'Array',
      () => [Type.Array(Type.String(), { maxItems: 3 }), TypeBox.Array(TypeBox.String(), { maxItems: 3 })],
    ],
    [
      'Union',
      () => [Type.Union([Type.String(), Type.Null()]), TypeBox.Union([TypeBox.String(), TypeBox.Null()])],
    ],
    ['Ref', () => [Type.Ref('Problem'), TypeBox.Ref('Problem')]],
    [
      'Record',
      () => [Type.Record(Type.String(), Type.Unknown()), TypeBox.Record(TypeBox.String(), TypeBox.Unknown())],
    ],
    [
      'Object with required, optional and options',
      () => [
        Type.Object(
          { a: Type.String(), b: Type.Optional(Type.Integer()), c: Type.Optional(Type.Union([Type.Null()])) },
          { additionalProperties: false, $id: 'X' },
        ),
        TypeBox.Object(
          {
            a: TypeBox.String(),
            b: TypeBox.Optional(TypeBox.Integer()),
            c: TypeBox.Optional(TypeBox.Union([TypeBox.Null()])),
          },
          { additionalProperties: false, $id: 'X' },
        ),
      ],
    ],
    [
      'Object of optional properties only',
      () => [
        Type.Object({ b: Type.Optional(Type.String()) }),
        TypeBox.Object({ b: TypeBox.Optional(TypeBox.String()) }),
      ],
    ],
  ])('builds the same JSON Schema as TypeBox: %s', (_name, build) => {
    const [ours, theirs] = build()
    expect(json(ours)).toEqual(json(theirs))
  })

  it('marks a copy optional and leaves the schema it was given required elsewhere', () => {
    const shared = Type.String()
    const schema = Type.Object({ a: shared, b: Type.Optional(shared) })
    expect(json(schema)).toMatchObject({ required: ['a'] })
    expect(json(Type.Object({ c: shared }))).toMatchObject({ required: ['c'] })
  })
})

describe('the OpenAPI document', () => {
  afterEach(() => {
    vi.doUnmock('../../src/http/schemas/type.js')
    vi.resetModules()
  })

  /** /openapi.json of a fresh application, its route schemas built by `builder`. */
  async function openapi(builder: 'kitsune' | 'typebox') {
    vi.resetModules()
    if (builder === 'typebox') {
      vi.doMock('../../src/http/schemas/type.js', () => ({ Type: TypeBox }))
    }
    const { buildTestApp } = await import('../helpers/build-test-app.js')
    const { pgliteTarget } = await import('../helpers/test-targets.js')
    const t = await buildTestApp({ target: pgliteTarget })
    try {
      const response = await t.inject({ method: 'GET', url: '/openapi.json' })
      expect(response.statusCode).toBe(200)
      return response.json()
    } finally {
      await t.close()
    }
  }

  it('is the same whether every route schema is built by Kitsune or by TypeBox', async () => {
    const ours = await openapi('kitsune')
    const theirs = await openapi('typebox')
    expect(Object.keys(ours.paths).length).toBeGreaterThan(25)
    expect(ours).toEqual(theirs)
  })
})
