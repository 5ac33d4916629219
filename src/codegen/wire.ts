import type { AxiosInstance } from 'axios'

/** The part of a `@hey-api/openapi-ts` client (axios or fetch) that wiring needs. */
export interface HeyApiClient {
  setConfig(config: { axios?: AxiosInstance; baseURL?: string; fetch?: SignedFetchLike; baseUrl?: string; throwOnError?: boolean }): unknown
}

/** A signed fetch (`createFetch` in apisign/http): fetch's signature plus the base URL it is pinned to. */
export interface SignedFetchLike {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>
  readonly baseURL: string
}

const isAxios = (x: unknown): x is AxiosInstance => typeof x === 'function' && typeof (x as Partial<AxiosInstance>).request === 'function' && (x as Partial<AxiosInstance>).defaults !== undefined

/**
 * Route every call of a generated `@hey-api/openapi-ts` client through apisign: an axios client
 * (`--client axios`, the default) through a signed `createClient` instance, a fetch client
 * (`--client fetch`) through a signed `createFetch` function. This wiring lives outside `generated/`, so
 * regenerating a client never loses it.
 *
 * @example
 * ```ts
 * import { client } from '../generated/payments/client/client.gen.js'
 * wireClient(client, createClient(await loadProfile()))   // or createFetch(await loadProfile()) for --client fetch
 * ```
 */
export function wireClient<C extends HeyApiClient>(client: C, signed: AxiosInstance | SignedFetchLike): C {
  if (isAxios(signed)) {
    const baseURL = signed.defaults.baseURL
    client.setConfig({ axios: signed, ...(baseURL === undefined ? {} : { baseURL }) })
    return client
  }
  if (typeof signed !== 'function' || typeof signed.baseURL !== 'string') throw new TypeError('wireClient takes a createClient axios instance or a createFetch function')
  client.setConfig({ fetch: signed, baseUrl: signed.baseURL })
  return client
}

/** The constructor shape of an openapi-generator `typescript-axios` API class. */
export type TypescriptAxiosApi<T> = new (configuration: undefined | Record<string, unknown>, basePath: string | undefined, axios: AxiosInstance) => T

// typescript-axios's Configuration#isJsonMime (configuration.ts): JSON media types, `+json` suffixes.
const JSON_MIME = /^(application\/json|[^;/ \t]+\/[^;/ \t]+[+]json)[ \t]*(;.*)?$/i

/**
 * Instantiate an openapi-generator `typescript-axios` API class over a signed client: the class takes
 * `(configuration, basePath, axiosInstance)`, and every request then goes through apisign's pipeline.
 * Without a `configuration`, one with the generated `isJsonMime` is passed: with none at all, the generated
 * `serializeDataIfNeeded` JSON-encodes every non-string body, so an `application/octet-stream` Blob would
 * be sent as `{}`. A generated `Configuration` instance may be passed instead (its `basePath` then wins).
 *
 * @example
 * ```ts
 * const payments = wireTypescriptAxios(PaymentsApi, createClient(profile))
 * ```
 */
export function wireTypescriptAxios<T>(Api: TypescriptAxiosApi<T>, axios: AxiosInstance, configuration?: Record<string, unknown>): T {
  const basePath = axios.defaults.baseURL
  const config = configuration ?? {
    ...(basePath === undefined ? {} : { basePath }),
    isJsonMime: (mime: string | null | undefined) => typeof mime === 'string' && JSON_MIME.test(mime),
  }
  return new Api(config, basePath, axios)
}
