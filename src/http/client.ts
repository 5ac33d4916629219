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
import type { LoadKeyOptions } from '../keys/index.js'
import { loadSigningKey } from '../keys/index.js'
import { type OAuth1Dialect, type SignatureMethodName, type SigningKeyInput, createOAuth1Signer, toWireUrl } from '../oauth1/index.js'
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

/**
 * The seam every auth scheme plugs into: called once per attempt, at the last moment, with the final URL
 * and body bytes. `now` is the client's skew-corrected clock.
 */
export interface AuthApplier {
  apply(request: RequestToAuthorize, context: { readonly now: () => number }): Promise<Authorization>
}

/** OAuth 1.0a options of {@link createClient}. */
export interface OAuth1AuthOptions {
  readonly scheme: 'oauth1'
  readonly consumerKey: string
  /** Anything `loadSigningKey` takes: a KeyObject, PEM text, a path, `{ p12, alias, password }`. */
  readonly key: SigningKeyInput
  readonly keyOptions?: LoadKeyOptions
  readonly dialect?: OAuth1Dialect
  readonly signatureMethod?: SignatureMethodName
  /**
   * Where RSA runs (~0.3 ms per signature). `true`: always in the libuv threadpool, so the event loop is
   * never blocked. `false`: always inline, the lowest latency. `'auto'` (default): inline when this client
   * has no other request in flight, in the threadpool as soon as requests overlap, where it also adds
   * throughput on a machine with spare cores.
   */
  readonly async?: boolean | 'auto'
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
  readonly auth: OAuth1AuthOptions | AuthApplier
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

/**
 * The OAuth 1.0a applier `createClient` uses for `auth: { scheme: 'oauth1', ... }`, exported so it can be
 * composed with other schemes (`composeAuth` in apisign/schemes). The key is loaded once here; the
 * timestamp comes from the client's (skew-corrected) clock on every attempt.
 *
 * @example
 * ```ts
 * const auth = composeAuth(oauth1Auth({ scheme: 'oauth1', consumerKey, key }), headerTokenAuth({ fetch }))
 * ```
 */
export function oauth1Auth(options: OAuth1AuthOptions): AuthApplier {
  let inFlight = 0
  const key = loadSigningKey(options.key, options.keyOptions)
  const signer = createOAuth1Signer({
    consumerKey: options.consumerKey,
    key,
    ...(options.dialect === undefined ? {} : { dialect: options.dialect }),
    ...(options.signatureMethod === undefined ? {} : { signatureMethod: options.signatureMethod }),
  })
  return {
    async apply(request, context) {
      const contentType = request.headers['content-type']
      const toSign = {
        method: request.method,
        url: request.url,
        timestamp: Math.floor(context.now() / 1000),
        ...(request.body === undefined ? {} : { body: request.body }),
        ...(contentType === undefined ? {} : { contentType }),
      }
      const mode = options.async ?? 'auto'
      const inline = mode === false || (mode === 'auto' && inFlight === 0)
      inFlight++
      let signed
      try {
        signed = inline ? signer.sign(toSign) : await signer.signAsync(toSign)
      } finally {
        inFlight--
      }
      debug('oauth1 signed %s %s params=%s', request.method, request.url.pathname, signed.oauthParams.map(([n]) => n).join(','))
      return { headers: { Authorization: signed.authorizationHeader }, baseString: signed.signatureBaseString }
    },
  }
}

const isApplier = (auth: unknown): auth is AuthApplier => typeof (auth as AuthApplier | undefined)?.apply === 'function'
const TIMESTAMP_REJECTION = /timestamp|clock|expired|time.?window|skew/i
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
  if (options.auth === null || typeof options.auth !== 'object') throw new TypeError('auth must be { scheme: "oauth1", ... } or an AuthApplier')
  const auth: AuthApplier = isApplier(options.auth)
    ? options.auth
    : options.auth.scheme === 'oauth1'
      ? oauth1Auth(options.auth)
      : (() => {
          throw new ApisignError('ERR_CONFIG_INVALID', `unknown auth scheme ${JSON.stringify(String((options.auth as { scheme?: unknown }).scheme))}`)
        })()
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
    for (;;) {
      attempt++
      const plain = Object.fromEntries(Object.entries(headers.toJSON()).map(([k, v]) => [k.toLowerCase(), String(v)]))
      const authorization = await auth.apply({ method, url: wire, headers: plain, body: body.bytes }, { now: clock })
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
      if (status === 401 && policy.clockSkew && !skewRetried && typeof dateHeader === 'string' && TIMESTAMP_REJECTION.test(textOf(response.data))) {
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
