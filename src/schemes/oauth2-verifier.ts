// The partner side of OAuth 2.0 + DPoP, built on jose: the resource server's check of a DPoP-bound JWT
// access token (RFC 9068 `at+jwt`, RFC 9449 §7) and the DPoP proof check it shares with the token
// endpoint (RFC 9449 §4.3), server nonces (§8), and the errors each rejection answers with (RFC 6750 §3,
// RFC 9449 §7.1 and §12.2; Mastercard's OAuth 2.0 error-code page uses the same `error` /
// `error_description` body).
import { type KeyObject, createHmac, randomBytes } from 'node:crypto'
import {
  EmbeddedJWK,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  calculateJwkThumbprint,
  errors as joseErrors,
  jwtVerify,
} from 'jose'
import type { ApisignErrorCode } from '../errors.js'
import { limitOption } from '../option-values.js'
import { type NonceStore, createMemoryNonceStore } from './nonce-store.js'
import type { ReceivedRequest } from '../pipeline/types.js'
import { type JwsAlgorithm, accessTokenHash } from './oauth2-jose.js'
import { type SchemeVerdict, type SchemeVerifier, type VerifyContext, headerValue } from './verifier-types.js'

/** The OAuth 2.0 `error` each apisign code answers with, and its status at a resource server. */
const OAUTH_ERRORS: Partial<Record<ApisignErrorCode, { readonly error: string; readonly status: number }>> = {
  ERR_CREDENTIALS_MISSING: { error: 'invalid_request', status: 401 },
  ERR_OAUTH2_TOKEN_INVALID: { error: 'invalid_token', status: 401 },
  ERR_OAUTH2_TOKEN_EXPIRED: { error: 'invalid_token', status: 401 },
  ERR_OAUTH2_AUDIENCE_INVALID: { error: 'invalid_token', status: 401 },
  ERR_DPOP_KEY_MISMATCH: { error: 'invalid_token', status: 401 },
  ERR_OAUTH2_INSUFFICIENT_SCOPE: { error: 'insufficient_scope', status: 403 },
  ERR_DPOP_PROOF_INVALID: { error: 'invalid_dpop_proof', status: 401 },
  ERR_DPOP_HTM_MISMATCH: { error: 'invalid_dpop_proof', status: 401 },
  ERR_DPOP_HTU_MISMATCH: { error: 'invalid_dpop_proof', status: 401 },
  ERR_DPOP_IAT_OUT_OF_WINDOW: { error: 'invalid_dpop_proof', status: 401 },
  ERR_DPOP_REPLAY: { error: 'invalid_dpop_proof', status: 401 },
  ERR_DPOP_ATH_MISMATCH: { error: 'invalid_dpop_proof', status: 401 },
  ERR_DPOP_NONCE_REQUIRED: { error: 'use_dpop_nonce', status: 401 },
  ERR_OAUTH2_CLIENT_INVALID: { error: 'invalid_client', status: 401 },
  ERR_OAUTH2_ASSERTION_REPLAY: { error: 'invalid_client', status: 401 },
  ERR_OAUTH2_SCOPE_INVALID: { error: 'invalid_scope', status: 400 },
  ERR_OAUTH2_REQUEST_INVALID: { error: 'invalid_request', status: 400 },
}

/** A failed check: its code, a message naming what was wrong, and (ALG_NOT_ALLOWED) whose `error` it is. */
export interface OAuth2Failure {
  readonly ok: false
  readonly code: ApisignErrorCode
  readonly message: string
  readonly error?: string
}
const failure = (code: ApisignErrorCode, message: string, error?: string): OAuth2Failure => ({ ok: false, code, message, ...(error === undefined ? {} : { error }) })

/**
 * The OAuth 2.0 `error` of a failed check (`invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`, ...).
 *
 * @example
 * ```ts
 * oauthErrorOf({ ok: false, code: 'ERR_DPOP_REPLAY', message: 'jti replayed' }) // 'invalid_dpop_proof'
 * ```
 */
export function oauthErrorOf(f: { readonly code: ApisignErrorCode; readonly error?: string }): string {
  return f.error ?? OAUTH_ERRORS[f.code]?.error ?? 'invalid_request'
}

/**
 * The body OAuth 2.0 rejections carry (RFC 6749 §5.2, RFC 6750 §3; Mastercard's OAuth 2.0 errors page).
 *
 * @example
 * ```ts
 * oauth2ErrorBody({ code: 'ERR_OAUTH2_TOKEN_EXPIRED', message: 'the access token expired' }) // { error: 'invalid_token', error_description: '...' }
 * ```
 */
export function oauth2ErrorBody(verdict: { readonly code: ApisignErrorCode; readonly message: string; readonly error?: string }): { error: string; error_description: string } {
  return { error: oauthErrorOf(verdict), error_description: verdict.message }
}

const quoted = (value: string) => `"${value.replace(/[\\"]/g, '\\$&')}"`

/** DPoP server nonces (RFC 9449 §8): stateless, rotated every `rotateMs`, the previous one still accepted. */
export interface DpopNonces {
  current(): string
  accepts(nonce: string): boolean
}

/**
 * A nonce source: HMAC of the time window under a per-process secret, so any number of verifiers sharing
 * the secret agree without shared state; a nonce lives for one to two windows.
 *
 * @example
 * ```ts
 * const nonces = createDpopNonces({ rotateMs: 60_000 })
 * res.setHeader('DPoP-Nonce', nonces.current())
 * ```
 */
export function createDpopNonces(options: { readonly rotateMs?: number; readonly secret?: Uint8Array; readonly now?: () => number } = {}): DpopNonces {
  const rotateMs = limitOption(options.rotateMs, 'rotateMs', 5 * 60_000, { positive: true })
  const secret = options.secret ?? randomBytes(32)
  const now = options.now ?? Date.now
  const at = (window: number) => createHmac('sha256', secret).update(String(window)).digest('base64url')
  return {
    current: () => at(Math.floor(now() / rotateMs)),
    accepts(nonce) {
      const window = Math.floor(now() / rotateMs)
      return nonce === at(window) || nonce === at(window - 1)
    },
  }
}

/** What a DPoP proof must match. */
export interface DpopExpectation {
  readonly method: string
  readonly url: string | URL
  /** The access token it accompanies (resource requests): `ath` must be its hash. */
  readonly accessToken?: string
  readonly algorithms: readonly JwsAlgorithm[]
  /** Oldest acceptable `iat`, seconds before now. */
  readonly maxAgeSec: number
  /** Newest acceptable `iat`, seconds after now (clock skew). */
  readonly futureSec: number
  readonly now: () => number
  readonly replay: NonceStore
  readonly nonces?: DpopNonces
}

const stripUrl = (value: string | URL): string | undefined => {
  try {
    const url = new URL(value)
    return `${url.origin}${url.pathname}`
  } catch {
    return undefined
  }
}

/**
 * Check a DPoP proof (RFC 9449 §4.3): one well-formed JWT, `typ: dpop+jwt`, an allowed asymmetric `alg`,
 * a public `jwk` that verifies it, `htm` and `htu` (query and fragment ignored) of this request, `iat`
 * within the window, the server nonce when nonces are on, `ath` for the token, `jti` never seen before.
 * Returns the key's thumbprint.
 *
 * @example
 * ```ts
 * const checked = await verifyDpopProof(req.headers.dpop, { method: 'POST', url: tokenEndpoint, algorithms: ['ES256', 'PS256'], maxAgeSec: 60, futureSec: 5, now: Date.now, replay: store })
 * ```
 */
export async function verifyDpopProof(proof: string | undefined | null, expect: DpopExpectation): Promise<{ ok: true; jkt: string; jti: string } | OAuth2Failure> {
  if (proof === undefined) return failure('ERR_DPOP_PROOF_INVALID', 'the DPoP header is missing')
  if (proof === null) return failure('ERR_DPOP_PROOF_INVALID', 'more than one DPoP header')
  let payload: JWTPayload
  let jwk: Record<string, unknown>
  try {
    const result = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...expect.algorithms] })
    payload = result.payload
    jwk = result.protectedHeader.jwk as unknown as Record<string, unknown>
  } catch (error) {
    if (error instanceof joseErrors.JOSEAlgNotAllowed) return failure('ERR_ALG_NOT_ALLOWED', `the DPoP proof's alg is not one of ${expect.algorithms.join(', ')}`, 'invalid_dpop_proof')
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'typ') return failure('ERR_DPOP_PROOF_INVALID', 'the DPoP proof typ is not dpop+jwt')
    return failure('ERR_DPOP_PROOF_INVALID', 'the DPoP proof is not a JWT signed by the key in its jwk header')
  }
  if ('d' in jwk || 'p' in jwk || 'k' in jwk) return failure('ERR_DPOP_PROOF_INVALID', 'the DPoP proof jwk must be a public key')
  const { jti, htm, htu, iat } = payload as { jti?: unknown; htm?: unknown; htu?: unknown; iat?: unknown }
  if (typeof jti !== 'string' || jti.length < 8 || typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number') {
    return failure('ERR_DPOP_PROOF_INVALID', 'the DPoP proof lacks jti, htm, htu or iat')
  }
  if (htm !== expect.method.toUpperCase()) return failure('ERR_DPOP_HTM_MISMATCH', `the DPoP proof htm ${JSON.stringify(htm.slice(0, 10))} is not this request's method ${expect.method.toUpperCase()}`)
  const want = stripUrl(expect.url)
  if (want === undefined || stripUrl(htu) !== want) return failure('ERR_DPOP_HTU_MISMATCH', `the DPoP proof htu is not this request's URL ${want ?? ''}`)
  const nowSec = expect.now() / 1000
  if (iat < nowSec - expect.maxAgeSec) return failure('ERR_DPOP_IAT_OUT_OF_WINDOW', `the DPoP proof iat is outside the time window (more than ${expect.maxAgeSec} s old)`)
  if (iat > nowSec + expect.futureSec) return failure('ERR_DPOP_IAT_OUT_OF_WINDOW', `the DPoP proof iat is outside the time window (more than ${expect.futureSec} s ahead)`)
  if (expect.nonces !== undefined) {
    const nonce = payload['nonce']
    if (typeof nonce !== 'string' || !expect.nonces.accepts(nonce)) return failure('ERR_DPOP_NONCE_REQUIRED', nonce === undefined ? 'the DPoP proof must carry the server nonce' : 'the DPoP proof nonce is stale')
  }
  if (expect.accessToken !== undefined) {
    if (payload['ath'] !== accessTokenHash(expect.accessToken)) return failure('ERR_DPOP_ATH_MISMATCH', "the DPoP proof ath is not the access token's hash")
  }
  const jkt = await calculateJwkThumbprint(jwk as never, 'sha256')
  // Recorded last: a proof refused for another reason does not burn its jti. Kept for the whole window.
  if (!(await expect.replay.checkAndRecord(`dpop:${jkt}:${jti}`, (expect.maxAgeSec + expect.futureSec) * 1000))) {
    return failure('ERR_DPOP_REPLAY', 'the DPoP proof jti was already used')
  }
  return { ok: true, jkt, jti }
}

/** Keys that sign what a verifier accepts: a JWKS, a JWKS URL, a public key (PEM or KeyObject), or a jose key getter. */
export type VerificationKeys = JSONWebKeySet | string | KeyObject | JWTVerifyGetKey

/**
 * A jose key getter for {@link VerificationKeys}.
 *
 * @example
 * ```ts
 * const getKey = keyGetter({ keys: [jwk] })
 * ```
 */
export function keyGetter(keys: VerificationKeys): JWTVerifyGetKey | KeyObject {
  if (typeof keys === 'function') return keys
  if (typeof keys === 'string') {
    if (/^https?:\/\//.test(keys)) return createRemoteJWKSet(new URL(keys))
    throw new TypeError('keys as a string must be a JWKS URL; pass a KeyObject or a JWKS object otherwise')
  }
  if ((keys as KeyObject).type === 'public' || (keys as KeyObject).type === 'private') return keys as KeyObject
  if (!Array.isArray((keys as JSONWebKeySet).keys)) throw new TypeError('keys must be a JWKS { keys: [...] }, a JWKS URL, a KeyObject or a key getter')
  return createLocalJWKSet(keys as JSONWebKeySet)
}

/**
 * The common mapping of jose's JWT errors to apisign codes.
 *
 * @example
 * ```ts
 * joseFailure(error, 'ERR_OAUTH2_TOKEN_INVALID', 'access token', 'invalid_token')
 * ```
 */
export function joseFailure(error: unknown, fallback: ApisignErrorCode, what: string, oauthError: string): OAuth2Failure {
  if (error instanceof joseErrors.JWTExpired) return failure(fallback === 'ERR_OAUTH2_TOKEN_INVALID' ? 'ERR_OAUTH2_TOKEN_EXPIRED' : fallback, `the ${what} expired`, oauthError)
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return failure('ERR_ALG_NOT_ALLOWED', `the ${what}'s alg is not allowed`, oauthError)
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return failure('ERR_OAUTH2_AUDIENCE_INVALID', `the ${what} is not meant for this audience`, oauthError)
    return failure(fallback, `the ${what}'s ${error.claim} claim is not acceptable`, oauthError)
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return failure(fallback, `no registered key verifies the ${what} (kid)`, oauthError)
  return failure(fallback, `the ${what} is not a valid signed JWT`, oauthError)
}

/** Options of {@link createOAuth2Verifier}. */
export interface OAuth2VerifierOptions {
  /** The authorization server's issuer identifier (the tokens' `iss`). */
  readonly issuer: string
  /** What this resource server answers to (the tokens' `aud`). */
  readonly audience: string | readonly string[]
  /** The authorization server's token signing keys. */
  readonly keys: VerificationKeys
  /** Token and proof algorithms. Default PS256 and ES256 (FAPI 2.0 §5.4.1); never `none` or HMAC. */
  readonly algorithms?: readonly JwsAlgorithm[]
  /** Scopes every operation needs, besides those the spec names per operation. */
  readonly scopes?: readonly string[]
  /** DPoP proofs: required (default; FAPI 2.0 sender-constrained tokens) or `false` for plain bearer tokens. */
  readonly dpop?: boolean
  /** Where DPoP `jti`s are remembered (memory or Redis store). Default an in-process store. */
  readonly nonceStore?: NonceStore
  /** DPoP proof `iat` window: oldest, seconds. Default 60. */
  readonly proofMaxAgeSec?: number
  /** DPoP proof `iat` window: newest, seconds ahead. Default 5. */
  readonly proofFutureSec?: number
  /** Server nonces (RFC 9449 §8): a source, `true` (rotated every 5 minutes) or `false` (default). */
  readonly nonces?: DpopNonces | boolean
  /** Leeway for token `exp` / `nbf`, seconds. Default 5. */
  readonly clockToleranceSec?: number
  /** Clock, ms. Default `Date.now`. */
  readonly now?: () => number
}

const DEFAULT_ALGORITHMS: readonly JwsAlgorithm[] = ['PS256', 'ES256']

const windowOption = (value: number | undefined, name: string, fallback: number): number => limitOption(value, name, fallback)

/**
 * The resource server's verifier for OAuth 2.0 + DPoP (the `oauth2` row of the scheme table): the JWT
 * access token's signature, `typ: at+jwt`, `iss`, `aud`, `exp`/`nbf` and scopes (the operation's and
 * `scopes`), then the DPoP proof (see {@link verifyDpopProof}) and the token's binding to its key
 * (`cnf.jkt`). A rejection carries the status and `WWW-Authenticate: DPoP error=...` RFC 9449 §7.1 gives
 * (403 + `scope` for insufficient scope), and a `DPoP-Nonce` when nonces are on.
 *
 * @example
 * ```ts
 * const verifier = createOAuth2Verifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com', keys: 'https://auth.example.com/jwks' })
 * const verdict = await verifier.verify({ method, url, headers, body }, { scopes: ['payments'] })
 * ```
 */
export function createOAuth2Verifier(options: OAuth2VerifierOptions): SchemeVerifier {
  if (options === null || typeof options !== 'object') throw new TypeError('oauth2 verifier options must be an object')
  if (typeof options.issuer !== 'string' || options.issuer === '') throw new TypeError('issuer is required')
  if (options.audience === undefined) throw new TypeError('audience is required')
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS
  if (algorithms.some((a) => a !== 'PS256' && a !== 'ES256')) throw new TypeError('algorithms may hold PS256 and ES256 only')
  const getKey = keyGetter(options.keys)
  const dpop = options.dpop !== false
  const replay = options.nonceStore ?? createMemoryNonceStore()
  const now = options.now ?? Date.now
  const maxAgeSec = windowOption(options.proofMaxAgeSec, 'proofMaxAgeSec', 60)
  const futureSec = windowOption(options.proofFutureSec, 'proofFutureSec', 5)
  const tolerance = windowOption(options.clockToleranceSec, 'clockToleranceSec', 5)
  const nonces = options.nonces === true ? createDpopNonces({ now }) : options.nonces === false || options.nonces === undefined ? undefined : options.nonces
  const scheme = dpop ? 'DPoP' : 'Bearer'
  const algs = dpop ? `, algs=${quoted(algorithms.join(' '))}` : ''

  const reject = (f: OAuth2Failure, extra: { scope?: string } = {}): SchemeVerdict => {
    const error = oauthErrorOf(f)
    const status = f.code === 'ERR_ALG_NOT_ALLOWED' ? 401 : (OAUTH_ERRORS[f.code]?.status ?? 401)
    // RFC 6750 §3.1: a request with no credentials at all gets the challenge without an error code.
    const challenge =
      f.code === 'ERR_CREDENTIALS_MISSING'
        ? `${scheme}${dpop ? ` algs=${quoted(algorithms.join(' '))}` : ''}`
        : `${scheme} error=${quoted(error)}, error_description=${quoted(f.message)}${extra.scope === undefined ? '' : `, scope=${quoted(extra.scope)}`}${algs}`
    const headers: Record<string, string> = { 'WWW-Authenticate': challenge }
    if (nonces !== undefined) headers['DPoP-Nonce'] = nonces.current()
    return { ok: false, code: f.code, message: f.message, status, headers, error }
  }

  return {
    async verify(request: ReceivedRequest, context?: VerifyContext): Promise<SchemeVerdict> {
      const authorization = headerValue(request.headers, 'authorization')
      if (authorization === undefined) return reject(failure('ERR_CREDENTIALS_MISSING', 'the request carries no access token'))
      if (authorization === null) return reject(failure('ERR_OAUTH2_REQUEST_INVALID', 'more than one Authorization header'))
      const match = /^(\S+) +(\S+)$/.exec(authorization)
      if (match === null) return reject(failure('ERR_OAUTH2_TOKEN_INVALID', 'the Authorization header is not "<scheme> <token>"'))
      const [, given, token] = match as unknown as [string, string, string]
      if (given.toLowerCase() !== scheme.toLowerCase()) {
        // RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is refused.
        return reject(failure('ERR_OAUTH2_TOKEN_INVALID', `the access token must be sent with the ${scheme} scheme`))
      }
      let claims: JWTPayload
      try {
        const result = await jwtVerify(token, getKey as JWTVerifyGetKey, {
          issuer: options.issuer,
          audience: typeof options.audience === 'string' ? options.audience : [...options.audience],
          algorithms: [...algorithms],
          // RFC 9068 §4: the resource server checks typ, so an ID token or a client assertion is no access token.
          typ: 'at+jwt',
          currentDate: new Date(now()),
          clockTolerance: tolerance,
          // RFC 9068 §2.2: a JWT access token carries these.
          requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'],
        })
        claims = result.payload
      } catch (error) {
        return reject(joseFailure(error, 'ERR_OAUTH2_TOKEN_INVALID', 'access token', 'invalid_token'))
      }
      const cnf = claims['cnf'] as { jkt?: unknown } | undefined
      if (dpop) {
        if (typeof cnf?.jkt !== 'string') return reject(failure('ERR_OAUTH2_TOKEN_INVALID', 'the access token is not DPoP-bound (no cnf.jkt)'))
        const checked = await verifyDpopProof(headerValue(request.headers, 'dpop'), {
          method: request.method,
          url: request.url,
          accessToken: token,
          algorithms,
          maxAgeSec,
          futureSec,
          now,
          replay,
          ...(nonces === undefined ? {} : { nonces }),
        })
        if (!checked.ok) return reject(checked)
        if (checked.jkt !== cnf.jkt) return reject(failure('ERR_DPOP_KEY_MISMATCH', 'the access token is bound to another key than the DPoP proof'))
      }
      const granted = new Set(typeof claims['scope'] === 'string' ? claims['scope'].split(' ') : [])
      const needed = [...new Set([...(options.scopes ?? []), ...(context?.scopes ?? [])])]
      const missing = needed.filter((s) => !granted.has(s))
      if (missing.length > 0) return reject(failure('ERR_OAUTH2_INSUFFICIENT_SCOPE', `the access token lacks scope ${missing.join(' ')}`), { scope: needed.join(' ') })
      const principal = typeof claims['client_id'] === 'string' ? claims['client_id'] : (claims.sub ?? 'oauth2-client')
      return { ok: true, principal, ...(nonces === undefined ? {} : { headers: { 'DPoP-Nonce': nonces.current() } }) }
    },
  }
}
