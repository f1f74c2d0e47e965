import { describe, expect, it } from 'vitest'
import { rankedCommonPasswords } from '../../scripts/common-passwords.js'
import { COMMON_PASSWORDS } from '../../src/auth/common-passwords.data.js'

describe('the common-password list', () => {
  it('is the top 10,000 of the installed @zxcvbn-ts/language-common, lowercased (regenerate with scripts/common-passwords.ts)', () => {
    const list = COMMON_PASSWORDS.split('\n')
    expect(list).toHaveLength(10_000)
    expect(list).toEqual(rankedCommonPasswords())
    expect(list.slice(0, 3)).toEqual(['123456', 'password', '12345678'])
  })
})
