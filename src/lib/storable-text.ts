/**
 * What PostgreSQL (and PGlite) can store as `text`. A U+0000 makes the server refuse the whole
 * statement (SQLSTATE 22021, or 22P05 inside jsonb), and a lone UTF-16 surrogate cannot be encoded
 * as UTF-8 at all: node-postgres silently writes U+FFFD instead, so the stored value would differ
 * from what was sent (and two different passwords would hash alike). Other control characters and
 * characters outside the Basic Multilingual Plane (emoji) are valid UTF-8 and round-trip unchanged.
 */

const NUL = '\u0000'
// Without the `u` flag a pattern sees UTF-16 code units, which is what makes a lone surrogate visible.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding U+0000 is the point.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
/** C0 controls except TAB (legal in a header value), DEL, and lone surrogates. */
const HEADER_UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  /[\u0000-\u0008\u000a-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)'
export const LONE_SURROGATE_MESSAGE = 'must be valid Unicode text (it contains an unpaired UTF-16 surrogate)'

/** Why `value` cannot be stored as it is, or undefined when it can. */
export function unstorableTextReason(value: string): string | undefined {
  const match = UNSTORABLE.exec(value)
  if (!match) return undefined
  return match[0] === NUL ? NUL_MESSAGE : LONE_SURROGATE_MESSAGE
}

export interface TextProblem {
  /** RFC 6901 JSON pointer to the string (or to the property whose name is the problem). */
  readonly pointer: string
  readonly message: string
}

const escapePointer = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1')

/**
 * Every string value and property name in a parsed JSON value (or query string) that cannot be
 * stored, in document order by depth, at most `limit` of them. Iterative, so a deeply nested body
 * cannot exhaust the stack.
 */
export function findUnstorableText(root: unknown, limit = 20): TextProblem[] {
  const problems: TextProblem[] = []
  // [value, pointer, whether the value is the name of the property the pointer points to]
  const queue: Array<readonly [unknown, string, boolean]> = [[root, '', false]]
  for (let next = 0; next < queue.length && problems.length < limit; next++) {
    const [value, pointer, isName] = queue[next] as (typeof queue)[number]
    if (typeof value === 'string') {
      const reason = unstorableTextReason(value)
      if (reason) problems.push({ pointer, message: isName ? `property name ${reason}` : reason })
    } else if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++)
        queue.push([value[index], `${pointer}/${index}`, false])
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const child = `${pointer}/${escapePointer(key)}`
        queue.push([key, child, true], [item, child, false])
      }
    }
  }
  return problems
}

/**
 * A request header kept for the record (User-Agent, the client address from X-Forwarded-For), made
 * storable: control characters other than TAB and any lone surrogate become U+FFFD. A header is not
 * a field a client can be asked to correct, and refusing the request over its User-Agent would lock
 * out a person whose browser or proxy sends an odd one; U+FFFD keeps visible that something was there.
 */
export function storableHeaderText(value: string): string {
  return value.replace(HEADER_UNSAFE, '\ufffd')
}
