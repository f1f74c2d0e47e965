import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config/load-config.ts'
import { createKitsune } from '../src/kitsune.ts'
import { createLogger } from '../src/observability/logger.ts'
import type { PasswordHasher } from '../src/auth/password-hasher.ts'
const hasher: PasswordHasher = { hash: async (p) => `plain:${p}`, verify: async (h, p) => h === `plain:${p}`, verifyDummy: async () => {}, needsRehash: () => false }
const config = loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(40), DATABASE_URL: process.env.DB!, REDIS_URL: 'redis://127.0.0.1:6379/0', REDIS_KEY_PREFIX: 'lprof:', LOG_LEVEL: 'warn', RATE_LIMIT_LOGIN: '100000000/1m', RATE_LIMIT_GLOBAL: '100000000/1m', RATE_LIMIT_REGISTER: '100000000/1m' })
const kitsune = await createKitsune(config, { hasher, logger: createLogger(config) })
const { app } = await buildApp(kitsune)
const users = []
for (let i = 0; i < 50; i++) { const email = `u${i}-${Date.now()}@example.com`; const r = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: 'a long enough password' } }); if (r.statusCode !== 201) throw new Error(r.body); users.push(email) }
const N = 2000
for (let i = 0; i < 200; i++) await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: users[i % 50], password: 'a long enough password' } })
const c0 = process.cpuUsage(); const t0 = performance.now()
for (let i = 0; i < N; i++) { const r = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: users[i % 50], password: 'a long enough password' } }); if (r.statusCode !== 200) throw new Error(r.body) }
const c = process.cpuUsage(c0); const t = performance.now() - t0
console.log(`login overhead (no hashing): ${((c.user + c.system) / 1000 / N).toFixed(3)} ms CPU/login, ${(t / N).toFixed(3)} ms wall/login`)
await app.close(); await kitsune.close()
