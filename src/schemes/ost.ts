// OST platform API signing (api_signature_kind OST1-HMAC-SHA256) and webhook signatures, as the official
// SDKs (v2.2.3) and the platform's verifier do it: reference/other-schemes.md §1. Every stage is exported.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { ApisignError, describeType } from '../errors.js'
import { type Duration, durationOption } from '../option-values.js'
import { type ExpiringSecret, isLive, secretOf } from './verifier-types.js'

const HEX64 = /^[0-9a-f]{64}$/

/**
 * The `api_signature_kind` value.
 *
 * @example
 * ```ts
 * params.api_signature_kind === OST_SIGNATURE_KIND // 'OST1-HMAC-SHA256'
 * ```
 */
export const OST_SIGNATURE_KIND = 'OST1-HMAC-SHA256'

// qs 6.6.0's key order is String#localeCompare, i.e. ICU collation: pinned to one locale so that the
// signature does not depend on the host's LANG (reference §1.4: da_DK sorts "aa" after "z").
const collator = new Intl.Collator('en-US')
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * RFC 3986 encoding of UTF-8 bytes with upper-case hex; only `A-Z a-z 0-9 - . _ ~` stay (qs's encoder).
 *
 * @example
 * ```ts
 * ostEncode("it's (1)*") // 'it%27s%20%281%29%2A'
 * ```
 */
export function ostEncode(text: string): string {
  if (LONE_SURROGATE.test(text)) throw new ApisignError('ERR_INVALID_INPUT', 'OST parameter contains a lone UTF-16 surrogate')
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/**
 * How keys are ordered. `'sdk'`: the official JS SDK's `localeCompare` everywhere, so arrays of 11 or more
 * elements go out as 0, 1, 10, 11, 2, ... (reference §1.7/§1.8, vector ost-18). `'server'`: the platform's
 * `_alphabeticalSort` (integer-like keys numerically, the rest by `localeCompare`), which keeps arrays in
 * their order; the server verifies both because it signs whatever order it received.
 */
export type OstKeyOrder = 'sdk' | 'server'

const INTEGER_LIKE = /^(0|[1-9]\d*)$/
const serverCompare = (a: string, b: string) =>
  INTEGER_LIKE.test(a) && INTEGER_LIKE.test(b) ? Number(a) - Number(b) : collator.compare(a, b)
const COMPARE: Readonly<Record<OstKeyOrder, (a: string, b: string) => number>> = { sdk: collator.compare, server: serverCompare }

function serialize(value: unknown, prefix: string, out: string[], compare: (a: string, b: string) => number): void {
  if (value === undefined) return
  if (value === null) {
    out.push(`${ostEncode(prefix)}=`)
    return
  }
  if (value instanceof Date) {
    out.push(`${ostEncode(prefix)}=${ostEncode(value.toISOString())}`)
    return
  }
  if (Array.isArray(value)) {
    // Arrays use brackets without indices; qs still sorts the indices as strings (0, 1, 10, 11, 2, ...).
    const keys = Object.keys(value).sort(compare)
    for (const k of keys) serialize(value[Number(k)], `${prefix}[]`, out, compare)
    return
  }
  if (typeof value === 'object') {
    for (const k of Object.keys(value).sort(compare)) serialize((value as Record<string, unknown>)[k], `${prefix}[${k}]`, out, compare)
    return
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    out.push(`${ostEncode(prefix)}=${ostEncode(String(value))}`)
    return
  }
  throw new TypeError(`OST parameter ${prefix} cannot be a ${describeType(value)}`)
}

/**
 * The canonical query of the official SDK: `qs.stringify(params, { arrayFormat: 'brackets', sort:
 * localeCompare })` then `%20` -> `+` (`keyOrder: 'server'` for the platform verifier's order). Nested objects as `a[b]`, arrays as `a[]`, keys sorted at every
 * level (ICU collation), `null`/`''` as `k=`, `undefined`, `[]` and `{}` dropped, Dates as ISO strings.
 *
 * @example
 * ```ts
 * ostCanonicalQuery({ name: 'Ann Lee', tags: ['a', 'b'] }) // 'name=Ann+Lee&tags%5B%5D=a&tags%5B%5D=b'
 * ```
 */
export function ostCanonicalQuery(params: Readonly<Record<string, unknown>>, options: { readonly keyOrder?: OstKeyOrder } = {}): string {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new TypeError(`params must be an object. Received ${describeType(params)}`)
  const compare = COMPARE[options.keyOrder ?? 'sdk']
  const out: string[] = []
  for (const k of Object.keys(params).sort(compare)) serialize(params[k], k, out, compare)
  return out.join('&').replace(/%20/g, '+')
}

/**
 * `resource + "?" + canonical_query` (the resource exactly as called, e.g. `/users` or `/webhooks/`).
 *
 * @example
 * ```ts
 * ostStringToSign('/users', 'api_key=k&limit=10') // '/users?api_key=k&limit=10'
 * ```
 */
export function ostStringToSign(resource: string, canonicalQuery: string): string {
  return `${resource}?${canonicalQuery}`
}

/**
 * Lower-case hex HMAC-SHA256 of the string to sign with the API secret.
 *
 * @example
 * ```ts
 * ostSignature('/users?api_key=k&api_request_timestamp=1700000000&api_signature_kind=OST1-HMAC-SHA256', apiSecret) // 64 hex digits
 * ```
 */
export function ostSignature(stringToSign: string, apiSecret: string): string {
  return createHmac('sha256', Buffer.from(apiSecret, 'utf8')).update(stringToSign, 'utf8').digest('hex')
}

/** Options of {@link signOstRequest}. */
export interface OstRequest {
  readonly method: 'GET' | 'POST' | 'DELETE' | string
  /** Path below the versioned base URL, as signed: `/users`, `/users/{id}`, `/webhooks/`. */
  readonly resource: string
  readonly params?: Readonly<Record<string, unknown>>
  readonly apiKey: string
  readonly apiSecret: string
  /** Versioned base URL, e.g. `https://api.ost.com/testnet/v2/` (sandbox) or `.../mainnet/v2/`. */
  readonly baseUrl?: string
  /** Clock, ms; the timestamp is `round(now / 1000)` as the SDK computes it. */
  readonly nowMs?: number
  /** Default `'sdk'` (byte-identical to the official JS SDK); see {@link OstKeyOrder}. */
  readonly keyOrder?: OstKeyOrder
}

/** A signed OST request: the signature in the query for GET/DELETE, in the form body for POST. */
export interface OstSignedRequest {
  readonly stringToSign: string
  readonly signature: string
  readonly signedQuery: string
  readonly url: string
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
}

/**
 * Sign an OST platform API request (OST1-HMAC-SHA256). `api_key`, `api_request_timestamp` and
 * `api_signature_kind` are set on a copy of the params (the SDK overwrites the caller's object); the
 * signature is appended last. The method is not signed, which is the scheme's design (a logged GET URL
 * can be replayed as DELETE within the 100 s window): keep GET URLs out of logs.
 *
 * @example
 * ```ts
 * const signed = signOstRequest({ method: 'GET', resource: '/users', params: { limit: 10 }, apiKey, apiSecret, baseUrl: 'https://api.ost.com/testnet/v2/' })
 * await fetch(signed.url)
 * ```
 */
export function signOstRequest(request: OstRequest): OstSignedRequest {
  const method = request.method.toUpperCase()
  if (!['GET', 'POST', 'DELETE'].includes(method)) throw new ApisignError('ERR_INVALID_METHOD', 'OST requests are GET, POST or DELETE')
  if (typeof request.apiKey !== 'string' || request.apiKey === '') throw new TypeError('apiKey is required')
  if (typeof request.apiSecret !== 'string' || request.apiSecret === '') throw new TypeError('apiSecret is required')
  const params = {
    ...request.params,
    api_key: request.apiKey,
    api_request_timestamp: Math.round((request.nowMs ?? Date.now()) / 1000),
    api_signature_kind: OST_SIGNATURE_KIND,
  }
  const canonical = ostCanonicalQuery(params, { keyOrder: request.keyOrder ?? 'sdk' })
  const stringToSign = ostStringToSign(request.resource, canonical)
  const signature = ostSignature(stringToSign, request.apiSecret)
  const signedQuery = `${canonical}&api_signature=${signature}`
  const base = (request.baseUrl ?? '').replace(/\/$/, '')
  const inQuery = method !== 'POST'
  return {
    stringToSign,
    signature,
    signedQuery,
    url: inQuery ? `${base}${request.resource}?${signedQuery}` : `${base}${request.resource}`,
    body: inQuery ? '' : signedQuery,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  }
}

/** One webhook secret: the current one, or the previous one until its grace period ends (24 h on OST). */
export type WebhookSecret = ExpiringSecret

/**
 * `timestamp.version.rawBody`, signed with HMAC-SHA256 (hex): OST1-WEBHOOK-HMAC-SHA256.
 *
 * @example
 * ```ts
 * webhookStringToSign('1700000005', 'v2', rawBody).toString() // '1700000005.v2.{"id":...}'
 * ```
 */
export function webhookStringToSign(timestamp: string, version: string, rawBody: string | Uint8Array): Buffer {
  if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) {
    // A parsed object would be re-serialised with other bytes than the sender signed.
    throw new TypeError(`rawBody must be the raw request body (string or bytes), not ${describeType(rawBody)}; capture it before JSON parsing`)
  }
  return Buffer.concat([Buffer.from(`${timestamp}.${version}.`, 'utf8'), typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody])
}

/**
 * Sign a webhook delivery as the OST platform does.
 *
 * @example
 * ```ts
 * const signature = signWebhook({ secret, timestamp: '1700000005', version: 'v2', rawBody })
 * ```
 */
export function signWebhook(input: { secret: string; timestamp: string; version: string; rawBody: string | Uint8Array }): string {
  return createHmac('sha256', Buffer.from(input.secret, 'utf8')).update(webhookStringToSign(input.timestamp, input.version, input.rawBody)).digest('hex')
}

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** Current and previous secrets; each may expire. */
  readonly secrets: ReadonlyArray<string | WebhookSecret>
  readonly timestamp: string
  readonly version: string
  /** The signature header: one or more hex signatures separated by commas. */
  readonly signature: string
  /** The raw body, exactly as received. */
  readonly rawBody: string | Uint8Array
  /** Clock, ms. Default `Date.now`. */
  readonly nowMs?: number
  /**
   * Freshness window either side of now: seconds or a duration such as `'5m'`. Default 300; `Infinity`
   * disables (no SDK checks it). `NaN` or any other value is a TypeError, never a disabled check.
   */
  readonly toleranceSeconds?: Duration
}

/**
 * Verify a webhook against a list of secrets (rotation: the previous secret stays valid during its
 * grace period), in constant time, with a freshness window. Returns which secret matched.
 *
 * @example
 * ```ts
 * const { valid } = verifyWebhook({ secrets: [current, { secret: previous, notAfter: rotatedAt + 86_400_000 }], timestamp, version, signature, rawBody })
 * ```
 */
export function verifyWebhook(options: VerifyWebhookOptions): { valid: boolean; matchedSecretIndex: number | null; reason?: 'stale' | 'signature' } {
  if (typeof options.rawBody !== 'string' && !(options.rawBody instanceof Uint8Array)) {
    // A parsed object would be re-serialised with other bytes than the sender signed.
    throw new TypeError(`rawBody must be the raw request body (string or bytes), not ${describeType(options.rawBody)}; capture it before JSON parsing`)
  }
  const toleranceMs = durationOption(options.toleranceSeconds, 'toleranceSeconds', 300_000, { allowInfinity: true })
  const now = options.nowMs ?? Date.now()
  if (!Number.isFinite(now)) throw new TypeError('nowMs must be a finite number')
  if (typeof options.timestamp !== 'string' || !/^\d{1,12}$/.test(options.timestamp) || Math.abs(now - Number(options.timestamp) * 1000) > toleranceMs) {
    return { valid: false, matchedSecretIndex: null, reason: 'stale' }
  }
  const prefix = `${options.timestamp}.${options.version}.`
  const rawBody = options.rawBody
  const given: Buffer[] = []
  for (const part of options.signature.split(',')) {
    const hex = part.trim().toLowerCase()
    if (HEX64.test(hex)) given.push(Buffer.from(hex, 'hex'))
  }
  let matched: number | null = null
  options.secrets.forEach((entry, index) => {
    const live = isLive(entry, now)
    const hmac = createHmac('sha256', secretOf(entry))
    // A string body is one update (V8 concatenation is cheap); bytes are streamed after the prefix, uncopied.
    const expected = (typeof rawBody === 'string' ? hmac.update(prefix + rawBody, 'utf8') : hmac.update(prefix, 'utf8').update(rawBody)).digest()
    // Every secret and every candidate is compared, whatever matched first: no early exit.
    for (const candidate of given) if (timingSafeEqual(candidate, expected) && live && matched === null) matched = index
  })
  return matched === null ? { valid: false, matchedSecretIndex: null, reason: 'signature' } : { valid: true, matchedSecretIndex: matched }
}
