import type { JwtAlgorithm } from '../../config/config.schema.js'
import { loadConfig } from '../../config/load-config.js'
import { createKitsune } from '../../kitsune.js'
import { createLogger } from '../../observability/logger.js'
import { CliError, type Command } from '../command.js'

const ALGORITHMS: readonly JwtAlgorithm[] = ['EdDSA', 'ES256', 'RS256', 'HS256']

export const keysRotateCommand: Command = {
  summary: 'Make a new signing key current; the old one verifies until its tokens expire',
  usage: '[--algorithm EdDSA|ES256|RS256]',
  help:
    'Kitsune keeps one current key per algorithm it signs with: JWT_ALGORITHM for access tokens and\n' +
    'RS256 for OpenID Connect ID tokens (one key when JWT_ALGORITHM=RS256). Without --algorithm,\n' +
    'every one of them is rotated together; with it, only that algorithm. HS256 is a secret in the\n' +
    'configuration, not a stored key: it rotates by changing JWT_SECRET.\n' +
    'Every instance picks up the new keys within a minute, and verifies their tokens at once.\n\n' +
    'Options:\n' +
    '  --algorithm ALG   rotate only the key of ALG (EdDSA, ES256 or RS256)\n',
  options: { algorithm: { type: 'string' } },
  async run({ values }) {
    const algorithm = values.algorithm as string | undefined
    if (algorithm !== undefined && !(ALGORITHMS as string[]).includes(algorithm)) {
      throw new CliError(`--algorithm must be one of ${ALGORITHMS.join(', ')}`, 2)
    }
    const config = loadConfig()
    const logger = createLogger({ ...config, log: { ...config.log, format: 'json', level: 'warn' } })
    const kitsune = await createKitsune(config, { logger, runJobs: false })
    try {
      const rotated = await kitsune.services.keys.rotate(algorithm as JwtAlgorithm | undefined)
      for (const { algorithm: alg, kid, retired } of rotated) {
        process.stdout.write(
          `new signing key ${kid} is current for ${alg}; ${retired} previous key(s) retired\n`,
        )
      }
      if (algorithm === undefined && config.jwt.algorithm === 'HS256') {
        process.stdout.write('HS256 access tokens are signed with JWT_SECRET: change it to rotate them\n')
      }
      return 0
    } finally {
      await kitsune.close()
    }
  },
}
