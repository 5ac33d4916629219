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

/**
 * The shape check every verifier runs first (issue 13 item 10): a request whose method or URL is not a
 * string, whose headers are not an object of strings / string lists (a `null` or numeric value), or whose
 * body is not a string or bytes, is a typed `ERR_INVALID_INPUT` verdict, never a TypeError thrown from deep
 * inside a parser. Undefined header values (Node's `IncomingHttpHeaders` has them) are allowed.
 *
 * @example
 * ```ts
 * const bad = invalidReceived(request)
 * if (bad !== undefined) return bad
 * ```
 */
export function invalidReceived(request: unknown): Extract<SchemeVerdict, { ok: false }> | undefined {
  const reject = (message: string) => ({ ok: false as const, code: 'ERR_INVALID_INPUT' as const, message })
  if (request === null || typeof request !== 'object') return reject('request must be { method, url, headers, body? }')
  const r = request as Record<string, unknown>
  if (typeof r['method'] !== 'string') return reject('request method must be a string')
  if (typeof r['url'] !== 'string') return reject('request url must be a string')
  const headers = r['headers']
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return reject('request headers must be an object')
  for (const [name, value] of Object.entries(headers)) {
    const ok = value === undefined || typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))
    if (!ok) return reject(`header ${JSON.stringify(name.slice(0, 64))} must be a string or a list of strings`)
  }
  const body = r['body']
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) return reject('request body must be a string or bytes')
  return undefined
}
