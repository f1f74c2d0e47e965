import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders
  body: string
}

/** What the receiver answers to its n-th request (from 0): a status, or 'hang' (never answers). */
export type ReceiverBehaviour = (index: number) => number | 'hang'

/** A webhook receiver on 127.0.0.1 that records every request and answers as told. */
export async function startWebhookReceiver(behaviour: ReceiverBehaviour = () => 204) {
  const received: ReceivedWebhook[] = []
  let answer = behaviour
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const index = received.length
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() })
      const status = answer(index)
      if (status === 'hang') return
      res.writeHead(status, { 'content-type': 'text/plain' }).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    setBehaviour(next: ReceiverBehaviour) {
      answer = next
    },
    /** Verifies a delivery as a receiver would, with the standardwebhooks library; the parsed body. */
    verify(secret: string, delivery: ReceivedWebhook) {
      return new Webhook(secret).verify(delivery.body, {
        'webhook-id': String(delivery.headers['webhook-id']),
        'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
        'webhook-signature': String(delivery.headers['webhook-signature']),
      }) as { type: string; timestamp: string; data: Record<string, unknown> }
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>
