// OAuth 1.0a as an auth scheme of createClient (one row of the scheme table): the key is loaded once, the
// signer encodes its constant pairs once, and every attempt is signed over the final wire URL and body.
import type { LoadKeyOptions } from '../keys/index.js'
import { loadSigningKey } from '../keys/index.js'
import type { AuthApplier } from '../pipeline/types.js'
import { debug } from '../pipeline/redact.js'
import { type OAuth1Dialect, type SignatureMethodName, type SigningKeyInput, createOAuth1Signer, resolveSignatureMethod } from '../oauth1/index.js'

/** OAuth 1.0a options of `createClient` (`auth: { scheme: 'oauth1', ... }`). */
export interface OAuth1AuthOptions {
  readonly scheme: 'oauth1'
  readonly consumerKey: string
  /** Anything `loadSigningKey` takes: a KeyObject, PEM text, a path, `{ p12, alias, password }`. */
  readonly key: SigningKeyInput
  readonly keyOptions?: LoadKeyOptions
  readonly dialect?: OAuth1Dialect
  readonly signatureMethod?: SignatureMethodName
  /**
   * Where RSA runs (~0.3 ms per signature). `true`: always in the libuv threadpool, so the event loop is
   * never blocked. `false`: always inline, the lowest latency. `'auto'` (default): inline when this client
   * has no other request in flight, in the threadpool as soon as requests overlap, where it also adds
   * throughput on a machine with spare cores.
   */
  readonly async?: boolean | 'auto'
}

/**
 * The OAuth 1.0a applier `createClient` uses for `auth: { scheme: 'oauth1', ... }`, exported so it can be
 * composed with other schemes (`composeAuth` in apisign/schemes). The key is loaded once here; the
 * timestamp comes from the client's (skew-corrected) clock on every attempt.
 *
 * @example
 * ```ts
 * const auth = composeAuth(oauth1Auth({ scheme: 'oauth1', consumerKey, key }), headerTokenAuth({ fetch }))
 * ```
 */
export function oauth1Auth(options: OAuth1AuthOptions): AuthApplier {
  let inFlight = 0
  const key = loadSigningKey(options.key, options.keyOptions)
  const signer = createOAuth1Signer({
    consumerKey: options.consumerKey,
    key,
    ...(options.dialect === undefined ? {} : { dialect: options.dialect }),
    ...(options.signatureMethod === undefined ? {} : { signatureMethod: options.signatureMethod }),
  })
  const digest = resolveSignatureMethod(signer.signatureMethod).digest
  return {
    async apply(request, context) {
      const contentType = request.headers['content-type']
      // A streamed body is never in memory: the signer gets its digest (computed by streaming it once).
      const body = request.streamed !== undefined ? { precomputedBodyHash: (await request.streamed.digest(digest)).toString('base64') } : request.body === undefined ? {} : { body: request.body }
      const toSign = {
        method: request.method,
        url: request.url,
        timestamp: Math.floor(context.now() / 1000),
        ...body,
        ...(contentType === undefined ? {} : { contentType }),
      }
      const mode = options.async ?? 'auto'
      // The client counts its requests from the transport's entry to the response (issue 15 item 4): two
      // overlapping requests rarely sign at the same instant, so counting only the signature itself would
      // keep everything inline. Without the client's count, overlapping signatures are all we can see.
      const overlapping = context.inFlight === undefined ? inFlight > 0 : context.inFlight > 1
      const inline = mode === false || (mode === 'auto' && !overlapping)
      inFlight++
      let signed
      try {
        signed = inline ? signer.sign(toSign) : await signer.signAsync(toSign)
      } finally {
        inFlight--
      }
      debug('oauth1 signed %s %s params=%s', request.method, request.url.pathname, signed.oauthParams.map(([n]) => n).join(','))
      return { headers: { Authorization: signed.authorizationHeader }, baseString: signed.signatureBaseString }
    },
  }
}

