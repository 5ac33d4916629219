// A local FAPI 2.0 authorization server for the mock gateway: the client credentials grant with
// private_key_jwt client authentication (RFC 7523 §3, FAPI 2.0 §5.3.2.1) and DPoP (RFC 9449 §5),
// issuing JWT access tokens (RFC 9068) bound to the proof key (`cnf.jkt`). Built on jose. Its metadata
// (RFC 8414) and JWKS are served next to the token endpoint, so a client can start from the issuer alone.
import { type KeyObject, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { type JSONWebKeySet, SignJWT, createLocalJWKSet, decodeJwt, jwtVerify } from 'jose'
import { ApisignError } from '../errors.js'
import { limitOption } from '../option-values.js'
import type { JwsAlgorithm } from '../schemes/oauth2-jose.js'
import { algorithmOf, jwkThumbprint, publicJwk } from '../schemes/oauth2-jose.js'
import { type DpopNonces, type OAuth2Failure, type OAuth2VerifierOptions, createDpopNonces, createOAuth2Verifier, joseFailure, oauth2ErrorBody, verifyDpopProof } from '../schemes/oauth2-verifier.js'
import { type NonceStore, createMemoryNonceStore } from '../schemes/nonce-store.js'
import { type SchemeVerifier, headerValue } from '../schemes/verifier-types.js'

/** A client registered with the authorization server. */
export interface RegisteredClient {
  /** Its public keys by `kid` (PEM, KeyObject or certificate PEM), or a JWKS (each key with its `kid`). */
  readonly keys: Readonly<Record<string, KeyObject | string>> | JSONWebKeySet
  /** Scopes it may be granted. Default: any. */
  readonly scopes?: readonly string[]
}

/** Options of {@link createAuthorizationServer}. */
export interface AuthorizationServerOptions {
  /** Registered clients by `client_id`. */
  readonly clients: Readonly<Record<string, RegisteredClient>>
  /** The issuer identifier. Default: the gateway's origin. */
  readonly issuer?: string
  /** The access tokens' audience. Default: the gateway's base URL. */
  readonly audience?: string
  /** Client assertion and DPoP proof algorithms allowed. Default PS256 and ES256 (FAPI 2.0 §5.4.1). */
  readonly algorithms?: readonly JwsAlgorithm[]
  /** Access token lifetime, seconds. Default 300. */
  readonly tokenLifetimeSec?: number
  /** Longest client assertion accepted (`exp - iat`), seconds. Default 300. */
  readonly maxAssertionLifetimeSec?: number
  /** Where client assertion and DPoP `jti`s are remembered (memory or Redis). Default in-process. */
  readonly nonceStore?: NonceStore
  /** Demand a DPoP server nonce at the token endpoint (RFC 9449 §8). Default true. */
  readonly dpopNonce?: boolean
  /** How often nonces rotate, ms. Default 5 minutes. */
  readonly nonceRotateMs?: number
  /** The token signing key (ES256 or PS256). Default a fresh P-256 key. */
  readonly signingKey?: KeyObject
  /** Clock, ms. Default `Date.now`. */
  readonly now?: () => number
}

/** What the authorization server answers. */
export interface AuthorizationServerResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  /** The apisign code of a refusal. */
  readonly code?: string
  readonly principal?: string
}

/** A running authorization server (its endpoints live below `issuer`). */
export interface AuthorizationServer {
  readonly issuer: string
  readonly tokenEndpoint: string
  readonly jwksUri: string
  readonly jwks: JSONWebKeySet
  /** Tokens issued so far. */
  readonly issued: number
  /** The RFC 8414 metadata document. */
  metadata(): Record<string, unknown>
  /** The options a resource verifier (scheme `oauth2`) needs to accept this server's tokens. */
  verifierOptions(): Pick<OAuth2VerifierOptions, 'issuer' | 'audience' | 'keys'>
  /** Answer a request to one of its endpoints, or `undefined` when the path is not one of them. */
  handle(request: { readonly method: string; readonly url: string; readonly headers: Readonly<Record<string, string | string[] | undefined>>; readonly body: Buffer }): Promise<AuthorizationServerResponse | undefined>
}

/**
 * Where the endpoints live, relative to the issuer's origin.
 *
 * @example
 * ```ts
 * const tokenUrl = new URL(AUTHORIZATION_SERVER_PATHS.token, gateway.url).href
 * ```
 */
export const AUTHORIZATION_SERVER_PATHS = { metadata: '/.well-known/oauth-authorization-server', token: '/oauth2/token', jwks: '/oauth2/jwks' } as const

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

function clientJwks(client: RegisteredClient, id: string): JSONWebKeySet {
  if (Array.isArray((client.keys as JSONWebKeySet).keys)) return client.keys as JSONWebKeySet
  const keys = Object.entries(client.keys as Record<string, KeyObject | string>).map(([kid, key]) => {
    let publicKey: KeyObject
    try {
      publicKey = typeof key === 'string' ? createPublicKey(key) : key.type === 'public' ? key : createPublicKey(key)
    } catch (cause) {
      throw new ApisignError('ERR_KEY_INVALID', `client ${id}: key ${kid} is not a readable public key`, { cause })
    }
    return { ...publicJwk(publicKey), kid }
  })
  if (keys.length === 0) throw new ApisignError('ERR_SCHEME_CONFIG', `client ${id} has no keys`)
  return { keys }
}

/**
 * A FAPI 2.0 authorization server for tests and the mock gateway. Its token endpoint takes the client
 * credentials grant only, authenticated by a `private_key_jwt` assertion (verified against the client's
 * registered keys: allowed `alg`, `iss` = `sub` = client_id, `aud` = the issuer or the token endpoint,
 * `exp` and a short lifetime, a `jti` never seen before), demands a DPoP proof (and, by default, its
 * server nonce), checks the requested scopes against the client's, and issues a JWT access token
 * (`typ: at+jwt`) bound to the proof's key. Refusals answer RFC 6749 §5.2 / RFC 9449 errors.
 *
 * @example
 * ```ts
 * const as = createAuthorizationServer({ clients: { 'client-1': { keys: { 'key-1': clientPublicKey }, scopes: ['payments'] } } }, 'http://127.0.0.1:8080')
 * const answer = await as.handle({ method: 'POST', url: as.tokenEndpoint, headers, body })
 * ```
 */
export function createAuthorizationServer(options: AuthorizationServerOptions, origin: string, audience: string = origin): AuthorizationServer {
  if (options === null || typeof options !== 'object' || options.clients === null || typeof options.clients !== 'object') throw new TypeError('authorization server options need clients')
  const issuer = options.issuer ?? origin
  const base = new URL(origin)
  const tokenEndpoint = new URL(AUTHORIZATION_SERVER_PATHS.token, base).href
  const jwksUri = new URL(AUTHORIZATION_SERVER_PATHS.jwks, base).href
  const algorithms = options.algorithms ?? ['PS256', 'ES256']
  const now = options.now ?? Date.now
  const lifetime = limitOption(options.tokenLifetimeSec, 'tokenLifetimeSec', 300, { integer: true, positive: true })
  const maxAssertion = limitOption(options.maxAssertionLifetimeSec, 'maxAssertionLifetimeSec', 300, { positive: true })
  const store = options.nonceStore ?? createMemoryNonceStore({ now })
  const nonces: DpopNonces | undefined = options.dpopNonce === false ? undefined : createDpopNonces({ now, ...(options.nonceRotateMs === undefined ? {} : { rotateMs: options.nonceRotateMs }) })
  const signingKey = options.signingKey ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  const signingAlg = algorithmOf(signingKey)
  const signingJwk = publicJwk(signingKey)
  const kid = jwkThumbprint(signingJwk)
  const jwks: JSONWebKeySet = { keys: [{ ...signingJwk, kid, alg: signingAlg, use: 'sig' }] }
  const clients = new Map(Object.entries(options.clients).map(([id, client]) => [id, { scopes: client.scopes, getKey: createLocalJWKSet(clientJwks(client, id)) }]))
  const tokenAudience = options.audience ?? audience
  let issued = 0

  const refuse = (f: OAuth2Failure, status?: number): AuthorizationServerResponse => {
    const body = oauth2ErrorBody(f)
    const statusCode = status ?? (body.error === 'invalid_client' ? 401 : 400)
    const headers: Record<string, string> = { 'cache-control': 'no-store' }
    if (nonces !== undefined && body.error === 'use_dpop_nonce') headers['dpop-nonce'] = nonces.current()
    return { status: statusCode, headers, body, code: f.code }
  }
  const fail = (code: OAuth2Failure['code'], message: string, error?: string): OAuth2Failure => ({ ok: false, code, message, ...(error === undefined ? {} : { error }) })

  async function token(request: Parameters<AuthorizationServer['handle']>[0]): Promise<AuthorizationServerResponse> {
    if (request.method !== 'POST') return { status: 405, headers: { allow: 'POST' }, body: { error: 'invalid_request', error_description: 'the token endpoint takes POST' }, code: 'ERR_OAUTH2_REQUEST_INVALID' }
    if (!/^application\/x-www-form-urlencoded/i.test(String(headerValue(request.headers, 'content-type') ?? ''))) {
      return refuse(fail('ERR_OAUTH2_REQUEST_INVALID', 'the token request must be application/x-www-form-urlencoded'))
    }
    const form = new URLSearchParams(request.body.toString('utf8'))
    for (const name of new Set(form.keys())) if (form.getAll(name).length > 1) return refuse(fail('ERR_OAUTH2_REQUEST_INVALID', `parameter ${name} is repeated`))
    if (form.get('grant_type') !== 'client_credentials') return refuse(fail('ERR_OAUTH2_REQUEST_INVALID', 'only the client_credentials grant is supported', 'unsupported_grant_type'))
    const assertion = form.get('client_assertion')
    if (form.get('client_assertion_type') !== ASSERTION_TYPE || assertion === null) {
      return refuse(fail('ERR_OAUTH2_CLIENT_INVALID', 'client authentication must be private_key_jwt (client_assertion)'))
    }
    let clientId: string
    try {
      const unverified = decodeJwt(assertion)
      if (typeof unverified.iss !== 'string') throw new Error('no iss')
      clientId = unverified.iss
    } catch {
      return refuse(fail('ERR_OAUTH2_CLIENT_INVALID', 'the client assertion is not a JWT with an iss'))
    }
    const given = form.get('client_id')
    if (given !== null && given !== clientId) return refuse(fail('ERR_OAUTH2_CLIENT_INVALID', 'client_id and the assertion iss differ'))
    const client = clients.get(clientId)
    if (client === undefined) return refuse(fail('ERR_OAUTH2_CLIENT_INVALID', 'unknown client'))
    let claims
    try {
      // FAPI 2.0 §5.3.2.1: the issuer identifier is the audience; the token endpoint is accepted too (RFC 7523 §3).
      claims = (
        await jwtVerify(assertion, client.getKey, {
          issuer: clientId,
          subject: clientId,
          audience: [issuer, tokenEndpoint],
          algorithms: [...algorithms],
          currentDate: new Date(now()),
          clockTolerance: 5,
          requiredClaims: ['exp', 'jti'],
        })
      ).payload
    } catch (error) {
      return refuse(joseFailure(error, 'ERR_OAUTH2_CLIENT_INVALID', 'client assertion', 'invalid_client'), 401)
    }
    const nowSec = Math.floor(now() / 1000)
    const exp = claims.exp as number
    if (exp - (typeof claims.iat === 'number' ? claims.iat : nowSec) > maxAssertion) return refuse(fail('ERR_OAUTH2_CLIENT_INVALID', `the client assertion lives longer than ${maxAssertion} s`))
    // The DPoP proof first: a nonce challenge must not burn the assertion's jti.
    const proof = await verifyDpopProof(headerValue(request.headers, 'dpop'), {
      method: 'POST',
      url: tokenEndpoint,
      algorithms,
      maxAgeSec: 60,
      futureSec: 5,
      now,
      replay: store,
      ...(nonces === undefined ? {} : { nonces }),
    })
    if (!proof.ok) return refuse(proof, 400)
    if (!(await store.checkAndRecord(`client-assertion:${clientId}:${String(claims.jti)}`, Math.max(1, exp - nowSec + 5) * 1000))) {
      return refuse(fail('ERR_OAUTH2_ASSERTION_REPLAY', 'the client assertion jti was already used'))
    }
    const requested = (form.get('scope') ?? '').split(' ').filter((s) => s !== '')
    const refused = client.scopes === undefined ? [] : requested.filter((s) => !(client.scopes as readonly string[]).includes(s))
    if (refused.length > 0) return refuse(fail('ERR_OAUTH2_SCOPE_INVALID', `scope ${refused.join(' ')} is not allowed for this client`))
    const scope = [...new Set(requested)].join(' ')
    const accessToken = await new SignJWT({ client_id: clientId, scope, cnf: { jkt: proof.jkt } })
      .setProtectedHeader({ alg: signingAlg, typ: 'at+jwt', kid })
      .setIssuer(issuer)
      .setSubject(clientId)
      .setAudience(tokenAudience)
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + lifetime)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(signingKey)
    issued++
    const headers: Record<string, string> = { 'cache-control': 'no-store' }
    if (nonces !== undefined) headers['dpop-nonce'] = nonces.current()
    return { status: 200, headers, body: { access_token: accessToken, token_type: 'DPoP', expires_in: lifetime, scope }, principal: clientId }
  }

  const metadata = () => ({
    issuer,
    token_endpoint: tokenEndpoint,
    jwks_uri: jwksUri,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...algorithms],
    dpop_signing_alg_values_supported: [...algorithms],
    scopes_supported: [...new Set([...clients.values()].flatMap((c) => c.scopes ?? []))],
  })

  return {
    issuer,
    tokenEndpoint,
    jwksUri,
    jwks,
    get issued() {
      return issued
    },
    metadata,
    verifierOptions: () => ({ issuer, audience: tokenAudience, keys: jwks }),
    async handle(request) {
      const url = new URL(request.url)
      if (url.pathname === AUTHORIZATION_SERVER_PATHS.token) return token(request)
      if (request.method !== 'GET') return undefined
      if (url.pathname === AUTHORIZATION_SERVER_PATHS.metadata) return { status: 200, headers: {}, body: metadata() }
      if (url.pathname === AUTHORIZATION_SERVER_PATHS.jwks) return { status: 200, headers: {}, body: jwks }
      return undefined
    },
  }
}

/**
 * The mock gateway's `oauth2` resource verifier: options not given (issuer, audience, keys) come from
 * its authorization server, which only exists once the gateway listens, so the verifier is built on
 * first use. Server nonces are on unless `nonces: false`.
 *
 * @example
 * ```ts
 * const verifier = gatewayOAuth2Verifier({ scopes: ['payments'] }, () => authorizationServer, Date.now)
 * ```
 */
export function gatewayOAuth2Verifier(options: Partial<OAuth2VerifierOptions>, server: () => AuthorizationServer | undefined, now: () => number): SchemeVerifier {
  const make = () => createOAuth2Verifier({ nonces: true, now, ...server()?.verifierOptions(), ...options } as OAuth2VerifierOptions)
  let built: SchemeVerifier | undefined
  return { verify: (request, context) => (built ??= make()).verify(request, context) }
}
