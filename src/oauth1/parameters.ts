import { percentEncode } from './percent-encode.js'

/** A name/value pair as it enters the parameter string (RFC 5849 §3.4.1.3). */
export type Parameter = readonly [name: string, value: string]

/**
 * Mastercard dialect: the query parameters exactly as on the wire (reference/oauth1.md §0.2, Java #12,
 * C# #1). Pieces are split on `&` and at the first `=`; names and values are never decoded or re-encoded
 * (`%c3` stays lower case, `+` stays `+`), duplicates are kept, a piece without `=` has an empty value.
 * Empty pieces (`&&`, a trailing `&`) are skipped, as the URL and form standards do: no gateway evidence
 * says otherwise (PRODUCT.md leaves this corner to us). `?=v` gives the name `""` and the value `v`.
 *
 * @param search - the query with or without its leading `?` (`URL#search`)
 * @example
 * ```ts
 * collectQueryParameters('?b=2&a=%3A&flag') // [['b','2'], ['a','%3A'], ['flag','']]
 * ```
 */
export function collectQueryParameters(search: string): Parameter[] {
  const query = search.startsWith('?') ? search.slice(1) : search
  const pairs: Parameter[] = []
  if (query === '') return pairs
  for (const piece of query.split('&')) {
    if (piece === '') continue
    const eq = piece.indexOf('=')
    pairs.push(eq === -1 ? [piece, ''] : [piece.slice(0, eq), piece.slice(eq + 1)])
  }
  return pairs
}

/**
 * RFC 5849 §3.4.1.3.1: decode `application/x-www-form-urlencoded` text (a query or a form body) into
 * name/value pairs, using the WHATWG form parser (`+` is a space, invalid escapes are kept literally,
 * empty pieces skipped).
 *
 * @example
 * ```ts
 * decodeFormParameters('a=1&b=two+words&c=%21') // [['a','1'], ['b','two words'], ['c','!']]
 * ```
 */
export function decodeFormParameters(text: string): Parameter[] {
  const pairs: Parameter[] = []
  for (const [name, value] of new URLSearchParams(text)) pairs.push([name, value])
  return pairs
}

const compareCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * RFC 5849 §3.4.1.3.2 parameter normalisation: sort by name, then by value, in code-unit order, and join as
 * `name=value` with `&`. With `encode: true` (RFC 5849) names and values are percent-encoded first and the
 * encoded forms are sorted; with `encode: false` (Mastercard dialect, global divergence G1) they are used as
 * given: the wire text of the query and the raw oauth_* values.
 *
 * @example
 * ```ts
 * normalizeParameters([['b', '2'], ['a', '3'], ['a', '1']], { encode: false }) // 'a=1&a=3&b=2'
 * ```
 */
export function normalizeParameters(
  pairs: readonly Parameter[],
  options: { readonly encode: boolean },
): string {
  const list = sortParameters(
    options.encode ? pairs.map(([name, value]) => [percentEncode(name), percentEncode(value)] as const) : pairs,
  )
  let out = ''
  for (let i = 0; i < list.length; i++) {
    const pair = list[i] as Parameter
    out += i === 0 ? `${pair[0]}=${pair[1]}` : `&${pair[0]}=${pair[1]}`
  }
  return out
}

/**
 * A sorted copy of `pairs`: by name, then by value, in code-unit order (RFC 5849 §3.4.1.3.2).
 *
 * @example
 * ```ts
 * sortParameters([['b', '1'], ['a', '2'], ['a', '1']]) // [['a','1'], ['a','2'], ['b','1']]
 * ```
 */
export function sortParameters(pairs: readonly Parameter[]): Parameter[] {
  return pairs.slice().sort((x, y) => compareCodeUnits(x[0], y[0]) || compareCodeUnits(x[1], y[1]))
}
