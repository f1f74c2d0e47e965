/**
 * Streams the elements of one JSON array out of a document of any size, with the line each element
 * starts on: the top-level array itself, or the array under a top-level key (`{"users": [...]}`, as
 * Keycloak and Firebase export). Only the element being read is held in memory; each element is
 * handed over as text for JSON.parse, so the document's other keys are skipped without being
 * built. A document that is not JSON where the scanner needs it to be throws `JsonItemsError`
 * naming the line.
 */
export class JsonItemsError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message)
  }
}

export interface JsonItem {
  line: number
  text: string
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const NEWLINE = 0x0a

export async function* jsonArrayItems(
  chunks: AsyncIterable<string>,
  options: { key?: string } = {},
): AsyncGenerator<JsonItem> {
  let line = 1
  let depth = 0
  let inString = false
  let escaped = false
  // The last complete string at depth 1 (a candidate key) and whether a ':' followed it.
  let keyText = ''
  let stringStart = -1
  let lastKey: string | undefined
  let arrayDepth = -1 // depth of the array whose elements are wanted, once entered
  let itemParts: string[] = []
  let itemStart = -1
  let itemLine = 0
  let itemLength = 0 // characters of the current element held so far, whatever the chunk sizes
  let found = false
  let done = false

  for await (const chunk of chunks) {
    if (done) continue
    itemStart = itemStart >= 0 ? 0 : -1
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i)
      if (c === NEWLINE) line++
      if (inString) {
        if (escaped) escaped = false
        else if (c === BACKSLASH) escaped = true
        else if (c === QUOTE) {
          inString = false
          if (depth === 1 && arrayDepth < 0 && stringStart >= 0) {
            keyText += chunk.slice(stringStart, i)
            lastKey = keyText
          }
          stringStart = -1
        }
        continue
      }
      if (c === QUOTE) {
        if (arrayDepth >= 0 && depth === arrayDepth && itemStart < 0)
          throw new JsonItemsError('an array element is not an object', line)
        inString = true
        if (depth === 1 && arrayDepth < 0) {
          keyText = ''
          stringStart = i + 1
        }
        continue
      }
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        const wanted =
          c === 0x5b &&
          arrayDepth < 0 &&
          ((options.key === undefined && depth === 0) ||
            (options.key !== undefined && depth === 1 && lastKey === options.key))
        depth++
        if (wanted) {
          arrayDepth = depth
          found = true
        } else if (arrayDepth >= 0 && depth === arrayDepth + 1 && itemStart < 0) {
          itemStart = i
          itemLine = line
        }
        continue
      }
      if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        if (depth === 0) throw new JsonItemsError('unbalanced brackets', line)
        depth--
        if (arrayDepth >= 0 && depth === arrayDepth && itemStart >= 0) {
          itemParts.push(chunk.slice(itemStart, i + 1))
          yield { line: itemLine, text: itemParts.join('') }
          itemParts = []
          itemLength = 0
          itemStart = -1
        } else if (arrayDepth >= 0 && depth === arrayDepth - 1) {
          done = true
          break
        }
        continue
      }
      if (c === 0x2c /* , */ && depth === 1) lastKey = undefined
      // A scalar element (a number, string or literal straight in the array) is not an object: the
      // caller reports it. Strings are handled above; other scalars start here.
      if (
        arrayDepth >= 0 &&
        depth === arrayDepth &&
        itemStart < 0 &&
        c !== 0x2c &&
        c !== 0x20 &&
        c !== 0x09 &&
        c !== 0x0d &&
        c !== NEWLINE
      ) {
        throw new JsonItemsError('an array element is not an object', line)
      }
    }
    if (inString && stringStart >= 0) {
      keyText += chunk.slice(stringStart)
      stringStart = 0
    }
    if (itemStart >= 0) {
      const part = chunk.slice(itemStart)
      itemParts.push(part)
      itemLength += part.length
      if (itemLength > 256 * 1024 * 1024)
        throw new JsonItemsError('an element is larger than 256 MiB', itemLine)
    }
  }
  if (!found)
    throw new JsonItemsError(
      options.key === undefined
        ? 'the document is not a JSON array'
        : `no "${options.key}" array at the top level`,
      line,
    )
  if (!done) throw new JsonItemsError('the document ends inside the array', line)
}
