import { isUtf8 } from 'node:buffer'
import type { Interceptor, ReplyHeaders, Scope } from 'nock'
import { mastercardErrorBody } from '../schemes/table.js'
import type { SchemeVerifier } from '../pipeline/types.js'
import type { VerificationResult } from '../verify/index.js'

/** What a reply function of {@link interceptSigned} receives. */
export interface VerifiedRequest {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: Buffer
  /** Who called (the OAuth1 consumer key, the API key, ...). */
  readonly principal: string
  /** @deprecated use `principal` (same value for OAuth1). */
  readonly consumerKey: string
}

/** Options of {@link interceptSigned}. */
export interface InterceptSignedOptions {
  /** An OAuth1 verifier or any scheme verifier of apisign/schemes. */
  readonly verifier: SchemeVerifier
  /** The scope's origin, e.g. `https://sandbox.api.example.com` (nock hands over only the path). */
  readonly origin: string
  /** The answer to a request that verified. Default `200 {}`. */
  readonly reply?: (request: VerifiedRequest) => [number, unknown?, ReplyHeaders?] | Promise<[number, unknown?, ReplyHeaders?]>
}

/**
 * The gateway-style error body of a rejected request (Mastercard's `Errors.Error[]` envelope).
 *
 * @example
 * ```ts
 * const verdict = await verifier.verify(request)
 * if (!verdict.ok) return [401, gatewayErrorBody(verdict)]
 * ```
 */
export function gatewayErrorBody(result: Extract<VerificationResult, { ok: false }>) {
  return mastercardErrorBody(result)
}

/**
 * nock passes a request body that is not valid UTF-8 as a hex string: undo that to get the raw bytes.
 *
 * @example
 * ```ts
 * nock(origin).post('/upload').reply(function (uri, body) { const bytes = nockBodyBytes(body); return [200] })
 * ```
 */
export function nockBodyBytes(body: unknown): Buffer {
  if (body === undefined || body === null || body === '') return Buffer.alloc(0)
  if (typeof body !== 'string') return Buffer.from(JSON.stringify(body), 'utf8')
  if (body.length % 2 === 0 && /^[0-9a-f]+$/.test(body)) {
    const bytes = Buffer.from(body, 'hex')
    if (!isUtf8(bytes)) return bytes
  }
  return Buffer.from(body, 'utf8')
}

/**
 * Make a nock interceptor verify every request it intercepts with an apisign verifier, as the partner's
 * gateway would: a request that fails gets `401` with the gateway-style error body (code and reason, with
 * the acceptable base string when the verifier has `debug`); one that passes gets `reply(...)`.
 *
 * @example
 * ```ts
 * import nock from 'nock'
 * import { interceptSigned } from 'apisign/testing'
 * const scope = interceptSigned(nock(origin).post('/v1/payments'), { verifier, origin, reply: () => [201, { id: 'p1' }] })
 * await api.post('/v1/payments', { amount: 1 })
 * scope.done()
 * ```
 */
export function interceptSigned(interceptor: Interceptor, options: InterceptSignedOptions): Scope {
  return interceptor.reply(async function (this: { req: { method?: string; headers: Record<string, string | string[] | undefined> } }, uri: string, body: unknown) {
    const bytes = nockBodyBytes(body)
    const url = `${options.origin.replace(/\/$/, '')}${uri}`
    const result = await options.verifier.verify({ method: this.req.method ?? 'GET', url, headers: this.req.headers, body: bytes })
    if (!result.ok) return [401, gatewayErrorBody(result), { 'content-type': 'application/json' }]
    const request: VerifiedRequest = { method: this.req.method ?? 'GET', url, headers: this.req.headers, body: bytes, principal: result.principal, consumerKey: result.principal }
    const [status, answer, headers] = options.reply ? await options.reply(request) : [200, {}]
    return [status, answer as never, headers]
  } as never)
}
