import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { type JsonItem, jsonArrayItems } from './json-items.js'

/** One record read from a file: its first line and either a value or why it could not be read. */
export type SourceItem = { line: number; value: unknown } | { line: number; error: string }

/** A whole-document read failure (not JSON where it must be, an unreadable file): stops the import. */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message)
  }
}

const CHUNK = 64 * 1024

function chunks(path: string): AsyncIterable<string> {
  return createReadStream(path, { encoding: 'utf8', highWaterMark: CHUNK })
}

function parseItem(item: JsonItem): SourceItem {
  try {
    return { line: item.line, value: JSON.parse(item.text) }
  } catch {
    return { line: item.line, error: 'not valid JSON' }
  }
}

/** The elements of a JSON array: the document itself, or the array under `key`. */
export async function* jsonArrayFile(path: string, key?: string): AsyncGenerator<SourceItem> {
  try {
    for await (const item of jsonArrayItems(chunks(path), { key })) yield parseItem(item)
  } catch (error) {
    if (error instanceof SourceError) throw error
    const line = (error as { line?: number }).line
    throw new SourceError((error as Error).message, line)
  }
}

/** JSON lines: one object per line; blank lines are skipped. */
export async function* jsonLinesFile(path: string): AsyncGenerator<SourceItem> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity })
  let line = 0
  for await (const text of lines) {
    line++
    if (text.trim() === '') continue
    if (line === 1 && text.charCodeAt(0) === 0xfeff) {
      yield parseItem({ line, text: text.slice(1) })
      continue
    }
    yield parseItem({ line, text })
  }
}

/** The first non-blank character of a file: `[` or `{` tells a JSON document from JSON lines. */
export async function firstCharacter(path: string): Promise<string | undefined> {
  for await (const chunk of chunks(path)) {
    const match = /[^\s\uFEFF]/.exec(chunk)
    if (match) return match[0]
  }
  return undefined
}

/**
 * CSV as PostgreSQL's `COPY … TO … WITH (FORMAT csv, HEADER)` writes it (RFC 4180): the first record
 * names the columns; a quoted field may span lines; an unquoted empty field is NULL (null here),
 * a quoted empty one the empty string. Each record becomes an object keyed by column name.
 */
export async function* csvFile(path: string): AsyncGenerator<SourceItem> {
  let header: string[] | undefined
  let fields: Array<string | null> = []
  let field = ''
  let quoted = false // the current field was quoted
  let inQuotes = false
  let pendingQuote = false // a '"' inside quotes: the end, or the first of '""'
  let line = 1
  let recordLine = 1
  let fieldStarted = false

  const endField = () => {
    fields.push(quoted || field !== '' ? field : null)
    field = ''
    quoted = false
    fieldStarted = false
  }
  function* endRecord(): Generator<SourceItem> {
    endField()
    const record = fields
    fields = []
    const startLine = recordLine
    recordLine = line
    if (record.length === 1 && record[0] === null) return // a blank line
    if (!header) {
      header = record.map((name) => name ?? '')
      return
    }
    if (record.length !== header.length) {
      yield { line: startLine, error: `${record.length} fields where the header has ${header.length}` }
      return
    }
    const value: Record<string, string | null> = {}
    header.forEach((name, index) => {
      value[name] = record[index] ?? null
    })
    yield { line: startLine, value }
  }

  let start = true
  for await (const chunk of chunks(path)) {
    // A byte-order mark (spreadsheet exports) is not part of the first column's name.
    const from = start && chunk.charCodeAt(0) === 0xfeff ? 1 : 0
    start = false
    for (let i = from; i < chunk.length; i++) {
      const c = chunk[i] as string
      if (inQuotes) {
        if (pendingQuote) {
          pendingQuote = false
          if (c === '"') {
            field += '"'
            continue
          }
          inQuotes = false
          // fall through: c is the character after the closing quote
        } else {
          if (c === '"') pendingQuote = true
          else {
            if (c === '\n') line++
            field += c
          }
          continue
        }
      }
      if (c === '"' && !fieldStarted) {
        inQuotes = true
        quoted = true
        fieldStarted = true
      } else if (c === ',') endField()
      else if (c === '\n') {
        line++
        yield* endRecord()
        recordLine = line
      } else if (c === '\r') {
        // CRLF line ends: the CR is dropped (inside quotes it is kept as data, above)
      } else {
        field += c
        fieldStarted = true
      }
      if (field.length > 1_048_576) throw new SourceError('a CSV field is larger than 1 MiB', recordLine)
    }
  }
  if (inQuotes && !pendingQuote) throw new SourceError('the file ends inside a quoted field', recordLine)
  if (field !== '' || fields.length > 0 || quoted) yield* endRecord()
  if (!header) throw new SourceError('the CSV file has no header row', 1)
}
