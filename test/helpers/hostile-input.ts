import fc from 'fast-check'

/**
 * Characters that have broken text handling somewhere: NUL (PostgreSQL refuses it), lone UTF-16
 * surrogates (no UTF-8 form), other C0/C1 controls, line and paragraph separators, a BOM, the
 * replacement character, and characters outside the Basic Multilingual Plane (a surrogate pair).
 */
export const SPECIAL_CHARACTERS = [
  '\u0000',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\u0001',
  '\u0007',
  '\b',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u009f',
  '\u00a0',
  '\u2028',
  '\ufeff',
  '\ufffd',
  '\uffff',
  '🦊',
  '𝒳',
  '\u{10ffff}',
  'é',
  'e\u0301',
  '%',
  '"',
  '\\',
]

/** Mostly printable ASCII, often a special character, sometimes any code point at all. */
export const hostileCharacter: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ minLength: 1, maxLength: 1 }), weight: 4 },
  { arbitrary: fc.constantFrom(...SPECIAL_CHARACTERS), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 1 },
)

export const hostileText = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: hostileCharacter, maxLength })

/** A plausible e-mail address with a special character somewhere in it. */
export const hostileEmail: fc.Arbitrary<string> = fc
  .tuple(fc.emailAddress(), fc.constantFrom(...SPECIAL_CHARACTERS), fc.nat())
  .map(([email, special, at]) => {
    const index = at % (email.length + 1)
    return email.slice(0, index) + special + email.slice(index)
  })

/**
 * Percent-encodes text for a query string or path. A lone surrogate has no UTF-8 form, so it goes
 * as the bytes a careless encoder would write for it (CESU-8, invalid UTF-8).
 */
export function percentEncode(text: string): string {
  const hex = (byte: number) => `%${byte.toString(16).toUpperCase()}`
  let out = ''
  for (const char of text) {
    const unit = char.charCodeAt(0)
    if (char.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
      out += hex(0xe0 | (unit >> 12)) + hex(0x80 | ((unit >> 6) & 0x3f)) + hex(0x80 | (unit & 0x3f))
    } else {
      out += encodeURIComponent(char)
    }
  }
  return out
}

/** Raw query-string or path fragments: bad and overlong UTF-8, NUL, stray percents and separators. */
export const rawUrlFragment: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '%00',
        '%ED%A0%80',
        '%FF',
        '%C0%80',
        '%F0%9F%A6%8A',
        '%',
        '%zz',
        '%2',
        '+',
        '&',
        '=',
        '%26',
      ),
      hostileText(4).map(percentEncode),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''))

/** Values a query field or path segment might get: hostile text, broken encodings, near misses. */
export const urlValue: fc.Arbitrary<string> = fc.oneof(
  hostileText(60).map(percentEncode),
  rawUrlFragment,
  fc.uuid().map(String),
  fc
    .date({
      min: new Date('0000-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '',
    'true',
    '0',
    '100',
    '101',
    '-1',
    '1e2',
    'user',
    'admin',
    'user.login',
    '2030-02-30T00:00:00Z',
    '9999-12-31T23:59:60Z',
    '01939c2e-0000-7000-8000-000000000000',
    'AAAA',
  ),
)

/** A User-Agent header, or none: odd text included, since the session and audit rows keep it. */
export const userAgents: fc.Arbitrary<string | undefined> = fc.option(hostileText(600), { nil: undefined })
