// The server side of every scheme speaks one interface, so the mock gateway (and a provider's own
// middleware) can verify any of them, and compose them per operation, without knowing which is which.
import type { ApisignErrorCode } from '../errors.js'
import type { ReceivedRequest } from '../verify/index.js'

/** The verdict of a scheme verifier: who called, or a stable code and a message naming what was wrong. */
export type SchemeVerdict =
  | { readonly ok: true; readonly principal: string; readonly headers?: Readonly<Record<string, string>> }
  | {
      readonly ok: false
      readonly code: ApisignErrorCode
      readonly message: string
      readonly acceptableSignatureBaseString?: string
      /** The HTTP status to answer with when not 401 (OAuth 2.0: 400 at the token endpoint, 403 for scope). */
      readonly status?: number
      /** Headers to answer with (`WWW-Authenticate`, `DPoP-Nonce`). */
      readonly headers?: Readonly<Record<string, string>>
      /** The protocol's own error code (OAuth 2.0 `error`: `invalid_token`, `use_dpop_nonce`, ...). */
      readonly error?: string
    }

/** What the server knows about the operation besides the request (the gateway passes it per operation). */
export interface VerifyContext {
  /** The scopes the operation's security requirement names for this scheme (OAuth 2.0). */
  readonly scopes?: readonly string[]
}

/**
 * Verifies one scheme on a received request (raw body bytes, full URL, headers).
 *
 * @example
 * ```ts
 * const verdict = await verifier.verify({ method: 'GET', url: 'https://api.example.com/v2/users?...', headers, body })
 * if (!verdict.ok) console.log(verdict.code)
 * ```
 */
export interface SchemeVerifier {
  verify(request: ReceivedRequest, context?: VerifyContext): Promise<SchemeVerdict>
}

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
