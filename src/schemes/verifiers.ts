// Server-side checks of the simple schemes (JWT bearer + X-Api-Key, API key, Basic, provider-issued bearer
// tokens, SigV4), all behind the SchemeVerifier interface the mock gateway composes per operation.
import { createHash, timingSafeEqual } from 'node:crypto'
import { isApisignError } from '../errors.js'
import { type Duration, durationOption } from '../option-values.js'
import type { ReceivedRequest } from '../pipeline/types.js'
import { verifyJwt } from './jwt.js'
import { sigv4Query, smithy } from './sigv4.js'
import { type ExpiringSecret, type SchemeVerdict, type SchemeVerifier, type SecretsByKeyId, bodyBytes, fail, headerValue, invalidReceived, isLive, liveSecrets, secretOf } from './verifier-types.js'

// Constant-time comparison of values of any length: compare their SHA-256 digests.
const digest = (v: string) => createHash('sha256').update(v, 'utf8').digest()
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b))

/** Every listed value compared (no early exit); true when any is equal and live. */
function anyEqual(given: string, candidates: readonly string[]): boolean {
  let ok = false
  for (const c of candidates) if (sameSecret(given, c)) ok = true
  return ok
}


function bearerToken(request: ReceivedRequest, header: string): string | SchemeVerdict {
  const value = headerValue(request.headers, header)
  if (value === undefined) return fail('ERR_CREDENTIALS_MISSING', `${header} header is missing`)
  if (value === null) return fail('ERR_INVALID_INPUT', `${header} header appears more than once`)
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(value)
  if (match === null) return fail('ERR_CREDENTIALS_MISSING', `${header} is not a Bearer token`)
  return match[1] as string
}

/** Options of {@link createJwtBearerVerifier}. */
export interface JwtBearerVerifierOptions {
  /** HS256 secrets per API key (the `X-Api-Key` header); the previous secret may carry `notAfter`. */
  readonly keys: SecretsByKeyId
  /** Header carrying the API key. Default `X-Api-Key`. */
  readonly apiKeyHeader?: string
  /** Require `exp` (tokens the official SDK makes have none). Default false. */
  readonly requireExp?: boolean
  /** Leeway for exp/nbf: seconds or a duration such as `'30s'`. Default 30. */
  readonly clockToleranceSeconds?: Duration
  readonly now?: () => number
}

/**
 * The "Original" scheme's server side: `Authorization: Bearer <HS256 JWT>` plus `X-Api-Key`. The token is
 * verified with the key's live secrets (HS256 only: `none`, RS/ES/PS and key confusion are refused before
 * any key is used), then `exp`/`nbf`, and its `api_key` claim, when present, must name the same key as the
 * header.
 *
 * @example
 * ```ts
 * const verifier = createJwtBearerVerifier({ keys: { [apiKey]: [newSecret, { secret: oldSecret, notAfter }] } })
 * ```
 */
export function createJwtBearerVerifier(options: JwtBearerVerifierOptions): SchemeVerifier {
  const now = options.now ?? Date.now
  const apiKeyHeader = options.apiKeyHeader ?? 'X-Api-Key'
  const leewayMs = durationOption(options.clockToleranceSeconds, 'clockToleranceSeconds', 30_000)
  return {
    async verify(request) {
      const malformed = invalidReceived(request)
      if (malformed !== undefined) return malformed
      const token = bearerToken(request, 'Authorization')
      if (typeof token !== 'string') return token
      const apiKey = headerValue(request.headers, apiKeyHeader)
      if (apiKey === undefined || apiKey === null || apiKey === '') return fail('ERR_CREDENTIALS_MISSING', `${apiKeyHeader} header is missing`)
      const { known, secrets } = await liveSecrets(options.keys, apiKey, now())
      let claims: Record<string, unknown>
      try {
        claims = verifyJwt(token, {
          secrets: secrets.length > 0 ? secrets : ['\u0000apisign-dummy-secret'],
          nowMs: now(),
          clockToleranceSeconds: leewayMs / 1000,
        })
      } catch (error) {
        if (!known) return fail('ERR_CREDENTIALS_UNKNOWN', `${apiKeyHeader} is not known`)
        if (secrets.length === 0) return fail('ERR_CREDENTIALS_EXPIRED', `${apiKeyHeader} has no live secret`)
        return isApisignError(error) ? fail(error.code, error.message) : fail('ERR_JWT_INVALID', 'JWT could not be verified')
      }
      if (!known || secrets.length === 0) return fail('ERR_CREDENTIALS_UNKNOWN', `${apiKeyHeader} is not known`)
      if (options.requireExp === true && typeof claims['exp'] !== 'number') return fail('ERR_JWT_INVALID', 'JWT has no exp claim')
      if (claims['api_key'] !== undefined && claims['api_key'] !== apiKey) return fail('ERR_JWT_INVALID', `JWT api_key claim does not match ${apiKeyHeader}`)
      return { ok: true, principal: apiKey }
    },
  }
}

/** Options of {@link createApiKeyVerifier}. */
export interface ApiKeyVerifierOptions {
  /**
   * Accepted keys; each may expire. The principal reported is `label` or the key's index. Or a lookup
   * (a key store's `keyIdOfValue`) returning the principal of a live key, undefined otherwise.
   */
  readonly keys: ReadonlyArray<string | (ExpiringSecret & { readonly label?: string })> | ((key: string) => string | undefined | Promise<string | undefined>)
  /** Where the key travels (default header) and its name (default `X-Api-Key`, `api_key` in a query or body). */
  readonly in?: 'header' | 'query' | 'body'
  readonly name?: string
  readonly now?: () => number
}

/**
 * An API key in a header, a query parameter or a body field (JSON or form), compared in constant time
 * against every accepted key.
 *
 * @example
 * ```ts
 * const verifier = createApiKeyVerifier({ keys: [current, { secret: previous, notAfter: graceEnd }], in: 'header', name: 'X-Api-Key' })
 * ```
 */
export function createApiKeyVerifier(options: ApiKeyVerifierOptions): SchemeVerifier {
  const now = options.now ?? Date.now
  const where = options.in ?? 'header'
  const name = options.name ?? (where === 'header' ? 'X-Api-Key' : 'api_key')
  return {
    async verify(request) {
      const malformed = invalidReceived(request)
      if (malformed !== undefined) return malformed
      let given: string | undefined | null
      if (where === 'header') given = headerValue(request.headers, name)
      else if (where === 'query') {
        const all = new URL(request.url).searchParams.getAll(name)
        given = all.length > 1 ? null : all[0]
      } else given = bodyField(request, name)
      if (given === null) return fail('ERR_INVALID_INPUT', `${name} appears more than once`)
      if (given === undefined || given === '') return fail('ERR_CREDENTIALS_MISSING', `${name} is missing`)
      if (typeof options.keys === 'function') {
        const principal = await options.keys(given)
        return principal === undefined ? fail('ERR_CREDENTIALS_UNKNOWN', `${name} is not a valid key`) : { ok: true, principal }
      }
      const keys = options.keys
      const t = now()
      let match: number | undefined
      keys.forEach((entry, i) => {
        if (sameSecret(given, secretOf(entry)) && isLive(entry, t) && match === undefined) match = i
      })
      if (match === undefined) return fail('ERR_CREDENTIALS_UNKNOWN', `${name} is not a valid key`)
      const entry = keys[match]
      return { ok: true, principal: typeof entry === 'object' && entry.label !== undefined ? entry.label : `key#${match}` }
    },
  }
}

function bodyField(request: ReceivedRequest, name: string): string | undefined | null {
  const body = bodyBytes(request.body)
  if (body.length === 0) return undefined
  const type = headerValue(request.headers, 'content-type') ?? ''
  if (/json/i.test(type)) {
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'))
      const value = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>)[name] : undefined
      return typeof value === 'string' ? value : undefined
    } catch {
      return undefined
    }
  }
  if (/x-www-form-urlencoded/i.test(type)) {
    const all = new URLSearchParams(body.toString('utf8')).getAll(name)
    return all.length > 1 ? null : all[0]
  }
  return undefined
}

/** Options of {@link createBasicVerifier}. */
export interface BasicVerifierOptions {
  /** Passwords per user name (several during a rotation; each may expire), or a lookup function. */
  readonly users: SecretsByKeyId
  readonly now?: () => number
}

/**
 * HTTP Basic (RFC 7617): `Authorization: Basic base64(user:password)`, UTF-8, password compared in constant
 * time (unknown users do the same work).
 *
 * @example
 * ```ts
 * const verifier = createBasicVerifier({ users: { 'partner-key': process.env.PARTNER_SECRET! } })
 * ```
 */
export function createBasicVerifier(options: BasicVerifierOptions): SchemeVerifier {
  const now = options.now ?? Date.now
  return {
    async verify(request) {
      const malformed = invalidReceived(request)
      if (malformed !== undefined) return malformed
      const value = headerValue(request.headers, 'Authorization')
      if (value === undefined) return fail('ERR_CREDENTIALS_MISSING', 'Authorization header is missing')
      if (value === null) return fail('ERR_INVALID_INPUT', 'Authorization header appears more than once')
      const match = /^Basic +([A-Za-z0-9+/]+={0,2})$/i.exec(value)
      if (match === null) return fail('ERR_CREDENTIALS_MISSING', 'Authorization is not Basic')
      const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon < 0) return fail('ERR_INVALID_INPUT', 'Basic credentials have no ":"')
      const user = decoded.slice(0, colon)
      const { secrets } = await liveSecrets(options.users, user, now())
      const ok = anyEqual(decoded.slice(colon + 1), secrets.length > 0 ? secrets : ['\u0000apisign-dummy-secret']) && secrets.length > 0
      return ok ? { ok: true, principal: user } : fail('ERR_CREDENTIALS_UNKNOWN', 'Basic credentials are not valid')
    },
  }
}

/** Options of {@link createBearerTokenVerifier}. */
export interface BearerTokenVerifierOptions {
  /** Accepted tokens (provider-issued, opaque), each may expire; or a validation function returning the principal. */
  readonly tokens: ReadonlyArray<string | ExpiringSecret> | ((token: string) => string | undefined | Promise<string | undefined>)
  /** Header carrying it. Default `Authorization` (with `Bearer `). */
  readonly header?: string
  readonly now?: () => number
}

/**
 * A token the provider issued, in `Authorization: Bearer` (or the header the spec names, raw), checked
 * against the issued list or a validation function.
 *
 * @example
 * ```ts
 * const verifier = createBearerTokenVerifier({ tokens: [{ secret: issuedToken, notAfter: expiresAt }] })
 * ```
 */
export function createBearerTokenVerifier(options: BearerTokenVerifierOptions): SchemeVerifier {
  const now = options.now ?? Date.now
  const header = options.header ?? 'Authorization'
  return {
    async verify(request) {
      const malformed = invalidReceived(request)
      if (malformed !== undefined) return malformed
      let token: string
      if (header.toLowerCase() === 'authorization') {
        const t = bearerToken(request, header)
        if (typeof t !== 'string') return t
        token = t
      } else {
        const v = headerValue(request.headers, header)
        if (v === undefined || v === '') return fail('ERR_CREDENTIALS_MISSING', `${header} header is missing`)
        if (v === null) return fail('ERR_INVALID_INPUT', `${header} header appears more than once`)
        token = v
      }
      if (typeof options.tokens === 'function') {
        const principal = await options.tokens(token)
        return principal === undefined ? fail('ERR_CREDENTIALS_UNKNOWN', 'bearer token is not valid') : { ok: true, principal }
      }
      const t = now()
      const live = options.tokens.filter((e) => isLive(e, t)).map(secretOf)
      return anyEqual(token, live) ? { ok: true, principal: 'bearer' } : fail('ERR_CREDENTIALS_UNKNOWN', 'bearer token is not valid or has expired')
    },
  }
}

/** Options of {@link createSigV4Verifier}. */
export interface SigV4VerifierOptions {
  /** Secret access keys per access key id; each may expire. */
  readonly credentials: SecretsByKeyId
  readonly region: string
  readonly service: string
  /** `X-Amz-Date` window either side of now: seconds or a duration such as `'5m'`. Default 300 (AWS's 5 minutes). */
  readonly clockSkewSeconds?: Duration
  readonly now?: () => number
}

const SIGV4_AUTH = /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/

/**
 * AWS SigV4 (`AWS4-HMAC-SHA256`) checked by re-signing the received request with `@smithy/signature-v4`
 * over exactly its signed headers, at its own `X-Amz-Date`, and comparing in constant time; the date must
 * be within the window and the credential scope must name this region and service. A sent
 * `x-amz-content-sha256` must be the hash of the body received.
 *
 * @example
 * ```ts
 * const verifier = createSigV4Verifier({ credentials: { AKIDEXAMPLE: secretAccessKey }, region: 'us-east-1', service: 'execute-api' })
 * ```
 */
export function createSigV4Verifier(options: SigV4VerifierOptions): SchemeVerifier {
  const now = options.now ?? Date.now
  const window = durationOption(options.clockSkewSeconds, 'clockSkewSeconds', 300_000)
  return {
    async verify(request) {
      const malformed = invalidReceived(request)
      if (malformed !== undefined) return malformed
      const auth = headerValue(request.headers, 'Authorization')
      if (auth === undefined || auth === null) return fail('ERR_CREDENTIALS_MISSING', 'Authorization header is missing or repeated')
      const m = SIGV4_AUTH.exec(auth)
      if (m === null) return fail('ERR_INVALID_INPUT', 'Authorization is not AWS4-HMAC-SHA256')
      const [, accessKeyId, day, region, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string]
      if (region !== options.region || service !== options.service) return fail('ERR_SIGNATURE_INVALID', 'credential scope names another region or service')
      const amzDate = headerValue(request.headers, 'x-amz-date')
      const when = typeof amzDate === 'string' && /^\d{8}T\d{6}Z$/.test(amzDate) ? Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`) : Number.NaN
      if (Number.isNaN(when) || amzDate?.slice(0, 8) !== day) return fail('ERR_INVALID_INPUT', 'X-Amz-Date is missing or does not match the credential scope')
      if (Math.abs(now() - when) > window) return fail('ERR_TIMESTAMP_OUT_OF_WINDOW', 'Signature expired: X-Amz-Date is outside the allowed window')
      const body = bodyBytes(request.body)
      const names = signedHeaders.split(';')
      if (!names.includes('host')) return fail('ERR_SIGNATURE_INVALID', 'host is not a signed header')
      const headers: Record<string, string> = {}
      for (const name of names) {
        const v = headerValue(request.headers, name)
        if (typeof v !== 'string') return fail('ERR_SIGNATURE_INVALID', `signed header ${name} is missing or repeated`)
        headers[name] = v
      }
      const contentSha = headers['x-amz-content-sha256']
      if (contentSha !== undefined && contentSha !== 'UNSIGNED-PAYLOAD' && contentSha !== createHash('sha256').update(body).digest('hex')) {
        return fail('ERR_BODY_HASH_MISMATCH', 'x-amz-content-sha256 is not the hash of the body')
      }
      const { known, secrets } = await liveSecrets(options.credentials, accessKeyId, now())
      const url = new URL(request.url)
      const query = sigv4Query(url)
      const given = Buffer.from(signature, 'hex')
      let ok = false
      const { SignatureV4, HttpRequest, Sha256 } = await smithy()
      for (const secretAccessKey of secrets.length > 0 ? secrets : ['\u0000apisign-dummy-secret']) {
        const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region, service, sha256: Sha256, uriEscapePath: true, applyChecksum: names.includes('x-amz-content-sha256') })
        const resigned = await signer.sign(
          new HttpRequest({ method: request.method.toUpperCase(), protocol: url.protocol, hostname: url.hostname, path: url.pathname, query, headers, ...(body.length === 0 ? {} : { body }) }),
          { signingDate: new Date(when), signableHeaders: new Set(names) },
        )
        const expected = /Signature=([0-9a-f]{64})$/.exec(String(resigned.headers['authorization']))?.[1] ?? ''
        const expectedHeaders = /SignedHeaders=([a-z0-9;-]+)/.exec(String(resigned.headers['authorization']))?.[1]
        if (expected.length === 64 && timingSafeEqual(given, Buffer.from(expected, 'hex')) && expectedHeaders === signedHeaders) ok = true
      }
      if (!known) return fail('ERR_CREDENTIALS_UNKNOWN', 'access key id is not known')
      if (secrets.length === 0) return fail('ERR_CREDENTIALS_EXPIRED', 'access key id has expired')
      return ok ? { ok: true, principal: accessKeyId } : fail('ERR_SIGNATURE_INVALID', 'SigV4 signature does not match')
    },
  }
}
