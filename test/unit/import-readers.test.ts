import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type JsonItem, JsonItemsError, jsonArrayItems } from '../../src/import/json-items.js'
import {
  csvFile,
  firstCharacter,
  jsonArrayFile,
  jsonLinesFile,
  SourceError,
  type SourceItem,
} from '../../src/import/readers.js'

/** Feeds `text` as an async iterable of chunks: a fixed size, or sizes drawn from a seeded generator. */
async function* chunked(text: string, size: number | (() => number)): AsyncGenerator<string> {
  let at = 0
  while (at < text.length) {
    const n = typeof size === 'number' ? size : size()
    yield text.slice(at, at + n)
    at += n
  }
}

/** A small deterministic generator (mulberry32) so a failing chunking can be reproduced. */
function randomSizes(seed: number, max: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) % max) + 1
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

async function scan(text: string, key?: string, size: number | (() => number) = text.length || 1) {
  return collect(jsonArrayItems(chunked(text, size), { key }))
}

/** The error a scan throws (with its line), or fails the test if it does not throw. */
async function scanError(text: string, key?: string, size?: number): Promise<JsonItemsError> {
  try {
    await scan(text, key, size)
  } catch (error) {
    expect(error).toBeInstanceOf(JsonItemsError)
    return error as JsonItemsError
  }
  throw new Error('expected the scan to throw')
}

const parsed = (items: JsonItem[]) => items.map((item) => ({ line: item.line, value: JSON.parse(item.text) }))

// A realm export laid out as `kc.sh export` writes it: two-space indentation, one key per line.
const REALM_USERS = [
  {
    id: '8f2d4c1e-0b6a-4d53-9a77-1c2e3f4a5b6c',
    username: 'ada',
    email: 'ada@example.com',
    attributes: { note: ['has "quotes", [brackets] and {braces}', 'back\\slash \\"escaped\\"'] },
    credentials: [{ type: 'password', secretData: '{"value":"abc=","salt":"def="}', credentialData: '{}' }],
    realmRoles: ['default-roles-acme', 'users'],
  },
  {
    id: 'b3c1d2e4-5f60-4718-8a9b-0c1d2e3f4a5b',
    username: 'grace',
    email: 'grace@example.com',
    groups: [],
    extra: { users: ['not', 'these'], nested: [[1, 2], { users: [] }] },
  },
]
const REALM = JSON.stringify(
  {
    id: 'acme',
    realm: 'acme',
    displayName: 'The "users" realm [test]',
    roles: { realm: [{ name: 'users', composite: false }], client: { users: [{ name: 'x' }] } },
    groups: [{ name: 'users', subGroups: [] }],
    defaultRole: { name: 'default-roles-acme' },
    users: REALM_USERS,
    clients: [{ clientId: 'account', redirectUris: ['/realms/acme/account/*'] }],
    smtpServer: {},
  },
  null,
  2,
)
const realmLines = REALM.split('\n')
/** The 1-based lines of the users array's elements (each `{` sits alone on a line). */
const usersStart = realmLines.indexOf('  "users": [')
const usersEnd = realmLines.indexOf('  ],', usersStart)
const elementLines = realmLines
  .map((text, index) => ({ text, index }))
  .filter((l) => l.index > usersStart && l.index < usersEnd && l.text === '    {')
  .map((l) => l.index + 1)

describe('jsonArrayItems', () => {
  it('yields each object of a top-level array with the line it starts on', async () => {
    const text = '[\n  {"a": 1},\n\n  {"b": [1, {"c": "]"}], "d": {"e": null}}, {"f": "x"}\n]\n'
    expect(parsed(await scan(text))).toEqual([
      { line: 2, value: { a: 1 } },
      { line: 4, value: { b: [1, { c: ']' }], d: { e: null } } },
      { line: 4, value: { f: 'x' } },
    ])
  })

  it('yields an empty array as no items', async () => {
    expect(await scan('  [ ]  ')).toEqual([])
    expect(await scan('{"users": []}', 'users')).toEqual([])
  })

  it('yields only the top-level users array of a realm export, elements intact', async () => {
    const items = await scan(REALM, 'users')
    expect(items.map((item) => JSON.parse(item.text))).toEqual(REALM_USERS)
    // Each element is the exact source text between its braces.
    expect(items[0]?.text.startsWith('{\n      "id": "8f2d4c1e')).toBe(true)
    expect(items[1]?.text.endsWith('\n    }')).toBe(true)
  })

  it('gives the line each pretty-printed element starts on', async () => {
    expect(elementLines).toHaveLength(2)
    expect((await scan(REALM, 'users')).map((item) => item.line)).toEqual(elementLines)
  })

  it('ignores "users" keys nested deeper and "users" inside string values', async () => {
    const text = JSON.stringify({
      a: { users: [{ wrong: 1 }] },
      b: 'users',
      c: ['users', [{ wrong: 2 }]],
      'say \\"users\\"': [{ wrong: 3 }],
      users: [{ right: 1 }],
    })
    expect(parsed(await scan(text, 'users'))).toEqual([{ line: 1, value: { right: 1 } }])
  })

  it('handles strings with brackets, braces, escaped quotes and backslashes inside elements', async () => {
    const values = [
      { s: '[', t: '{', u: '}]', v: '"users": [' },
      { s: 'a\\', t: 'b\\"', u: '\\\\"}' },
      { s: 'line\nbreak', t: 'tab\t', u: 'üñí©ødé ✓ 🦊' },
    ]
    const text = JSON.stringify({ users: values })
    expect((await scan(text, 'users')).map((item) => JSON.parse(item.text))).toEqual(values)
  })

  it('stops at the end of the wanted array and skips what follows', async () => {
    const text = '{"users": [{"a": 1}], "clients": [{"b": 2}], "trailing": "not even checked'
    expect(parsed(await scan(text, 'users'))).toEqual([{ line: 1, value: { a: 1 } }])
  })

  describe('gives the same items however the text is chunked', () => {
    const documents: Array<[string, string, string | undefined]> = [
      ['a realm export', REALM, 'users'],
      ['a top-level array', JSON.stringify(REALM_USERS, null, 2), undefined],
      ['a compact document', JSON.stringify({ realm: 'x', users: REALM_USERS, clients: [{}] }), 'users'],
      ['CRLF line ends', JSON.stringify({ users: REALM_USERS }, null, '\t').replace(/\n/g, '\r\n'), 'users'],
    ]
    it.each(documents)('%s, one character at a time', async (_name, text, key) => {
      const whole = await scan(text, key)
      expect(whole.length).toBeGreaterThan(0)
      expect(await scan(text, key, 1)).toEqual(whole)
    })

    it.each(documents)('%s, in random chunk sizes', async (_name, text, key) => {
      const whole = await scan(text, key)
      for (let seed = 1; seed <= 25; seed++) {
        expect(await scan(text, key, randomSizes(seed, seed % 2 === 0 ? 7 : 300))).toEqual(whole)
      }
    })

    it('an element of many thousand characters, one character at a time', async () => {
      const big = { id: 'big', note: 'n'.repeat(10_000), list: Array.from({ length: 500 }, (_, i) => [i]) }
      const text = JSON.stringify({ users: [{ a: 1 }, big] })
      expect((await scan(text, 'users', 1)).map((item) => JSON.parse(item.text))).toEqual([{ a: 1 }, big])
    })

    it('errors on the same line one character at a time', async () => {
      const text = '{\n "users": [\n  {"a": 1},\n  42\n ]\n}'
      expect((await scanError(text, 'users')).line).toBe(4)
      expect((await scanError(text, 'users', 1)).line).toBe(4)
    })
  })

  describe('errors, with line numbers', () => {
    it('refuses a document that is not an array', async () => {
      const error = await scanError('{\n  "users": [{"a": 1}]\n}\n')
      expect(error.message).toBe('the document is not a JSON array')
      expect(error.line).toBe(4)
      expect((await scanError('"just a string"')).message).toBe('the document is not a JSON array')
    })

    it('refuses a document without the key at the top level', async () => {
      const error = await scanError('{\n  "realm": "acme",\n  "roles": {"users": [{"a": 1}]}\n}', 'users')
      expect(error.message).toBe('no "users" array at the top level')
      expect(error.line).toBe(4)
      expect((await scanError('{"users": {"a": [{"b": 1}]}}', 'users')).message).toBe(
        'no "users" array at the top level',
      )
    })

    it('refuses a truncated document, naming its last line', async () => {
      const truncated = REALM.slice(0, REALM.indexOf('"grace"'))
      const error = await scanError(truncated, 'users')
      expect(error.message).toBe('the document ends inside the array')
      expect(error.line).toBe(truncated.split('\n').length)
      // The complete first element was still handed over before the end was found.
      const items: JsonItem[] = []
      await expect(
        (async () => {
          for await (const item of jsonArrayItems(chunked(truncated, 10), { key: 'users' })) items.push(item)
        })(),
      ).rejects.toThrow('the document ends inside the array')
      expect(items.map((item) => JSON.parse(item.text))).toEqual([REALM_USERS[0]])
      expect((await scanError('[{"a": 1}, ')).message).toBe('the document ends inside the array')
    })

    it.each([
      ['a number', '[\n  {"a": 1},\n  7\n]', 3],
      ['a string', '[\n  {"a": 1},\n\n  "x"\n]', 4],
      ['null', '[null]', 1],
      ['true', '{"users": [\n{}, true]}', 2],
    ])('refuses %s as an element', async (_name, text, line) => {
      const error = await scanError(text, text.startsWith('{') ? 'users' : undefined)
      expect(error.message).toBe('an array element is not an object')
      expect(error.line).toBe(line)
    })

    it('refuses unbalanced brackets', async () => {
      const error = await scanError('\n]')
      expect(error.message).toBe('unbalanced brackets')
      expect(error.line).toBe(2)
    })
  })
})

describe('file readers', () => {
  let dir: string
  let count = 0
  const file = async (content: string | Buffer) => {
    const path = join(dir, `file-${++count}`)
    await writeFile(path, content)
    return path
  }
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kitsune-import-readers-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  describe('jsonArrayFile', () => {
    it('reads the users array of a realm file with each element’s line', async () => {
      const items = await collect(jsonArrayFile(await file(REALM), 'users'))
      expect(items).toEqual(REALM_USERS.map((value, i) => ({ line: elementLines[i], value })))
    })

    it('reads an element larger than one read chunk', async () => {
      const big = {
        id: 'x',
        blob: 'y'.repeat(200_000),
        list: Array.from({ length: 2000 }, (_, i) => ({ i })),
      }
      const items = await collect(jsonArrayFile(await file(JSON.stringify([{ a: 1 }, big, { b: 2 }]))))
      expect(items.map((item) => ('value' in item ? item.value : item))).toEqual([{ a: 1 }, big, { b: 2 }])
    })

    it('turns an element that is not valid JSON into a line error and goes on', async () => {
      const items = await collect(jsonArrayFile(await file('[\n  {"a": 1},\n  {"b": tru},\n  {"c": 3}\n]')))
      expect(items).toEqual([
        { line: 2, value: { a: 1 } },
        { line: 3, error: 'not valid JSON' },
        { line: 4, value: { c: 3 } },
      ])
    })

    it('turns a scanner error into a SourceError with the line', async () => {
      const path = await file('{\n  "realm": "acme"\n}\n')
      const error = await collect(jsonArrayFile(path, 'users')).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(SourceError)
      expect(error).toMatchObject({ message: 'no "users" array at the top level', line: 4 })
    })

    it('turns a missing file into a SourceError', async () => {
      await expect(collect(jsonArrayFile(join(dir, 'absent.json')))).rejects.toBeInstanceOf(SourceError)
    })
  })

  describe('jsonLinesFile', () => {
    it('reads one object per line, skipping blank lines and keeping line numbers', async () => {
      const path = await file('{"a": 1}\n\n   \n{"b": "x"}\r\n{"c": [1]}')
      expect(await collect(jsonLinesFile(path))).toEqual([
        { line: 1, value: { a: 1 } },
        { line: 4, value: { b: 'x' } },
        { line: 5, value: { c: [1] } },
      ])
    })

    it('drops a UTF-8 byte order mark at the start', async () => {
      const path = await file(
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a": "ü"}\n{"b": 2}\n')]),
      )
      expect(await collect(jsonLinesFile(path))).toEqual([
        { line: 1, value: { a: 'ü' } },
        { line: 2, value: { b: 2 } },
      ])
    })

    it('reports a line that is not JSON and goes on', async () => {
      const path = await file('{"a": 1}\n{"b": \n{"c": 3}\n')
      expect(await collect(jsonLinesFile(path))).toEqual([
        { line: 1, value: { a: 1 } },
        { line: 2, error: 'not valid JSON' },
        { line: 3, value: { c: 3 } },
      ])
    })

    it('reads nothing from an empty file', async () => {
      expect(await collect(jsonLinesFile(await file('')))).toEqual([])
    })
  })

  describe('csvFile (PostgreSQL COPY … WITH (FORMAT csv, HEADER))', () => {
    const read = async (content: string) => collect(csvFile(await file(content)))

    it('maps each record onto the header’s column names', async () => {
      expect(await read('id,email,is_anonymous\n1,a@example.com,f\n2,b@example.com,t\n')).toEqual([
        { line: 2, value: { id: '1', email: 'a@example.com', is_anonymous: 'f' } },
        { line: 3, value: { id: '2', email: 'b@example.com', is_anonymous: 't' } },
      ])
    })

    it('reads quoted fields with commas, doubled quotes and JSON text', async () => {
      const meta = '{"full_name":"Lovelace, Ada","sub":"x"}'
      const text = `id,name,meta\n1,"Lovelace, Ada","${meta.replace(/"/g, '""')}"\n2,"say ""hi""",""""\n`
      expect(await read(text)).toEqual([
        { line: 2, value: { id: '1', name: 'Lovelace, Ada', meta } },
        { line: 3, value: { id: '2', name: 'say "hi"', meta: '"' } },
      ])
    })

    it('keeps newlines inside quotes and gives a record the line it starts on', async () => {
      const text = 'id,note\n1,"first\nsecond\n\nfourth"\n2,plain\n3,"a\nb"'
      expect(await read(text)).toEqual([
        { line: 2, value: { id: '1', note: 'first\nsecond\n\nfourth' } },
        { line: 6, value: { id: '2', note: 'plain' } },
        { line: 7, value: { id: '3', note: 'a\nb' } },
      ])
    })

    it('reads an unquoted empty field as null and a quoted empty one as the empty string', async () => {
      expect(await read('a,b,c,d\n,"",x,\n')).toEqual([
        { line: 2, value: { a: null, b: '', c: 'x', d: null } },
      ])
    })

    it('reads CRLF line ends', async () => {
      const text = 'id,email,note\r\n1,a@example.com,"two\r\nlines"\r\n2,b@example.com,\r\n'
      expect(await read(text)).toEqual([
        { line: 2, value: { id: '1', email: 'a@example.com', note: 'two\r\nlines' } },
        { line: 4, value: { id: '2', email: 'b@example.com', note: null } },
      ])
    })

    it('skips blank lines between records', async () => {
      expect(await read('a,b\n\n1,2\n\r\n3,4\n')).toEqual([
        { line: 3, value: { a: '1', b: '2' } },
        { line: 5, value: { a: '3', b: '4' } },
      ])
    })

    it('reports a record with the wrong number of fields and goes on', async () => {
      expect(await read('a,b,c\n1,2,3\n1,2\n"x\ny",2,3,4\n5,6,7\n')).toEqual([
        { line: 2, value: { a: '1', b: '2', c: '3' } },
        { line: 3, error: '2 fields where the header has 3' },
        { line: 4, error: '4 fields where the header has 3' },
        { line: 6, value: { a: '5', b: '6', c: '7' } },
      ])
    })

    it('refuses a file that ends inside a quoted field, naming the record’s line', async () => {
      const error = await read('a,b\n1,2\n3,"never\nclosed\n').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(SourceError)
      expect(error).toMatchObject({ message: 'the file ends inside a quoted field', line: 3 })
    })

    it('reads a last record that ends in a closing quote without a newline', async () => {
      expect(await read('a,b\n1,"two"')).toEqual([{ line: 2, value: { a: '1', b: 'two' } }])
    })

    it('reads a header-only file as no records', async () => {
      expect(await read('id,email\n')).toEqual([])
      expect(await read('id,email')).toEqual([])
    })

    it('refuses an empty file as having no header', async () => {
      await expect(read('')).rejects.toMatchObject({ message: 'the CSV file has no header row' })
    })

    it('reads records spread over many read chunks', async () => {
      const rows = Array.from(
        { length: 5000 },
        (_, i) => `${i},"user ${i}, ""n""\nline",${i % 2 ? 't' : 'f'}`,
      )
      const items: SourceItem[] = await read(`id,name,flag\n${rows.join('\n')}\n`)
      expect(items).toHaveLength(5000)
      expect(items[4999]).toEqual({
        line: 2 + 4999 * 2,
        value: { id: '4999', name: 'user 4999, "n"\nline', flag: 't' },
      })
    })
  })

  describe('firstCharacter', () => {
    it.each([
      ['a JSON array', '[{"a": 1}]', '['],
      ['JSON lines after blank lines', '\n\n  \t{"a": 1}\n', '{'],
      ['a byte order mark and CSV', '\uFEFFid,email\n', 'i'],
      ['a byte order mark then a space', '\uFEFF \r\n[', '['],
    ])('finds the first character of %s', async (_name, content, expected) => {
      expect(await firstCharacter(await file(content))).toBe(expected)
    })

    it('finds nothing in an empty or blank file', async () => {
      expect(await firstCharacter(await file(''))).toBeUndefined()
      expect(await firstCharacter(await file(' \n\t\r\n'))).toBeUndefined()
    })

    it('looks past a first read chunk of whitespace', async () => {
      expect(await firstCharacter(await file(`${' '.repeat(70_000)}[]`))).toBe('[')
    })
  })
})
