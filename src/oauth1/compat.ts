// Byte-compatibility with npm `mastercard-oauth1-signer` 1.2.0 (`src/OAuth.js`), defects included, for users
// who must match an existing deployment. Each quirk below is documented in reference/oauth1.md §2 and §6;
// the default `mastercard` dialect fixes them all.
import { parse as legacyParse } from 'node:url'
import { ApisignError } from '../errors.js'
import type { Parameter } from './parameters.js'
import { assertWellFormed } from './percent-encode.js'

interface LegacyUrl {
  readonly protocol: string
  readonly hostname: string
  readonly port: string | null
  readonly pathname: string
  readonly query: string | null
}

/**
 * Parse `url` with the legacy `url.parse`, as the reference does (it lower-cases the host, escapes a few
 * characters such as space and `'`, keeps non-ASCII and dot segments raw, drops the fragment).
 *
 * @example
 * ```ts
 * compatParseUrl('https://API.example.com:443/x?a=1').port // '443'
 * ```
 */
export function compatParseUrl(url: string): LegacyUrl {
  if (typeof url !== 'string') throw new TypeError('url must be a string in compat mode')
  assertWellFormed(url, 'url')
  const parsed = legacyParse(url)
  if (!parsed.protocol || !parsed.hostname) {
    throw new ApisignError('ERR_INVALID_URL', 'url must be an absolute http(s) URL (no scheme or host)')
  }
  const protocol = parsed.protocol.toLowerCase()
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new ApisignError('ERR_INVALID_URL', `url scheme must be http or https (got ${protocol})`)
  }
  return {
    protocol,
    hostname: parsed.hostname,
    port: parsed.port ?? null,
    pathname: parsed.pathname ?? '/',
    query: typeof parsed.query === 'string' ? parsed.query : null,
  }
}

/**
 * The reference's base URI: an explicit port is always kept (it compares the string port with the
 * numbers 443 and 80), IPv6 brackets are lost, the path is as `url.parse` left it.
 *
 * @example
 * ```ts
 * compatBaseStringUri(compatParseUrl('https://a.example.com:443/v1')) // 'https://a.example.com:443/v1'
 * ```
 */
export function compatBaseStringUri(url: LegacyUrl): string {
  const port = url.port !== null && url.port !== '' ? `:${url.port}` : ''
  return `${url.protocol}//${url.hostname.toLowerCase()}${port}${url.pathname}`
}

/**
 * The reference's query parameters: raw pieces split on `&`; the name is the text before the first `=`
 * only when that `=` is not the first character; identical values of one name are collapsed (a `Set`).
 * Empty pieces give an empty name.
 *
 * @example
 * ```ts
 * compatQueryParameters('a=1&a=1&=v') // Map { 'a' => Set {'1'}, '=v' => Set {''} }
 * ```
 */
export function compatQueryParameters(query: string | null): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>()
  if (!query) return map
  for (const piece of query.split('&')) {
    const eq = piece.indexOf('=')
    const name = eq > 0 ? piece.slice(0, eq) : piece
    const value = eq > 0 && piece.length > eq + 1 ? piece.slice(eq + 1) : ''
    let values = map.get(name)
    if (values === undefined) map.set(name, (values = new Set()))
    values.add(value)
  }
  return map
}

/**
 * The reference's parameter string: oauth values added to the query map; names ordered by the default
 * `Array#sort` of `[name, Set]` entries, i.e. by the string `name + ",[object Set]"` (so `a%5B%5D` sorts
 * before `a`); values sorted only when a name has more than one.
 *
 * @example
 * ```ts
 * compatParameterString(new Map([['a', new Set(['1'])]]), [['oauth_nonce', 'n']]) // 'a=1&oauth_nonce=n'
 * ```
 */
export function compatParameterString(
  query: ReadonlyMap<string, ReadonlySet<string>>,
  oauthParams: readonly Parameter[],
): string {
  const merged = new Map<string, Set<string>>()
  for (const [name, values] of query) merged.set(name, new Set(values))
  for (const [name, value] of oauthParams) {
    const values = merged.get(name)
    if (values === undefined) merged.set(name, new Set([value]))
    else values.add(value)
  }
  const names = [...merged.keys()].map((name) => [`${name},[object Set]`, name] as const)
  // Map keys are distinct, so two sort keys are never equal.
  names.sort((x, y) => (x[0] < y[0] ? -1 : 1))
  const parts: string[] = []
  for (const [, name] of names) {
    const values = [...(merged.get(name) as Set<string>)]
    if (values.length > 1) values.sort()
    for (const value of values) parts.push(`${name}=${value}`)
  }
  return parts.join('&')
}

/**
 * The reference's signature base string: `encodeURIComponent` everywhere, then only the first `*` of the
 * parameter part and the first `!` of the whole string escaped (oauth1-signer-nodejs PR #12).
 *
 * @example
 * ```ts
 * compatSignatureBaseString('get', 'https://a.example.com/', 'a=*&b=**') // '...a%3D%2A%26b%3D**'
 * ```
 */
export function compatSignatureBaseString(method: string, baseUri: string, parameterString: string): string {
  const params = encodeURIComponent(parameterString).replace('*', '%2A')
  return `${method.toUpperCase()}&${encodeURIComponent(baseUri)}&${params}`.replace('!', '%21')
}
