// OAuth 2.0 under the FAPI 2.0 Security Profile as an auth scheme of createClient: client credentials,
// client authentication by private_key_jwt (RFC 7523), sender-constrained tokens with DPoP (RFC 9449).
// oauth4webapi runs the grant: discovery, the token request with its client assertion and DPoP proof,
// the token response's validation and the token endpoint's use_dpop_nonce retry. The per-request proof
// is ours (oauth2-jose.ts explains why). Tokens are cached per scope set, single-flight, refreshed before
// expiry and dropped on invalid_token.
import { type KeyObject, createPublicKey, generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto'
import type { Agent as HttpAgent } from 'node:http'
import type { Agent as HttpsAgent } from 'node:https'
import * as oauth from 'oauth4webapi'
import { ApisignError } from '../errors.js'
import { limitOption } from '../option-values.js'
import type { AuthApplier, AuthContext, AuthResponse, RequestToAuthorize } from '../pipeline/types.js'
import { debug } from '../pipeline/redact.js'
import { type KeySource, type LoadKeyOptions, loadSigningKey } from '../keys/index.js'
import { agentFetch } from './oauth2-fetch.js'
import { type DpopProofInput, type JwsAlgorithm, accessTokenHash, algorithmOf, createDpopProverSync, keyObjectJwsKey, signCompactJws } from './oauth2-jose.js'
import type { Signer } from '../signers/types.js'

/**
 * An external signer for the client assertion: apisign/signers' {@link Signer} (an HSM key from
 * `openPkcs11Signer`, a KMS adapter). It gets the JWS signing input and returns the JWS signature (ES256:
 * raw r||s).
 */
export type AssertionSigner = Signer

/** OAuth 2.0 options of `createClient` (`auth: { scheme: 'oauth2', ... }`). */
export interface OAuth2AuthOptions {
  readonly clientId: string
  /** The token endpoint. Give it, or `issuer` to read it from the server's metadata (RFC 8414). */
  readonly tokenUrl?: string
  /** The authorization server's issuer identifier: the assertion's audience (FAPI 2.0 §5.3.2.1), and where metadata is found. */
  readonly issuer?: string
  /** The client assertion's `aud` when the server wants another value. Default `issuer`, else `tokenUrl`. */
  readonly audience?: string
  /**
   * The client authentication key (RSA 2048+ for PS256, EC P-256 for ES256): PEM, DER, PKCS#12, a path or
   * a KeyObject; or an external {@link AssertionSigner} (PS256 or ES256).
   */
  readonly key: KeySource | AssertionSigner
  readonly keyOptions?: LoadKeyOptions
  /** The `kid` the server registered for `key` (FAPI 2.0 servers select the key by it). */
  readonly kid: string
  /** Default: from the key (ES256 for EC P-256, PS256 for RSA). */
  readonly algorithm?: JwsAlgorithm
  /** Scopes asked for when the operation names none (`authForSpec` passes each operation's own). */
  readonly scopes?: readonly string[]
  /**
   * DPoP (default on; FAPI 2.0 requires sender-constrained tokens): `{ key }` to use a given key,
   * otherwise a fresh P-256 key per client. `false`: plain bearer tokens (not FAPI 2.0).
   */
  readonly dpop?: boolean | { readonly key?: KeySource; readonly keyOptions?: LoadKeyOptions }
  /** Refresh a cached token this long before it expires. Default 30 s (at most half its lifetime). */
  readonly refreshBeforeMs?: number
  /** Lifetime of the client assertion, seconds. Default 60 (short, as FAPI 2.0 and RFC 7523 §3 advise). */
  readonly assertionLifetimeSec?: number
  /** Token endpoint transport. Default the global `fetch` (or one over `agent`). */
  readonly fetch?: typeof fetch
  /** A node:http(s) agent for the token endpoint (a private CA, mTLS, keep-alive): used when `fetch` is not given. */
  readonly agent?: HttpAgent | HttpsAgent
  /** Per token request timeout, ms. Default 30 s. */
  readonly timeoutMs?: number
  /** Clock for token expiry when no client clock is at hand (`token()` from the CLI). Default `Date.now`. */
  readonly now?: () => number
}

/** A cached access token and what the server said about it. */
export interface OAuth2Token {
  readonly accessToken: string
  /** `DPoP` or `Bearer`. */
  readonly tokenType: string
  /** When it expires, ms since the epoch (client clock). */
  readonly expiresAtMs: number
  /** Scopes granted (the server's `scope`, else those asked for). */
  readonly scopes: readonly string[]
  /** The token endpoint's `Date` header, ms (for a clock check), when it sent one. */
  readonly serverDateMs?: number
}

/** The oauth2 applier: an AuthApplier plus the token cache's own operations (CLI, doctor, tests). */
export interface OAuth2Applier extends AuthApplier {
  /** The cached token for `scopes` (default the configured ones), fetched when missing or about to expire. */
  token(scopes?: readonly string[], now?: () => number): Promise<OAuth2Token>
  /** Forget every cached token. */
  clear(): void
  /** The DPoP key's JWK thumbprint, when DPoP is on. */
  readonly jkt: string | undefined
  /** Token requests sent so far (each attempt counts). */
  readonly tokenRequests: number
}

const NONCE_ORIGINS = 100

function isLoopback(url: URL): boolean {
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(url.hostname)
}

function parseUrl(value: string, what: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ApisignError('ERR_CONFIG_INVALID', `${what} must be an absolute URL`)
  }
  // FAPI 2.0 §5.2.2: TLS everywhere. Plain HTTP only to a loopback test server (the mock gateway).
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) throw new ApisignError('ERR_CONFIG_INVALID', `${what} must be https (http only on a loopback address)`)
  return url
}

async function toCryptoKey(key: KeyObject, usage: 'sign' | 'verify', extractable: boolean): Promise<webcrypto.CryptoKey> {
  const algorithm = algorithmOf(key) === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'RSA-PSS', hash: 'SHA-256' }
  const der = key.export(key.type === 'private' ? { format: 'der', type: 'pkcs8' } : { format: 'der', type: 'spki' })
  return webcrypto.subtle.importKey(key.type === 'private' ? 'pkcs8' : 'spki', der, algorithm, extractable, [usage])
}

/**
 * The parameters of a `WWW-Authenticate` challenge of the given scheme (RFC 9110 §11.6.1 auth-params).
 *
 * @example
 * ```ts
 * challengeParams('DPoP error="use_dpop_nonce", error_description="fresh nonce"', 'dpop') // { error: 'use_dpop_nonce', ... }
 * ```
 */
export function challengeParams(header: string | undefined, scheme: string): Record<string, string> | undefined {
  if (header === undefined) return undefined
  const re = /(?:^|,)\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:\s+|$)((?:\s*,?\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^\s,]*))*)/g
  for (const match of header.matchAll(re)) {
    if ((match[1] ?? '').toLowerCase() !== scheme.toLowerCase()) continue
    const params: Record<string, string> = {}
    for (const p of (match[2] ?? '').matchAll(/([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)/g)) {
      const raw = p[2] ?? ''
      params[(p[1] ?? '').toLowerCase()] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw
    }
    return params
  }
  return undefined
}

// private_key_jwt with an external signer: the same claims oauth4webapi's PrivateKeyJwt writes (RFC 7523
// §3, FAPI 2.0 §5.3.2.1), signed through the signer's one call.
function signerClientAuth(signer: AssertionSigner, alg: JwsAlgorithm, kid: string, lifetime: number, audience: string | undefined): oauth.ClientAuth {
  return async (as, client, body) => {
    const skew = client[oauth.clockSkew]
    const now = Math.floor(Date.now() / 1000) + (typeof skew === 'number' ? skew : 0)
    const payload = { jti: randomBytes(16).toString('base64url'), aud: audience ?? as.issuer, exp: now + lifetime, iat: now, nbf: now, iss: client.client_id, sub: client.client_id }
    body.set('client_id', client.client_id)
    body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
    body.set('client_assertion', await signCompactJws({ alg, kid }, payload, signer))
  }
}

const scopeKey = (scopes: readonly string[]) => (scopes.length === 0 ? '' : scopes.length === 1 ? (scopes[0] as string) : [...new Set(scopes)].sort().join(' '))

/**
 * The OAuth 2.0 applier `createClient` uses for `auth: { scheme: 'oauth2', ... }`: on every attempt a
 * cached token (one token request per scope set even under concurrency) and a fresh DPoP proof (`htm`,
 * `htu`, `iat`, `jti`, `ath`, the origin's last `DPoP-Nonce`); `onResponse` learns nonces, and answers
 * `'retry'` on `use_dpop_nonce` and (after dropping the token) on `invalid_token`.
 *
 * @example
 * ```ts
 * const api = createClient({ baseURL, auth: oauth2Auth({ clientId, issuer: 'https://auth.example.com', key: './client-es256.pem', kid: 'key-1', scopes: ['payments'] }) })
 * ```
 */
export function oauth2Auth(options: OAuth2AuthOptions): OAuth2Applier {
  if (options === null || typeof options !== 'object') throw new TypeError('oauth2 options must be an object')
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new ApisignError('ERR_SCHEME_CONFIG', 'oauth2: clientId is required')
  if (typeof options.kid !== 'string' || options.kid === '') throw new ApisignError('ERR_SCHEME_CONFIG', 'oauth2: kid is required (FAPI 2.0 servers select the client key by it)')
  if (options.tokenUrl === undefined && options.issuer === undefined) throw new ApisignError('ERR_SCHEME_CONFIG', 'oauth2: give tokenUrl or issuer')
  const tokenUrl = options.tokenUrl === undefined ? undefined : parseUrl(options.tokenUrl, 'oauth2 tokenUrl')
  const issuer = options.issuer === undefined ? undefined : parseUrl(options.issuer, 'oauth2 issuer')
  if (options.scopes !== undefined && (!Array.isArray(options.scopes) || options.scopes.some((s) => typeof s !== 'string' || s === '' || /\s/.test(s)))) {
    throw new ApisignError('ERR_SCHEME_CONFIG', 'oauth2: scopes must be a list of scope tokens (no spaces)')
  }
  // issue 13's one strict reading of numeric options: NaN or a string never switches a margin off.
  const refreshBeforeMs = limitOption(options.refreshBeforeMs, 'oauth2 refreshBeforeMs', 30_000)
  const assertionLifetimeSec = limitOption(options.assertionLifetimeSec, 'oauth2 assertionLifetimeSec', 60, { integer: true, positive: true })
  const timeoutMs = limitOption(options.timeoutMs, 'oauth2 timeoutMs', 30_000, { positive: true })
  const defaultNow = options.now ?? Date.now
  const signer = (options.key as AssertionSigner | undefined)?.kind === 'signer' ? (options.key as AssertionSigner) : undefined
  const clientKey = signer === undefined ? loadSigningKey(options.key as KeySource, { keyTypes: ['rsa', 'ec-p256'], ...options.keyOptions }) : undefined
  const algorithm = options.algorithm ?? signer?.algorithm ?? algorithmOf(clientKey as KeyObject)
  if (algorithm !== 'PS256' && algorithm !== 'ES256') throw new ApisignError('ERR_ALG_NOT_ALLOWED', 'oauth2: FAPI 2.0 allows PS256 and ES256 only')
  if (clientKey !== undefined && algorithmOf(clientKey) !== algorithm) throw new ApisignError('ERR_KEY_WRONG_TYPE', `oauth2: the client key cannot sign ${algorithm}`)
  if (signer !== undefined && signer.algorithm !== algorithm) throw new ApisignError('ERR_KEY_WRONG_TYPE', `oauth2: the signer signs ${signer.algorithm}, not ${algorithm}`)
  const dpopOn = options.dpop !== false
  let dpopKey: KeyObject | undefined
  if (dpopOn) {
    const given = typeof options.dpop === 'object' ? options.dpop.key : undefined
    dpopKey = given === undefined ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : loadSigningKey(given, { keyTypes: ['rsa', 'ec-p256'], ...(typeof options.dpop === 'object' ? options.dpop.keyOptions : {}) })
  }
  const prover = dpopKey === undefined ? undefined : createDpopProverSync(keyObjectJwsKey(dpopKey))
  const fetchImpl = options.fetch ?? (options.agent === undefined ? fetch : agentFetch(options.agent))
  const insecure = (tokenUrl ?? issuer)?.protocol === 'http:'
  const requestOptions = () => ({ [oauth.customFetch]: fetchImpl as never, [oauth.allowInsecureRequests]: insecure, signal: AbortSignal.timeout(timeoutMs) })

  // The CryptoKeys oauth4webapi signs with are made once, on the first token request.
  let grant: Promise<{ clientAuth: oauth.ClientAuth; dpopPair: webcrypto.CryptoKeyPair | undefined }> | undefined
  const grantKeys = () =>
    (grant ??= (async () => {
      const lifetime = assertionLifetimeSec
      const audience = options.audience
      const clientAuth =
        signer === undefined
          ? oauth.PrivateKeyJwt({ key: (await toCryptoKey(clientKey as KeyObject, 'sign', false)) as unknown as oauth.CryptoKey, kid: options.kid }, {
              [oauth.modifyAssertion]: (_header, payload) => {
                payload.exp = (payload.iat as number) + lifetime
                if (audience !== undefined) payload.aud = audience
              },
            })
          : signerClientAuth(signer, algorithm, options.kid, lifetime, audience)
      const dpopPair = dpopKey === undefined ? undefined : { privateKey: await toCryptoKey(dpopKey, 'sign', false), publicKey: await toCryptoKey(createPublicKey(dpopKey), 'verify', true) }
      return { clientAuth, dpopPair }
    })().catch((error: unknown) => {
      grant = undefined
      throw error
    }))
  let metadata: Promise<oauth.AuthorizationServer> | undefined
  const server = () =>
    (metadata ??= (async () => {
      if (issuer === undefined) return { issuer: (tokenUrl as URL).href, token_endpoint: (tokenUrl as URL).href }
      if (tokenUrl !== undefined) return { issuer: options.issuer as string, token_endpoint: tokenUrl.href }
      try {
        const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...requestOptions() })
        return await oauth.processDiscoveryResponse(issuer, response)
      } catch (cause) {
        metadata = undefined
        throw new ApisignError('ERR_OAUTH2_TOKEN_REQUEST', `oauth2: the authorization server metadata of ${issuer.origin} could not be read`, { cause })
      }
    })())

  // oauth4webapi's DPoP handle keeps the token endpoint's nonce; it reads the clock skew when made.
  let handle: { skew: number; dpop: oauth.DPoPHandle } | undefined
  const dpopHandle = (pair: webcrypto.CryptoKeyPair, skew: number) => {
    if (handle === undefined || handle.skew !== skew) handle = { skew, dpop: oauth.DPoP({ [oauth.clockSkew]: skew }, pair as unknown as oauth.CryptoKeyPair) }
    return handle.dpop
  }
  let tokenRequests = 0

  async function requestToken(scopes: readonly string[], now: () => number): Promise<OAuth2Token> {
    const as = await server()
    const { clientAuth, dpopPair } = await grantKeys()
    const skew = Math.round((now() - Date.now()) / 1000)
    const client: oauth.Client = { client_id: options.clientId, token_endpoint_auth_method: 'private_key_jwt', [oauth.clockSkew]: skew }
    const parameters = new URLSearchParams(scopes.length === 0 ? {} : { scope: scopes.join(' ') })
    const dpop = dpopPair === undefined ? undefined : dpopHandle(dpopPair, skew)
    for (let attempt = 1; ; attempt++) {
      tokenRequests++
      let response: Response
      try {
        response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, parameters, { ...requestOptions(), ...(dpop === undefined ? {} : { DPoP: dpop }) })
      } catch (cause) {
        throw new ApisignError('ERR_OAUTH2_TOKEN_REQUEST', `oauth2: the token endpoint ${new URL(as.token_endpoint as string).origin} could not be reached`, { cause })
      }
      const date = Date.parse(response.headers.get('date') ?? '')
      try {
        const result = await oauth.processClientCredentialsResponse(as, client, response)
        if (dpop !== undefined && result.token_type !== 'dpop') {
          throw new ApisignError('ERR_OAUTH2_TOKEN_REQUEST', `oauth2: the server issued a ${result.token_type} token, not a DPoP-bound one (FAPI 2.0 requires sender-constrained tokens)`)
        }
        // RFC 6749 §5.1 makes expires_in optional; without it, assume a short life rather than forever.
        const lifetimeMs = (typeof result.expires_in === 'number' && result.expires_in > 0 ? result.expires_in : 60) * 1000
        return {
          accessToken: result.access_token,
          tokenType: dpop === undefined ? 'Bearer' : 'DPoP',
          expiresAtMs: now() + lifetimeMs,
          scopes: typeof result.scope === 'string' ? result.scope.split(' ').filter((s) => s !== '') : scopes,
          ...(Number.isNaN(date) ? {} : { serverDateMs: date }),
        }
      } catch (error) {
        // RFC 9449 §8: the token endpoint asks for its nonce once; oauth4webapi has cached it from the response.
        if (attempt === 1 && oauth.isDPoPNonceError(error)) continue
        if (error instanceof ApisignError) throw error
        const body = error instanceof oauth.ResponseBodyError ? error : undefined
        const text = body === undefined ? 'answered with an invalid token response' : `refused the grant: ${body.error}${body.error_description === undefined ? '' : ` (${body.error_description.slice(0, 200)})`}`
        throw new ApisignError('ERR_OAUTH2_TOKEN_REQUEST', `oauth2: the token endpoint ${text}`, { cause: error, details: { ...(body === undefined ? {} : { error: body.error, status: body.status }) } })
      }
    }
  }

  type Entry = OAuth2Token & { readonly key: string; readonly ath: string; readonly refreshAtMs: number }
  const cache = new Map<string, Entry>()
  const inflight = new Map<string, Promise<Entry>>()
  const used = new WeakMap<RequestToAuthorize, Entry>()
  const nonces = new Map<string, string>()

  function tokenFor(key: string, now: () => number): Promise<Entry> {
    const cached = cache.get(key)
    if (cached !== undefined && now() < cached.refreshAtMs) return Promise.resolve(cached)
    // Single flight: every caller of a cold or expiring scope set awaits the same token request.
    let pending = inflight.get(key)
    if (pending === undefined) {
      pending = requestToken(key === '' ? [] : key.split(' '), now)
        .then((token) => {
          const lifetime = token.expiresAtMs - now()
          const entry: Entry = { ...token, key, ath: accessTokenHash(token.accessToken), refreshAtMs: token.expiresAtMs - Math.min(refreshBeforeMs, lifetime / 2) }
          cache.set(key, entry)
          debug('oauth2 token for [%s] cached, expires in %d s', key, Math.round(lifetime / 1000))
          return entry
        })
        .finally(() => inflight.delete(key))
      inflight.set(key, pending)
    }
    return pending
  }

  const scopesOf = (context: Pick<AuthContext, 'scopes'> | undefined) => context?.scopes ?? options.scopes ?? []

  return {
    get jkt() {
      return prover?.jkt
    },
    get tokenRequests() {
      return tokenRequests
    },
    clear() {
      cache.clear()
    },
    token(scopes, now = defaultNow) {
      return tokenFor(scopeKey(scopes ?? options.scopes ?? []), now)
    },
    async apply(request, context) {
      const key = scopeKey(scopesOf(context))
      // The hot path: a cached token is taken without awaiting a promise.
      const cached = cache.get(key)
      const entry = cached !== undefined && context.now() < cached.refreshAtMs ? cached : await tokenFor(key, context.now)
      used.set(request, entry)
      if (prover === undefined) return { headers: { Authorization: `Bearer ${entry.accessToken}` } }
      const input: { -readonly [K in keyof DpopProofInput]: DpopProofInput[K] } = { method: request.method, url: request.url, iat: Math.floor(context.now() / 1000), accessToken: entry.accessToken, ath: entry.ath }
      if (nonces.size !== 0) {
        const nonce = nonces.get(request.url.origin)
        if (nonce !== undefined) input.nonce = nonce
      }
      const proof = prover.proof(input)
      return { headers: { Authorization: `DPoP ${entry.accessToken}`, DPoP: typeof proof === 'string' ? proof : await proof } }
    },
    onResponse(response: AuthResponse, context: AuthContext) {
      const origin = response.request.url.origin
      const fresh = response.headers['dpop-nonce']
      if (fresh !== undefined && fresh !== '' && prover !== undefined) {
        // RFC 9449 §8.2: a server may send a new nonce on any response; keep the last per origin, bounded.
        nonces.delete(origin)
        if (nonces.size >= NONCE_ORIGINS) nonces.delete(nonces.keys().next().value as string)
        nonces.set(origin, fresh)
      }
      if (response.status !== 401 && response.status !== 400) return undefined
      const challenge = challengeParams(response.headers['www-authenticate'], prover === undefined ? 'bearer' : 'dpop')
      const error = challenge?.['error'] ?? (typeof (response.body as { error?: unknown } | undefined)?.error === 'string' ? (response.body as { error: string }).error : undefined)
      if (error === 'use_dpop_nonce' && fresh !== undefined) return 'retry'
      if (error === 'invalid_token') {
        const was = used.get(response.request)
        // Drop the token this request carried (not one a concurrent request already replaced).
        if (was !== undefined) {
          if (cache.get(was.key) === was) cache.delete(was.key)
        } else {
          cache.delete(scopeKey(scopesOf(context)))
        }
        return 'retry'
      }
      return undefined
    },
  }
}
