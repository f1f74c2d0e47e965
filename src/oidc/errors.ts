import { errors } from 'oidc-provider'
import { isDependencyDown } from '../errors/app-error.js'

/**
 * A dependency (database, store) is down: the protocol answers 503 `temporarily_unavailable`
 * (RFC 6749 section 4.1.2.1) and nothing is issued. Never redirected back to the client: the
 * person sees Kitsune's error page and can retry.
 */
export class TemporarilyUnavailable extends errors.OIDCProviderError {
  constructor(cause?: unknown) {
    super(503, 'temporarily_unavailable', { cause })
    this.expose = true
    this.allow_redirect = false
    this.error_description = 'a service Kitsune depends on is unavailable; try again shortly'
  }
}

/** Runs `work`, turning "a dependency is down" into the protocol's 503. */
export async function failClosed<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (isDependencyDown(error)) throw new TemporarilyUnavailable(error)
    throw error
  }
}
