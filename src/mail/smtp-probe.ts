import { connect as connectTcp, isIP, type Socket } from 'node:net'
import { hostname } from 'node:os'
import { connect as connectTls } from 'node:tls'
import { describeNetworkError } from '../lib/network-error.js'

export interface SmtpProbe {
  /** host:port, never the credentials. */
  readonly address: string
  /** The EHLO extensions the server offers (STARTTLS, AUTH, SIZE…), names only. */
  readonly extensions: string[]
}

interface Reply {
  code: number
  lines: string[]
}

/**
 * Greets the SMTP server of `smtpUrl` and hangs up: connect (TLS from the first byte for smtps://),
 * read the 220 greeting, EHLO, expect 250, QUIT. It never authenticates or sends mail, so it can
 * run against a production relay without side effects. Throws with the step that failed.
 */
export async function probeSmtp(smtpUrl: string, timeoutMs: number): Promise<SmtpProbe> {
  const url = new URL(smtpUrl)
  const secure = url.protocol === 'smtps:'
  const host = url.hostname.replace(/^\[|\]$/g, '')
  // nodemailer's defaults for the same URL: 465 for implicit TLS, else 587.
  const port = Number(url.port) || (secure ? 465 : 587)
  const address = `${url.hostname}:${port}`
  const rejectUnauthorized = url.searchParams.get('tls.rejectUnauthorized') !== 'false'

  const socket: Socket = secure
    ? connectTls({ host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized })
    : connectTcp({ host, port })
  socket.setTimeout(timeoutMs)
  let buffer = ''
  let waiting: { resolve(reply: Reply): void; reject(error: Error): void } | undefined
  let failure: Error | undefined
  const fail = (error: Error) => {
    failure ??= error
    waiting?.reject(failure)
    waiting = undefined
  }
  /** A reply is complete at the line whose code is followed by a space (RFC 5321 § 4.2.1). */
  const takeReply = (): Reply | undefined => {
    const lines = buffer.split('\r\n')
    const end = lines.findIndex((line) => /^\d{3}(?: |$)/.test(line))
    if (end === -1 || end === lines.length - 1) return undefined
    buffer = lines.slice(end + 1).join('\r\n')
    return { code: Number(lines[end]?.slice(0, 3)), lines: lines.slice(0, end + 1).map((l) => l.slice(4)) }
  }
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    buffer += chunk
    const reply = waiting && takeReply()
    if (reply) {
      waiting?.resolve(reply)
      waiting = undefined
    }
  })
  socket.on('timeout', () => fail(new Error(`no answer within ${timeoutMs} ms`)))
  socket.on('error', (error) => fail(error))
  socket.on('close', () => fail(new Error('the server closed the connection')))
  const reply = () =>
    new Promise<Reply>((resolve, reject) => {
      if (failure) return reject(failure)
      const ready = takeReply()
      if (ready) return resolve(ready)
      waiting = { resolve, reject }
    })
  const step = async (what: string, expected: number, send?: string): Promise<Reply> => {
    if (send !== undefined) socket.write(`${send}\r\n`)
    let answer: Reply
    try {
      answer = await reply()
    } catch (error) {
      throw new Error(`${address}: ${what}: ${describeNetworkError(error)}`, { cause: error })
    }
    if (answer.code !== expected)
      throw new Error(`${address}: ${what} answered ${answer.code} ${answer.lines.join(' ').slice(0, 200)}`)
    return answer
  }

  try {
    await step('greeting', 220)
    // RFC 5321 § 4.1.4: a domain name, or an address literal when this machine has no such name.
    const local = socket.localAddress ?? '127.0.0.1'
    const literal = isIP(local) === 6 ? `[IPv6:${local}]` : `[${local}]`
    const name = hostname().includes('.') ? hostname() : literal
    const ehlo = await step('EHLO', 250, `EHLO ${name}`)
    socket.write('QUIT\r\n')
    const extensions = ehlo.lines.slice(1).map((line) => (line.split(' ')[0] ?? '').toUpperCase())
    return { address, extensions: extensions.filter(Boolean) }
  } finally {
    waiting = undefined
    failure ??= new Error('done')
    socket.end()
    socket.destroySoon()
  }
}
