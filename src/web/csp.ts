import type { FastifyReply } from 'fastify'

/**
 * The pages' CSP: Kitsune's own stylesheet and images, forms posting back to Kitsune only, no
 * script and no inline style at all, never framed (the API keeps its allow-nothing policy).
 */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/**
 * The page CSP when a form's submission ends in a redirect to an application: browsers apply
 * form-action to every redirect a form submission follows, so the application's redirect URI
 * origins (or private-use schemes) are allowed there too, and nothing else.
 */
export function pageCspWithFormTargets(
  targets: readonly string[],
  imageOrigins: readonly string[] = [],
): string {
  let csp = PAGE_CSP
  if (targets.length > 0)
    csp = csp.replace("form-action 'self'", `form-action 'self' ${[...new Set(targets)].join(' ')}`)
  if (imageOrigins.length > 0)
    csp = csp.replace("img-src 'self' data:", `img-src 'self' data: ${imageOrigins.join(' ')}`)
  return csp
}

/** The origin of BRAND_LOGO_URL, which the pages' CSP must allow images from. */
export function logoOrigins(logoUrl: string | undefined): string[] {
  if (!logoUrl) return []
  try {
    return [new URL(logoUrl).origin]
  } catch {
    return []
  }
}

/** CSP source expressions for redirect URIs: an origin for http(s), the scheme for private-use URIs. */
export function formTargetsOf(uris: readonly string[]): string[] {
  const targets: string[] = []
  for (const uri of uris) {
    try {
      const url = new URL(uri)
      if (url.protocol === 'https:' || url.protocol === 'http:') targets.push(url.origin)
      else if (/^[a-z][a-z0-9+.-]*:$/.test(url.protocol)) targets.push(url.protocol)
    } catch {
      // not a URI: never registered
    }
  }
  return targets
}

const formTargets = new WeakMap<FastifyReply, string[]>()

/** Lets this response's forms end in a redirect to these URIs (see pageCspWithFormTargets). */
export function allowFormTargets(reply: FastifyReply, uris: readonly string[]): void {
  formTargets.set(reply, [...(formTargets.get(reply) ?? []), ...formTargetsOf(uris)])
}

const scripted = new WeakSet<FastifyReply>()

/**
 * Lets this response's page run Kitsune's own scripts (`script-src 'self'`: files it serves, no
 * inline script, no eval). Only the pages that load one call it; every other page's CSP has no
 * script-src, so `default-src 'none'` keeps any script from running there.
 */
export function allowScripts(reply: FastifyReply): void {
  scripted.add(reply)
}

/**
 * The page CSP with Kitsune's own scripts allowed, and their requests to Kitsune (the passkey
 * ceremonies fetch their options).
 */
export function pageCspWithScripts(csp: string): string {
  return csp.replace("style-src 'self'", "script-src 'self'; connect-src 'self'; style-src 'self'")
}

export function pageCspFor(reply: FastifyReply, imageOrigins: readonly string[] = []): string {
  const csp = pageCspWithFormTargets(formTargets.get(reply) ?? [], imageOrigins)
  return scripted.has(reply) ? pageCspWithScripts(csp) : csp
}
