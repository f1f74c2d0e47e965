import { lookup as dnsLookup } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'

/** Resolves a host name to every address it has (the default: the system resolver). */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  )

/** A target Kitsune will not call: the message says why (shown in 422 answers and on deliveries). */
export class TargetRefusedError extends Error {
  override readonly name = 'TargetRefusedError'
}

// Where a webhook must not reach unless WEBHOOKS_ALLOW_PRIVATE=true: the host itself, the private
// network, the cloud metadata service (169.254.169.254) and addresses that are not unicast.
const blocked = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // CGNAT, RFC 6598
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, metadata services
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  blocked.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback, and the deprecated IPv4-compatible ::a.b.c.d
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): reaches the operator's own IPv4 network
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo: the IPv4 inside is obfuscated, so it cannot be checked
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const)
  blocked.addSubnet(net, prefix, 'ipv6')

/** The 16 bytes of an IPv6 literal (with `::` and a trailing dotted quad), or undefined. */
function ipv6Bytes(address: string): Uint8Array | undefined {
  if (isIP(address) !== 6) return undefined
  let text = address
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const groups = (part: string) => (part === '' ? [] : part.split(':'))
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  const all = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  const bytes = new Uint8Array(16)
  all.forEach((group, i) => {
    const value = Number.parseInt(group, 16)
    bytes[i * 2] = value >> 8
    bytes[i * 2 + 1] = value & 0xff
  })
  return bytes
}

const ipv4At = (bytes: Uint8Array, offset: number) => Array.from(bytes.subarray(offset, offset + 4)).join('.')

/**
 * The IPv4 address an IPv6 address reaches through a translation Kitsune's host may take part in:
 * IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d, RFC 6052) and 6to4 (2002:AABB:CCDD::).
 */
function embeddedIpv4(bytes: Uint8Array): string | undefined {
  const zeros = (from: number, to: number) => bytes.subarray(from, to).every((b) => b === 0)
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return ipv4At(bytes, 12)
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zeros(4, 12))
    return ipv4At(bytes, 12)
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return ipv4At(bytes, 2)
  return undefined
}

/**
 * Whether `address` (an IP literal) is loopback, private, link-local, CGNAT, multicast, unspecified,
 * or an IPv6 address that reaches one of those through a translation (mapped, NAT64, 6to4).
 */
export function isDisallowedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const family = isIP(bare)
  if (family === 4) return blocked.check(bare, 'ipv4')
  const bytes = family === 6 ? ipv6Bytes(bare) : undefined
  if (!bytes) return true
  const inner = embeddedIpv4(bytes)
  if (inner !== undefined && blocked.check(inner, 'ipv4')) return true
  return blocked.check(bare, 'ipv6')
}

const refusal = (host: string, address: string) =>
  new TargetRefusedError(
    `${host === address ? address : `${host} resolves to ${address}, which`} is a loopback, private, link-local or otherwise non-public address (set WEBHOOKS_ALLOW_PRIVATE=true to allow it)`,
  )

/** The URL's host without IPv6 brackets. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '')

/**
 * Checks a target before it is stored or called. IP literals are checked here; a host name is
 * resolved and every address checked (a name that does not resolve yet passes: the lookup at
 * delivery, which is what protects, checks again).
 */
export async function checkTarget(url: URL, allowPrivate: boolean, resolve: Resolver): Promise<void> {
  if (allowPrivate) return
  const host = hostOf(url)
  if (isIP(host) !== 0) {
    if (isDisallowedAddress(host)) throw refusal(host, host)
    return
  }
  if (host === 'localhost' || host.endsWith('.localhost')) throw refusal(host, '127.0.0.1')
  let addresses: Array<{ address: string }>
  try {
    addresses = await Promise.race([
      resolve(host),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
    ])
  } catch {
    return
  }
  const bad = addresses.find((a) => isDisallowedAddress(a.address))
  if (bad) throw refusal(host, bad.address)
}

/**
 * The `lookup` the delivery's socket connects with: it resolves the name itself and refuses a
 * disallowed address, so the address checked is the address connected to (a name that resolved to
 * a public address when the endpoint was created and to 127.0.0.1 now, DNS rebinding, is refused).
 */
export function guardedLookup(allowPrivate: boolean, resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const wanted = options.family ? addresses.filter((a) => a.family === options.family) : addresses
        const bad = allowPrivate ? undefined : wanted.find((a) => isDisallowedAddress(a.address))
        const first = wanted[0]
        if (bad) return callback(refusal(hostname, bad.address), '', 0)
        if (!first)
          return callback(
            Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }),
            '',
            0,
          )
        if (options.all) return (callback as unknown as (e: null, a: typeof wanted) => void)(null, wanted)
        callback(null, first.address, first.family)
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    )
  }
}
