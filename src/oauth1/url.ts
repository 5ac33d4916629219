import { ApisignError, describeType } from '../errors.js'
import { assertWellFormed } from './percent-encode.js'

/**
 * Parse `url` the way an HTTP client puts it on the wire: WHATWG URL parsing (host lower-cased, default port
 * dropped, raw spaces, quotes and non-ASCII percent-encoded, dot segments resolved) with the fragment
 * removed. That is all the gateway sees, so it is what the signature must cover (reference/oauth1.md §8.2).
 * Only absolute `http:` and `https:` URLs are accepted.
 *
 * @example
 * ```ts
 * toWireUrl('https://API.example.com:443/a/./b?q=café#x').href // 'https://api.example.com/a/b?q=caf%C3%A9'
 * ```
 */
export function toWireUrl(url: string | URL): URL {
  if (typeof url !== 'string' && !(url instanceof URL)) {
    throw new TypeError(`url must be a string or a URL. Received ${describeType(url)}`)
  }
  const text = typeof url === 'string' ? url : url.href
  assertWellFormed(text, 'url')
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    throw new ApisignError('ERR_INVALID_URL', 'url must be an absolute http(s) URL (could not parse it)')
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ApisignError('ERR_INVALID_URL', `url scheme must be http or https (got ${parsed.protocol})`)
  }
  parsed.hash = ''
  return parsed
}

/**
 * RFC 5849 §3.4.1.2 base string URI of a wire-form URL: scheme and host lower-case, the port only when it is
 * not the scheme's default, IPv6 hosts in brackets, the path exactly as on the wire; no userinfo, query or
 * fragment.
 *
 * @example
 * ```ts
 * baseStringUri(toWireUrl('https://api.example.com:8443/v1/items?x=1')) // 'https://api.example.com:8443/v1/items'
 * ```
 */
export function baseStringUri(url: URL): string {
  // WHATWG `host` already omits a default port and keeps IPv6 brackets; `pathname` is "/" when empty.
  return `${url.protocol}//${url.host}${url.pathname}`
}
