import type { JWK } from 'jose'
import type { KeySource } from '../auth/access-tokens.js'
import type { SecretBox } from '../auth/secret-box.js'
import {
  generateKeyMaterial,
  hmacSigningKey,
  importKeyMaterial,
  type SigningKey,
} from '../auth/signing-keys.js'
import type { JwtConfig } from '../config/config.schema.js'
import type { SigningKeyRow } from '../db/schema.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import { AppError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import type { Repositories } from '../repositories/repositories.js'

/** How often an instance re-reads the key table (picks up rotations made elsewhere). */
export const KEY_RELOAD_SECONDS = 60
const UNKNOWN_KID_RELOAD_MS = 5_000

export interface SigningKeyService extends KeySource {
  /** Makes sure a current key exists (creating one under a lock) and loads the ring. */
  init(): Promise<void>
  reload(): Promise<void>
  /** Makes a new key current; the previous one verifies until its tokens have expired. */
  rotate(): Promise<{ kid: string; retired: number }>
  jwks(): { keys: JWK[] }
  close(): void
}

export function createSigningKeyService(deps: {
  uow: UnitOfWork<Repositories>
  secretBox: SecretBox
  jwt: JwtConfig
  clock: Clock
}): SigningKeyService {
  const { uow, secretBox, jwt, clock } = deps
  const algorithm = jwt.algorithm
  let ring = new Map<string, SigningKey>()
  let currentKey: SigningKey | undefined
  let lastUnknownReload = 0
  let timer: NodeJS.Timeout | undefined

  const sealContext = (kid: string) => `signing-key:${kid}`

  const openPrivateKey = (row: SigningKeyRow): JWK => {
    try {
      return JSON.parse(secretBox.open(row.private_key_enc, sealContext(row.kid))) as JWK
    } catch {
      throw new Error(
        `cannot decrypt signing key ${row.kid}: SECRET_KEY is not the one it was created with (restore the original SECRET_KEY)`,
      )
    }
  }

  const load = async (rows: SigningKeyRow[]) => {
    const next = new Map<string, SigningKey>()
    let current: SigningKey | undefined
    for (const row of rows) {
      if (row.algorithm !== algorithm) continue
      const privateJwk = row.retired_at === null ? openPrivateKey(row) : undefined
      const key = await importKeyMaterial(row.kid, algorithm, row.public_jwk as JWK, privateJwk)
      next.set(key.kid, key)
      if (!current && row.retired_at === null) current = key
    }
    if (!current) throw new Error(`no current ${algorithm} signing key`)
    ring = next
    currentKey = current
  }

  const createKey = async (repos: Repositories) => {
    const material = await generateKeyMaterial(algorithm as Exclude<typeof algorithm, 'HS256'>)
    await repos.signingKeys.insert({
      kid: material.kid,
      algorithm,
      public_jwk: JSON.stringify(material.publicJwk),
      private_key_enc: secretBox.seal(JSON.stringify(material.privateJwk), sealContext(material.kid)),
      created_at: clock.now(),
    })
    return material.kid
  }

  if (algorithm === 'HS256') {
    const key = hmacSigningKey(jwt.secret ?? '')
    return {
      init: async () => {},
      reload: async () => {},
      rotate: async () => {
        throw new AppError('CONFLICT', { detail: 'HS256 keys rotate by changing JWT_SECRET' })
      },
      current: () => key,
      find: async (kid) => (kid === key.kid ? key : undefined),
      jwks: () => ({ keys: [] }),
      close: () => {},
    }
  }

  const service: SigningKeyService = {
    async init() {
      const rows = await uow.run(async (repos) => {
        let usable = await repos.signingKeys.listUsable(clock.now())
        if (!usable.some((row) => row.algorithm === algorithm && row.retired_at === null)) {
          await repos.signingKeys.lock()
          usable = await repos.signingKeys.listUsable(clock.now())
          if (!usable.some((row) => row.algorithm === algorithm && row.retired_at === null)) {
            await createKey(repos)
            usable = await repos.signingKeys.listUsable(clock.now())
          }
        }
        return usable
      })
      await load(rows)
      timer ??= setInterval(() => {
        service.reload().catch(() => {
          // The ring in memory keeps working; the next tick tries again.
        })
      }, KEY_RELOAD_SECONDS * 1000)
      timer.unref()
    },
    async reload() {
      await load(await uow.read.signingKeys.listUsable(clock.now()))
    },
    async rotate() {
      const now = clock.now()
      // Tokens signed by the old key live at most one access TTL; other instances may keep signing
      // with it until their next reload, so it verifies for that long too.
      const verifyUntil = new Date(
        now.getTime() + (jwt.accessTokenTtlSeconds + KEY_RELOAD_SECONDS + 30) * 1000,
      )
      const result = await uow.run(async (repos) => {
        await repos.signingKeys.lock()
        const retired = await repos.signingKeys.retireCurrent(algorithm, now, verifyUntil)
        const kid = await createKey(repos)
        return { kid, retired }
      })
      await service.reload()
      return result
    },
    current() {
      if (!currentKey) throw new Error('signing keys are not loaded')
      return currentKey
    },
    async find(kid) {
      const known = ring.get(kid)
      if (known) return known
      // A kid we do not know may come from a rotation on another instance: re-read, but at most
      // every few seconds so forged kids cannot turn into a database flood.
      const nowMs = Date.now()
      if (nowMs - lastUnknownReload < UNKNOWN_KID_RELOAD_MS) return undefined
      lastUnknownReload = nowMs
      await service.reload()
      return ring.get(kid)
    },
    jwks() {
      return { keys: [...ring.values()].flatMap((key) => (key.publicJwk ? [key.publicJwk] : [])) }
    },
    close() {
      if (timer) clearInterval(timer)
    },
  }
  return service
}
