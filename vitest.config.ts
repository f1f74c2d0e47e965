import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The WebAuthn library's WebCrypto probes warn on Node 24; only those two warnings are dropped.
    setupFiles: ['./src/lib/quiet-warnings.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Tests never read the developer's .env or ./data: every value is passed explicitly.
    env: { NODE_ENV: 'test' },
  },
})
