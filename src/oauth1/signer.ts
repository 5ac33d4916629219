import { KeyObject, createHash } from 'node:crypto'
import { type KeySource, loadSigningKey } from '../keys/index.js'
import { ApisignError, describeType } from '../errors.js'
import { type RequestBody, bodyBytes, computeBodyHash } from './body-hash.js'
import { type DialectEntry, type OAuth1Dialect, resolveDialect } from './dialects.js'
import { buildAuthorizationHeader } from './header.js'
import {
  type SignatureMethod,
  type SignatureMethodName,
  type SigningMaterial,
  assertRsaKey,
  decodeBase64Strict,
  resolveSignatureMethod,
  signBaseString,
  signBaseStringAsync,
} from './methods.js'
import { type RandomFill, generateNonce } from './nonce.js'
import type { Parameter } from './parameters.js'
import { assertWellFormed, percentEncode } from './percent-encode.js'

/**
 * A signing key as {@link signRequest} takes it: anything `loadSigningKey` from `apisign/keys` takes (a
 * `KeyObject`, PEM text, a file path, DER/PKCS#12 bytes, `{ p12, alias, password }`). It is loaded once per
 * signer (and cached across `signRequest` calls); a `KeyObject` is used as is.
 */
export type SigningKeyInput = KeySource

/** Options that stay the same for every request of one consumer: see {@link createOAuth1Signer}. */
export interface OAuth1SignerOptions {
  /** The consumer key issued by the partner's developer portal. */
  readonly consumerKey: string
  /** Private RSA key for RSA-SHA256 / RSA-PSS. Loaded (and converted to a `KeyObject`) once. */
  readonly key?: SigningKeyInput
  /** `mastercard` (default), `compat` (byte-identical to mastercard-oauth1-signer 1.2.0) or `rfc5849`. */
  readonly dialect?: OAuth1Dialect
  /** Default `RSA-SHA256`. `RSA-PSS` (alias `RSA-PSS-SHA256`) signs PSS with a 32-byte salt. */
  readonly signatureMethod?: SignatureMethodName | 'RSA-PSS-SHA256'
  /** RFC 5849 HMAC-* / PLAINTEXT: the consumer secret. */
  readonly consumerSecret?: string
  /** RFC 5849: `oauth_token`, when the request is made on behalf of a resource owner. */
  readonly token?: string
  /** RFC 5849 HMAC-* / PLAINTEXT: the token secret (empty when there is no token). */
  readonly tokenSecret?: string
  /** RFC 5849: `realm` in the header (never signed). */
  readonly realm?: string
  /**
   * RFC 5849 only: add `oauth_body_hash` (draft-eaton-oauth-bodyhash-00) to every request whose body is not
   * form-encoded. The Mastercard dialects always send it.
   */
  readonly bodyHash?: boolean
  /** Clock in milliseconds (default `Date.now`); the timestamp is `floor(now() / 1000)`. */
  readonly now?: () => number
  /** Randomness for nonces (default `crypto.randomFillSync`). */
  readonly randomFill?: RandomFill
}

/** One request to sign. */
export interface OAuth1Request {
  /** HTTP method (case-insensitive; signed upper-case). */
  readonly method: string
  /** Absolute URL. Mastercard and RFC 5849 dialects sign its wire form (see `toWireUrl`). */
  readonly url: string | URL
  /** The exact body bytes that will be sent: a string (UTF-8) or bytes. Objects are refused. */
  readonly body?: RequestBody
  /** RFC 5849: a form-encoded body (`application/x-www-form-urlencoded`) is signed as parameters. */
  readonly contentType?: string
  /**
   * `oauth_body_hash` computed elsewhere, for a body that is streamed rather than held (base64 of the
   * signature method's digest of the exact bytes). Instead of `body`, never with it.
   */
  readonly precomputedBodyHash?: string
  /** Injected `oauth_nonce` (tests and vectors); used exactly as given. Default: 22 random base62 chars. */
  readonly nonce?: string
  /** Injected `oauth_timestamp` in seconds; used exactly as given. Default: from the clock. */
  readonly timestamp?: number | string
}

/** Everything a signature was made of, for logging shapes, debugging mismatches and the CLI. */
export interface OAuth1Signature {
  /** The `Authorization` header value. */
  readonly authorizationHeader: string
  /** RFC 5849 §3.4.1.1 signature base string. */
  readonly signatureBaseString: string
  /** RFC 5849 §3.4.1.2 base string URI. */
  readonly baseUri: string
  /** RFC 5849 §3.4.1.3.2 normalised parameter string. */
  readonly parameterString: string
  /** `oauth_body_hash`, or `undefined` when the dialect did not send one. */
  readonly bodyHash: string | undefined
  /** The signature, base64 (before the header's percent-encoding). */
  readonly signature: string
  /** The URL signed (wire form in the mastercard and rfc5849 dialects). */
  readonly url: string
  readonly nonce: string
  readonly timestamp: string
  /** The oauth_* parameters in header order, signature last, values before header encoding. */
  readonly oauthParams: readonly Parameter[]
}

/** A signer bound to one consumer and key: the fast path for services signing many requests. */
export interface OAuth1Signer {
  /** Sign synchronously (RSA-2048 blocks the event loop for ~0.3 ms). */
  sign(request: OAuth1Request): OAuth1Signature
  /** Sign with the RSA operation in the libuv threadpool; the event loop stays free. */
  signAsync(request: OAuth1Request): Promise<OAuth1Signature>
  /** The resolved dialect. */
  readonly dialect: OAuth1Dialect
  /** The resolved signature method name as sent in `oauth_signature_method`. */
  readonly signatureMethod: SignatureMethodName
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/**
 * Upper-case and check an HTTP method name; `ERR_INVALID_METHOD` for anything but the methods an API
 * client sends (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS).
 *
 * @example
 * ```ts
 * normalizeMethod('post') // 'POST'
 * ```
 */
export function normalizeMethod(method: string): string {
  if (typeof method !== 'string') throw new TypeError(`method must be a string. Received ${describeType(method)}`)
  const upper = method.toUpperCase()
  if (!METHODS.has(upper)) {
    throw new ApisignError('ERR_INVALID_METHOD', `unsupported HTTP method ${JSON.stringify(method.slice(0, 16))}`)
  }
  return upper
}

const FORM = /^\s*application\/x-www-form-urlencoded\s*(?:;|$)/i

// Key sources are loaded once and cached: re-parsing a PEM on every call is what makes the README usage of
// the reference ~3x slower (reference/oauth1.md §7). Strings (PEM text or a path) are keyed by a digest,
// never by the text itself (cf. smithy's signing-key cache); objects ({ p12, ... }) by identity.
const stringKeyCache = new Map<string, KeyObject>()
const objectKeyCache = new WeakMap<object, KeyObject>()
const STRING_CACHE_LIMIT = 32

function resolveKey(key: SigningKeyInput | undefined): KeyObject | undefined {
  if (key === undefined || key instanceof KeyObject) return key
  if (typeof key === 'string') {
    const id = createHash('sha256').update(key).digest('base64')
    const cached = stringKeyCache.get(id)
    if (cached) return cached
    const loaded = loadSigningKey(key)
    if (stringKeyCache.size >= STRING_CACHE_LIMIT) stringKeyCache.delete(stringKeyCache.keys().next().value as string)
    stringKeyCache.set(id, loaded)
    return loaded
  }
  if (key !== null && typeof key === 'object' && !(key instanceof Uint8Array)) {
    const cached = objectKeyCache.get(key)
    if (cached) return cached
    const loaded = loadSigningKey(key)
    objectKeyCache.set(key, loaded)
    return loaded
  }
  return loadSigningKey(key)
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string. Received ${describeType(value)}`)
  if (value === '') throw new ApisignError('ERR_INVALID_INPUT', `${what} must not be empty`)
  assertWellFormed(value, what)
  return value
}

function timestampOf(request: OAuth1Request, now: () => number): string {
  const ts = request.timestamp
  if (ts === undefined) return String(Math.floor(now() / 1000))
  if (typeof ts === 'number') {
    if (!Number.isSafeInteger(ts) || ts < 0) {
      throw new ApisignError('ERR_INVALID_INPUT', 'timestamp must be a non-negative integer number of seconds')
    }
    return String(ts)
  }
  if (typeof ts === 'string' && /^\d{1,15}$/.test(ts)) return ts
  throw new ApisignError('ERR_INVALID_INPUT', 'timestamp must be integer seconds (a number or a string of digits)')
}

interface Prepared {
  readonly baseString: string
  readonly finish: (signature: string) => OAuth1Signature
}

/**
 * Create a signer for one consumer: validates options and loads the key once, then signs each request
 * with no per-call parsing beyond the URL. Signing happens in one pass: canonical URL → body hash →
 * oauth params → parameter string → base string → signature → header.
 *
 * @example
 * ```ts
 * import { createOAuth1Signer } from 'apisign/oauth1'
 * import { loadSigningKey } from 'apisign/keys'
 * const signer = createOAuth1Signer({ consumerKey: 'ck!abc', key: loadSigningKey('./signing.p12', { alias: 'keyalias', password }) })
 * const body = JSON.stringify({ amount: 100 })
 * const { authorizationHeader } = signer.sign({ method: 'POST', url: 'https://sandbox.api.example.com/v1/payments', body })
 * ```
 */
export function createOAuth1Signer(options: OAuth1SignerOptions): OAuth1Signer {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object. Received ${describeType(options)}`)
  }
  const dialect: DialectEntry = resolveDialect(options.dialect ?? 'mastercard')
  const method: SignatureMethod = resolveSignatureMethod(options.signatureMethod ?? 'RSA-SHA256')
  if (!dialect.signatureMethods.includes(method.name)) {
    throw new ApisignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `the ${dialect.name} dialect does not sign with ${method.name} (use one of ${dialect.signatureMethods.join(', ')})`,
    )
  }
  const consumerKey = checkText(options.consumerKey, 'consumerKey')
  const token = options.token === undefined ? undefined : checkText(options.token, 'token')
  if (dialect.name !== 'rfc5849' && (token !== undefined || options.realm !== undefined)) {
    throw new TypeError('token and realm are RFC 5849 options; use dialect: "rfc5849"')
  }
  if (dialect.bodyHash === 'always' && options.bodyHash === false) {
    throw new TypeError(`the ${dialect.name} dialect always sends oauth_body_hash (Java #5); bodyHash: false is not allowed`)
  }
  let material: SigningMaterial
  if (method.family === 'rsa') {
    const key = resolveKey(options.key)
    assertRsaKey(key, 'sign')
    material = { key }
  } else {
    if (typeof options.consumerSecret !== 'string') {
      throw new TypeError(`consumerSecret (a string) is required for ${method.name}`)
    }
    material =
      options.tokenSecret === undefined
        ? { consumerSecret: options.consumerSecret }
        : { consumerSecret: options.consumerSecret, tokenSecret: options.tokenSecret }
  }
  const sendBodyHash = dialect.bodyHash === 'always' || options.bodyHash === true
  const now = options.now ?? Date.now
  const randomFill = options.randomFill
  const realm = options.realm

  // Pairs that are the same on every request (consumer key, method, version) are encoded once. The cache
  // is keyed by name and checked against the value, so a query parameter of the same name (a query
  // `oauth_version=2`) is never given the cached encoding of another value.
  const constantPairs = new Map<string, readonly [value: string, encoded: string]>()
  const encodePair = (pair: Parameter): string => {
    const [name, value] = pair
    const hit = constantPairs.get(name)
    if (hit !== undefined && hit[0] === value) return hit[1]
    const encoded = `${percentEncode(name)}%3D${percentEncode(value)}`
    if (name === 'oauth_consumer_key' || name === 'oauth_signature_method' || name === 'oauth_version') {
      if (value === consumerKey || value === method.name || value === '1.0') constantPairs.set(name, [value, encoded])
    }
    return encoded
  }

  function prepare(request: OAuth1Request): Prepared {
    if (request === null || typeof request !== 'object') {
      throw new TypeError(`request must be an object. Received ${describeType(request)}`)
    }
    const httpMethod = normalizeMethod(request.method)
    const isForm =
      dialect.name === 'rfc5849' && request.contentType !== undefined && FORM.test(request.contentType)
    const formBody = isForm ? Buffer.from(bodyBytes(request.body)).toString('utf8') : undefined
    const canonical = dialect.canonicalize(request.url, formBody)
    // Compat hashes any falsy payload as "" as the reference does; bodyBytes() refuses objects for all.
    let bodyHash: string | undefined
    if (request.precomputedBodyHash !== undefined) {
      if (request.body !== undefined && request.body !== null) throw new TypeError('give body or precomputedBodyHash, not both')
      if (typeof request.precomputedBodyHash !== 'string' || decodeBase64Strict(request.precomputedBodyHash)?.length !== (method.digest === 'sha1' ? 20 : 32)) {
        throw new TypeError(`precomputedBodyHash must be the base64 ${method.digest} digest of the body`)
      }
      if (isForm) throw new ApisignError('ERR_BODY_UNSUPPORTED', 'an RFC 5849 form body is signed as parameters: it must be given as bytes, not as a precomputed body hash')
      bodyHash = sendBodyHash ? request.precomputedBodyHash : undefined
    } else bodyHash = sendBodyHash && !isForm ? computeBodyHash(request.body ?? null, method.digest) : undefined
    const nonce = request.nonce === undefined ? generateNonce(randomFill) : checkText(request.nonce, 'nonce')
    const timestamp = timestampOf(request, now)
    const oauth: Parameter[] =
      dialect.name === 'rfc5849'
        ? [
            ['oauth_consumer_key', consumerKey],
            ...(token === undefined ? [] : [['oauth_token', token] as const]),
            ['oauth_signature_method', method.name],
            ['oauth_timestamp', timestamp],
            ['oauth_nonce', nonce],
            ['oauth_version', '1.0'],
            ...(bodyHash === undefined ? [] : [['oauth_body_hash', bodyHash] as const]),
          ]
        : [
            // The Node reference's order, kept for byte-compatibility of the header (reference §2.8).
            ['oauth_body_hash', bodyHash as string],
            ['oauth_consumer_key', consumerKey],
            ['oauth_nonce', nonce],
            ['oauth_signature_method', method.name],
            ['oauth_timestamp', timestamp],
            ['oauth_version', '1.0'],
          ]
    let parameterString: string
    let baseString: string
    if (canonical.sortedParameters !== undefined) {
      const sorted = canonical.sortedParameters(oauth)
      let raw = ''
      let encoded = ''
      for (let i = 0; i < sorted.length; i++) {
        const pair = sorted[i] as Parameter
        raw += i === 0 ? `${pair[0]}=${pair[1]}` : `&${pair[0]}=${pair[1]}`
        encoded += i === 0 ? encodePair(pair) : `%26${encodePair(pair)}`
      }
      parameterString = raw
      baseString = `${httpMethod}&${percentEncode(canonical.baseUri)}&${encoded}`
    } else {
      parameterString = canonical.parameterString(oauth)
      baseString = dialect.baseString(httpMethod, canonical.baseUri, parameterString)
    }
    return {
      baseString,
      finish(signature) {
        const oauthParams: Parameter[] = [...oauth, ['oauth_signature', signature]]
        return {
          authorizationHeader: buildAuthorizationHeader(oauthParams, dialect.headerStyle, realm),
          signatureBaseString: baseString,
          baseUri: canonical.baseUri,
          parameterString,
          bodyHash,
          signature,
          url: canonical.url,
          nonce,
          timestamp,
          oauthParams,
        }
      },
    }
  }

  return Object.freeze({
    dialect: dialect.name,
    signatureMethod: method.name,
    sign(request: OAuth1Request): OAuth1Signature {
      const prepared = prepare(request)
      return prepared.finish(signBaseString(prepared.baseString, method, material))
    },
    async signAsync(request: OAuth1Request): Promise<OAuth1Signature> {
      const prepared = prepare(request)
      return prepared.finish(await signBaseStringAsync(prepared.baseString, method, material))
    },
  })
}

/** Options of {@link signRequest}: the signer's options and the request's, in one object. */
export type SignRequestOptions = OAuth1SignerOptions & OAuth1Request


/**
 * Sign one request (one-shot form of {@link createOAuth1Signer}). The signer it builds is kept (per key,
 * consumer key and options), and a PEM string key is parsed once and cached, so calling it per request
 * costs what a kept signer does.
 *
 * @example
 * ```ts
 * import { signRequest } from 'apisign/oauth1'
 * const body = JSON.stringify({ amount: 100 })
 * const { authorizationHeader } = signRequest({
 *   method: 'POST', url: 'https://sandbox.api.example.com/v1/payments', body,
 *   consumerKey: 'ck!abc', key: privateKeyObject,
 * })
 * ```
 */
export function signRequest(options: SignRequestOptions): OAuth1Signature {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object. Received ${describeType(options)}`)
  // One object is both: the signer reads only its options, prepare() only the request's fields; no copies.
  return oneShotSigner(options).sign(options)
}

// The one-shot forms keep the signer they built (issue 15 item 7: rebuilding it per call cost more than
// all the other non-RSA work), keyed by what makes a signer: the key (by identity, a string key by its
// digest as resolveKey does), the consumer key and options, and the clock and randomness by identity.
// Secrets (HMAC consumer and token secrets) are never part of a cache key: those calls build afresh.
const signersByKey = new WeakMap<object, Map<string, OAuth1Signer>>()
const signersByKeyText = new Map<string, OAuth1Signer>()
const functionIds = new WeakMap<object, number>()
const PER_KEY_LIMIT = 16
let nextFunctionId = 1
const idOf = (fn: unknown): string => {
  if (fn === undefined) return ''
  if (typeof fn !== 'function') return '?'
  let id = functionIds.get(fn)
  if (id === undefined) functionIds.set(fn, (id = nextFunctionId++))
  return String(id)
}

function oneShotSigner(options: OAuth1SignerOptions): OAuth1Signer {
  if (options === null || typeof options !== 'object' || typeof options.consumerKey !== 'string' || options.consumerSecret !== undefined || options.tokenSecret !== undefined) {
    return createOAuth1Signer(options)
  }
  // The common call names only the consumer key; anything else goes into the cache key too.
  const plain = options.dialect === undefined && options.signatureMethod === undefined && options.token === undefined && options.realm === undefined && options.bodyHash === undefined && options.now === undefined && options.randomFill === undefined
  const rest = plain ? `=${options.consumerKey}` : [options.consumerKey, options.dialect ?? '', options.signatureMethod ?? '', options.token ?? '', options.realm ?? '', String(options.bodyHash), idOf(options.now), idOf(options.randomFill)].join('\u0000')
  const key = options.key
  let table: Map<string, OAuth1Signer>
  let id = rest
  if (typeof key === 'string') {
    table = signersByKeyText
    id = `${createHash('sha256').update(key).digest('base64')}\u0000${rest}`
  } else if (key !== null && typeof key === 'object' && !(key instanceof Uint8Array)) {
    table = signersByKey.get(key) ?? new Map()
    signersByKey.set(key, table)
  } else return createOAuth1Signer(options)
  const hit = table.get(id)
  if (hit !== undefined) return hit
  const built = createOAuth1Signer(options)
  if (table.size >= (table === signersByKeyText ? STRING_CACHE_LIMIT : PER_KEY_LIMIT)) table.delete(table.keys().next().value as string)
  table.set(id, built)
  return built
}

/**
 * Like {@link signRequest}, with the RSA operation in the libuv threadpool so the event loop is never
 * blocked while signing.
 *
 * @example
 * ```ts
 * const { authorizationHeader } = await signRequestAsync({ method: 'GET', url, consumerKey, key })
 * ```
 */
export async function signRequestAsync(options: SignRequestOptions): Promise<OAuth1Signature> {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object. Received ${describeType(options)}`)
  return oneShotSigner(options).signAsync(options)
}
