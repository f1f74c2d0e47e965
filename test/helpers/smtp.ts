import type { AddressInfo } from 'node:net'
import { type AddressObject, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface ReceivedMail {
  /** Recipient addresses, lower-cased. */
  readonly to: string[]
  readonly subject: string
  readonly text: string
  readonly html: string
}

export interface TestSmtpServer {
  /** The SMTP_URL that reaches this server: smtp://127.0.0.1:<port>. */
  readonly url: string
  readonly port: number
  /** Every message accepted so far, in arrival order. */
  readonly messages: readonly ReceivedMail[]
  mailsTo(address: string): ReceivedMail[]
  /** Resolves with the first message (already received or still to come) that matches. */
  waitForMail(predicate: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>
  /** While on, every message is answered with a temporary failure (451) and not kept. */
  refuseDelivery(refuse: boolean): void
  /** Stops listening: connections are refused until start() listens again on the same port. */
  stop(): Promise<void>
  start(): Promise<void>
}

const addresses = (to: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(to) ? to : to ? [to] : [])
    .flatMap((group) => group.value)
    .map((entry) => (entry.address ?? '').toLowerCase())

/** A real SMTP server in this process, plain text (no STARTTLS) and no authentication required. */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = []
  const waiters = new Set<{ predicate: (mail: ReceivedMail) => boolean; resolve(mail: ReceivedMail): void }>()
  let refusing = false
  let server: SMTPServer | undefined
  let port = 0

  const receive = (mail: ReceivedMail) => {
    messages.push(mail)
    for (const waiter of waiters) {
      if (waiter.predicate(mail)) {
        waiters.delete(waiter)
        waiter.resolve(mail)
      }
    }
  }

  const listen = async () => {
    const next = new SMTPServer({
      authOptional: true,
      secure: false,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 500,
      onData(stream, _session, callback) {
        // Parsed and stored before the 250 reply, so a sender that saw success finds the message here.
        simpleParser(stream).then(
          (parsed) => {
            if (refusing) {
              const error = Object.assign(new Error('mailbox temporarily unavailable'), { responseCode: 451 })
              callback(error)
              return
            }
            receive({
              to: addresses(parsed.to),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
            })
            callback()
          },
          (error: Error) => callback(error),
        )
      },
    })
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject)
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject)
        resolve()
      })
    })
    port = (next.server.address() as AddressInfo).port
    server = next
  }

  await listen()

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    mailsTo: (address) => messages.filter((mail) => mail.to.includes(address.toLowerCase())),
    waitForMail(predicate, timeoutMs = 10_000) {
      const already = messages.find(predicate)
      if (already) return Promise.resolve(already)
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve(mail: ReceivedMail) {
            clearTimeout(timer)
            resolve(mail)
          },
        }
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`no matching e-mail within ${timeoutMs} ms (${messages.length} received)`))
        }, timeoutMs)
        waiters.add(waiter)
      })
    },
    refuseDelivery(refuse) {
      refusing = refuse
    },
    async stop() {
      const current = server
      server = undefined
      if (current) await new Promise<void>((resolve) => current.close(() => resolve()))
    },
    async start() {
      if (!server) await listen()
    },
  }
}

/** The `?token=` of the first link in a mail's text. */
export function tokenFromMail(mail: ReceivedMail): string {
  const url = mail.text.match(/https?:\/\/\S+/)?.[0]
  const token = url ? new URL(url).searchParams.get('token') : null
  if (!token) throw new Error(`no link with a token in the e-mail "${mail.subject}"`)
  return token
}
