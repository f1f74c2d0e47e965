export const MAX_JSON_DEPTH = 32
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

export class StrictJsonError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Parses a request body more strictly than JSON.parse: the bytes must be valid UTF-8, nesting is
 * bounded, and duplicate keys or prototype-polluting keys (`__proto__`, `constructor`) are refused,
 * so two parsers can never disagree about what a body says.
 */
export function parseStrictJson(body: Buffer): unknown {
  let text: string
  try {
    text = utf8.decode(body)
  } catch {
    throw new StrictJsonError('the body is not valid UTF-8')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new StrictJsonError('the body is not valid JSON')
  }
  if (value !== null && typeof value === 'object') checkStructure(text)
  return value
}

/** Walks text already known to be valid JSON, tracking the keys of each open object. */
function checkStructure(text: string): void {
  const stack: Array<Set<string> | null> = []
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (ch === '{' || ch === '[') {
      stack.push(ch === '{' ? new Set() : null)
      if (stack.length > MAX_JSON_DEPTH)
        throw new StrictJsonError(`the body nests deeper than ${MAX_JSON_DEPTH} levels`)
    } else if (ch === '}' || ch === ']') {
      stack.pop()
    } else if (ch === '"') {
      let end = i + 1
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      const keys = stack[stack.length - 1]
      if (keys) {
        let next = end + 1
        while (text[next] === ' ' || text[next] === '\n' || text[next] === '\r' || text[next] === '\t') next++
        if (text[next] === ':') {
          const key = JSON.parse(text.slice(i, end + 1)) as string
          if (FORBIDDEN_KEYS.has(key)) throw new StrictJsonError(`the key "${key}" is not allowed`)
          if (keys.has(key)) throw new StrictJsonError(`the key "${key}" appears twice`)
          keys.add(key)
        }
      }
      i = end
    }
  }
}
