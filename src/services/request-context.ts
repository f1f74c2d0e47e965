/** Who is asking, from where: passed by the HTTP layer so services never see Fastify. */
export interface RequestContext {
  readonly ip: string
  readonly userAgent: string | null
  readonly requestId: string
}

/** An authenticated caller, resolved from a verified access token and live session state. */
export interface Principal {
  readonly userId: string
  readonly sessionId: string
  readonly roles: readonly string[]
  readonly tokenExpiresAt: number
}
