import type { SecretBox } from '../auth/secret-box.js'
import type { TransactionContext } from '../db/unit-of-work.js'
import type { Mailer, MailMessage } from '../mail/mailer.js'
import type { JobQueue } from './job-queue.js'

export const MAIL_JOB = 'email.send'
/** Sealed with SECRET_KEY: a message carries single-use links, which never sit in the clear. */
const CONTEXT = 'job:email.send'

/**
 * SMTP retries: from 10 s, doubling to 30 min, for a day. A message that could not be handed to
 * the SMTP server in a day is dead (listed by `kitsune jobs list --dead`, retried by hand).
 */
export const MAIL_POLICY = {
  firstDelaySeconds: 10,
  maxDelaySeconds: 1800,
  deadAfterSeconds: 86_400,
  // Longer than an attempt can take (the SMTP timeouts in mailer.ts add up to 50 s): a job whose
  // instance died runs again elsewhere after a minute.
  leaseSeconds: 60,
} as const

/** Sends e-mail through the job queue: written in the use case's transaction, sent after it commits. */
export interface MailOutbox {
  send(tx: TransactionContext, message: MailMessage): Promise<void>
}

export function createMailOutbox(secretBox: SecretBox): MailOutbox {
  return {
    async send(tx, message) {
      await tx.enqueue({
        kind: MAIL_JOB,
        payload: { sealed: secretBox.seal(JSON.stringify(message), CONTEXT) },
      })
    },
  }
}

/** The worker side: open the message and hand it to SMTP (or the log); a failure is retried. */
export function registerMailJobs(queue: JobQueue, deps: { secretBox: SecretBox; mailer: Mailer }): void {
  queue.register(
    MAIL_JOB,
    async (job) => {
      const { sealed } = job.payload as { sealed: string }
      const message = JSON.parse(deps.secretBox.open(sealed, CONTEXT)) as MailMessage
      await deps.mailer.deliver(message)
    },
    MAIL_POLICY,
  )
}
