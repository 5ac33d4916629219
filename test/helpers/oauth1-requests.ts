// A request as a verifier receives it, signed from a base set of options (tests override or tamper).
import { type SignRequestOptions, signRequest } from '../../src/oauth1/index.js'
import type { ReceivedRequest } from '../../src/verify/index.js'

/** `received(options, tamper)`: sign `{ ...base, ...options }`, then apply `tamper` to what arrives. */
export function receivedFactory(base: SignRequestOptions) {
  return (options: Partial<SignRequestOptions> = {}, tamper: Partial<ReceivedRequest> = {}): ReceivedRequest => {
    const o = { ...base, ...options } as SignRequestOptions
    const signed = signRequest(o)
    return { method: o.method, url: signed.url, headers: { authorization: signed.authorizationHeader }, body: o.body ?? undefined, ...tamper }
  }
}
