// Wiring for openapi-generator's typescript-fetch clients (issue 19). Their runtime calls
// `configuration.fetchApi(url, init)`; apisign answers with a fetch function over the signed axios client, so
// the request is encrypted, serialised to exact bytes, signed and retried by the same pipeline as every
// other call. (When the transport-neutral pipeline's createFetch lands, it plugs into the same seam.)
import type { AxiosInstance, AxiosResponse } from 'axios'

/** A function with the signature of the global `fetch`. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** The constructor shape of a typescript-fetch `Configuration` (`runtime.ts`). */
export type TypescriptFetchConfiguration<C> = new (parameters: { basePath?: string; fetchApi?: FetchFunction }) => C

/** The constructor shape of a typescript-fetch API class (`apis/*.ts`). */
export type TypescriptFetchApi<C, T> = new (configuration: C) => T

// Hop-by-hop and framing headers describe the bytes axios received, not the (decoded, possibly decrypted)
// body the Response below carries.
const DROPPED = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'])

function toResponse(response: AxiosResponse): Response {
  const headers = new Headers()
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    if (value === undefined || value === null || DROPPED.has(name.toLowerCase())) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, String(v))
  }
  const data: unknown = response.data
  let body: Uint8Array | string | null
  if (data === undefined || data === null || data === '') body = null
  else if (Buffer.isBuffer(data)) body = new Uint8Array(data)
  else if (data instanceof ArrayBuffer) body = new Uint8Array(data)
  else if (typeof data === 'string') body = data
  // A decrypted JSON body is an object by now: serialise it back for the generated code to parse.
  else body = JSON.stringify(data)
  const nullBody = response.status === 204 || response.status === 205 || response.status === 304
  return new Response(nullBody ? null : (body as ConstructorParameters<typeof Response>[0]), { status: response.status, statusText: response.statusText ?? '', headers })
}

/**
 * A `fetch` function that sends through a signed `createClient` instance: the body becomes exact bytes
 * (a `FormData` gets its multipart boundary, `URLSearchParams` its form type), the client encrypts, signs
 * and retries as configured, and the answer comes back as a `Response`, HTTP errors included (as fetch
 * resolves them); network errors, refused redirects and origins reject with apisign's typed errors.
 *
 * @example
 * ```ts
 * const fetchApi = fetchOverClient(createClient(await loadProfile()))
 * const res = await fetchApi('https://sandbox.api.example.com/v1/payments/p1')
 * ```
 */
export function fetchOverClient(client: AxiosInstance): FetchFunction {
  return async (input, init) => {
    const request = new Request(input, init)
    const body = request.body === null ? undefined : Buffer.from(await request.arrayBuffer())
    const headers: Record<string, string> = {}
    request.headers.forEach((value, name) => {
      headers[name] = value
    })
    try {
      const response = await client.request({
        url: request.url,
        baseURL: '',
        method: request.method,
        headers,
        data: body,
        responseType: 'arraybuffer',
        // Bytes in, bytes out: the generated runtime parses the body itself.
        transformRequest: [(data: unknown) => data],
        transformResponse: [(data: unknown) => data],
        ...(init?.signal ? { signal: init.signal } : {}),
      })
      return toResponse(response)
    } catch (error) {
      // An HTTP error status is an answer, not a failure, for fetch: hand it to the generated code (which
      // raises its ResponseError). The client already retried what its policy retries.
      const response = (error as { response?: AxiosResponse }).response
      if (response !== undefined && typeof response.status === 'number' && response.status >= 400) return toResponse(response)
      throw error
    }
  }
}

/**
 * Instantiate an openapi-generator `typescript-fetch` API class over a fetch function (such as
 * {@link fetchOverClient} of a signed client): `new Api(new Configuration({ basePath, fetchApi }))`. The
 * wiring lives outside the generated folder, so regenerating never loses it.
 *
 * @example
 * ```ts
 * import { Configuration, PaymentsApi } from './generated/payments/client/index.js'
 * const api = createClient(await loadProfile())
 * const payments = wireTypescriptFetch(PaymentsApi, Configuration, fetchOverClient(api), api.defaults.baseURL)
 * ```
 */
export function wireTypescriptFetch<C, T>(
  Api: TypescriptFetchApi<C, T>,
  Configuration: TypescriptFetchConfiguration<C>,
  fetchApi: FetchFunction,
  basePath?: string,
): T {
  if (typeof fetchApi !== 'function') throw new TypeError('fetchApi must be a fetch function')
  return new Api(new Configuration({ fetchApi, ...(basePath === undefined ? {} : { basePath }) }))
}
