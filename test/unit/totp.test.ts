import { describe, expect, it } from 'vitest'
import { generateTotpSecret, matchTotpStep } from '../../src/auth/totp.js'
import { base32Decode, totp } from '../helpers/totp.js'

// RFC 6238 Appendix B uses the ASCII seed "12345678901234567890" for SHA-1; this is its base32.
const RFC_SEED_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'

describe('test TOTP helper', () => {
  it('decodes base32 to the RFC 6238 seed', () => {
    expect(base32Decode(RFC_SEED_BASE32).toString('ascii')).toBe('12345678901234567890')
    expect(base32Decode('mzxw6ytboi======').toString('ascii')).toBe('foobar')
  })

  it.each([
    [59, '94287082'],
    [1_111_111_109, '07081804'],
    [1_111_111_111, '14050471'],
    [1_234_567_890, '89005924'],
    [2_000_000_000, '69279037'],
    [20_000_000_000, '65353130'],
  ])('reproduces the RFC 6238 Appendix B SHA-1 vector at T=%i', (seconds, expected) => {
    expect(totp(RFC_SEED_BASE32, seconds * 1000, 30, 8)).toBe(expected)
  })
})

describe('matchTotpStep (src/auth/totp.ts)', () => {
  // A fixed secret and instant keep the test deterministic: with random ones, a code of another
  // step could collide with an accepted one about once in a million runs.
  const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
  const at = new Date('2030-01-01T00:00:10Z')
  const step = Math.floor(at.getTime() / 30_000)
  const codeAt = (offsetSteps: number) => totp(secret, at.getTime() + offsetSteps * 30_000)

  it('accepts the code of the current step and returns that step', async () => {
    expect(await matchTotpStep(secret, codeAt(0), at)).toBe(step)
  })

  it('accepts the codes of the previous and the next step (clock drift)', async () => {
    expect(await matchTotpStep(secret, codeAt(-1), at)).toBe(step - 1)
    expect(await matchTotpStep(secret, codeAt(1), at)).toBe(step + 1)
  })

  it('rejects codes two steps away', async () => {
    expect(await matchTotpStep(secret, codeAt(-2), at)).toBeUndefined()
    expect(await matchTotpStep(secret, codeAt(2), at)).toBeUndefined()
  })

  it('rejects input that is not exactly six digits, even around a valid code', async () => {
    const code = codeAt(0)
    for (const input of [
      code.slice(0, 5),
      `${code}0`,
      ` ${code}`,
      `${code} `,
      `${code.slice(0, 3)} ${code.slice(3)}`,
      'abcdef',
      '',
      totp(secret, at.getTime(), 30, 8),
    ]) {
      expect(await matchTotpStep(secret, input, at), JSON.stringify(input)).toBeUndefined()
    }
  })

  it('agrees with the helper for a freshly generated 160-bit secret', async () => {
    const fresh = await generateTotpSecret()
    expect(fresh).toMatch(/^[A-Z2-7]{32}$/)
    expect(base32Decode(fresh)).toHaveLength(20)
    expect(await matchTotpStep(fresh, totp(fresh, at.getTime()), at)).toBe(step)
  })
})
