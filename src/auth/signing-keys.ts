import { createHash, createHmac, createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import type { JwtAlgorithm } from '../config/config.schema.js'

/** A key that signs or verifies access tokens. */
export interface SigningKey {
  readonly kid: string
  readonly algorithm: JwtAlgorithm
  readonly privateKey: CryptoKey | Uint8Array | undefined
  /** Signs a JWS signing input (`header.payload`) with node:crypto; undefined for verify-only keys. */
  readonly sign: ((signingInput: string) => Buffer) | undefined
  readonly verifyKey: CryptoKey | Uint8Array
  /** Public half for the JWKS; undefined for HS256, whose secret is never published. */
  readonly publicJwk: JWK | undefined
}

/** The algorithms whose keys live in the key table (HS256 is a configured secret). */
export type AsymmetricAlgorithm = Exclude<JwtAlgorithm, 'HS256'>

export interface GeneratedKeyMaterial {
  readonly kid: string
  readonly algorithm: AsymmetricAlgorithm
  readonly publicJwk: JWK
  readonly privateJwk: JWK
}

const CURVES: Partial<Record<JwtAlgorithm, string>> = { EdDSA: 'Ed25519' }

/**
 * RSA modulus for new RS256 keys. 3072 bits is NIST SP 800-57's 128-bit security level (2048 is
 * only approved through 2030); 4096 would double the signing cost for no standard's benefit.
 * Existing 2048-bit keys keep working until they are rotated.
 */
export const RSA_MODULUS_BITS = 3072

export async function generateKeyMaterial(algorithm: AsymmetricAlgorithm): Promise<GeneratedKeyMaterial> {
  const crv = CURVES[algorithm]
  const pair = await generateKeyPair(algorithm, {
    extractable: true,
    ...(crv ? { crv } : {}),
    ...(algorithm === 'RS256' ? { modulusLength: RSA_MODULUS_BITS } : {}),
  })
  const publicJwk = await exportJWK(pair.publicKey)
  const privateJwk = await exportJWK(pair.privateKey)
  // RFC 7638 thumbprint: a stable kid derived from the key itself.
  const kid = await calculateJwkThumbprint(publicJwk)
  return { kid, algorithm, publicJwk: { ...publicJwk, kid, alg: algorithm, use: 'sig' }, privateJwk }
}

export async function importKeyMaterial(
  kid: string,
  algorithm: JwtAlgorithm,
  publicJwk: JWK,
  privateJwk: JWK | undefined,
): Promise<SigningKey> {
  const verifyKey = (await importJWK(publicJwk, algorithm)) as CryptoKey
  const privateKey = privateJwk ? ((await importJWK(privateJwk, algorithm)) as CryptoKey) : undefined
  return {
    kid,
    algorithm,
    privateKey,
    sign: privateJwk
      ? nodeSigner(algorithm, createPrivateKey({ key: privateJwk as never, format: 'jwk' }))
      : undefined,
    verifyKey,
    publicJwk: { ...publicJwk, kid, alg: algorithm, use: 'sig' },
  }
}

/** HS256: the shared secret signs and verifies; the kid is a digest so the secret never shows. */
export function hmacSigningKey(secret: string): SigningKey {
  const bytes = new TextEncoder().encode(secret)
  const kid = `hs256-${createHash('sha256').update('kitsune-kid').update(bytes).digest('base64url').slice(0, 16)}`
  return {
    kid,
    algorithm: 'HS256',
    privateKey: bytes,
    sign: (input) => createHmac('sha256', bytes).update(input).digest(),
    verifyKey: bytes,
    publicJwk: undefined,
  }
}

/**
 * Signing through node:crypto directly: several times cheaper per token than WebCrypto's async
 * job, and every login and refresh signs one. Output is the JWS signature encoding (RFC 7518):
 * raw r‖s for ES256, PKCS#1 v1.5 for RS256, the 64-byte signature for Ed25519.
 */
function nodeSigner(algorithm: JwtAlgorithm, key: KeyObject): (input: string) => Buffer {
  switch (algorithm) {
    case 'EdDSA':
      return (input) => cryptoSign(null, Buffer.from(input), key)
    case 'ES256':
      return (input) => cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
    case 'RS256':
      return (input) => cryptoSign('sha256', Buffer.from(input), key)
    default:
      throw new Error(`no asymmetric signer for ${algorithm}`)
  }
}
