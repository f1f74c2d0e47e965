/**
 * Node 24 marks parts of WebCrypto as experimental (`SubtleCrypto.supports`, ML-DSA), and the
 * WebAuthn library probes them, so every process would print two ExperimentalWarnings on stderr
 * at its first passkey ceremony. Those two, and only those, are dropped: every other warning is
 * printed as usual.
 */
const emit = process.emitWarning.bind(process)

function isWebCryptoProbe(warning: string | Error, rest: unknown[]): boolean {
  const message = typeof warning === 'string' ? warning : warning.message
  const first = rest[0]
  const type =
    typeof first === 'string'
      ? first
      : ((first as { type?: string } | undefined)?.type ??
        (typeof warning === 'string' ? undefined : warning.name))
  return type === 'ExperimentalWarning' && /Web Crypto API/.test(message)
}

process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (isWebCryptoProbe(warning, rest)) return
  return (emit as (warning: string | Error, ...rest: unknown[]) => void)(warning, ...rest)
}) as typeof process.emitWarning
