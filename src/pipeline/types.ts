// The seam types of apisign, at the bottom of the house (issue 15): the client side (schemes' appliers, the
// pipeline, the axios and fetch transports) and the server side (verifiers, the mock gateway, nock helpers)
// both import them, and this file imports nothing but errors, so no folder above can be imported back.
import type { ApisignErrorCode } from '../errors.js'

/**
 * What an auth scheme sees of a request: the final wire URL and the exact body bytes.
 *
 * @example
 * ```ts
 * const request: RequestToAuthorize = { method: 'GET', url: new URL('https://api.example.com/v1/items'), headers: {}, body: undefined }
 * ```
 */
export interface RequestToAuthorize {
  readonly method: string
  readonly url: URL
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>
  /**
   * The exact body bytes, undefined when there is none. For a streamed body (`streamed` set) there are no
   * bytes in memory: reading `body` then throws `ERR_BODY_UNSUPPORTED`, so a scheme that needs the bytes
   * fails loudly instead of signing an empty body.
   */
  readonly body: Buffer | undefined
  /** Set when the body is sent by streaming (a file, a large Blob, a re-openable stream): its digests. */
  readonly streamed?: StreamedBody
}

/**
 * A body sent by streaming, never held in memory: a scheme that signs a hash of the body (OAuth1's
 * `oauth_body_hash`, SigV4's payload hash) asks for the digest, computed by streaming the bytes once.
 *
 * @example
 * ```ts
 * const bodyHash = request.streamed === undefined ? undefined : (await request.streamed.digest('sha256')).toString('base64')
 * ```
 */
export interface StreamedBody {
  /** Size in bytes when known (a file's, a Blob's, or counted by the first digest). */
  readonly length: number | undefined
  /** The digest of the exact bytes that will be sent, by streaming them (once per algorithm, then cached). */
  digest(algorithm: 'sha256' | 'sha1'): Promise<Buffer>
}

/**
 * What an auth scheme adds: headers, and for schemes that sign in the query or body (an API key in the
 * query, OST's signature) a replacement URL (same origin) or body; plus, for explaining a mismatch, the
 * base string it signed.
 *
 * @example
 * ```ts
 * const authorization: Authorization = { headers: { Authorization: 'Bearer t0k3n' } }
 * ```
 */
export interface Authorization {
  readonly headers: Readonly<Record<string, string>>
  readonly baseString?: string
  readonly url?: URL
  readonly body?: Buffer
}

/**
 * What the client tells an auth scheme besides the request.
 *
 * @example
 * ```ts
 * const stamp: AuthApplier = { apply: async (_request, context) => ({ headers: { 'X-Request-Time': String(context.now()) } }) }
 * ```
 */
export interface AuthContext {
  /** The client's skew-corrected clock, ms. */
  readonly now: () => number
  /** The client's base URL (schemes that sign a path relative to a versioned base, e.g. OST, need it). */
  readonly baseURL: URL
  /**
   * Requests of this client in flight right now, this one included, counted from the transport's entry
   * to the response (issue 15 item 4): a scheme with expensive work (RSA) moves it off the event loop when
   * this is above 1. Undefined when the caller does not count.
   */
  readonly inFlight?: number
  /**
   * The scopes the operation's security requirement names for this scheme (OpenAPI `security:
   * [{ oauth2: ['payments:write'] }]`), set by `authForSpec`; undefined when no spec chose them.
   */
  readonly scopes?: readonly string[]
}

/**
 * What came back for one attempt, as an auth scheme's `onResponse` sees it (before decryption).
 *
 * @example
 * ```ts
 * const stale = (r: AuthResponse) => r.status === 401 && /use_dpop_nonce/.test(r.headers['www-authenticate'] ?? '')
 * ```
 */
export interface AuthResponse {
  readonly request: RequestToAuthorize
  readonly status: number
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>
  /** The body for a response that is not 2xx (parsed JSON when it is JSON, else text); undefined otherwise. */
  readonly body?: unknown
}

/**
 * The seam every auth scheme plugs into: `apply` is called once per attempt, at the last moment, with the
 * final URL and body bytes; the optional `onResponse` is called once per attempt with what came back, and
 * returning `'retry'` makes the client re-apply (a fresh signature or proof) and resend once, whatever the
 * method (a DPoP `use_dpop_nonce`, a dropped token on `invalid_token`).
 *
 * @example
 * ```ts
 * const stamp: AuthApplier = { apply: async (_request, { now }) => ({ headers: { 'X-Request-Time': String(now()) } }) }
 * ```
 */
export interface AuthApplier {
  apply(request: RequestToAuthorize, context: AuthContext): Promise<Authorization>
  onResponse?(response: AuthResponse, context: AuthContext): 'retry' | undefined | Promise<'retry' | undefined>
}

/**
 * A request as received by a server: raw bytes, full URL, headers.
 *
 * @example
 * ```ts
 * const received: ReceivedRequest = { method: req.method!, url: `https://${req.headers.host}${req.url}`, headers: req.headers, body: rawBody }
 * ```
 */
export interface ReceivedRequest {
  readonly method: string
  /** The full URL as received (scheme + Host + request-target). */
  readonly url: string
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>
  readonly body?: Uint8Array | string | undefined
}

/**
 * The verdict of a scheme verifier: who called, or a stable code and a message naming what was wrong.
 *
 * @example
 * ```ts
 * const verdict: SchemeVerdict = { ok: false, code: 'ERR_SIGNATURE_INVALID', message: 'signature does not match' }
 * ```
 */
export type SchemeVerdict =
  | { readonly ok: true; readonly principal: string; readonly headers?: Readonly<Record<string, string>> }
  | {
      readonly ok: false
      readonly code: ApisignErrorCode
      readonly message: string
      readonly acceptableSignatureBaseString?: string
      /** The HTTP status to answer with when not 401 (OAuth 2.0: 400 at the token endpoint, 403 for scope). */
      readonly status?: number
      /** Headers to answer with (`WWW-Authenticate`, `DPoP-Nonce`). */
      readonly headers?: Readonly<Record<string, string>>
      /** The protocol's own error code (OAuth 2.0 `error`: `invalid_token`, `use_dpop_nonce`, ...). */
      readonly error?: string
    }

/**
 * What the server knows about the operation besides the request (the mock gateway passes it per operation).
 *
 * @example
 * ```ts
 * const verdict = await verifier.verify(received, { scopes: ['payments:write'] })
 * ```
 */
export interface VerifyContext {
  /** The scopes the operation's security requirement names for this scheme (OAuth 2.0). */
  readonly scopes?: readonly string[]
}

/**
 * Verifies one scheme on a received request (raw body bytes, full URL, headers).
 *
 * @example
 * ```ts
 * const verdict = await verifier.verify({ method: 'GET', url: 'https://api.example.com/v2/users?...', headers, body })
 * if (!verdict.ok) console.log(verdict.code)
 * ```
 */
export interface SchemeVerifier {
  verify(request: ReceivedRequest, context?: VerifyContext): Promise<SchemeVerdict>
}
