// Requests for the OAuth 1.0a differential suite: generated with fast-check from the characters that decide
// how a signer canonicalises (reserved and sub-delimiters, `+`, escapes of every kind, lower-case hex,
// non-ASCII, empty and repeated names), plus the known cases of reference/oauth1.md §4-5, every one given
// as the URL an HTTP client puts on the wire (toWireUrl), which is what apisign signs.
import fc from 'fast-check'
import { toWireUrl } from '../../src/oauth1/index.js'

export interface OAuth1Case {
  readonly id: string
  readonly method: string
  readonly url: string
  readonly body: string | null
  readonly consumerKey: string
}

// Raw characters (the wire form keeps them, or WHATWG escapes them: space, é, ü) and, rarer, escapes; a query
// with any escape is canonicalised differently by Java and Python, so both kinds must be well represented.
const PATH_RAW = ['a', 'Z', '0', '-', '.', '_', '~', '!', '$', '&', "'", '(', ')', '*', '+', ',', ';', '=', ':', '@', 'é', ' ']
const PATH_ESCAPES = ['%20', '%2F', '%3A', '%40', '%C3%A9', '%7E', '%2b']
const QUERY_RAW = ['a', 'Z', '0', '9', '-', '.', '_', '~', '!', '$', '(', ')', '*', ',', ';', ':', '@', '/', '?', '+', '[', ']']
// Space, ' and ü are escaped by the wire form (WHATWG), so they count with the escapes.
const QUERY_ESCAPES = [' ', "'", 'ü', '%20', '%2B', '%3A', '%26', '%3D', '%25', '%7e', '%7E', '%C3%BC', '%2a']
const NAMES = ['a', 'b', 'a-b', 'a_b', 'A', 'z', 'a[]', 'q', 'x1', 'x10', 'x9', 'a%5B%5D', 'café']

const piece = (raw: readonly string[], escapes: readonly string[], max: number) =>
  fc.array(fc.oneof({ arbitrary: fc.constantFrom(...raw), weight: 12 }, { arbitrary: fc.constantFrom(...escapes), weight: 1 }), { maxLength: max }).map((a) => a.join(''))
const pair = fc
  .tuple(fc.oneof(fc.constantFrom(...NAMES), piece(QUERY_RAW.filter((p) => p !== '?'), QUERY_ESCAPES, 3)), fc.option(piece([...QUERY_RAW, '='], QUERY_ESCAPES, 5), { nil: undefined }))
  .map(([n, v]) => (v === undefined ? n : `${n}=${v}`))

const requestArbitrary = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'post'),
  host: fc.constantFrom('api.example.com', 'API.Example.COM', 'sandbox.api.mastercard.com'),
  port: fc.constantFrom('', '', ':443', ':8443'),
  path: fc.array(piece(PATH_RAW, PATH_ESCAPES, 5), { maxLength: 3 }).map((s) => `/${s.join('/')}`),
  query: fc.option(fc.array(pair, { minLength: 1, maxLength: 5 }).map((p) => p.join('&')), { nil: undefined }),
  body: fc.option(fc.oneof(fc.json(), fc.string({ unit: 'grapheme', maxLength: 40 })), { nil: null }),
  consumerKey: fc.constantFrom('ck!abc', 'abc123!def456!ghi', 'key-with_chars.~'),
})

/** The documented cases (reference/oauth1.md §4 and §5), as raw URLs before the wire normalisation. */
const KNOWN: ReadonlyArray<[string, string]> = [
  ['gateway-raw-reserved', 'https://api.example.com/?param=token1:token2'],
  ['gateway-pre-encoded', 'https://api.example.com/?param=token1%3Atoken2'],
  ['gateway-encoded-path', 'https://api.example.com/api/foo%40bar'],
  ['mixed-encoded-and-raw', 'https://api.example.com/v1?a=%20x&b=c:d'],
  ['plus-in-query', 'https://api.example.com/v1?q=hello+world'],
  ['plus-with-other-escape', 'https://api.example.com/v1?a=%20&b=c+d'],
  ['encoded-ampersand-in-value', 'https://api.example.com/v1?q=M%26M%3Dcandy'],
  ['lowercase-hex', 'https://api.example.com/v1?u=%c3%bc'],
  ['tilde-escaped', 'https://api.example.com/v1?u=%7Ex'],
  ['duplicate-identical-pairs', 'https://api.example.com/v1?a=1&a=1'],
  ['duplicate-names-sorted-values', 'https://api.example.com/v1?a=9&a=10&a=B&a=a'],
  ['repeated-name-needing-encoding', 'https://api.example.com/v1?a%20b=1&a%20b=2'],
  ['sort-prefix-keys', 'https://api.example.com/v1?a=1&a%5B%5D=2&a1=3&a-b=4'],
  ['star-twice', 'https://api.example.com/v1?a=*&b=**'],
  ['bang-in-query', 'https://api.example.com/v1?msg=hi!&x=wow!'],
  ['apostrophe-parens', "https://api.example.com/items(1)/it's?q=it's(ok)"],
  ['explicit-443', 'https://api.example.com:443/v1/x'],
  ['port-8443', 'https://api.example.com:8443/v1/x'],
  ['empty-pairs', 'https://api.example.com/v1?a=1&&b=2&'],
  ['empty-key', 'https://api.example.com/v1?=value'],
  ['empty-value-and-flag', 'https://api.example.com/v1?empty=&flag'],
  ['question-mark-only', 'https://api.example.com/v1?'],
  ['semicolon-path-params', 'https://api.example.com/v1/items;v=2'],
  ['unicode-path-and-query', 'https://api.example.com/café?city=Zürich'],
  ['no-path', 'https://api.example.com'],
  ['pipe-in-query', 'https://api.example.com/v1?a=b|c'],
  ['caret-in-path', 'https://api.example.com/v1/a^b'],
  ['sort-names-as-strings', 'https://api.example.com/v1?a=1&a-b=2&a1=3'],
]

/** `count` generated requests (a fixed seed, so a run is reproducible: INTEROP_SEED overrides) and the known ones. */
export function oauth1Cases(count: number, seed = Number(process.env['INTEROP_SEED'] ?? 20261201)): OAuth1Case[] {
  const known = KNOWN.map(([id, url], i): OAuth1Case => ({ id, method: i % 3 === 0 ? 'POST' : 'GET', url: toWireUrl(url).href, body: i % 3 === 0 ? '{"amount":1000,"note":"Zoë"}' : null, consumerKey: 'ck!abc' }))
  const generated = fc.sample(requestArbitrary, { numRuns: count, seed }).map((r, i): OAuth1Case => ({
    id: `generated-${i}`,
    method: r.method,
    url: toWireUrl(`https://${r.host}${r.port}${r.path}${r.query === undefined ? '' : `?${r.query}`}`).href,
    body: r.body,
    consumerKey: r.consumerKey,
  }))
  return [...known, ...generated]
}
