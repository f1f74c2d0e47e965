import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { pgliteTarget } from '../helpers/test-targets.js'

/** Sends raw bytes on a fresh connection and returns everything the server wrote before closing. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request))
    let answer = ''
    socket.on('data', (chunk) => {
      answer += String(chunk)
    })
    socket.on('close', () => resolve(answer))
    socket.on('error', reject)
  })
}

function parse(answer: string) {
  const [head = '', body = ''] = answer.split('\r\n\r\n')
  const [statusLine, ...headerLines] = head.split('\r\n')
  const headers = Object.fromEntries(
    headerLines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  )
  return {
    status: Number(statusLine?.split(' ')[1]),
    headers,
    body: JSON.parse(body) as Record<string, unknown>,
  }
}

// Requests Node's HTTP parser refuses before any route, hook or error handler of Fastify's runs.
describe('requests that are not valid HTTP', () => {
  let t: TestApp
  let port: number
  beforeAll(async () => {
    t = await buildTestApp({ target: pgliteTarget })
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    port = (t.app.server.address() as { port: number }).port
  })
  afterAll(async () => t?.close())

  it.each([
    ['a NUL in a header value', 'GET /health/live HTTP/1.1\r\nHost: x\r\nUser-Agent: a\u0000b\r\n\r\n'],
    [
      'a control character in a header value',
      'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Note: a\u0001b\r\n\r\n',
    ],
    ['a malformed request line', 'GET /health/live HTTP/9\r\n\r\n'],
  ])('answers %s with a 400 problem+json and closes', async (_, request) => {
    const { status, headers, body } = parse(await raw(port, request))
    expect(status).toBe(400)
    expect(headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(headers.connection).toBe('close')
    expect(body).toMatchObject({
      type: 'https://kitsune.dev/problems/bad-request',
      status: 400,
      code: 'BAD_REQUEST',
      request_id: headers['x-request-id'],
    })
  })

  it('answers headers larger than Node allows with 431 problem+json', async () => {
    const { status, headers, body } = parse(
      await raw(port, `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    )
    expect(status).toBe(431)
    expect(headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(body).toMatchObject({ status: 431, code: 'BAD_REQUEST' })
  })

  it('still serves well-formed requests on the same listener', async () => {
    const answer = await raw(port, 'GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
  })
})
