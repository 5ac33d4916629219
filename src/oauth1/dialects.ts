import { signatureBaseString } from './base-string.js'
import {
  compatBaseStringUri,
  compatParameterString,
  compatParseUrl,
  compatQueryParameters,
  compatSignatureBaseString,
} from './compat.js'
import type { HeaderStyle } from './header.js'
import type { SignatureMethodName } from './methods.js'
import {
  type Parameter,
  collectQueryParameters,
  decodeFormParameters,
  normalizeParameters,
  sortParameters,
} from './parameters.js'
import { baseStringUri, toWireUrl } from './url.js'

/** The three OAuth 1.0a dialects (PRODUCT.md "The OAuth 1.0a dialects"). */
export type OAuth1Dialect = 'mastercard' | 'compat' | 'rfc5849'

/** The canonical request a dialect derives from a URL (and, for RFC 5849, a form body). */
export interface CanonicalRequest {
  /** The URL the signature covers, as a string (wire form, except in compat mode where it is as given). */
  readonly url: string
  /** RFC 5849 §3.4.1.2 base string URI. */
  readonly baseUri: string
  /** Builds the parameter string once the oauth_* parameters are known. */
  readonly parameterString: (oauthParams: readonly Parameter[]) => string
  /**
   * For dialects whose base string is `encode(parameterString)` with no quirks: the sorted raw pairs, so
   * that a signer can encode pair by pair (`encode(a=b&c=d)` is `encode(a)%3Dencode(b)%26...`) and reuse
   * the encoding of pairs that never change (consumer key, method, version).
   */
  readonly sortedParameters?: (oauthParams: readonly Parameter[]) => Parameter[]
}

/**
 * Everything one dialect decides, in one place: how the URL becomes the base URI and parameters, how the
 * base string is encoded, how the header is written, which methods it signs with and whether
 * `oauth_body_hash` is always sent.
 */
export interface DialectEntry {
  readonly name: OAuth1Dialect
  readonly signatureMethods: readonly SignatureMethodName[]
  /** `always` (Mastercard G2, for every method and content type) or `optional` (RFC 5849 extension). */
  readonly bodyHash: 'always' | 'optional'
  /** Order of the oauth_* parameters in the header (the Node reference's, for byte-compatibility). */
  readonly headerStyle: HeaderStyle
  readonly canonicalize: (url: string | URL, formBody: string | undefined) => CanonicalRequest
  readonly baseString: (method: string, baseUri: string, parameterString: string) => string
}

/**
 * The descriptor table of dialects.
 *
 * @example
 * ```ts
 * DIALECTS.mastercard.bodyHash // 'always': oauth_body_hash on every request (rfc5849: 'optional')
 * ```
 */
export const DIALECTS: Readonly<Record<OAuth1Dialect, DialectEntry>> = Object.freeze({
  mastercard: {
    name: 'mastercard',
    signatureMethods: ['RSA-SHA256', 'RSA-PSS'],
    bodyHash: 'always',
    headerStyle: { encode: 'signature-only', separator: ',' },
    canonicalize(url) {
      const wire = toWireUrl(url)
      const query = collectQueryParameters(wire.search)
      return {
        url: wire.href,
        baseUri: baseStringUri(wire),
        // G1: oauth values raw in the parameter string, encoded once with the rest in the base string.
        parameterString: (oauth) => normalizeParameters(query.concat(oauth), { encode: false }),
        sortedParameters: (oauth) => sortParameters(query.concat(oauth)),
      }
    },
    baseString: signatureBaseString,
  },
  compat: {
    name: 'compat',
    signatureMethods: ['RSA-SHA256', 'RSA-PSS'],
    bodyHash: 'always',
    headerStyle: { encode: 'signature-only', separator: ',' },
    canonicalize(url) {
      const text = typeof url === 'string' ? url : url.href
      const parsed = compatParseUrl(text)
      const query = compatQueryParameters(parsed.query)
      return {
        url: text,
        baseUri: compatBaseStringUri(parsed),
        parameterString: (oauth) => compatParameterString(query, oauth),
      }
    },
    baseString: compatSignatureBaseString,
  },
  rfc5849: {
    name: 'rfc5849',
    signatureMethods: ['HMAC-SHA1', 'HMAC-SHA256', 'RSA-SHA256', 'RSA-PSS', 'PLAINTEXT'],
    bodyHash: 'optional',
    headerStyle: { encode: 'all', separator: ', ' },
    canonicalize(url, formBody) {
      const wire = toWireUrl(url)
      // §3.4.1.3.1: query and form-encoded body parameters are decoded, then re-encoded in §3.4.1.3.2.
      const params = decodeFormParameters(wire.search)
      if (formBody !== undefined) params.push(...decodeFormParameters(formBody))
      return {
        url: wire.href,
        baseUri: baseStringUri(wire),
        parameterString: (oauth) => normalizeParameters(params.concat(oauth), { encode: true }),
      }
    },
    baseString: signatureBaseString,
  },
})

/**
 * Resolve a dialect name to its descriptor (`TypeError` for an unknown name: it is a programming error).
 *
 * @example
 * ```ts
 * resolveDialect('rfc5849').headerStyle.encode // 'all'
 * ```
 */
export function resolveDialect(name: string): DialectEntry {
  if (typeof name !== 'string' || !Object.hasOwn(DIALECTS, name)) {
    throw new TypeError(`dialect must be one of ${Object.keys(DIALECTS).join(', ')}`)
  }
  return DIALECTS[name as OAuth1Dialect]
}
