// The request pipeline, written once over plain data (issue 15 item 1): origin pin, wire URL, field
// encryption, exact body bytes, auth applier, retries that re-sign (Retry-After, deadline), clock-skew
// learning (capped), redirect refusal, the applier's onResponse hook, response decryption and error
// classification. The axios and fetch transports (src/http/) hand it `{ method, url, headers, body }` and a
// `send` over their own wire; no axios or fetch type appears here.
import type { ApisignEncryptionConfig, FieldEncryption, MastercardEncryptionConfig } from '../encryption/index.js'
import { createEncryption } from '../encryption/index.js'
import { ApisignError, describeType } from '../errors.js'
import { Readable } from 'node:stream'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import { toWireUrl } from '../oauth1/url.js'
import { serializeBody } from './body.js'
import { debug } from './redact.js'
import { type StreamBody, isStreamBody, readOneShot, spoolDirectory, streamBody, streamedDigests } from './stream-body.js'
import { parseErrorEnvelope, rejectionError } from './responses.js'
import { type ResolvedRetryPolicy, type RetryPolicy, backoffMs, parseRetryAfter, resolveRetryPolicy } from './retry.js'
import type { AuthApplier, AuthContext, AuthResponse, Authorization, RequestToAuthorize, StreamedBody } from './types.js'

/** Body and response size limits (axios `maxBodyLength` / `maxContentLength`). */
export interface ClientLimits {
  /** Largest request body, bytes. Default 10 MiB. */
  readonly maxBodyLength?: number
  /** Largest response body, bytes. Default 50 MiB. */
  readonly maxContentLength?: number
  /**
   * Bodies past this size never sit whole in memory: a Blob (e.g. `fs.openAsBlob`) is streamed, a one-shot
   * stream is spooled (`spool`) or refused. `fileBody` / `streamBody` are always streamed. Default 1 MiB.
   */
  readonly streamThreshold?: number
  /** Spool a one-shot stream past `streamThreshold` to a private temp file: `true` (OS temp dir) or a directory. Default false (refused). */
  readonly spool?: boolean | string
}

/** Options of {@link createPipeline}: what a transport's client options reduce to once auth is resolved. */
export interface PipelineOptions {
  /** The partner's base URL; requests to any other origin are refused. */
  readonly baseURL: string
  readonly auth: AuthApplier
  readonly encryption?: FieldEncryption | MastercardEncryptionConfig | ApisignEncryptionConfig
  readonly retry?: RetryPolicy | false
  readonly limits?: ClientLimits
  /** Clock, ms (default `Date.now`); the learned skew offset is added to it. */
  readonly now?: () => number
  /** Wait function for retries (tests). Default `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>
}

/** A request as a transport hands it over: an absolute URL, headers (any case), the body as the caller gave it. */
export interface PlainRequest {
  readonly method: string
  readonly url: string | URL
  readonly headers: Readonly<Record<string, string>>
  readonly body?: unknown
}

/** One attempt as it goes on the wire: the signed URL, lower-cased headers, the exact bytes. */
export interface WireRequest {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  /** The exact bytes, or undefined for no body or a streamed one. */
  readonly body: Buffer | undefined
  /** A streamed body: a fresh stream of the same bytes for this attempt (Content-Length is in the headers when known). */
  readonly stream?: () => Readable
  /** 1 for the first attempt. */
  readonly attempt: number
}

/** What a transport got back for one attempt. `raw` is its own response object, handed back untouched. */
export interface TransportResponse<Raw> {
  readonly status: number
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>
  /** The body as text, bytes or parsed data; read only when the pipeline needs it (errors, decryption). */
  body(): Promise<unknown>
  readonly raw: Raw
}

/** The wire under the pipeline: axios's http adapter, Node's fetch. */
export interface Transport<Raw> {
  send(request: WireRequest): Promise<TransportResponse<Raw>>
  /** May an attempt that failed with this error (no response) be retried? Never a cancellation or an oversized response. */
  retryable(error: unknown): boolean
  /** Strip credentials from an error that is about to leave. */
  redact?(error: unknown): void
  /** The transport's own error for an HTTP rejection, kept as `cause` (axios: an AxiosError with the response). */
  cause?(response: TransportResponse<Raw>): unknown
  /** Attach transport fields (axios: `config`, `response`) to an error the pipeline raises for a response. */
  decorate?(error: ApisignError, response: TransportResponse<Raw>): ApisignError
}

/** Per-request choices of a transport. */
export interface ExecuteOptions {
  /** Which statuses are success (axios `validateStatus`). Default 2xx. */
  readonly accept?: (status: number) => boolean
  /** What a final rejection (after retries) does: throw the typed error (axios) or return the response (fetch). Default `'throw'`. */
  readonly rejections?: 'throw' | 'return'
}

/** The outcome: the transport's response, and the decrypted body when response fields were decrypted. */
export interface PipelineResult<Raw> {
  readonly response: TransportResponse<Raw>
  readonly decrypted?: { readonly body: unknown }
}

/** A pipeline bound to one client's options. */
export interface Pipeline {
  readonly baseURL: URL
  readonly origin: string
  readonly maxBodyLength: number
  readonly maxContentLength: number
  /** Requests in flight right now, from entry to response. */
  readonly inFlight: number
  execute<Raw>(request: PlainRequest, transport: Transport<Raw>, options?: ExecuteOptions): Promise<PipelineResult<Raw>>
}

// A rejection that blames the time: only the envelope's reason codes and descriptions count (never an echoed
// base string, which always contains "oauth_timestamp", nor another field a server or proxy fills in), and
// not "expired" alone (tokens and keys expire too). Issue 13 item 9: one response must not move the clock
// unless it says the time is what is wrong.
const TIMESTAMP_REJECTION = /timestamp|clock|time.?window|skew|request.?time/i
const stripEcho = (text: string) => text.replace(/acceptable signature base string.*$/is, '').replace(/oauth_timestamp=\d+/g, '')

/**
 * Does this rejection body blame the request's time? Only what a gateway writes for that counts: a partner
 * error envelope's reason codes and descriptions, else a JSON body's own `message` / `error_description`,
 * else a short plain-text body; never other fields, and never an echoed base string.
 *
 * @example
 * ```ts
 * blamesTime({ Errors: { Error: [{ ReasonCode: 'INVALID_TIMESTAMP' }] } }) // true
 * ```
 */
export function blamesTime(data: unknown): boolean {
  const entries = parseErrorEnvelope(data)
  let texts: string[]
  if (entries.length > 0) texts = entries.map((e) => `${e.reasonCode ?? ''} ${e.description ?? ''}`)
  else {
    const body = readable(data)
    if (typeof body === 'string') texts = body.length <= 1024 ? [body] : []
    else if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
      texts = ['message', 'error_description'].map((k) => (body as Record<string, unknown>)[k]).filter((v): v is string => typeof v === 'string')
    } else texts = []
  }
  return texts.some((t) => TIMESTAMP_REJECTION.test(stripEcho(t)))
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const isRedirect = (status: number) => status >= 300 && status < 400 && status !== 304

function limit(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new ApisignError('ERR_CONFIG_INVALID', `limits.${name} must be a positive integer of bytes`)
  return value
}

/**
 * The transport-neutral pipeline of one client: `execute` runs a request through origin pin, field
 * encryption, serialisation to exact bytes, and per attempt the auth applier and the transport's `send`,
 * with retries that re-sign, clock-skew learning, redirect refusal, the applier's `onResponse` hook,
 * response decryption and error classification.
 *
 * @example
 * ```ts
 * const pipeline = createPipeline({ baseURL: 'https://api.example.com', auth: resolveAuth({ scheme: 'basic', username, password }) })
 * const { response } = await pipeline.execute({ method: 'GET', url: 'https://api.example.com/v1/items', headers: {} }, transport)
 * ```
 */
export function createPipeline(options: PipelineOptions): Pipeline {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object. Received ${describeType(options)}`)
  let base: URL
  try {
    base = new URL(options.baseURL)
  } catch {
    throw new ApisignError('ERR_CONFIG_INVALID', 'baseURL must be an absolute URL')
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new ApisignError('ERR_CONFIG_INVALID', 'baseURL must be http(s)')
  const origin = base.origin
  const auth = options.auth
  if (auth === null || typeof auth !== 'object' || typeof auth.apply !== 'function') throw new TypeError('auth must be an AuthApplier')
  const baseNow = options.now ?? Date.now
  if (typeof baseNow !== 'function') throw new TypeError('now must be a function returning ms')
  let skewMs = 0
  const clock = () => baseNow() + skewMs
  const encryption: FieldEncryption | undefined =
    options.encryption === undefined
      ? undefined
      : typeof (options.encryption as FieldEncryption).encrypt === 'function'
        ? (options.encryption as FieldEncryption)
        : createEncryption(options.encryption as MastercardEncryptionConfig)
  const policy: ResolvedRetryPolicy = resolveRetryPolicy(options.retry)
  const sleep = options.sleep ?? defaultSleep
  const maxBodyLength = limit(options.limits?.maxBodyLength, 'maxBodyLength', 10 * 1024 * 1024)
  const maxContentLength = limit(options.limits?.maxContentLength, 'maxContentLength', 50 * 1024 * 1024)
  const streamThreshold = limit(options.limits?.streamThreshold, 'streamThreshold', 1024 * 1024)
  const spoolOption = options.limits?.spool
  if (spoolOption !== undefined && typeof spoolOption !== 'boolean' && (typeof spoolOption !== 'string' || spoolOption === '')) throw new ApisignError('ERR_CONFIG_INVALID', 'limits.spool must be true, false or a directory')
  const spool = spoolDirectory(spoolOption)
  let inFlight = 0

  async function prepare(request: PlainRequest) {
    const method = request.method.toUpperCase()
    // The URL exactly as it will be sent: WHATWG-normalised, fragment dropped (reference/oauth1.md §8).
    const wire = toWireUrl(request.url)
    if (wire.origin !== origin) throw new ApisignError('ERR_ORIGIN_NOT_ALLOWED', `requests are limited to ${origin}; refused ${wire.origin}`)
    // A private, lower-cased copy; a caller's Authorization never rides along (the scheme sets its own).
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(request.headers)) if (v !== undefined) headers[k.toLowerCase()] = String(v)
    delete headers['authorization']
    let data = request.body
    let streamed: StreamBody | undefined
    let cleanup: (() => void) | undefined
    if (typeof ReadableStream !== 'undefined' && data instanceof ReadableStream) data = Readable.fromWeb(data as NodeReadableStream<Uint8Array>)
    if (isStreamBody(data)) streamed = data
    else if (typeof Blob !== 'undefined' && data instanceof Blob && data.size > streamThreshold) {
      const blob = data
      streamed = streamBody(() => blob.stream(), { size: blob.size })
      if (blob.type !== '' && headers['content-type'] === undefined) headers['content-type'] = blob.type
    } else if (data instanceof Readable) {
      const read = await readOneShot(data, streamThreshold, maxBodyLength, spool)
      if (read.spooled === undefined) data = read.bytes
      else ({ spooled: streamed, cleanup } = read)
    }
    if (streamed !== undefined) {
      if (encryption !== undefined && encryption.matches(wire.pathname).encrypt) {
        cleanup?.()
        throw new ApisignError('ERR_BODY_UNSUPPORTED', `the body for ${wire.pathname} must be JSON in memory to encrypt its fields, not a stream`)
      }
      return { method, wire, headers, bytes: undefined, streamed, cleanup }
    }
    if (encryption !== undefined && data !== undefined && data !== null && encryption.matches(wire.pathname).encrypt) {
      let parsed: unknown = data
      if (typeof data === 'string' || Buffer.isBuffer(data)) {
        try {
          parsed = JSON.parse(data.toString())
        } catch {
          throw new ApisignError('ERR_BODY_UNSUPPORTED', `the body for ${wire.pathname} must be JSON to encrypt its fields`)
        }
      }
      const result = encryption.encrypt({ url: `${wire.pathname}${wire.search}`, body: parsed, headers })
      data = JSON.stringify(result.body)
      for (const [k, v] of Object.entries(result.headers)) if (v !== undefined) headers[k.toLowerCase()] = v
      headers['content-type'] = 'application/json'
    }
    const body = await serializeBody(data, maxBodyLength)
    if (body.contentType !== undefined && (headers['content-type'] === undefined || /multipart\/form-data/i.test(body.contentType))) headers['content-type'] = body.contentType
    return { method, wire, headers, bytes: body.bytes, streamed: undefined, cleanup: undefined }
  }

  async function execute<Raw>(request: PlainRequest, transport: Transport<Raw>, execOptions: ExecuteOptions = {}): Promise<PipelineResult<Raw>> {
    // Counted from entry to response (issue 15 item 4), so overlapping requests see each other.
    inFlight++
    try {
      return await run(request, transport, execOptions)
    } finally {
      inFlight--
    }
  }

  async function run<Raw>(request: PlainRequest, transport: Transport<Raw>, execOptions: ExecuteOptions): Promise<PipelineResult<Raw>> {
    const started = baseNow()
    const { method, wire, headers, bytes, streamed, cleanup } = await prepare(request)
    try {
      return await attempts(started, method, wire, headers, bytes, streamed, transport, execOptions)
    } finally {
      cleanup?.()
    }
  }

  async function attempts<Raw>(
    started: number,
    method: string,
    wire: URL,
    headers: Record<string, string>,
    bytes: Buffer | undefined,
    streamed: StreamBody | undefined,
    transport: Transport<Raw>,
    execOptions: ExecuteOptions,
  ): Promise<PipelineResult<Raw>> {
    const digests = streamed === undefined ? undefined : streamedDigests(streamed)
    const accept = execOptions.accept ?? ((s: number) => s >= 200 && s < 300)
    const decorate = (error: ApisignError, response: TransportResponse<Raw>) => (transport.decorate === undefined ? error : transport.decorate(error, response))
    let attempt = 0
    let skewRetried = false
    let hookRetried = false
    for (;;) {
      attempt++
      const toAuthorize: RequestToAuthorize = digests === undefined ? { method, url: wire, headers, body: bytes } : streamedRequest(method, wire, headers, digests)
      const context: AuthContext = { now: clock, baseURL: base, inFlight }
      const authorization: Authorization = await auth.apply(toAuthorize, context)
      const sendHeaders: Record<string, string> = { ...headers }
      for (const [k, v] of Object.entries(authorization.headers)) sendHeaders[k.toLowerCase()] = v
      const sendUrl = authorization.url ?? wire
      if (sendUrl.origin !== origin) throw new ApisignError('ERR_ORIGIN_NOT_ALLOWED', `an auth scheme moved the request off ${origin}`)
      let response: TransportResponse<Raw>
      const length = authorization.body === undefined ? digests?.length : undefined
      if (length !== undefined) sendHeaders['content-length'] = String(length)
      const stream = streamed !== undefined && authorization.body === undefined ? () => streamed.open() : undefined
      try {
        response = await transport.send({ method, url: sendUrl, headers: sendHeaders, body: authorization.body ?? bytes, ...(stream === undefined ? {} : { stream }), attempt })
      } catch (error) {
        transport.redact?.(error)
        if (policy.networkErrors && policy.methods.has(method) && transport.retryable(error) && attempt <= policy.retries) {
          const delay = backoffMs(attempt, policy)
          if (baseNow() - started + delay <= policy.deadlineMs) {
            debug('retry %s %s after network error (attempt %d)', method, wire.pathname, attempt + 1)
            await sleep(delay)
            continue
          }
        }
        throw error
      }
      const status = response.status
      debug('%s %s -> %d (attempt %d)', method, wire.pathname, status, attempt)
      if (auth.onResponse !== undefined) {
        const seen: AuthResponse = { request: toAuthorize, status, headers: response.headers, ...(status >= 200 && status < 300 ? {} : { body: readable(await response.body()) }) }
        // One extra attempt per request, re-applied (a fresh signature or proof), whatever the method.
        if ((await auth.onResponse(seen, context)) === 'retry' && !hookRetried) {
          hookRetried = true
          debug('retry %s %s: the auth scheme asked for a fresh attempt', method, wire.pathname)
          continue
        }
      }
      if (isRedirect(status)) {
        let where = 'another location'
        try {
          where = new URL(response.headers['location'] ?? '', wire).origin
        } catch {
          // keep the generic text
        }
        throw decorate(new ApisignError('ERR_REDIRECT_REFUSED', `HTTP ${status} redirect to ${where} not followed: a signed request is never replayed to another URL`), response)
      }
      if (accept(status)) {
        if (encryption !== undefined && status >= 200 && status < 300 && encryption.matches(wire.pathname).decrypt) {
          const decrypted = decryptBody(encryption, `${wire.pathname}${wire.search}`, await response.body(), response.headers)
          if (decrypted !== undefined) return { response, decrypted: { body: decrypted.body } }
        }
        return { response }
      }
      // Bytes (the fetch transport) are read as the text the envelope parsers expect.
      const raw = await response.body()
      const data = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw
      // Clock skew: a 401 that blames the time, and a Date header to learn the offset from, within the cap.
      const dateHeader = response.headers['date']
      if (status === 401 && policy.clockSkew && !skewRetried && dateHeader !== undefined && blamesTime(data)) {
        const serverNow = Date.parse(dateHeader)
        const offset = serverNow - baseNow()
        if (!Number.isNaN(serverNow) && Math.abs(offset) <= policy.clockSkewCapMs) {
          skewRetried = true
          skewMs = offset
          debug('clock skew of %d ms learned from Date; re-signing once', skewMs)
          continue
        }
        debug('clock skew from Date not learned: beyond clockSkewCapMs (%d ms)', policy.clockSkewCapMs)
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
      if (execOptions.rejections === 'return') return { response }
      throw decorate(rejectionError(status, data, authorization.baseString, transport.cause?.(response)), response)
    }
  }

  return {
    baseURL: base,
    origin,
    maxBodyLength,
    maxContentLength,
    get inFlight() {
      return inFlight
    },
    execute,
  }
}

/** What a scheme sees of a streamed request: its digests; reading `body` is a typed error, never an empty body. */
function streamedRequest(method: string, url: URL, headers: Readonly<Record<string, string>>, streamed: StreamedBody): RequestToAuthorize {
  return {
    method,
    url,
    headers,
    streamed,
    get body(): Buffer | undefined {
      throw new ApisignError('ERR_BODY_UNSUPPORTED', 'this auth scheme needs the body bytes in memory, and this body is streamed (a file, a large Blob or a stream); send it in memory or use a scheme that signs a body digest (oauth1, sigv4)')
    },
  }
}

/** Parsed JSON when the body is JSON text, else the body as it came. */
function readable(data: unknown): unknown {
  const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : undefined
  if (text === undefined) return data
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** The decrypted body, or undefined when nothing was decrypted (the transport then keeps its own body). */
function decryptBody(encryption: FieldEncryption, path: string, raw: unknown, headers: Readonly<Record<string, string>>): { body: unknown } | undefined {
  let parsed: unknown = raw
  if (typeof raw === 'string' || Buffer.isBuffer(raw)) {
    try {
      parsed = JSON.parse(raw.toString())
    } catch {
      return undefined // not JSON: nothing to decrypt
    }
  }
  const result = encryption.decrypt({ url: path, body: parsed, headers })
  return result.body === parsed ? undefined : { body: result.body }
}
