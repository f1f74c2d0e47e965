import type { JWK } from 'jose'
import type { KeySource } from '../auth/access-tokens.js'
import type { SecretBox } from '../auth/secret-box.js'
import {
  type AsymmetricAlgorithm,
  type GeneratedKeyMaterial,
  generateKeyMaterial,
  hmacSigningKey,
  importKeyMaterial,
  type SigningKey,
} from '../auth/signing-keys.js'
import type { JwtAlgorithm, JwtConfig } from '../config/config.schema.js'
import type { SigningKeyRow } from '../db/schema.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import { AppError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import type { Repositories } from '../repositories/repositories.js'

/** How often an instance re-reads the key table (picks up rotations made elsewhere). */
export const KEY_RELOAD_SECONDS = 60
const UNKNOWN_KID_RELOAD_MS = 5_000
// Margin for clocks a little apart and a reload that runs late.
const RETENTION_SLACK_SECONDS = 30

/** OIDC Core § 15.1: every OpenID Provider supports RS256 ID tokens, so Kitsune always keeps one. */
export const ID_TOKEN_ALGORITHM = 'RS256' satisfies AsymmetricAlgorithm

/**
 * The longest any JWT signed with the RS256 key lives, other than access tokens when
 * JWT_ALGORITHM=RS256 (those are covered by JWT_ACCESS_TTL). A retired RS256 key stays published
 * for this long (plus the reload period) after a rotation, so the OIDC configuration must keep
 * within it every token it signs with these keys: ID tokens, logout tokens, signed userinfo and
 * introspection responses (and JWT-format access tokens, if it ever issues any).
 */
export const ID_TOKEN_MAX_TTL_SECONDS = 3600

/** The secret box context a private signing key is sealed under: it opens only as this key's. */
export const signingKeySealContext = (kid: string): string => `signing-key:${kid}`

export interface RotatedKey {
  readonly algorithm: AsymmetricAlgorithm
  /** The new current key. */
  readonly kid: string
  /** How many keys stopped signing (they verify until their tokens have expired). */
  readonly retired: number
}

export interface SigningKeyService extends KeySource {
  /** The algorithms with keys in the key table: the access-token one (unless HS256), then RS256. */
  readonly algorithms: readonly AsymmetricAlgorithm[]
  /** Makes sure each algorithm has a current key (creating missing ones under a lock) and loads them. */
  init(): Promise<void>
  reload(): Promise<void>
  /**
   * Makes a new key current for `algorithm`, or for every algorithm when omitted; each previous key
   * verifies until its tokens have expired. HS256 rotates by changing JWT_SECRET (CONFLICT).
   */
  rotate(algorithm?: JwtAlgorithm): Promise<RotatedKey[]>
  /** Public halves of every usable key of every algorithm (never the HS256 secret). */
  jwks(): { keys: JWK[] }
  /**
   * Private JWKs (with kid, alg, use) of every usable key, the current key of each algorithm first,
   * then retired ones newest first: the key set an OpenID Provider signs with. Secret: never log it.
   */
  privateJwks(): JWK[]
  close(): void
}

interface LoadedKeys {
  readonly accessRing: Map<string, SigningKey>
  readonly accessCurrent: SigningKey | undefined
  readonly publicJwks: JWK[]
  readonly privateJwks: JWK[]
}

export function createSigningKeyService(deps: {
  uow: UnitOfWork<Repositories>
  secretBox: SecretBox
  jwt: JwtConfig
  clock: Clock
}): SigningKeyService {
  const { uow, secretBox, jwt, clock } = deps
  const accessAlgorithm = jwt.algorithm
  const algorithms: AsymmetricAlgorithm[] =
    accessAlgorithm === 'HS256' || accessAlgorithm === ID_TOKEN_ALGORITHM
      ? [ID_TOKEN_ALGORITHM]
      : [accessAlgorithm, ID_TOKEN_ALGORITHM]
  const hmacKey = accessAlgorithm === 'HS256' ? hmacSigningKey(jwt.secret ?? '') : undefined
  let loaded: LoadedKeys | undefined
  let lastUnknownReload = 0
  let timer: NodeJS.Timeout | undefined

  const sealContext = signingKeySealContext
  const isManaged = (algorithm: string): algorithm is AsymmetricAlgorithm =>
    (algorithms as string[]).includes(algorithm)
  const hasCurrent = (rows: SigningKeyRow[], algorithm: AsymmetricAlgorithm) =>
    rows.some((row) => row.algorithm === algorithm && row.retired_at === null)

  /** How long a retired key keeps verifying: its longest-lived token, plus the reload period. */
  const retentionSeconds = (algorithm: AsymmetricAlgorithm) =>
    Math.max(
      algorithm === accessAlgorithm ? jwt.accessTokenTtlSeconds : 0,
      algorithm === ID_TOKEN_ALGORITHM ? ID_TOKEN_MAX_TTL_SECONDS : 0,
    ) +
    // Other instances may keep signing with the old key until their next reload.
    KEY_RELOAD_SECONDS +
    RETENTION_SLACK_SECONDS

  const openPrivateKey = (row: SigningKeyRow): JWK => {
    try {
      return JSON.parse(secretBox.open(row.private_key_enc, sealContext(row.kid))) as JWK
    } catch {
      throw new Error(
        `cannot decrypt signing key ${row.kid}: SECRET_KEY is not the one it was created with (restore the original SECRET_KEY)`,
      )
    }
  }

  /** Rows come newest first; the first unretired key of an algorithm is its current key. */
  const load = async (rows: SigningKeyRow[]) => {
    const accessRing = new Map<string, SigningKey>()
    let accessCurrent: SigningKey | undefined
    const publicJwks: JWK[] = []
    const currentPrivate = new Map<string, JWK>()
    const retiredPrivate: JWK[] = []
    for (const row of rows) {
      const algorithm = row.algorithm
      if (!isManaged(algorithm)) continue
      const labels = { kid: row.kid, alg: algorithm, use: 'sig' }
      const privateJwk = openPrivateKey(row)
      publicJwks.push({ ...(row.public_jwk as JWK), ...labels })
      const isCurrent = row.retired_at === null && !currentPrivate.has(algorithm)
      if (isCurrent) currentPrivate.set(algorithm, { ...privateJwk, ...labels })
      else retiredPrivate.push({ ...privateJwk, ...labels })
      if (algorithm !== accessAlgorithm) continue
      // Access tokens, as before: unretired keys sign, retired ones only verify.
      const key = await importKeyMaterial(
        row.kid,
        algorithm,
        row.public_jwk as JWK,
        row.retired_at === null ? privateJwk : undefined,
      )
      accessRing.set(key.kid, key)
      if (isCurrent) accessCurrent = key
    }
    for (const algorithm of algorithms) {
      if (!currentPrivate.has(algorithm)) throw new Error(`no current ${algorithm} signing key`)
    }
    loaded = {
      accessRing,
      accessCurrent,
      publicJwks,
      privateJwks: [...algorithms.map((a) => currentPrivate.get(a) as JWK), ...retiredPrivate],
    }
  }

  const insertKey = async (repos: Repositories, material: GeneratedKeyMaterial) => {
    await repos.signingKeys.insert({
      kid: material.kid,
      algorithm: material.algorithm,
      public_jwk: JSON.stringify(material.publicJwk),
      private_key_enc: secretBox.seal(JSON.stringify(material.privateJwk), sealContext(material.kid)),
      created_at: clock.now(),
    })
  }

  const rotationTargets = (algorithm: JwtAlgorithm | undefined): AsymmetricAlgorithm[] => {
    if (algorithm === undefined) return algorithms
    if (algorithm === 'HS256') {
      throw new AppError('CONFLICT', { detail: 'HS256 keys rotate by changing JWT_SECRET' })
    }
    if (!isManaged(algorithm)) {
      throw new AppError('CONFLICT', {
        detail: `Kitsune does not sign with ${algorithm}; its keys are ${algorithms.join(', ')}`,
      })
    }
    return [algorithm]
  }

  const reloadAccessKeys = async (kid: string) => {
    // A kid we do not know may come from a rotation on another instance: re-read, but at most
    // every few seconds so forged kids cannot turn into a database flood.
    const nowMs = Date.now()
    if (nowMs - lastUnknownReload < UNKNOWN_KID_RELOAD_MS) return undefined
    lastUnknownReload = nowMs
    await service.reload()
    return loaded?.accessRing.get(kid)
  }

  const service: SigningKeyService = {
    algorithms,
    async init() {
      let rows = await uow.read.signingKeys.listUsable(clock.now())
      const missing = algorithms.filter((algorithm) => !hasCurrent(rows, algorithm))
      if (missing.length > 0) {
        // Generated before the lock: an RSA key takes a noticeable moment, and another instance
        // starting now should not wait for it. A key the other instance beat us to is discarded.
        const materials = await Promise.all(missing.map((algorithm) => generateKeyMaterial(algorithm)))
        rows = await uow.run(async (repos) => {
          await repos.signingKeys.lock()
          const usable = await repos.signingKeys.listUsable(clock.now())
          const toInsert = materials.filter((material) => !hasCurrent(usable, material.algorithm))
          if (toInsert.length === 0) return usable
          for (const material of toInsert) await insertKey(repos, material)
          return repos.signingKeys.listUsable(clock.now())
        })
      }
      await load(rows)
      timer ??= setInterval(() => {
        service.reload().catch(() => {
          // The keys in memory keep working; the next tick tries again.
        })
      }, KEY_RELOAD_SECONDS * 1000)
      timer.unref()
    },
    async reload() {
      await load(await uow.read.signingKeys.listUsable(clock.now()))
    },
    async rotate(algorithm) {
      const targets = rotationTargets(algorithm)
      const materials = await Promise.all(targets.map((target) => generateKeyMaterial(target)))
      const now = clock.now()
      const result = await uow.run(async (repos) => {
        await repos.signingKeys.lock()
        const rotated: RotatedKey[] = []
        for (const material of materials) {
          const verifyUntil = new Date(now.getTime() + retentionSeconds(material.algorithm) * 1000)
          const retired = await repos.signingKeys.retireCurrent(material.algorithm, now, verifyUntil)
          await insertKey(repos, material)
          rotated.push({ algorithm: material.algorithm, kid: material.kid, retired })
        }
        return rotated
      })
      await service.reload()
      return result
    },
    current: hmacKey
      ? () => hmacKey
      : () => {
          const key = loaded?.accessCurrent
          if (!key) throw new Error('signing keys are not loaded')
          return key
        },
    find: hmacKey
      ? async (kid) => (kid === hmacKey.kid ? hmacKey : undefined)
      : async (kid) => loaded?.accessRing.get(kid) ?? reloadAccessKeys(kid),
    jwks() {
      return { keys: [...(loaded?.publicJwks ?? [])] }
    },
    privateJwks() {
      return (loaded?.privateJwks ?? []).map((jwk) => ({ ...jwk }))
    },
    close() {
      if (timer) clearInterval(timer)
    },
  }
  return service
}
