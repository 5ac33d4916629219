import axios, {
  AxiosError,
  AxiosHeaders,
  type AxiosAdapter,
  type AxiosRequestTransformer,
  type AxiosInstance,
  type AxiosResponse,
  type CreateAxiosDefaults,
  type InternalAxiosRequestConfig,
} from 'axios'
import buildFullPath from 'axios/unsafe/core/buildFullPath.js'
import buildURL from 'axios/unsafe/helpers/buildURL.js'
import type { ApisignEncryptionConfig, FieldEncryption, MastercardEncryptionConfig } from '../encryption/index.js'
import { ApisignError, describeType } from '../errors.js'
import { type ClientLimits, type PipelineOptions, type Transport, createPipeline } from '../pipeline/pipeline.js'
import { redactError } from '../pipeline/redact.js'
import { isStreamBody } from '../pipeline/stream-body.js'
import type { RetryPolicy } from '../pipeline/retry.js'
import type { AuthApplier } from '../pipeline/types.js'
import { withQuota } from '../quotas/applier.js'
import { type ClientQuota, type RateLimitOptions, buildQuota, defaultQuotaKey, isClientQuota } from '../quotas/client-quota.js'
import { type ClientTlsOptions, createHttpsAgent } from './tls.js'
import type { OAuth1AuthOptions } from '../schemes/oauth1-auth.js'
import { type SchemeAuthOptions, resolveAuth } from '../schemes/table.js'

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
  /**
   * The partner's quota for this key, enforced before each attempt is signed (apisign/quotas): windows such
   * as `['5/1s', '5000/1d']`, optionally per operation, on Redis for a fleet (a 429 + Retry-After then
   * pauses every instance); or a `createQuota` result shared by several clients.
   */
  readonly rateLimit?: RateLimitOptions | ClientQuota
  /** Other axios defaults (headers, httpAgent, ...). `adapter`, `baseURL` and limits are apisign's. */
  readonly axios?: CreateAxiosDefaults
  /** TLS towards the partner: its CA, and a client certificate for mTLS (an `https.Agent` is made from it). */
  readonly tls?: ClientTlsOptions
}

/**
 * The client's AuthApplier: its `auth` through the scheme table, behind its `rateLimit` quota when it has
 * one (the quota waits before each attempt is signed).
 *
 * @example
 * ```ts
 * const pipeline = createPipeline({ ...pipelineOptions(options), auth: clientAuth(options) })
 * ```
 */
export function clientAuth(options: Pick<ClientOptions, 'auth' | 'rateLimit' | 'baseURL'>): AuthApplier {
  const auth = resolveAuth(options.auth)
  if (options.rateLimit === undefined) return auth
  let base: URL
  try {
    base = new URL(options.baseURL)
  } catch {
    throw new ApisignError('ERR_CONFIG_INVALID', 'baseURL must be an absolute URL')
  }
  const quota = isClientQuota(options.rateLimit) ? options.rateLimit : buildQuota(options.rateLimit, defaultQuotaKey(options.auth, base), true)
  return withQuota(auth, quota)
}

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
  if (options.auth === null || typeof options.auth !== 'object') throw new TypeError('auth must be { scheme: "oauth1", ... }, another scheme of apisign/schemes, or an AuthApplier')
  // As createFetch does (issue 13 item 1): a NaN timeout must not mean "no timeout".
  const timeout = options.timeout ?? 30_000
  if (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout <= 0) throw new ApisignError('ERR_CONFIG_INVALID', 'timeout must be a positive integer of ms')
  const pipeline = createPipeline({ ...pipelineOptions(options), auth: clientAuth(options) })
  const { maxBodyLength, maxContentLength } = pipeline
  const inner = axios.getAdapter('http') as AxiosAdapter

  const adapter: AxiosAdapter = async (config) => {
    // The URL as axios would build it (baseURL + url + params through the config's paramsSerializer), from
    // the config as it stands after every interceptor: axios's own two helpers, without `getUri`'s re-merge.
    const url = buildURL(buildFullPath(config.baseURL, config.url, config.allowAbsoluteUrls, config), config.params, config.paramsSerializer)
    const headers: Record<string, string> = {}
    // A private copy: the signature must never land on the caller-visible config (it would leak into
    // errors and be replayed by retries).
    for (const [k, v] of Object.entries(config.headers.toJSON(true))) headers[k] = String(v)
    const transport: Transport<AxiosResponse> = {
      async send(request) {
        const innerConfig = {
          ...config,
          url: request.url.href,
          baseURL: '',
          params: undefined,
          data: request.stream === undefined ? request.body : request.stream(),
          headers: new AxiosHeaders(request.headers),
          maxRedirects: 0,
          // maxBodyLength bounds what is held in memory; a streamed body (a file, a stream) is not held.
          maxBodyLength: request.stream === undefined ? maxBodyLength : Number.POSITIVE_INFINITY,
          maxContentLength,
          // 3xx and errors come back to the pipeline to decide; validateStatus is applied there.
          validateStatus: () => true,
        } as InternalAxiosRequestConfig
        const response = await inner(innerConfig)
        response.config = config
        response.request = undefined
        const plain: Record<string, string> = {}
        for (const [k, v] of Object.entries(response.headers)) if (v !== undefined && v !== null) plain[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v)
        return { status: response.status, headers: plain, body: async () => response.data as unknown, raw: response }
      },
      // A cancellation is the caller's decision; a response over maxContentLength (ERR_BAD_RESPONSE) would
      // only be as large again (issue 13 item 9).
      retryable: (error) => !(error instanceof AxiosError) || (error.code !== 'ERR_CANCELED' && error.code !== 'ERR_BAD_RESPONSE'),
      redact(error) {
        redactError(error)
        if (error instanceof AxiosError) error.config = config
      },
      cause: (response) => new AxiosError(`Request failed with status code ${response.status}`, response.status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST', config, undefined, response.raw),
      decorate: (error, response) => attachHttpFields(error, config, response.raw),
    }
    const accept = config.validateStatus ?? ((s: number) => s >= 200 && s < 300)
    const { response, decrypted } = await pipeline.execute({ method: config.method ?? 'get', url, headers, body: config.data }, transport, { accept })
    // Only when a field was decrypted does the body change; otherwise axios parses the original as usual.
    if (decrypted !== undefined) response.raw.data = decrypted.body
    return response.raw
  }

  // axios's transformRequest would JSON-serialise a fileBody / streamBody value (a plain object to it):
  // let those through untouched to the adapter, where the pipeline streams them.
  const given = options.axios?.transformRequest ?? axios.defaults.transformRequest
  const transforms = given === undefined ? [] : Array.isArray(given) ? given : [given]
  const transformRequest: AxiosRequestTransformer = function (this: InternalAxiosRequestConfig, data, headers) {
    if (isStreamBody(data)) return data
    return transforms.reduce((d: unknown, fn) => fn.call(this, d, headers), data)
  }
  if (options.tls !== undefined && options.axios?.httpsAgent !== undefined) throw new TypeError('give tls or axios.httpsAgent, not both')
  const instance = axios.create({
    timeout,
    ...options.axios,
    ...(options.tls === undefined ? {} : { httpsAgent: createHttpsAgent(options.tls) }),
    transformRequest: [transformRequest],
    baseURL: options.baseURL,
    adapter,
    maxBodyLength,
    maxContentLength,
    maxRedirects: 0,
  })
  return instance
}

/** The pipeline's share of the client options (everything but auth, which the caller resolves). */
export function pipelineOptions(options: ClientOptions): Omit<PipelineOptions, 'auth'> {
  return {
    baseURL: options.baseURL,
    ...(options.encryption === undefined ? {} : { encryption: options.encryption }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
  }
}
