import { hash } from 'node:crypto'
import { describeType } from '../errors.js'
import { assertWellFormed } from './percent-encode.js'

/** A request body as bytes on the wire: a string (sent as UTF-8) or raw bytes. `null`/`undefined` = none. */
export type RequestBody = string | Uint8Array | null | undefined

/**
 * SHA-256 of zero bytes, base64: the body hash of a request without a body (Java #5, Node #7).
 *
 * @example
 * ```ts
 * signRequest({ ...opts, body: undefined }).oauthParams // oauth_body_hash = EMPTY_BODY_HASH
 * ```
 */
export const EMPTY_BODY_HASH = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='

/**
 * The exact bytes of a body: a string as UTF-8, bytes as they are, no body as zero bytes. An object is a
 * `TypeError`: apisign never serialises behind the caller's back, because the hash must cover the bytes the
 * HTTP client sends (Java #33, client-encryption-python #11).
 *
 * @example
 * ```ts
 * bodyBytes('{"a":1}').length // 7
 * ```
 */
export function bodyBytes(body: RequestBody): Uint8Array {
  if (body === null || body === undefined) return new Uint8Array(0)
  if (typeof body === 'string') {
    assertWellFormed(body, 'body')
    return Buffer.from(body, 'utf8')
  }
  if (body instanceof Uint8Array) return body
  throw new TypeError(
    `body must be a string, a Buffer/Uint8Array, null or undefined. Received ${describeType(body)}; ` +
      'serialise it first (e.g. JSON.stringify) and pass the exact string you send',
  )
}

/**
 * `oauth_body_hash` (draft-eaton-oauth-bodyhash-00 §3.2): base64 of the SHA-256 (or SHA-1 for HMAC-SHA1
 * under RFC 5849) digest of the exact body bytes; an absent or empty body hashes as zero bytes.
 *
 * @example
 * ```ts
 * computeBodyHash(null) // '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='
 * computeBodyHash('{"amount":100}')
 * ```
 */
export function computeBodyHash(body: RequestBody, algorithm: 'sha256' | 'sha1' = 'sha256'): string {
  if (algorithm === 'sha256' && (body === null || body === undefined || body === '')) return EMPTY_BODY_HASH
  if (typeof body === 'string') assertWellFormed(body, 'body')
  // A string is hashed as UTF-8 directly: the same bytes as bodyBytes(), without an intermediate copy.
  const data = typeof body === 'string' ? body : bodyBytes(body)
  // `crypto.hash` (Node >= 20.12; apisign needs >= 20.19) hashes in one call, without a Hash object per request.
  return hash(algorithm, data, 'base64')
}
