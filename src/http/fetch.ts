// The WHATWG fetch transport over the pipeline (issue 15 item 2): a function with fetch's signature, for
// code that does not use axios (Node's fetch, hey-api's fetch client, openapi-generator's typescript-fetch).
import { request as httpRequest } from 'node:http'
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { Readable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import { ApisignError, describeType } from '../errors.js'
import { type Transport, type TransportResponse, createPipeline } from '../pipeline/pipeline.js'
import { type ClientOptions, clientAuth, pipelineOptions } from './client.js'
import { createHttpsAgent, createTlsFetch } from './tls.js'

/** Options of {@link createFetch}: the client options (a loaded profile has this shape), without axios's. */
export interface FetchClientOptions extends Omit<ClientOptions, 'axios'> {
  /** The fetch underneath. Default `globalThis.fetch` (Node's built-in, undici). */
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>
  /**
   * What a rejected request (after the retries) does: `'return'` (default) resolves with the partner's
   * response, as fetch does, for clients that read `response.ok`; `'throw'` rejects with the typed
   * `ApisignError` (`ERR_SIGNATURE_MISMATCH` with the offset, `ERR_GATEWAY_REJECTED`, ...), as the axios
   * client does.
   */
  readonly rejections?: 'return' | 'throw'
}

/**
 * A signed `fetch`: `(input, init) => Promise<Response>`, with the base URL it is pinned to. It accepts
 * what fetch accepts (a URL, a string, a `Request`); a relative URL resolves against `baseURL`.
 *
 * @example
 * ```ts
 * const signedFetch: SignedFetch = createFetch(await loadProfile())
 * const response = await signedFetch('/v1/payments/123')
 * ```
 */
export interface SignedFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>
  /** The profile's base URL (what a generated client's `baseUrl` should be). */
  readonly baseURL: string
}

const NULL_BODY = new Set([101, 103, 204, 205, 304])

const DECODERS: Readonly<Record<string, () => Transform>> = { gzip: createGunzip, 'x-gzip': createGunzip, deflate: createInflate, br: createBrotliDecompress }

/** Send a streamed body with node:http(s) and answer with a WHATWG Response, decoded as fetch would. */
function uploadByNodeHttp(url: URL, method: string, headers: Readonly<Record<string, string>>, body: Readable, signal: AbortSignal, agent: HttpsAgent | undefined): Promise<Response> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const request = send(url, { method, headers, signal, ...(agent === undefined ? {} : { agent }) }, (incoming) => {
      const status = incoming.statusCode ?? 502
      const out = new Headers()
      for (const [name, value] of Object.entries(incoming.headers)) if (value !== undefined) for (const v of Array.isArray(value) ? value : [value]) out.append(name, v)
      const decode = DECODERS[(incoming.headers['content-encoding'] ?? '').trim().toLowerCase()]
      let stream: Readable = incoming
      if (decode !== undefined) {
        stream = incoming.pipe(decode())
        out.delete('content-encoding')
        out.delete('content-length')
      }
      if (NULL_BODY.has(status)) incoming.resume()
      const response = new Response(NULL_BODY.has(status) ? null : (Readable.toWeb(stream) as ReadableStream<Uint8Array>), { status, statusText: incoming.statusMessage ?? '', headers: out })
      Object.defineProperty(response, 'url', { value: url.href })
      resolve(response)
    })
    request.on('error', reject)
    pipeline(body, request).catch(reject)
  })
}

/**
 * A web stream that reads from `readable` only when fetch pulls: Node 20's `Readable.toWeb` (and an async
 * iterable body) read the whole source ahead of the socket, so a 1 GB upload would sit in memory
 * (bench/stream.mjs measured 1 GB of RSS growth for plain fetch).
 */
function pulled(readable: Readable): ReadableStream<Uint8Array> {
  const chunks = readable[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await chunks.next()
        if (done === true) controller.close()
        else controller.enqueue(typeof value === 'string' ? Buffer.from(value, 'utf8') : value)
      },
      cancel(reason) {
        readable.destroy(reason instanceof Error ? reason : undefined)
      },
    },
    { highWaterMark: 1 },
  )
}

/** Read a response body up to `limit` bytes; past that the stream is cancelled and the read refused. */
async function readLimited(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Buffer> {
  if (body === null) return Buffer.alloc(0)
  const chunks: Buffer[] = []
  let total = 0
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      await reader.cancel().catch(() => undefined)
      throw new ApisignError('ERR_INPUT_TOO_LARGE', `response body exceeds maxContentLength (${limit} bytes)`)
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength))
  }
  return Buffer.concat(chunks)
}

/** A Response carrying `body` in place of the one read, with the original's status, headers and URL. */
function rebuilt(original: Response, body: Buffer | string | null): Response {
  const headers = new Headers(original.headers)
  if (body !== null) {
    headers.delete('content-length')
    headers.delete('content-encoding') // fetch already decoded it
  }
  const response = new Response(NULL_BODY.has(original.status) ? null : body, { status: original.status, statusText: original.statusText, headers })
  Object.defineProperty(response, 'url', { value: original.url })
  return response
}

/** The signal of one attempt and the way to let go of its timer. */
interface AttemptSignal {
  readonly signal: AbortSignal
  readonly clear: () => void
}

/**
 * One attempt's signal: aborted by the caller's signal (with its reason) or after `timeout` ms (a
 * `TimeoutError` DOMException, as `AbortSignal.timeout` gives). One AbortController and one unref'd timer,
 * cleared as soon as the attempt no longer needs it; `AbortSignal.timeout` left a timer armed for the full
 * timeout per attempt, behind a FinalizationRegistry entry (bench/http.mjs).
 */
function attemptSignal(caller: AbortSignal | undefined, timeout: number): AttemptSignal {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeout)
  timer.unref()
  const clear = () => clearTimeout(timer)
  // A caller's signal joins through AbortSignal.any, which holds it weakly: a long-lived signal shared by
  // many requests must not collect a listener per attempt whose body the caller may never read.
  return { signal: caller === undefined ? controller.signal : AbortSignal.any([caller, controller.signal]), clear }
}

/**
 * A WHATWG `fetch`-compatible function that signs (and encrypts / decrypts the configured fields of) every
 * request at the last moment, on Node's built-in fetch: the same pipeline as {@link createClient}, so the
 * same origin pin, exact body bytes, retries that re-sign, clock-skew learning, redirect refusal
 * (`redirect: 'manual'` underneath, a 3xx is `ERR_REDIRECT_REFUSED`) and typed errors. Hand it to
 * hey-api's fetch client (`client.setConfig({ fetch, baseUrl })`, or `wireClient`) or to
 * openapi-generator's `typescript-fetch` (`new Configuration({ basePath, fetchApi })`).
 *
 * @example
 * ```ts
 * import { createFetch } from 'apisign/http'
 * const signedFetch = createFetch(await loadProfile())
 * const response = await signedFetch('https://sandbox.api.mastercard.com/v1/payments', { method: 'POST', body: JSON.stringify({ amount: 1000 }), headers: { 'content-type': 'application/json' } })
 * ```
 */
export function createFetch(options: FetchClientOptions): SignedFetch {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object. Received ${describeType(options)}`)
  if (options.auth === null || typeof options.auth !== 'object') throw new TypeError('auth must be { scheme: "oauth1", ... }, another scheme of apisign/schemes, or an AuthApplier')
  const timeout = options.timeout ?? 30_000
  if (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout <= 0) throw new ApisignError('ERR_CONFIG_INVALID', 'timeout must be a positive integer of ms')
  const rejections = options.rejections ?? 'return'
  if (rejections !== 'return' && rejections !== 'throw') throw new ApisignError('ERR_CONFIG_INVALID', "rejections must be 'return' or 'throw'")
  const pipeline = createPipeline({ ...pipelineOptions(options), auth: clientAuth(options) })
  if (options.tls !== undefined && options.fetch !== undefined) throw new TypeError('give tls or fetch, not both')
  const underlying = options.fetch ?? (options.tls !== undefined ? createTlsFetch(options.tls) : (input: string, init: RequestInit) => globalThis.fetch(input, init))
  // Streamed uploads bypass fetch (below), so they need the same TLS settings on their own agent.
  const uploadAgent = options.tls !== undefined && options.fetch === undefined ? createHttpsAgent(options.tls) : undefined
  const { maxContentLength } = pipeline

  const signedFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const request = input instanceof Request ? input : undefined
    const url = request !== undefined ? request.url : new URL(String(input), pipeline.baseURL).href
    const headers: Record<string, string> = {}
    new Headers(init.headers ?? request?.headers).forEach((value, name) => {
      headers[name] = value
    })
    const method = init.method ?? request?.method ?? 'GET'
    const signal = init.signal ?? request?.signal ?? undefined
    // A Request's body (and a ReadableStream in init) is a one-shot stream: the pipeline reads it into
    // exact bytes up to limits.streamThreshold, past that spools it (limits.spool) or refuses it.
    let body: unknown = init.body ?? undefined
    if (body === undefined && request?.body != null) body = request.body

    const transport: Transport<Response> = {
      async send(wire) {
        const attempt = attemptSignal(signal, timeout)
        let response: Response
        try {
          // A streamed upload on the default fetch goes through node:http instead: Node's fetch (undici 6 and
          // 7 alike) keeps every chunk of a streamed request body until the process lets go of the client,
          // so a 1 GB upload would hold 1 GB (bench/stream.mjs). A caller's own fetch is always used as given.
          response =
            wire.stream !== undefined && options.fetch === undefined
              ? await uploadByNodeHttp(wire.url, wire.method, wire.headers, wire.stream(), attempt.signal, uploadAgent)
              : await underlying(wire.url.href, {
                  method: wire.method,
                  headers: wire.headers,
                  // A streamed body goes out as a stream (half duplex, as fetch requires for a streaming upload).
                  ...(wire.stream !== undefined ? { body: pulled(wire.stream()), duplex: 'half' } : wire.body === undefined ? {} : { body: wire.body }),
                  redirect: 'manual',
                  signal: attempt.signal,
                  ...(init.credentials === undefined ? {} : { credentials: init.credentials }),
                  ...(init.keepalive === undefined ? {} : { keepalive: init.keepalive }),
                })
        } catch (error) {
          attempt.clear()
          throw error
        }
        // Without a body there is nothing left for the timer to cover.
        if (response.body === null) attempt.clear()
        let read: Promise<Buffer> | undefined
        let plain: Record<string, string> | undefined
        return {
          status: response.status,
          // Built on first use: a 2xx the pipeline has nothing to check in never needs a copy of the headers.
          get headers() {
            if (plain === undefined) {
              plain = {}
              for (const [name, value] of response.headers) plain[name] = value
            }
            return plain
          },
          // The timer covers the pipeline's read too, then goes; a body left to the caller keeps it armed
          // (unref'd), as fetch's own signal would, so a stalled body still aborts.
          body: () => (read ??= readLimited(response.body, maxContentLength).finally(attempt.clear)),
          raw: response,
          get consumed() {
            return read
          },
        } as TransportResponse<Response> & { readonly consumed: Promise<Buffer> | undefined }
      },
      // The caller's own abort is final; a timeout or a connection failure may be retried.
      retryable: (error) => signal?.aborted !== true && !(error instanceof ApisignError),
    }
    const { response, decrypted } = await pipeline.execute({ method, url, headers, body }, transport, { rejections: rejections === 'throw' ? 'throw' : 'return' })
    if (decrypted !== undefined) {
      const out = rebuilt(response.raw, JSON.stringify(decrypted.body))
      out.headers.set('content-type', 'application/json')
      return out
    }
    // The pipeline read the body (an error, a decryption that changed nothing): hand back those bytes.
    const consumed = (response as unknown as { consumed: Promise<Buffer> | undefined }).consumed
    return consumed === undefined ? response.raw : rebuilt(response.raw, await consumed)
  }
  Object.defineProperty(signedFetch, 'baseURL', { value: options.baseURL, enumerable: true })
  return signedFetch as SignedFetch
}
