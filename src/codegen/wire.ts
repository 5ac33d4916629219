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

/**
 * Instantiate an openapi-generator `typescript-axios` API class over a signed client: the class takes
 * `(configuration, basePath, axiosInstance)`, and every request then goes through apisign's pipeline.
 *
 * @example
 * ```ts
 * const payments = wireTypescriptAxios(PaymentsApi, createClient(profile))
 * ```
 */
export function wireTypescriptAxios<T>(Api: TypescriptAxiosApi<T>, axios: AxiosInstance): T {
  return new Api(undefined, axios.defaults.baseURL, axios)
}
