import { ApisignError, describeType } from '../errors.js'
import type { Parameter } from './parameters.js'
import { percentEncode } from './percent-encode.js'

/** How header values are written (RFC 5849 §3.5.1 vs the Mastercard dialect's G3). */
export interface HeaderStyle {
  /**
   * `signature-only`: values raw except `oauth_signature`, which is percent-encoded (Mastercard G3: the
   * gateway takes the others verbatim, C# #2/#6, Python #35). `all`: every value percent-encoded (RFC 5849).
   */
  readonly encode: 'signature-only' | 'all'
  /** Between parameters: `,` (Mastercard reference) or `, ` (common RFC 5849 practice). */
  readonly separator: ',' | ', '
}

const UNSAFE_IN_QUOTES = /["\\\r\n]/

const BASE64_SPECIALS = /[+/=]/g
const BASE64_ESCAPES: Readonly<Record<string, string>> = { '+': '%2B', '/': '%2F', '=': '%3D' }
const BASE64_TEXT = /^[A-Za-z0-9+/=]*$/

// A base64 signature needs only `+`, `/` and `=` escaped (the same result as percentEncode, without a
// full encodeURIComponent pass over ~344 characters on every request).
function encodeSignature(value: string): string {
  return BASE64_TEXT.test(value) ? value.replace(BASE64_SPECIALS, (c) => BASE64_ESCAPES[c] as string) : percentEncode(value)
}

/**
 * Build an `Authorization: OAuth ...` header from oauth_* pairs in the order given, with an optional
 * `realm` first (RFC 5849 §3.5.1; `realm` is not signed).
 *
 * @example
 * ```ts
 * buildAuthorizationHeader([['oauth_consumer_key', 'ck!1'], ['oauth_signature', 'a+b=']],
 *   { encode: 'signature-only', separator: ',' })
 * // 'OAuth oauth_consumer_key="ck!1",oauth_signature="a%2Bb%3D"'
 * ```
 */
export function buildAuthorizationHeader(
  params: readonly Parameter[],
  style: HeaderStyle,
  realm?: string,
): string {
  let out = 'OAuth '
  let first = true
  if (realm !== undefined) {
    if (UNSAFE_IN_QUOTES.test(realm)) {
      throw new ApisignError('ERR_INVALID_INPUT', 'realm must not contain a quote, backslash or line break')
    }
    out += `realm="${realm}"`
    first = false
  }
  for (const [name, value] of params) {
    const wire =
      name === 'oauth_signature'
        ? encodeSignature(value)
        : style.encode === 'all'
          ? percentEncode(value)
          : value
    if (UNSAFE_IN_QUOTES.test(wire)) {
      // A raw value with a quote would break the header grammar and let one parameter smuggle another.
      throw new ApisignError('ERR_INVALID_INPUT', `${name} must not contain a quote, backslash or line break`)
    }
    out += first ? `${name}="${wire}"` : `${style.separator}${name}="${wire}"`
    first = false
  }
  return out
}

/** The parsed form of an `Authorization: OAuth` header: wire values, not yet percent-decoded. */
export interface ParsedAuthorizationHeader {
  /** `realm`, when present (RFC 5849 §3.5.1: not part of the signature). */
  readonly realm: string | undefined
  /** Every other parameter, in header order, values exactly as on the wire. */
  readonly params: readonly Parameter[]
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * Parse an `Authorization: OAuth ...` header strictly (RFC 5849 §3.5.1, RFC 7235 §2.1): the scheme
 * `OAuth` (case-insensitive), then `name="value"` pairs separated by commas with optional whitespace.
 * Unquoted values, backslash escapes, stray text, empty headers and duplicate names are rejected
 * (`ERR_OAUTH1_HEADER_INVALID`, `ERR_OAUTH1_PARAM_DUPLICATE`): a lenient parser lets a request carry two
 * readings of one parameter. Values are returned as on the wire.
 *
 * @example
 * ```ts
 * parseAuthorizationHeader('OAuth oauth_consumer_key="ck",oauth_nonce="n"').params
 * // [['oauth_consumer_key', 'ck'], ['oauth_nonce', 'n']]
 * ```
 */
export function parseAuthorizationHeader(header: string): ParsedAuthorizationHeader {
  if (typeof header !== 'string') {
    throw new TypeError(`header must be a string. Received ${describeType(header)}`)
  }
  const invalid = (why: string) => new ApisignError('ERR_OAUTH1_HEADER_INVALID', `Authorization header ${why}`)
  const match = /^\s*([A-Za-z]+) +/.exec(header)
  if (!match || match[1]?.toLowerCase() !== 'oauth') throw invalid('does not use the OAuth scheme')
  const params: Parameter[] = []
  const seen = new Set<string>()
  let realm: string | undefined
  let i = match[0].length
  const n = header.length
  for (;;) {
    const eq = header.indexOf('=', i)
    if (eq === -1) throw invalid('has a parameter without a value')
    const name = header.slice(i, eq)
    if (!TOKEN.test(name)) throw invalid('has a malformed parameter name')
    if (header[eq + 1] !== '"') throw invalid(`has an unquoted value for ${name}`)
    const close = header.indexOf('"', eq + 2)
    if (close === -1) throw invalid(`has an unterminated value for ${name}`)
    const value = header.slice(eq + 2, close)
    if (value.includes('\\')) throw invalid(`has an escaped value for ${name}`)
    if (seen.has(name)) {
      throw new ApisignError('ERR_OAUTH1_PARAM_DUPLICATE', `Authorization header repeats ${name}`)
    }
    seen.add(name)
    if (name === 'realm') realm = value
    else params.push([name, value])
    i = close + 1
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++
    if (i === n) break
    if (header[i] !== ',') throw invalid('has text between parameters')
    i++
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++
    if (i === n) throw invalid('ends with a comma')
  }
  return { realm, params }
}
