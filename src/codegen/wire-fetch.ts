// Wiring for openapi-generator's typescript-fetch clients (issue 19). Their runtime calls
// `configuration.fetchApi(url, init)`; a signed `createFetch` function (apisign/http) answers, so every call
// is encrypted, serialised to exact bytes, signed and retried by the same pipeline as the axios client's.
import type { SignedFetchLike } from './wire.js'

/** A function with the signature of the global `fetch`. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** The constructor shape of a typescript-fetch `Configuration` (`runtime.ts`). */
export type TypescriptFetchConfiguration<C> = new (parameters: { basePath?: string; fetchApi?: FetchFunction }) => C

/** The constructor shape of a typescript-fetch API class (`apis/*.ts`). */
export type TypescriptFetchApi<C, T> = new (configuration: C) => T

/**
 * Instantiate an openapi-generator `typescript-fetch` API class over a signed fetch (`createFetch`):
 * `new Api(new Configuration({ basePath, fetchApi }))`, the base path being the one the signed fetch is
 * pinned to unless given. The wiring lives outside the generated folder, so regenerating never loses it.
 *
 * @example
 * ```ts
 * import { Configuration, PaymentsApi } from './generated/openapi-generator-fetch/payments/client/index.js'
 * const payments = wireTypescriptFetch(PaymentsApi, Configuration, createFetch(await loadProfile()))
 * ```
 */
export function wireTypescriptFetch<C, T>(
  Api: TypescriptFetchApi<C, T>,
  Configuration: TypescriptFetchConfiguration<C>,
  fetchApi: SignedFetchLike | FetchFunction,
  basePath: string | undefined = (fetchApi as Partial<SignedFetchLike>).baseURL,
): T {
  if (typeof fetchApi !== 'function') throw new TypeError('fetchApi must be a fetch function (createFetch from apisign/http)')
  if (typeof Api !== 'function' || typeof Configuration !== 'function') throw new TypeError('Api and Configuration must be the generated classes')
  return new Api(new Configuration({ fetchApi, ...(basePath === undefined ? {} : { basePath }) }))
}
