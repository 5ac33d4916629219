import { ApisignError } from '../errors.js'

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Throw `ERR_INVALID_INPUT` when `value` holds a lone UTF-16 surrogate. Such a string has no UTF-8 form:
 * `encodeURIComponent` throws on it and `Buffer.from` silently replaces it with U+FFFD, so the bytes signed
 * would not be the text the caller meant. `what` names the input (never its value).
 *
 * @example
 * ```ts
 * assertWellFormed(consumerKey, 'consumerKey')
 * ```
 */
export function assertWellFormed(value: string, what: string): void {
  if (LONE_SURROGATE.test(value)) {
    throw new ApisignError('ERR_INVALID_INPUT', `${what} contains a lone UTF-16 surrogate (not valid Unicode)`)
  }
}

const EXTRA_RESERVED = /[!'()*]/g
const escapeExtra = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase()}`

/**
 * RFC 3986 §2.1 / RFC 5849 §3.6 percent-encoding: every octet of the UTF-8 form except the unreserved set
 * `ALPHA / DIGIT / "-" / "." / "_" / "~"` becomes `%XX` with upper-case hex. `encodeURIComponent` leaves
 * `!'()*` raw, so they are escaped here (the Node reference escapes only the first `*` and `!`:
 * oauth1-signer-nodejs PR #12).
 *
 * @example
 * ```ts
 * percentEncode("it's (ok)!") // "it%27s%20%28ok%29%21"
 * ```
 */
export function percentEncode(value: string): string {
  let encoded: string
  try {
    encoded = encodeURIComponent(value)
  } catch {
    throw new ApisignError('ERR_INVALID_INPUT', 'value to percent-encode contains a lone UTF-16 surrogate')
  }
  return EXTRA_RESERVED.test(encoded) ? encoded.replace(EXTRA_RESERVED, escapeExtra) : encoded
}
