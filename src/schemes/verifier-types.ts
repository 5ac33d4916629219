// The server side of every scheme speaks one interface, so the mock gateway (and a provider's own
// middleware) can verify any of them, and compose them per operation, without knowing which is which.
import type { ApisignErrorCode } from '../errors.js'
import type { ReceivedRequest, SchemeVerdict } from '../pipeline/types.js'

// The interfaces themselves are seam types (src/pipeline/types.ts); re-exported here for the scheme files.
export type { SchemeVerdict, SchemeVerifier, VerifyContext } from '../pipeline/types.js'

/** A secret or key that stops verifying after `notAfter` (rotation: the old one stays valid for its grace period). */
export interface ExpiringSecret {
  readonly secret: string
  /** After this instant (ms since the epoch, or a Date) the secret no longer verifies. */
  readonly notAfter?: number | Date
}

/** Secrets per key id: one, several (current and previous), or a lookup function. */
export type SecretsByKeyId =
  | Readonly<Record<string, string | ExpiringSecret | ReadonlyArray<string | ExpiringSecret>>>
  | ((keyId: string) => ReadonlyArray<string | ExpiringSecret> | undefined | Promise<ReadonlyArray<string | ExpiringSecret> | undefined>)

/** Whether a secret (a bare string never expires) is still valid at `now`, ms. */
export function isLive(entry: string | ExpiringSecret, now: number): boolean {
  if (typeof entry === 'string' || entry.notAfter === undefined) return true
  return (entry.notAfter instanceof Date ? entry.notAfter.getTime() : entry.notAfter) > now
}

/** The secret itself. */
export const secretOf = (entry: string | ExpiringSecret): string => (typeof entry === 'string' ? entry : entry.secret)

/** The secrets of `keyId` still valid at `now`, and whether the key id is known at all. */
export async function liveSecrets(table: SecretsByKeyId, keyId: string, now: number): Promise<{ known: boolean; secrets: string[] }> {
  const entry = typeof table === 'function' ? await table(keyId) : Object.hasOwn(table, keyId) ? table[keyId] : undefined
  if (entry === undefined) return { known: false, secrets: [] }
  const list = (Array.isArray(entry) ? entry : [entry]) as ReadonlyArray<string | ExpiringSecret>
  return { known: true, secrets: list.filter((item) => isLive(item, now)).map(secretOf) }
}

/** A failed verdict. */
export const fail = (code: ApisignErrorCode, message: string): SchemeVerdict => ({ ok: false, code, message })

/** Lower-cased single header value (the first of a repeated header is not trusted: repeated = refused). */
export function headerValue(headers: ReceivedRequest['headers'], name: string): string | undefined | null {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase())
  if (key === undefined) return undefined
  const value = headers[key]
  if (value === undefined) return undefined
  if (Array.isArray(value)) return value.length === 1 ? (value[0] as string) : null
  return value as string
}

export const bodyBytes = (body: ReceivedRequest['body']): Buffer =>
  body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
