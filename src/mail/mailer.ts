import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Transporter } from 'nodemailer'

export interface MailMessage {
  to: string
  subject: string
  text: string
  html: string
}

export interface MailerLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

/** Sends after the transaction commits; failures are logged and retried, never thrown at a request. */
export interface Mailer {
  readonly kind: 'smtp' | 'log'
  send(message: MailMessage): void
  /** One attempt to hand the message over; rejects when it could not (the job queue retries). */
  deliver(message: MailMessage): Promise<void>
  /** Runs mail-related work in the background (tracked by idle()); a failure is logged. */
  defer(task: () => Promise<void>): void
  /** Resolves when every queued message was delivered or given up on (tests, shutdown). */
  idle(): Promise<void>
  close(): Promise<void>
}

export interface MailerOptions {
  smtpUrl: string | undefined
  from: string
  logger: MailerLogger
  /** Log mode only: also write each message as an .eml file here (development). */
  outboxDir?: string
  /** Log mode only: include the text body (and so its links) in the log line. */
  logBodies: boolean
  /** Waits before each retry; a message is tried 1 + retryDelaysMs.length times. */
  retryDelaysMs?: readonly number[]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * SMTP through nodemailer when SMTP_URL is set. Otherwise messages go to the log (and, in
 * development, to ./data/outbox as .eml files) so a fresh install still shows a working link.
 * Log lines never carry a message body in SMTP mode: bodies hold single-use tokens.
 */
export function createMailer(options: MailerOptions): Mailer {
  const { smtpUrl, from, logger, outboxDir, logBodies } = options
  const retryDelays = options.retryDelaysMs ?? [1000, 5000, 30_000]
  // Loaded with the first message: most processes start long before they send any mail.
  let transport: Promise<Transporter> | undefined
  const getTransport = () => {
    transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      smtpUrl
        ? // Bounded waits: an attempt ends well within the job's lease (mail-jobs.ts) and is retried.
          nodemailer.createTransport(
            { url: smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 },
            { from },
          )
        : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }, { from }),
    )
    return transport
  }
  const pending = new Set<Promise<void>>()
  let sequence = 0
  let closed = false

  const deliverOnce = async (message: MailMessage) => {
    if (smtpUrl) {
      await (await getTransport()).sendMail({ from, ...message })
      return
    }
    // Log mode builds a MIME message (and so loads nodemailer) only for the development outbox.
    let file: string | undefined
    if (outboxDir) {
      const info = await (await getTransport()).sendMail({ from, ...message })
      mkdirSync(outboxDir, { recursive: true })
      file = join(outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${++sequence}.eml`)
      writeFileSync(file, (info as unknown as { message: Buffer }).message)
    }
    logger.info(
      {
        mail: {
          to: message.to,
          subject: message.subject,
          ...(logBodies ? { text: message.text } : {}),
          ...(file ? { file } : {}),
        },
      },
      'e-mail not sent (SMTP_URL is unset): written to the log',
    )
  }

  const deliver = async (message: MailMessage) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await deliverOnce(message)
        return
      } catch (error) {
        const err = { message: (error as Error).message, code: (error as { code?: string }).code }
        const delay = retryDelays[attempt]
        if (delay === undefined || closed) {
          logger.error(
            { err, subject: message.subject, attempts: attempt + 1 },
            'e-mail delivery failed; giving up',
          )
          return
        }
        logger.warn(
          { err, subject: message.subject, attempt: attempt + 1, retry_in_ms: delay },
          'e-mail delivery failed; will retry',
        )
        await sleep(delay)
      }
    }
  }

  return {
    kind: smtpUrl ? 'smtp' : 'log',
    deliver: (message) => deliverOnce(message),
    send(message) {
      const job = deliver(message).finally(() => pending.delete(job))
      pending.add(job)
    },
    defer(task) {
      const job = task()
        .catch((error: unknown) =>
          logger.error({ err: { message: (error as Error).message } }, 'background e-mail work failed'),
        )
        .finally(() => pending.delete(job))
      pending.add(job)
    },
    async idle() {
      while (pending.size > 0) await Promise.all([...pending])
    },
    /** Stops the transport; a message still waiting for a retry is abandoned (and was logged). */
    async close() {
      closed = true
      if (transport) (await transport).close()
    },
  }
}
