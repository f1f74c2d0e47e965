import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'

/** Asks on a terminal without echo; otherwise reads the first line of stdin. */
export async function readSecret(prompt: string): Promise<string> {
  const muted = new Writable({
    write(_chunk, _encoding, done) {
      done()
    },
  })
  const tty = Boolean(process.stdin.isTTY)
  if (tty) process.stderr.write(prompt)
  const rl = createInterface({ input: process.stdin, output: tty ? muted : undefined, terminal: tty })
  try {
    for await (const line of rl) return line
    return ''
  } finally {
    rl.close()
    if (tty) process.stderr.write('\n')
  }
}
