import { KeyObject, createHash, generateKeyPair, timingSafeEqual } from 'node:crypto'
import { ApisignError, type ApisignErrorCode, isApisignError } from '../errors.js'
import { loadPublicKey } from '../keys/index.js'
import { type Duration, durationOption, limitOption } from '../option-values.js'
import { invalidReceived } from './verifier-types.js'
import {
  DIALECTS,
  type OAuth1Dialect,
  type Parameter,
  type SignatureMethodName,
  decodeBase64Strict,
  normalizeMethod,
  parseAuthorizationHeader,
  resolveSignatureMethod,
  verifyBaseString,
  verifyBaseStringAsync,
} from '../oauth1/index.js'
import type { ReceivedRequest } from '../pipeline/types.js'
import { type NonceStore, createMemoryNonceStore } from './nonce-store.js'

/** One verification key of a consumer, optionally expiring (rotation: the old key valid 24 h more). */
export interface ConsumerKey {
  /** Public key, certificate, PEM/DER text or path (loaded once). */
  readonly key: KeyObject | string | Uint8Array
  /** After this instant (ms or Date) the key no longer verifies. */
  readonly notAfter?: number | Date
}

/** The keys of each consumer key, or a lookup function. */
export type ConsumerKeys =
  | Readonly<Record<string, ConsumerKey | KeyObject | string | readonly ConsumerKey[]>>
  | ((consumerKey: string) => readonly ConsumerKey[] | undefined | Promise<readonly ConsumerKey[] | undefined>)

/** Request size limits, checked before any parsing. */
export interface VerifierLimits {
  /** Default 1 MiB. */
  readonly maxBodyBytes?: number
  /** Authorization header, default 8 KiB. */
  readonly maxHeaderBytes?: number
  /** Request URL, default 8 KiB. */
  readonly maxUrlBytes?: number
}

/** Options of {@link createOAuth1Verifier}. */
export interface OAuth1VerifierOptions {
  readonly consumers: ConsumerKeys
  /** Default `mastercard`. */
  readonly dialect?: Exclude<OAuth1Dialect, 'compat'>
  /** Accepted `oauth_signature_method` values. Default RSA-SHA256 and RSA-PSS. */
  readonly signatureMethods?: readonly SignatureMethodName[]
  /**
   * Timestamp window either side of now: seconds, or a duration such as `'5m'`. Default 300. Anything but
   * a number >= 0 or a strict duration (`NaN`, `'abc'`) is a TypeError when the verifier is built.
   */
  readonly clockSkewSeconds?: Duration
  /** Default an in-memory store; use the Redis store for several instances. */
  readonly nonceStore?: NonceStore
  readonly limits?: VerifierLimits
  /** Clock, ms. Default `Date.now`. */
  readonly now?: () => number
  /** Put the acceptable signature base string in signature failures (gateway-style). Never a secret. */
  readonly debug?: boolean
  /**
   * Verify RSA signatures in the libuv threadpool (`crypto.verify` with a callback), so a server handling
   * many requests at once keeps its event loop free (the mock gateway does). Default false: inline.
   */
  readonly async?: boolean
  /**
   * The verdict for a consumer key with no (live) key. `'unknown-consumer'` (default, what the gateway
   * does): `ERR_OAUTH1_UNKNOWN_CONSUMER`. `'signature-invalid'`: the same code, message and debug base
   * string as a bad signature, so the answer does not tell which consumer keys exist.
   */
  readonly unknownConsumer?: 'unknown-consumer' | 'signature-invalid'
}

/** The verdict. */
export type VerificationResult =
  | { readonly ok: true; readonly consumerKey: string; /** The consumer key (the common SchemeVerdict field). */ readonly principal: string }
  | { readonly ok: false; readonly code: ApisignErrorCode; readonly message: string; readonly acceptableSignatureBaseString?: string }

/** A verifier bound to its keys and stores. */
export interface OAuth1Verifier {
  verify(request: ReceivedRequest): Promise<VerificationResult>
}

const KNOWN = new Set(['oauth_consumer_key', 'oauth_token', 'oauth_signature_method', 'oauth_signature', 'oauth_timestamp', 'oauth_nonce', 'oauth_version', 'oauth_body_hash'])
const NONCE = /^[A-Za-z0-9._~-]{1,64}$/
// A dummy key: unknown consumers go through the same work as known ones (oauthlib endpoints/resource.py:
// "a dummy client is assigned and used to maintain near constant time request verification"). It is made
// once per process, asynchronously (on the threadpool), as soon as the first verifier is built: never
// synchronously on the request path, where generateKeyPairSync blocked the event loop ~0.5 s (issue 13
// item 8). A request that arrives before it is ready awaits it.
let dummy: Promise<KeyObject> | undefined
const dummyKey = (): Promise<KeyObject> =>
  (dummy ??= new Promise((resolve, reject) => generateKeyPair('rsa', { modulusLength: 2048 }, (error, publicKey) => (error === null ? resolve(publicKey) : reject(error)))))

class Rejection extends Error {
  constructor(readonly code: ApisignErrorCode, message: string, readonly sbs?: string) {
    super(message)
  }
}

function header(headers: ReceivedRequest['headers'], name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue
    if (Array.isArray(v)) {
      if (v.length !== 1) throw new Rejection('ERR_OAUTH1_HEADER_INVALID', `${name} header sent ${v.length} times`)
      return v[0]
    }
    return v as string | undefined
  }
  return undefined
}

/**
 * The server side of OAuth 1.0a, for contract tests and providers. Checks, in this order
 * (reference/anchors-reliability.md §6.10): size limits; strict header parsing (duplicates, unknown
 * oauth_* parameters, bad quoting); method and signature-method allowlists; timestamp window; nonce
 * format; consumer lookup (a dummy key for unknown consumers, so they cost the same time); body hash
 * recomputed from the raw bytes and compared in constant time; the signature over the rebuilt base string;
 * and only then records the nonce. Failures carry a stable code and a gateway-style message, never a
 * secret.
 *
 * @example
 * ```ts
 * import { createOAuth1Verifier } from 'apisign/verify'
 * const verifier = createOAuth1Verifier({ consumers: { 'ck!abc': { key: './partner-public.pem' } } })
 * const result = await verifier.verify({ method: req.method, url: `https://${req.headers.host}${req.url}`, headers: req.headers, body: rawBody })
 * if (!result.ok) res.writeHead(401).end(JSON.stringify({ code: result.code, message: result.message }))
 * ```
 */
export function createOAuth1Verifier(options: OAuth1VerifierOptions): OAuth1Verifier {
  // An own-property check, not a lookup: `DIALECTS['toString']` exists, and compat is a signing-only dialect.
  const dialectName = options.dialect ?? 'mastercard'
  if (dialectName !== 'mastercard' && dialectName !== 'rfc5849') throw new TypeError('dialect must be mastercard or rfc5849')
  const dialect = DIALECTS[dialectName]
  const allowed = new Set(options.signatureMethods ?? ['RSA-SHA256', 'RSA-PSS'])
  for (const name of allowed) {
    // Consumers map to public keys only: an HMAC or PLAINTEXT method would need a shared secret per consumer.
    if (resolveSignatureMethod(name).family !== 'rsa') throw new TypeError(`signatureMethods: the verifier checks RSA signatures only (got ${name})`)
  }
  if (options.async !== undefined && typeof options.async !== 'boolean') throw new TypeError('async must be true or false')
  const windowMs = durationOption(options.clockSkewSeconds, 'clockSkewSeconds', 300_000)
  const store = options.nonceStore ?? createMemoryNonceStore()
  const now = options.now ?? Date.now
  const limits = {
    maxBodyBytes: limitOption(options.limits?.maxBodyBytes, 'limits.maxBodyBytes', 1024 * 1024, { integer: true }),
    maxHeaderBytes: limitOption(options.limits?.maxHeaderBytes, 'limits.maxHeaderBytes', 8192, { integer: true }),
    maxUrlBytes: limitOption(options.limits?.maxUrlBytes, 'limits.maxUrlBytes', 8192, { integer: true }),
  }
  const unknownConsumer = options.unknownConsumer ?? 'unknown-consumer'
  if (unknownConsumer !== 'unknown-consumer' && unknownConsumer !== 'signature-invalid') throw new TypeError('unknownConsumer must be unknown-consumer or signature-invalid')
  const dummyReady = dummyKey()
  dummyReady.catch(() => undefined) // surfaced on the request that needs it
  const table = typeof options.consumers === 'function' ? undefined : normalizeTable(options.consumers)
  const lookup = async (ck: string): Promise<Array<{ key: KeyObject; notAfter: number }> | undefined> => {
    if (table !== undefined) return Object.hasOwn(table, ck) ? table[ck] : undefined
    const found = await (options.consumers as (c: string) => readonly ConsumerKey[] | undefined)(ck)
    return found?.map(toEntry)
  }

  async function check(request: ReceivedRequest): Promise<string> {
    const body = request.body === undefined ? Buffer.alloc(0) : typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : Buffer.from(request.body)
    if (body.length > limits.maxBodyBytes) throw new Rejection('ERR_INPUT_TOO_LARGE', `request body exceeds ${limits.maxBodyBytes} bytes`)
    if (request.url.length > limits.maxUrlBytes) throw new Rejection('ERR_INPUT_TOO_LARGE', `request URL exceeds ${limits.maxUrlBytes} bytes`)
    const authorization = header(request.headers, 'authorization')
    if (authorization === undefined) throw new Rejection('ERR_OAUTH1_HEADER_INVALID', 'OAuth Authorization header missing')
    if (authorization.length > limits.maxHeaderBytes) throw new Rejection('ERR_INPUT_TOO_LARGE', `Authorization header exceeds ${limits.maxHeaderBytes} bytes`)
    let params: readonly Parameter[]
    try {
      params = parseAuthorizationHeader(authorization).params
    } catch (error) {
      if (isApisignError(error)) throw new Rejection(error.code, error.message)
      throw error
    }
    const decode = (v: string) => {
      if (dialect.headerStyle.encode === 'signature-only') return v
      try {
        return decodeURIComponent(v)
      } catch {
        throw new Rejection('ERR_OAUTH1_HEADER_INVALID', 'Authorization header has a malformed percent-encoding')
      }
    }
    const values = new Map<string, string>()
    for (const [name, value] of params) {
      if (!KNOWN.has(name)) throw new Rejection('ERR_OAUTH1_HEADER_INVALID', `Authorization header has an unknown parameter ${name.slice(0, 40)}`)
      values.set(name, name === 'oauth_signature' ? value : decode(value))
    }
    for (const name of ['oauth_consumer_key', 'oauth_signature_method', 'oauth_signature', 'oauth_timestamp', 'oauth_nonce']) {
      if (!values.has(name)) throw new Rejection('ERR_OAUTH1_PARAM_MISSING', `OAuth parameter ${name} missing`)
    }
    const bodyHash = values.get('oauth_body_hash')
    if (bodyHash === undefined && dialect.bodyHash === 'always') throw new Rejection('ERR_BODY_HASH_MISSING', 'Body hash parameter missing')
    if (values.has('oauth_version') && values.get('oauth_version') !== '1.0') throw new Rejection('ERR_OAUTH1_HEADER_INVALID', 'oauth_version must be 1.0')
    let method: string
    try {
      method = normalizeMethod(request.method)
    } catch {
      throw new Rejection('ERR_INVALID_METHOD', 'HTTP method not allowed')
    }
    const signatureMethodName = values.get('oauth_signature_method') as string
    if (!allowed.has(signatureMethodName as SignatureMethodName)) throw new Rejection('ERR_ALG_NOT_ALLOWED', `oauth_signature_method ${signatureMethodName.slice(0, 20)} not allowed`)
    const signatureMethod = resolveSignatureMethod(signatureMethodName)
    const timestamp = values.get('oauth_timestamp') as string
    if (!/^\d{1,12}$/.test(timestamp)) throw new Rejection('ERR_OAUTH1_HEADER_INVALID', 'oauth_timestamp must be integer seconds')
    const skew = Number(timestamp) * 1000 - now()
    if (skew < -windowMs) throw new Rejection('ERR_OAUTH1_TIMESTAMP_STALE', 'oauth_timestamp is too old')
    if (skew > windowMs) throw new Rejection('ERR_OAUTH1_TIMESTAMP_FUTURE', 'oauth_timestamp is in the future')
    const nonce = values.get('oauth_nonce') as string
    if (!NONCE.test(nonce)) throw new Rejection('ERR_OAUTH1_HEADER_INVALID', 'oauth_nonce is malformed')
    const consumerKey = values.get('oauth_consumer_key') as string
    const found = await lookup(consumerKey)
    const t = now()
    const keys = (found ?? []).filter((k) => k.notAfter > t).map((k) => k.key)
    const candidates = keys.length > 0 ? keys : [await dummyReady]

    // Body hash over the raw bytes, compared in constant time (never trust the header's value alone).
    const expectedHash = createHash(signatureMethod.digest).update(body).digest()
    const givenHash = bodyHash === undefined ? undefined : decodeBase64Strict(bodyHash)
    const bodyOk = bodyHash === undefined ? body.length === 0 || dialect.bodyHash !== 'always' : givenHash !== undefined && givenHash.length === expectedHash.length && timingSafeEqual(givenHash, expectedHash)

    let canonicalParams: Parameter[] = params.filter(([n]) => n !== 'oauth_signature').map(([n, v]) => [n, decode(v)] as const)
    const contentType = header(request.headers, 'content-type')
    const form = dialect.name === 'rfc5849' && contentType !== undefined && /^application\/x-www-form-urlencoded/i.test(contentType) ? body.toString('utf8') : undefined
    let sbs: string
    try {
      const canonical = dialect.canonicalize(request.url, form)
      sbs = dialect.baseString(method, canonical.baseUri, canonical.parameterString(canonicalParams))
    } catch {
      throw new Rejection('ERR_INVALID_URL', 'request URL cannot be canonicalised')
    }
    canonicalParams = []
    // The signature is percent-encoded exactly once on the wire in both dialects (RFC 5849 §3.5.1, Mastercard
    // G3): decode it once, so a double-encoded value is not a second reading of the same signature.
    let signatureText: string
    try {
      signatureText = decodeURIComponent(values.get('oauth_signature') as string)
    } catch {
      signatureText = ''
    }
    let verified = false
    if (options.async === true) {
      // Every candidate is checked (no early exit), as inline, so unknown and known consumers cost the same.
      const results = await Promise.all(candidates.map((key) => verifyBaseStringAsync(sbs, signatureText, signatureMethod, { key })))
      verified = results.includes(true)
    } else for (const key of candidates) if (verifyBaseString(sbs, signatureText, signatureMethod, { key })) verified = true
    if (found === undefined || keys.length === 0) {
      // Indistinguishable mode: exactly what a known consumer with a wrong signature gets.
      if (unknownConsumer === 'signature-invalid') {
        if (!bodyOk) throw new Rejection('ERR_BODY_HASH_MISMATCH', 'Body hash mismatch: oauth_body_hash does not match the request body', sbs)
        throw new Rejection('ERR_OAUTH1_SIGNATURE_INVALID', 'OAuth signature failed verification', sbs)
      }
      throw new Rejection('ERR_OAUTH1_UNKNOWN_CONSUMER', found === undefined ? 'unknown consumer key' : 'no valid key for this consumer (expired)')
    }
    if (!bodyOk) throw new Rejection('ERR_BODY_HASH_MISMATCH', 'Body hash mismatch: oauth_body_hash does not match the request body', sbs)
    if (!verified) throw new Rejection('ERR_OAUTH1_SIGNATURE_INVALID', 'OAuth signature failed verification', sbs)
    // Only now, with the signature verified, is the nonce recorded: unauthenticated traffic cannot fill
    // the store. A timestamp accepted now at the future edge (now + window) stays acceptable until
    // now + 2 x window inclusive, so the nonce must outlive that instant: 2 x window plus one second (the
    // timestamp's resolution), never exactly 2 x window (issue 13 item 1: a replay at the exact edge).
    const fresh = await store.checkAndRecord(`${consumerKey}\n${timestamp}\n${nonce}`, 2 * windowMs + 1000)
    if (!fresh) throw new Rejection('ERR_OAUTH1_NONCE_REPLAY', 'oauth_nonce has already been used')
    return consumerKey
  }

  return {
    async verify(request) {
      const malformed = invalidReceived(request)
      if (malformed !== undefined) return malformed
      try {
        const consumerKey = await check(request)
        return { ok: true, consumerKey, principal: consumerKey }
      } catch (error) {
        if (error instanceof Rejection) {
          return {
            ok: false,
            code: error.code,
            message: options.debug === true && error.sbs !== undefined ? `${error.message}. Acceptable signature base string: ${error.sbs}` : error.message,
            ...(options.debug === true && error.sbs !== undefined ? { acceptableSignatureBaseString: error.sbs } : {}),
          }
        }
        if (isApisignError(error)) return { ok: false, code: error.code, message: error.message }
        throw error
      }
    },
  }
}

function toEntry(entry: ConsumerKey | KeyObject | string): { key: KeyObject; notAfter: number } {
  if (entry instanceof KeyObject || typeof entry === 'string') return { key: loadPublicKey(entry), notAfter: Number.POSITIVE_INFINITY }
  {
    const e = entry as ConsumerKey
    const notAfter = e.notAfter === undefined ? Number.POSITIVE_INFINITY : e.notAfter instanceof Date ? e.notAfter.getTime() : e.notAfter
    return { key: loadPublicKey(e.key as string), notAfter }
  }
}

function normalizeTable(table: Readonly<Record<string, ConsumerKey | KeyObject | string | readonly ConsumerKey[]>>) {
  const out: Record<string, Array<{ key: KeyObject; notAfter: number }>> = {}
  for (const [ck, value] of Object.entries(table)) {
    try {
      out[ck] = (Array.isArray(value) ? value : [value]).map(toEntry)
    } catch (cause) {
      throw new ApisignError('ERR_KEY_INVALID', `verifier consumer ${ck}: key is not a readable public key or certificate`, { cause })
    }
  }
  return out
}
