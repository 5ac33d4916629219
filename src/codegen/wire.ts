import type { AxiosInstance } from 'axios'

/** The part of a `@hey-api/openapi-ts` axios client that wiring needs. */
export interface HeyApiClient {
  setConfig(config: { axios?: AxiosInstance; baseURL?: string; throwOnError?: boolean }): unknown
}

/**
 * Route every call of a generated `@hey-api/openapi-ts` client through a signed `createClient` instance.
 * This wiring lives outside `generated/`, so regenerating a client never loses it.
 *
 * @example
 * ```ts
 * import { client } from '../generated/payments/client/client.gen.js'
 * wireClient(client, createClient(await loadProfile()))
 * ```
 */
export function wireClient<C extends HeyApiClient>(client: C, axios: AxiosInstance): C {
  const baseURL = axios.defaults.baseURL
  client.setConfig({ axios, ...(baseURL === undefined ? {} : { baseURL }) })
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
