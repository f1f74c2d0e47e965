import { serve } from '../../main.js'
import type { Command } from '../command.js'

export const serveCommand: Command = {
  summary: 'Run the HTTP service (what `npm start` runs)',
  async run() {
    await serve()
    return 0
  },
}
