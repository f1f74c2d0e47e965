import { spawnSync } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { registerAndLogin } from '../helpers/factories.js'
import { systemTool } from '../helpers/system-tools.js'
import { pgliteTarget } from '../helpers/test-targets.js'

const promtool = systemTool('promtool', 'apt-get install prometheus')

/** The metric families that have at least one sample (promtool only lints those). */
function sampledNames(exposition: string): Set<string> {
  const names = new Set<string>()
  for (const line of exposition.split('\n')) {
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1]
    if (name) names.add(name.replace(/_(bucket|sum|count)$/, ''))
  }
  return names
}

describe.skipIf(promtool.skip)(`GET /metrics passes promtool check metrics${promtool.note}`, () => {
  let t: TestApp
  let base: string
  let receiver: Server | undefined

  beforeAll(async () => {
    promtool.require()
    t = await buildTestApp({ target: pgliteTarget, env: { WEBHOOKS_ALLOW_PRIVATE: 'true' } })
    base = await t.app.listen({ port: 0, host: '127.0.0.1' })
    // A webhook endpoint (a receiver answering 204) so the delivery counter has a sample too.
    receiver = createServer((request, response) => {
      request.resume()
      request.on('end', () => response.writeHead(204).end())
    })
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve))
    const { port } = receiver.address() as AddressInfo
    await t.kitsune.services.webhooks.create(null, { url: `http://127.0.0.1:${port}/hook`, events: ['*'] })
    // Give every labelled Kitsune metric a sample: a registration, logins, a refresh, queries.
    const { user, tokens } = await registerAndLogin(t)
    await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: 'not the password' },
    })
    await t.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: tokens.refresh_token },
    })
    await t.kitsune.jobs.idle()
  })
  afterAll(async () => {
    await t?.close()
    receiver?.close()
  })

  it('lints clean, Kitsune metrics and Node.js default metrics alike', async () => {
    const response = await fetch(`${base}/metrics`)
    expect(response.status).toBe(200)
    const exposition = await response.text()

    // promtool accepts empty input, and skips families without samples: make sure it sees ours.
    const registered = (t.kitsune.metrics?.registry.getMetricsAsArray() ?? []).map((m) => m.name)
    const own = registered.filter((name) => !/^(nodejs|process)_/.test(name))
    expect(own.length).toBeGreaterThan(5)
    const sampled = sampledNames(exposition)
    expect(own.filter((name) => !sampled.has(name))).toEqual([])
    expect(sampled).toContain('nodejs_heap_size_used_bytes')

    const lint = spawnSync(promtool.require(), ['check', 'metrics'], { input: exposition, encoding: 'utf8' })
    expect({ status: lint.status, output: `${lint.stdout}${lint.stderr}` }).toEqual({ status: 0, output: '' })
  })
})
