import { describe, expect, it } from 'vitest'
import {
  findUnstorableText,
  LONE_SURROGATE_MESSAGE,
  NUL_MESSAGE,
  storableHeaderText,
  unstorableTextReason,
} from '../../src/lib/storable-text.js'

describe('unstorableTextReason', () => {
  it.each([
    ['a\u0000b', NUL_MESSAGE],
    ['\u0000', NUL_MESSAGE],
    ['a\ud800', LONE_SURROGATE_MESSAGE],
    ['\udc00a', LONE_SURROGATE_MESSAGE],
    ['\udc00\ud800', LONE_SURROGATE_MESSAGE],
    ['🦊\ud83e', LONE_SURROGATE_MESSAGE],
  ])('refuses %j', (value, reason) => {
    expect(unstorableTextReason(value)).toBe(reason)
  })

  it.each(['', 'plain', 'Zoë', '🦊 𝒳', '\u0001\t\n\u001f\u007f\u0085', '\ufffd', '\ud83e\udd8a'])(
    'accepts %j',
    (value) => {
      expect(unstorableTextReason(value)).toBeUndefined()
    },
  )
})

describe('findUnstorableText', () => {
  it('names every bad string and property name by its JSON pointer', () => {
    const problems = findUnstorableText({
      ok: 'fine',
      name: 'a\u0000',
      'a/b~c': ['x', '\ud800'],
      'k\u0000': 1,
      nested: { deeper: { text: 'y\u0000' } },
    })
    expect(problems).toEqual([
      { pointer: '/name', message: NUL_MESSAGE },
      { pointer: '/k\u0000', message: `property name ${NUL_MESSAGE}` },
      { pointer: '/a~1b~0c/1', message: LONE_SURROGATE_MESSAGE },
      { pointer: '/nested/deeper/text', message: NUL_MESSAGE },
    ])
  })

  it('checks a bare string, and ignores numbers, booleans and null', () => {
    expect(findUnstorableText('\u0000')).toEqual([{ pointer: '', message: NUL_MESSAGE }])
    expect(findUnstorableText([1, true, null, undefined])).toEqual([])
  })

  it('reports at most the limit', () => {
    expect(
      findUnstorableText(
        Array.from({ length: 100 }, () => '\u0000'),
        5,
      ),
    ).toHaveLength(5)
  })

  it('walks a very deeply nested value without exhausting the stack', () => {
    let value: unknown = '\u0000'
    for (let depth = 0; depth < 100_000; depth++) value = [value]
    expect(findUnstorableText(value)).toHaveLength(1)
  })
})

describe('storableHeaderText', () => {
  it('replaces NUL, other C0 controls, DEL and lone surrogates with U+FFFD, and keeps TAB', () => {
    expect(storableHeaderText('a\u0000b\u0001c\nd\re\u001bf\u007fg\th\ud800')).toBe(
      'a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg\th\ufffd',
    )
  })

  it('leaves an ordinary User-Agent, Latin-1 text and emoji alone', () => {
    const agent = 'Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/140.0 Ã© 🦊'
    expect(storableHeaderText(agent)).toBe(agent)
  })
})
