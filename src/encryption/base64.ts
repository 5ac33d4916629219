import { ApisignError } from '../errors.js'

/**
 * Strict base64url without padding (RFC 7515 §2), what every JWE segment we emit uses. The reference
 * library leaves `/` in place (client-encryption-nodejs #103), which no standard decoder reads.
 *
 * @example
 * ```ts
 * base64url(Buffer.from([0xfb, 0xff])) // '-_8'
 * ```
 */
export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

const LENIENT = /^[A-Za-z0-9+/_-]*={0,2}$/

/**
 * Decode a segment leniently, as peers really send them: base64url or standard base64 (`+/`), padded or
 * not (the reference's "base64url" keeps `/`; Java pads). Anything else is `ERR_JWE_INVALID` naming the
 * segment, never quoting it.
 *
 * @example
 * ```ts
 * decodeSegment('-_8', 'iv') // <Buffer fb ff>
 * ```
 */
export function decodeSegment(text: string, label: string): Buffer {
  if (!LENIENT.test(text) || text.length % 4 === 1) {
    throw new ApisignError('ERR_JWE_INVALID', `JWE ${label} is not base64url`)
  }
  // Node's base64url decoder also reads the `+/` alphabet and ignores padding; the pattern above has
  // already refused every other character, so nothing is skipped silently.
  return Buffer.from(text, 'base64url')
}
