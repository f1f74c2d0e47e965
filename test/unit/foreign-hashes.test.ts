import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { hash as argon2Hash } from '@node-rs/argon2'
import bcrypt from 'bcrypt'
import { describe, expect, it } from 'vitest'
import {
  ForeignHashError,
  fromFirebase,
  fromKeycloak,
  isForeignHash,
  normalizeImportedHash,
  verifyForeign,
} from '../../src/auth/foreign-hashes.js'
import {
  createHashGate,
  createPasswordHasher,
  isSupportedHash,
  NO_PASSWORD,
} from '../../src/auth/password-hasher.js'
import { AppError } from '../../src/errors/app-error.js'

// firebase-scrypt ships no types: only the part used here is declared.
const { FirebaseScrypt } = createRequire(import.meta.url)('firebase-scrypt') as {
  FirebaseScrypt: new (params: {
    memCost: number
    rounds: number
    saltSeparator: string
    signerKey: string
  }) => { hash(password: string, salt: string): Promise<string> }
}

const hasher = createPasswordHasher()
const PASSWORD = 'correct horse battery staple'
const b64 = (bytes: Buffer) => bytes.toString('base64')

/** The stored form verifies the right password only, is accepted for import and gets re-hashed. */
async function expectVerifies(stored: string, password = PASSWORD, rehash = true) {
  expect(await hasher.verify(stored, password)).toBe(true)
  expect(await hasher.verify(stored, `${password}!`)).toBe(false)
  expect(await hasher.verify(stored, '')).toBe(false)
  expect(hasher.needsRehash(stored)).toBe(rehash)
  expect(isSupportedHash(stored)).toBe(true)
  expect(normalizeImportedHash(stored)).toBe(stored)
}

/** Throws ForeignHashError with a message that repeats none of the secret material. */
function expectRefused(convert: () => unknown, message: RegExp, ...secrets: string[]) {
  let thrown: unknown
  try {
    convert()
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(ForeignHashError)
  const text = (thrown as Error).message
  expect(text).toMatch(message)
  expect(text).not.toContain('\n')
  for (const secret of secrets) expect(text).not.toContain(secret)
}

/** The raw salt and hash of a PHC string made by @node-rs/argon2. */
function phcParts(phc: string) {
  const [salt, hash] = phc.split('$').slice(-2) as [string, string]
  return { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') }
}

describe('Keycloak credentials', () => {
  const keycloakPbkdf2 = (algorithm: string, digest: string, iterations: number, password = PASSWORD) => {
    const salt = randomBytes(16)
    const value = pbkdf2Sync(password, salt, iterations, 64, digest)
    return { algorithm, iterations, value: b64(value), salt: b64(salt) }
  }

  it('verifies pbkdf2-sha256 at the real default of 27500 iterations', async () => {
    const stored = fromKeycloak(keycloakPbkdf2('pbkdf2-sha256', 'sha256', 27_500))
    expect(stored).toMatch(/^\$pbkdf2-sha256\$i=27500\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{86}$/)
    await expectVerifies(stored)
  })

  it.each([
    ['pbkdf2', 'sha1'],
    ['pbkdf2-sha512', 'sha512'],
  ])('verifies %s (HMAC-%s)', async (algorithm, digest) => {
    const stored = fromKeycloak(keycloakPbkdf2(algorithm, digest, 1_000, 'pässword ✓'))
    expect(stored.startsWith(`$pbkdf2-${digest}$i=1000$`)).toBe(true)
    await expectVerifies(stored, 'pässword ✓')
    expect(isForeignHash(stored)).toBe(true)
  })

  it.each([
    ['id', 2, '1.3', 'v=19'],
    ['i', 1, '1.3', 'v=19'],
    ['d', 0, '1.3', 'v=19'],
    ['id', 2, '1.0', 'v=16'],
  ])('verifies argon2 type %s version %s as a PHC string', async (type, algorithm, version, v) => {
    const phc = await argon2Hash(PASSWORD, {
      algorithm,
      version: version === '1.3' ? 1 : 0,
      memoryCost: 7168,
      timeCost: 5,
      parallelism: 1,
      outputLen: 32,
    })
    const { salt, hash } = phcParts(phc)
    const stored = fromKeycloak({
      algorithm: 'argon2',
      iterations: 5,
      value: b64(hash),
      salt: b64(salt),
      additionalParameters: {
        hashLength: ['32'],
        memory: ['7168'],
        type: [type],
        version: [version],
        parallelism: ['1'],
      },
    })
    expect(stored).toBe(phc.replace(/\$v=\d+\$/, `$${v}$`))
    expect(stored.startsWith(`$argon2${type}$${v}$m=7168,t=5,p=1$`)).toBe(true)
    await expectVerifies(stored)
    expect(isForeignHash(stored)).toBe(type !== 'id')
  })

  it('re-hashes a Keycloak argon2id only when weaker than the configured parameters', async () => {
    const phc = await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 65_536, timeCost: 3, parallelism: 1 })
    const { salt, hash } = phcParts(phc)
    const params = { memory: '65536', parallelism: '1', type: 'id', version: '1.3' }
    const stored = fromKeycloak({
      algorithm: 'argon2',
      iterations: 3,
      value: b64(hash),
      salt: b64(salt),
      additionalParameters: params,
    })
    expect(stored).toBe(phc)
    expect(await hasher.verify(stored, PASSWORD)).toBe(true)
    expect(hasher.needsRehash(stored)).toBe(false)
  })

  it('refuses unknown algorithms and out-of-bounds parameters, naming no secret', () => {
    const good = keycloakPbkdf2('pbkdf2-sha256', 'sha256', 1)
    const secrets = [good.salt, good.value, good.salt.replace(/=+$/, ''), good.value.replace(/=+$/, '')]
    const argon2 = { ...good, algorithm: 'argon2', iterations: 2 }
    const cases: Array<[unknown, RegExp]> = [
      [{ ...good, algorithm: 'md5' }, /unsupported Keycloak algorithm "md5"/],
      [{ ...good, algorithm: 'bcrypt\n$x' }, /unsupported Keycloak algorithm "bcrypt\?\?x"/],
      [{ ...good, iterations: 0 }, /PBKDF2 iterations must be an integer from 1 to 10000000/],
      [{ ...good, iterations: 10_000_001 }, /PBKDF2 iterations/],
      [{ ...good, iterations: 1.5 }, /PBKDF2 iterations/],
      [{ ...good, salt: '' }, /Keycloak salt must be 1 to 1024 bytes/],
      [{ ...good, salt: b64(randomBytes(1025)) }, /Keycloak salt must be 1 to 1024 bytes/],
      [{ ...good, value: b64(randomBytes(8)) }, /Keycloak hash must be 16 to 128 bytes/],
      [{ ...good, value: b64(randomBytes(129)) }, /Keycloak hash must be 16 to 128 bytes/],
      [{ ...good, salt: 'not base64!' }, /Keycloak salt is not base64/],
      [{ ...argon2, additionalParameters: { memory: ['262145'] } }, /argon2 memory \(KiB\)/],
      [{ ...argon2, iterations: 21 }, /argon2 iterations/],
      [{ ...argon2, additionalParameters: { parallelism: ['17'] } }, /argon2 parallelism/],
      [{ ...argon2, additionalParameters: { type: ['x'] } }, /argon2 type "x"/],
      [{ ...argon2, additionalParameters: { version: ['2.0'] } }, /argon2 version "2.0"/],
      [{ ...argon2, additionalParameters: { hashLength: ['32'] } }, /hashLength does not match/],
    ]
    for (const [input, message] of cases) {
      expectRefused(() => fromKeycloak(input as Parameters<typeof fromKeycloak>[0]), message, ...secrets)
    }
  })
})

describe('Firebase modified scrypt', () => {
  // The sample project parameters and user published with Firebase's scrypt tool.
  const sample = {
    signerKey: 'jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==',
    saltSeparator: 'Bw==',
    rounds: 8,
    memCost: 14,
  }
  const sampleUser = {
    salt: '42xEC+ixf3L2lw==',
    passwordHash: 'lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==',
  }

  it('verifies the published sample at the real default parameters (rounds 8, memCost 14)', async () => {
    const stored = fromFirebase(sampleUser, sample)
    expect(stored).toBe(
      `$firebase-scrypt$r=8,m=14$${sample.signerKey.replace(/=+$/, '')}$Bw$42xEC+ixf3L2lw$${sampleUser.passwordHash.replace(/=+$/, '')}`,
    )
    await expectVerifies(stored, 'user1password')
    expect(isForeignHash(stored)).toBe(true)
  })

  it('agrees with the firebase-scrypt library on hashes it makes', async () => {
    const params = {
      signerKey: b64(randomBytes(64)),
      saltSeparator: b64(randomBytes(2)),
      rounds: 4,
      memCost: 10,
    }
    const library = new FirebaseScrypt(params)
    for (const password of ['short', PASSWORD, 'ünïcødé 🦊']) {
      const salt = b64(randomBytes(12))
      const passwordHash = await library.hash(password, salt)
      await expectVerifies(fromFirebase({ passwordHash, salt }, params), password)
    }
  })

  it('reads the URL-safe base64 that the Admin SDK exports', async () => {
    const urlSafe = (text: string) => text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
    const stored = fromFirebase(
      { salt: urlSafe(sampleUser.salt), passwordHash: urlSafe(sampleUser.passwordHash) },
      { ...sample, signerKey: urlSafe(sample.signerKey) },
    )
    expect(stored).toBe(fromFirebase(sampleUser, sample))
  })

  it('refuses parameters that would make a sign-in slow or huge, naming no secret', () => {
    const secrets = [sampleUser.salt, sampleUser.passwordHash, sample.signerKey].map((s) => s.slice(0, 12))
    const cases: Array<[Partial<typeof sample>, Partial<typeof sampleUser>, RegExp]> = [
      [{ memCost: 21 }, {}, /memCost must be an integer from 1 to 20/],
      [{ memCost: 0 }, {}, /memCost/],
      [{ rounds: 33 }, {}, /rounds must be an integer from 1 to 32/],
      [{ memCost: 20, rounds: 3 }, {}, /more than 256 MiB/],
      [{ saltSeparator: '' }, {}, /salt separator must be 1 to 1024 bytes/],
      [{}, { salt: '' }, /Firebase salt must be 1 to 1024 bytes/],
      [{}, { passwordHash: b64(randomBytes(32)) }, /differ in length/],
      [{}, { passwordHash: 'a*b' }, /password hash is not base64/],
    ]
    for (const [params, user, message] of cases) {
      expectRefused(
        () => fromFirebase({ ...sampleUser, ...user }, { ...sample, ...params }),
        message,
        ...secrets,
      )
    }
    // 128 · 2^17 · 16 is exactly 256 MiB: still allowed.
    expect(fromFirebase(sampleUser, { ...sample, memCost: 17, rounds: 16 })).toMatch(
      /^\$firebase-scrypt\$r=16,m=17\$/,
    )
  })
})

describe('Django hashes', () => {
  const django = (algorithm: 'sha256' | 'sha1', iterations: number, salt: string, password = PASSWORD) =>
    `pbkdf2_${algorithm}$${iterations}$${salt}$${b64(pbkdf2Sync(password, salt, iterations, algorithm === 'sha256' ? 32 : 20, algorithm))}`

  it('verifies pbkdf2_sha256 at 100000 iterations, salt taken as its UTF-8 text', async () => {
    const stored = normalizeImportedHash(django('sha256', 100_000, 'pV6gXZ7Ue6Kq4jwL2dVf0M'))
    expect(stored).toMatch(/^\$pbkdf2-sha256\$i=100000\$/)
    expect(stored.split('$')[3]).toBe(
      Buffer.from('pV6gXZ7Ue6Kq4jwL2dVf0M').toString('base64').replace(/=+$/, ''),
    )
    await expectVerifies(stored)
  })

  it('verifies pbkdf2_sha1 and a non-ASCII salt', async () => {
    const stored = normalizeImportedHash(django('sha1', 500, 'sält✓', 'pässword'))
    expect(stored.startsWith('$pbkdf2-sha1$i=500$')).toBe(true)
    await expectVerifies(stored, 'pässword')
  })

  it.each([
    // Django's defaults are stronger than Kitsune's minimum: such a hash is kept as it is.
    ['argon2id', 2, { memoryCost: 102_400, timeCost: 2, parallelism: 8 }, false],
    ['argon2i', 1, { memoryCost: 512, timeCost: 2, parallelism: 2 }, true],
  ])('verifies %s by stripping the argon2 prefix', async (name, algorithm, params, rehash) => {
    const phc = await argon2Hash(PASSWORD, { algorithm, ...params })
    const stored = normalizeImportedHash(`argon2${phc}`)
    expect(stored).toBe(phc)
    expect(stored.startsWith(`$${name}$v=19$`)).toBe(true)
    await expectVerifies(stored, PASSWORD, rehash)
  })

  it('keeps bcrypt_sha256 (hex SHA-256 of the password under bcrypt), at the real cost of 12', async () => {
    const prehash = createHash('sha256').update(PASSWORD).digest('hex')
    const stored = `bcrypt_sha256$${await bcrypt.hash(prehash, 12)}`
    expect(normalizeImportedHash(stored)).toBe(stored)
    await expectVerifies(stored)
    expect(isForeignHash(stored)).toBe(true)
    // Not the plain password under bcrypt.
    expect(await verifyForeign(stored, prehash)).toBe(false)
  })

  it('turns bcrypt$ into plain bcrypt', async () => {
    const plain = await bcrypt.hash(PASSWORD, 4)
    const stored = normalizeImportedHash(`bcrypt$${plain}`)
    expect(stored).toBe(plain)
    await expectVerifies(stored)
    expect(isForeignHash(stored)).toBe(false)
  })

  it('refuses unsupported and malformed Django hashes by scheme, naming no secret', () => {
    const cases: Array<[string, RegExp]> = [
      ['md5$Xyz12salt$0d6e2f8bc1d1bc4d4d8d8e3f1e2c7a54', /scheme: Django md5/],
      ['unsalted_md5$$0d6e2f8bc1d1bc4d4d8d8e3f1e2c7a54', /scheme: Django md5/],
      ['sha1$Xyz12salt$c5b6f5ba7ad6f1d3f2b3e9f5c8b4a3d2e1f0a9b8', /scheme: Django sha1/],
      ['unsalted_sha1$$c5b6f5ba7ad6f1d3f2b3e9f5c8b4a3d2e1f0a9b8', /scheme: Django sha1/],
      ['crypt$$Xyz12salt', /scheme: Django crypt/],
      ['5f4dcc3b5aa765d61d8327deb882cf99', /scheme: unsalted md5/],
      ['$1$Xyz12salt$abcdefghijklmnopqrstuv', /scheme: md5-crypt/],
      ['$6$Xyz12salt$abcdefghijklmnopqrstuv', /scheme: sha512-crypt/],
      ['pbkdf2_sha256$0$Xyz12salt$abcdefghijklmnopqrstuvwxyz012345678901234567', /PBKDF2 iterations/],
      ['pbkdf2_sha256$100000$$abcdefghijklmnopqrstuvwxyz0123456789012345A=', /PBKDF2 salt/],
      [
        'pbkdf2_sha512$1000$Xyz12salt$abcdefghijklmnopqrstuvwxyz012345678901234567',
        /malformed Django pbkdf2/,
      ],
      ['argon2$argon2id$v=19$m=300000,t=2,p=1$WHl6MTJzYWx0$abcdefghijklmnopqrstuvwxyz0', /argon2 memory/],
      ['bcrypt$$2b$31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234', /bcrypt cost/],
      ['bcrypt_sha256$Xyz12salt', /malformed Django bcrypt_sha256/],
      ['whirlpool$Xyz12salt$abcdef', /unsupported password hash scheme "whirlpool"/],
    ]
    for (const [hash, message] of cases)
      expectRefused(() => normalizeImportedHash(hash), message, 'Xyz12salt', 'abcdef', 'WHl6')
  })
})

describe('ASP.NET Core Identity hashes', () => {
  /** Exactly as Microsoft's PasswordHasher lays them out. */
  function v3(prf: number, iterations: number, password = PASSWORD, saltLength = 16) {
    const digest = ['sha1', 'sha256', 'sha512'][prf] as string
    const salt = randomBytes(saltLength)
    const subkey = pbkdf2Sync(password, salt, iterations, 32, digest)
    const header = Buffer.alloc(13)
    header.writeUInt8(0x01, 0)
    header.writeUInt32BE(prf, 1)
    header.writeUInt32BE(iterations, 5)
    header.writeUInt32BE(salt.length, 9)
    return b64(Buffer.concat([header, salt, subkey]))
  }

  it('verifies v3 with HMAC-SHA512 at the real default of 100000 iterations', async () => {
    const stored = normalizeImportedHash(v3(2, 100_000))
    expect(stored).toMatch(/^\$pbkdf2-sha512\$i=100000\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    await expectVerifies(stored)
  })

  it.each([
    [0, 'sha1'],
    [1, 'sha256'],
  ])('verifies v3 with prf %i (HMAC-%s)', async (prf, digest) => {
    const stored = normalizeImportedHash(v3(prf, 1_000, 'pässword', 32))
    expect(stored.startsWith(`$pbkdf2-${digest}$i=1000$`)).toBe(true)
    await expectVerifies(stored, 'pässword')
  })

  it('verifies v2 (HMAC-SHA1, 1000 iterations, 16-byte salt, 32-byte subkey)', async () => {
    const salt = randomBytes(16)
    const hash = b64(Buffer.concat([Buffer.from([0x00]), salt, pbkdf2Sync(PASSWORD, salt, 1000, 32, 'sha1')]))
    const stored = normalizeImportedHash(hash)
    expect(stored.startsWith('$pbkdf2-sha1$i=1000$')).toBe(true)
    await expectVerifies(stored)
  })

  it('refuses malformed and out-of-bounds ones, naming no secret', () => {
    const good = Buffer.from(v3(1, 1000), 'base64')
    const variant = (edit: (bytes: Buffer) => Buffer) => b64(edit(Buffer.from(good)))
    const put = (offset: number, value: number) =>
      variant((bytes) => {
        bytes.writeUInt32BE(value, offset)
        return bytes
      })
    const cases: Array<[string, RegExp]> = [
      [put(1, 3), /unsupported ASP.NET Identity v3 PRF/],
      [put(5, 10_000_001), /PBKDF2 iterations/],
      [put(5, 0), /PBKDF2 iterations/],
      [put(9, 60), /malformed ASP.NET Identity v3/],
      [put(9, 0), /malformed ASP.NET Identity v3/],
      [variant((b) => b.subarray(0, 13 + 16 + 8)), /PBKDF2 derived key must be 16 to 128 bytes/],
      [b64(Buffer.concat([Buffer.from([0]), randomBytes(40)])), /malformed ASP.NET Identity v2/],
    ]
    for (const [hash, message] of cases)
      expectRefused(() => normalizeImportedHash(hash), message, hash.slice(20, 40))
  })
})

describe('stored forms and the hasher', () => {
  it('accepts Kitsune forms as they are and flags only the foreign ones', async () => {
    const argon2id = await hasher.hash(PASSWORD)
    const bcrypt2y = (await bcrypt.hash(PASSWORD, 4)).replace(/^\$2b\$/, '$2y$')
    for (const stored of [argon2id, bcrypt2y]) {
      expect(normalizeImportedHash(stored)).toBe(stored)
      expect(isSupportedHash(stored)).toBe(true)
      expect(isForeignHash(stored)).toBe(false)
      expect(await hasher.verify(stored, PASSWORD)).toBe(true)
    }
    expect(hasher.needsRehash(argon2id)).toBe(false)
    expect(hasher.needsRehash(bcrypt2y)).toBe(true)
    // A PHC string without v= is Argon2 1.0.
    const v16 = await argon2Hash(PASSWORD, { algorithm: 1, version: 0, memoryCost: 512, timeCost: 1 })
    const bare = v16.replace('$v=16', '')
    expect(normalizeImportedHash(bare)).toBe(v16)
    expect(isSupportedHash(bare)).toBe(false)
  })

  it('treats NO_PASSWORD as matching nothing and needing a new hash', async () => {
    expect(NO_PASSWORD).toBe('!')
    expect(await hasher.verify(NO_PASSWORD, '')).toBe(false)
    expect(await hasher.verify(NO_PASSWORD, '!')).toBe(false)
    expect(isSupportedHash(NO_PASSWORD)).toBe(false)
    expect(isForeignHash(NO_PASSWORD)).toBe(false)
    expect(hasher.needsRehash(NO_PASSWORD)).toBe(true)
    expectRefused(() => normalizeImportedHash(NO_PASSWORD), /unrecognised password hash format/)
  })

  it('answers false, never throws, for garbage and out-of-bounds stored values', async () => {
    const key = b64(randomBytes(32)).replace(/=+$/, '')
    const garbage = [
      '',
      'garbage',
      '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$',
      '$2b$12$short',
      `$pbkdf2-sha256$i=0$c2FsdHNhbHQ$${key}`,
      `$pbkdf2-sha256$i=99999999$c2FsdHNhbHQ$${key}`,
      `$pbkdf2-sha256$i=1$c2FsdHNhbHQ=$${key}`,
      `$pbkdf2-md5$i=1$c2FsdHNhbHQ$${key}`,
      `$pbkdf2-sha256$i=1$$${key}`,
      '$pbkdf2-sha256$i=1$c2FsdHNhbHQ$c2hvcnQ',
      `$firebase-scrypt$r=8,m=21$${key}$Bw$c2FsdA$${key}`,
      `$firebase-scrypt$r=8,m=14$${key}$Bw$c2FsdA$c2hvcnQ`,
      'bcrypt_sha256$$2b$31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234',
      `bcrypt_sha256$${'x'.repeat(60)}`,
    ]
    for (const stored of garbage) {
      expect(await hasher.verify(stored, PASSWORD)).toBe(false)
      expect(await verifyForeign(stored, PASSWORD)).toBe(false)
      expect(isSupportedHash(stored)).toBe(false)
      expect(hasher.needsRehash(stored)).toBe(true)
    }
  })

  it('verifies foreign hashes through the gate, so a flood still gets SERVER_BUSY', async () => {
    const gate = createHashGate(1, 0)
    const gated = createPasswordHasher(undefined, gate)
    const stored = normalizeImportedHash(
      `pbkdf2_sha256$1000$salt$${b64(pbkdf2Sync(PASSWORD, 'salt', 1000, 32, 'sha256'))}`,
    )
    let release!: () => void
    const busy = gate(() => new Promise<void>((resolve) => (release = resolve)))
    await expect(gated.verify(stored, PASSWORD)).rejects.toSatisfy(
      (error) => error instanceof AppError && error.code === 'SERVER_BUSY',
    )
    release()
    await busy
    expect(await gated.verify(stored, PASSWORD)).toBe(true)
  })
})
