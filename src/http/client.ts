import axios, {
  AxiosError,
  AxiosHeaders,
  type AxiosAdapter,
  type AxiosInstance,
  type AxiosResponse,
  type CreateAxiosDefaults,
  type InternalAxiosRequestConfig,
} from 'axios'
import type { ApisignEncryptionConfig, FieldEncryption, MastercardEncryptionConfig } from '../encryption/index.js'
import { createEncryption } from '../encryption/index.js'
import { ApisignError, describeType } from '../errors.js'
import { toWireUrl } from '../oauth1/index.js'
import type { OAuth1AuthOptions } from '../schemes/oauth1-auth.js'
import { type SchemeAuthOptions, resolveAuth } from '../schemes/table.js'
import { serializeBody } from './body.js'
import { debug, redactError } from './redact.js'
import { rejectionError } from './responses.js'
import { type RetryPolicy, backoffMs, parseRetryAfter, resolveRetryPolicy } from './retry.js'

/** What an auth scheme sees of a request: the final wire URL and the exact body bytes. */
export interface RequestToAuthorize {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer | undefined
}

/**
 * What an auth scheme adds: headers, and for schemes that sign in the query or body (an API key in the
 * query, OST's signature) a replacement URL (same origin) or body; plus, for explaining a mismatch, the
 * base string it signed.
 */
export interface Authorization {
  readonly headers: Readonly<Record<string, string>>
  readonly baseString?: string
  readonly url?: URL
  readonly body?: Buffer
}

/** What the client tells an auth scheme besides the request. */
export interface AuthContext {
  /** The client's skew-corrected clock, ms. */
  readonly now: () => number
  /** The client's base URL (schemes that sign a path relative to a versioned base, e.g. OST, need it). */
  readonly baseURL: URL
  /**
   * The scopes the operation's security requirement names for this scheme (OpenAPI `security:
   * [{ oauth2: ['payments:write'] }]`), set by `authForSpec`; undefined when no spec chose them.
   */
  readonly scopes?: readonly string[]
}

/** What came back for one attempt, before decryption: what {@link AuthApplier.onResponse} sees. */
export interface AuthResponse {
  /** The request as the applier saw it for this attempt (the same object `apply` received). */
  readonly request: RequestToAuthorize
  readonly status: number
  /** Response headers, lower-cased names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body?: unknown
}

/**
 * The seam every auth scheme plugs into: called once per attempt, at the last moment, with the final URL
 * and body bytes.
 *
 * @example
 * ```ts
 * const stamp: AuthApplier = { apply: async (_request, { now }) => ({ headers: { 'X-Request-Time': String(now()) } }) }
 * ```
 */
export interface AuthApplier {
  apply(request: RequestToAuthorize, context: AuthContext): Promise<Authorization>
  /**
   * Called once per attempt with what came back (before decryption). `'retry'` makes the client apply
   * again (a fresh signature or proof) and resend once, whatever the method: DPoP's `use_dpop_nonce`
   * (RFC 9449 §8) and a dropped token on `invalid_token` need exactly that.
   */
  onResponse?(response: AuthResponse, context: AuthContext): 'retry' | undefined | Promise<'retry' | undefined>
}

/** Body and response size limits (axios `maxBodyLength` / `maxContentLength`). */
export interface ClientLimits {
  /** Largest request body, bytes. Default 10 MiB. */
  readonly maxBodyLength?: number
  /** Largest response body, bytes. Default 50 MiB. */
  readonly maxContentLength?: number
}

/** Options of {@link createClient}; a loaded profile (`apisign/profiles`) has this shape too. */
export interface ClientOptions {
  /** The partner's base URL; requests to any other origin are refused. */
  readonly baseURL: string
  /**
   * How requests are authenticated: `{ scheme: 'oauth1', ... }` or any other scheme of apisign/schemes'
   * table (`{ scheme: 'ost', ... }`, `'jwt-bearer'`, `'api-key'`, `'basic'`, `'sigv4'`, ...), or an
   * AuthApplier (e.g. `authForSpec(spec, credentials)` to pick the scheme per operation).
   */
  readonly auth: OAuth1AuthOptions | SchemeAuthOptions | AuthApplier
  /** Field encryption per endpoint: a `createEncryption` result or a config for it. */
  readonly encryption?: FieldEncryption | MastercardEncryptionConfig | ApisignEncryptionConfig
  /** Built-in retries (default on, idempotent methods only); `false` to retry with axios-retry instead. */
  readonly retry?: RetryPolicy | false
  /** Per-attempt timeout, ms. Default 30 s. */
  readonly timeout?: number
  readonly limits?: ClientLimits
  /** Clock, ms (default `Date.now`); the learned skew offset is added to it. */
  readonly now?: () => number
  /** Wait function for retries (tests). Default `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>
  /** Other axios defaults (headers, httpAgent, ...). `adapter`, `baseURL` and limits are apisign's. */
  readonly axios?: CreateAxiosDefaults
}

// A rejection that blames the time. Only the reason and description count, never an echoed base string
// (it always contains "oauth_timestamp"), and not "expired" alone (tokens and keys expire too).
const TIMESTAMP_REJECTION = /timestamp|clock|time.?window|skew|request.?time/i
const blamesTime = (data: unknown) =>
  TIMESTAMP_REJECTION.test(textOf(data).replace(/acceptable signature base string.*$/is, '').replace(/oauth_timestamp=\d+/g, ''))
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function attachHttpFields(error: ApisignError, config: InternalAxiosRequestConfig, response: AxiosResponse | undefined): ApisignError {
  // axios-retry and generated clients read `config` and `response` off the error; keep them (redacted),
  // non-enumerable so they never end up in a log line that serialises the error.
  Object.defineProperty(error, 'config', { value: config, enumerable: false })
  Object.defineProperty(error, 'response', { value: response, enumerable: false })
  return error
}

/**
 * An axios instance that signs every request (and encrypts/decrypts configured fields) at the last moment,
 * inside a wrapping adapter that runs once per attempt: after every interceptor and `transformRequest`,
 * over the final wire URL and the exact body bytes. Retries re-sign with a fresh nonce and timestamp;
 * redirects are never followed with a signature; only the profile's origin is reachable; errors carry no
 * credentials and explain signature mismatches and partner error envelopes.
 *
 * @example
 * ```ts
 * import { createClient } from 'apisign/http'
 * const api = createClient({
 *   baseURL: 'https://sandbox.api.mastercard.com',
 *   auth: { scheme: 'oauth1', consumerKey: process.env.MC_CONSUMER_KEY!, key: { p12: './sandbox.p12', alias: 'keyalias', password: process.env.MC_P12_PASSWORD! } },
 * })
 * const { data } = await api.post('/v1/payments', { amount: 1000 }, { params: { mode: 'sync' } })
 * ```
 */
export function createClient(options: ClientOptions): AxiosInstance {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object. Received ${describeType(options)}`)
  let base: URL
  try {
    base = new URL(options.baseURL)
  } catch {
    throw new ApisignError('ERR_CONFIG_INVALID', 'baseURL must be an absolute URL')
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new ApisignError('ERR_CONFIG_INVALID', 'baseURL must be http(s)')
  const origin = base.origin
  const baseNow = options.now ?? Date.now
  let skewMs = 0
  const clock = () => baseNow() + skewMs
  if (options.auth === null || typeof options.auth !== 'object') throw new TypeError('auth must be { scheme: "oauth1", ... }, another scheme of apisign/schemes, or an AuthApplier')
  const auth: AuthApplier = resolveAuth(options.auth)
  const encryption: FieldEncryption | undefined =
    options.encryption === undefined
      ? undefined
      : typeof (options.encryption as FieldEncryption).encrypt === 'function'
        ? (options.encryption as FieldEncryption)
        : createEncryption(options.encryption as MastercardEncryptionConfig)
  const policy = resolveRetryPolicy(options.retry)
  const sleep = options.sleep ?? defaultSleep
  const maxBodyLength = options.limits?.maxBodyLength ?? 10 * 1024 * 1024
  const maxContentLength = options.limits?.maxContentLength ?? 50 * 1024 * 1024
  const inner = axios.getAdapter('http') as AxiosAdapter

  const adapter: AxiosAdapter = async (config) => {
    const started = baseNow()
    const method = (config.method ?? 'get').toUpperCase()
    // The URL exactly as it will be sent: axios's own merge of baseURL, url and params, WHATWG-normalised,
    // fragment dropped. The request is then rewritten to carry exactly this URL (reference/oauth1.md §8).
    const wire = toWireUrl(axios.getUri(config))
    if (wire.origin !== origin) {
      throw new ApisignError('ERR_ORIGIN_NOT_ALLOWED', `requests are limited to ${origin}; refused ${wire.origin}`)
    }
    // A private copy: AxiosHeaders.from() would return the config's own instance, and the signature must
    // never land on the caller-visible config (it would leak into errors and be replayed by retries).
    const headers = new AxiosHeaders(config.headers as never)
    headers.delete('Authorization')
    let data: unknown = config.data
    const path = `${wire.pathname}${wire.search}`
    if (encryption !== undefined && data !== undefined && data !== null && encryption.matches(wire.pathname).encrypt) {
      let parsed: unknown = data
      if (typeof data === 'string' || Buffer.isBuffer(data)) {
        try {
          parsed = JSON.parse(data.toString())
        } catch {
          throw new ApisignError('ERR_BODY_UNSUPPORTED', `the body for ${wire.pathname} must be JSON to encrypt its fields`)
        }
      }
      const plainHeaders = Object.fromEntries(Object.entries(headers.toJSON()).map(([k, v]) => [k, String(v)]))
      const result = encryption.encrypt({ url: path, body: parsed, headers: plainHeaders })
      data = JSON.stringify(result.body)
      for (const [k, v] of Object.entries(result.headers)) if (v !== undefined && plainHeaders[k] !== v) headers.set(k, v)
      headers.set('Content-Type', 'application/json')
    }
    const body = await serializeBody(data, maxBodyLength)
    if (body.contentType !== undefined && (!headers.has('Content-Type') || /multipart\/form-data/i.test(body.contentType))) {
      headers.set('Content-Type', body.contentType)
    }
    let attempt = 0
    let skewRetried = false
    let authRetried = false
    const authContext: AuthContext = { now: clock, baseURL: base }
    for (;;) {
      attempt++
      const plain = Object.fromEntries(Object.entries(headers.toJSON()).map(([k, v]) => [k.toLowerCase(), String(v)]))
      const toAuthorize: RequestToAuthorize = { method, url: wire, headers: plain, body: body.bytes }
      const authorization = await auth.apply(toAuthorize, authContext)
      const sendHeaders = new AxiosHeaders(headers)
      for (const [k, v] of Object.entries(authorization.headers)) sendHeaders.set(k, v)
      const sendUrl = authorization.url ?? wire
      if (sendUrl.origin !== origin) throw new ApisignError('ERR_ORIGIN_NOT_ALLOWED', `an auth scheme moved the request off ${origin}`)
      const innerConfig = {
        ...config,
        url: sendUrl.href,
        baseURL: '',
        params: undefined,
        data: authorization.body ?? body.bytes,
        headers: sendHeaders,
        maxRedirects: 0,
        maxBodyLength,
        maxContentLength,
        // 3xx and errors come back to us to decide; validateStatus is applied below.
        validateStatus: () => true,
      } as InternalAxiosRequestConfig
      let response: AxiosResponse
      try {
        response = await inner(innerConfig)
      } catch (error) {
        redactError(error)
        if (error instanceof AxiosError) error.config = config
        const retryable = policy.networkErrors && policy.methods.has(method) && (error as AxiosError).code !== 'ERR_CANCELED'
        if (retryable && attempt <= policy.retries) {
          const delay = backoffMs(attempt, policy)
          if (baseNow() - started + delay <= policy.deadlineMs) {
            debug('retry %s %s after network error (attempt %d)', method, wire.pathname, attempt + 1)
            await sleep(delay)
            continue
          }
        }
        throw error
      }
      response.config = config
      response.request = undefined
      const status = response.status
      debug('%s %s -> %d (attempt %d)', method, wire.pathname, status, attempt)
      if (auth.onResponse !== undefined) {
        const seen = Object.fromEntries(Object.entries(response.headers).flatMap(([k, v]) => (v === undefined || v === null ? [] : [[k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]])))
        const verdict = await auth.onResponse({ request: toAuthorize, status, headers: seen, body: response.data }, authContext)
        // One auth-driven resend per request (a nonce learned, a token dropped), with a fresh proof.
        if (verdict === 'retry' && !authRetried) {
          authRetried = true
          debug('auth scheme asked to re-apply and resend %s %s once (HTTP %d)', method, wire.pathname, status)
          continue
        }
      }
      if (status >= 300 && status < 400) {
        const location = String(response.headers['location'] ?? '')
        let where = 'another location'
        try {
          where = new URL(location, wire).origin
        } catch {
          // keep the generic text
        }
        throw attachHttpFields(
          new ApisignError('ERR_REDIRECT_REFUSED', `HTTP ${status} redirect to ${where} not followed: a signed request is never replayed to another URL`),
          config,
          response,
        )
      }
      const accepted = (config.validateStatus ?? ((s: number) => s >= 200 && s < 300))(status)
      if (accepted) {
        if (encryption !== undefined && status >= 200 && status < 300 && encryption.matches(wire.pathname).decrypt) {
          response.data = decryptResponse(encryption, path, response)
        }
        return response
      }
      // Clock skew: a 401 that blames the timestamp, and a Date header to learn the offset from.
      const dateHeader = response.headers['date']
      if (status === 401 && policy.clockSkew && !skewRetried && typeof dateHeader === 'string' && blamesTime(response.data)) {
        const serverNow = Date.parse(dateHeader)
        if (!Number.isNaN(serverNow)) {
          skewRetried = true
          skewMs = serverNow - baseNow()
          debug('clock skew of %d ms learned from Date; re-signing once', skewMs)
          continue
        }
      }
      if (policy.statuses.has(status) && policy.methods.has(method) && attempt <= policy.retries) {
        const retryAfter = parseRetryAfter(response.headers['retry-after'], clock())
        const delay = retryAfter ?? backoffMs(attempt, policy)
        if ((retryAfter === undefined || retryAfter <= policy.retryAfterCapMs) && baseNow() - started + delay <= policy.deadlineMs) {
          debug('retry %s %s after %d ms (HTTP %d)', method, wire.pathname, delay, status)
          await sleep(delay)
          continue
        }
      }
      const cause = new AxiosError(`Request failed with status code ${status}`, status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST', config, undefined, response)
      throw attachHttpFields(rejectionError(status, response.data, authorization.baseString, cause), config, response)
    }
  }

  const instance = axios.create({
    timeout: options.timeout ?? 30_000,
    ...options.axios,
    baseURL: options.baseURL,
    adapter,
    maxBodyLength,
    maxContentLength,
    maxRedirects: 0,
  })
  return instance
}

function textOf(data: unknown): string {
  if (typeof data === 'string') return data
  if (Buffer.isBuffer(data)) return data.toString('utf8')
  try {
    return JSON.stringify(data) ?? ''
  } catch {
    return ''
  }
}

function decryptResponse(encryption: FieldEncryption, path: string, response: AxiosResponse): unknown {
  const raw = response.data
  let parsed: unknown = raw
  if (typeof raw === 'string' || Buffer.isBuffer(raw)) {
    try {
      parsed = JSON.parse(raw.toString())
    } catch {
      return raw // not JSON: nothing to decrypt
    }
  }
  const headers = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k, v === undefined ? undefined : String(v)]))
  const result = encryption.decrypt({ url: path, body: parsed, headers })
  // Only when a field was decrypted does the body change; otherwise axios parses the original as usual.
  return result.body === parsed ? raw : result.body
}
