// OST1-HMAC-SHA256 on the wire: the client applier (createClient) and the platform-side verifier (mock
// gateway, providers). Both read parameters the way the platform does, qs.parse of the query (GET, DELETE)
// or of the form body (POST) (reference/other-schemes.md §1.6), so what the client signs is what the
// server re-serialises and checks, whatever query style a generated client used on the wire.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { parse as parseQs } from 'qs'
import { ApisignError } from '../errors.js'
import { type Duration, durationOption, limitOption } from '../option-values.js'
import type { AuthApplier } from '../pipeline/types.js'
import type { ReceivedRequest } from '../pipeline/types.js'
import type { CredentialProvider } from './appliers.js'
import { pathBelow } from './openapi.js'
import { OST_SIGNATURE_KIND, type OstKeyOrder, ostCanonicalQuery, ostStringToSign, signOstRequest } from './ost.js'
import { type SchemeVerdict, type SchemeVerifier, type SecretsByKeyId, bodyBytes, fail, headerValue, invalidReceived, liveSecrets } from './verifier-types.js'

const FORM = /^application\/x-www-form-urlencoded\b/i
const METHODS = new Set(['GET', 'POST', 'DELETE'])

/**
 * qs as the platform runs it: express's query parser (qs defaults: depth 5, 20 array indices) for GET and
 * DELETE, body-parser's `extended: true` (depth 32, 100 array indices) for POST; never onto the prototype.
 * Past 1000 parameters qs would silently drop the rest, so that is an error here instead.
 */
function parseParams(text: string, inBody: boolean): Record<string, unknown> {
  try {
    return parseQs(text, { plainObjects: true, allowPrototypes: false, depth: inBody ? 32 : 5, arrayLimit: inBody ? 100 : 20, parameterLimit: 1000, throwOnLimitExceeded: true }) as Record<string, unknown>
  } catch (cause) {
    throw new ApisignError('ERR_INPUT_TOO_LARGE', `more than 1000 OST parameters in the ${inBody ? 'form body' : 'query'}`, { cause })
  }
}

/**
 * The signed resource: the path below the versioned base path (`/ost/v2/users` -> `/users`).
 *
 * @example
 * ```ts
 * ostResource('/testnet/v2/users/u-1', '/testnet/v2') // '/users/u-1'
 * ```
 */
export const ostResource = pathBelow

const asProvider = (v: string | CredentialProvider<string>): CredentialProvider<string> => (typeof v === 'string' ? { get: async () => v } : v)

/** Options of {@link ostAuth}. */
export interface OstAuthOptions {
  readonly apiKey: string | CredentialProvider<string>
  readonly apiSecret: string | CredentialProvider<string>
  /**
   * Array and numeric-key order. Default `'server'`: arrays keep their order on the wire. `'sdk'`
   * reproduces the JS SDK byte for byte, which reorders arrays of 11+ elements (vector ost-18).
   */
  readonly keyOrder?: OstKeyOrder
}

/**
 * OST1-HMAC-SHA256 for createClient: reads the parameters from the wire query (GET, DELETE) or form body
 * (POST), adds `api_key`, `api_request_timestamp` (the client's skew-corrected clock) and
 * `api_signature_kind`, signs `resource?canonical_query` with the resource taken relative to the client's
 * base URL, and sends the canonical query plus `api_signature` exactly as the official SDK does. Key and
 * secret are resolved per attempt (rotation without restart). POSTs are not retried by the client's
 * default policy: OST has no idempotency key (reference §1.8).
 *
 * @example
 * ```ts
 * const api = createClient({ baseURL: 'https://api.ost.com/testnet/v2', auth: ostAuth({ apiKey, apiSecret: fromEnv('OST_API_SECRET') }) })
 * await api.get('/users', { params: { limit: 10 } })
 * ```
 */
export function ostAuth(options: OstAuthOptions): AuthApplier {
  const apiKey = asProvider(options.apiKey)
  const apiSecret = asProvider(options.apiSecret)
  return {
    async apply(request, context) {
      const method = request.method.toUpperCase()
      if (!METHODS.has(method)) throw new ApisignError('ERR_INVALID_METHOD', `OST requests are GET, POST or DELETE, not ${method}`)
      const resource = ostResource(request.url.pathname, context.baseURL.pathname)
      if (resource === undefined) throw new ApisignError('ERR_INVALID_URL', `${request.url.pathname} is not below the base path ${context.baseURL.pathname}`)
      let params: Record<string, unknown>
      if (method === 'POST') {
        if (request.url.search !== '') throw new ApisignError('ERR_INVALID_INPUT', 'an OST POST carries its parameters in the form body, not the query (the platform ignores the query)')
        const body = request.body ?? Buffer.alloc(0)
        if (body.length > 0 && !FORM.test(request.headers['content-type'] ?? '')) {
          throw new ApisignError('ERR_BODY_UNSUPPORTED', 'an OST POST body must be application/x-www-form-urlencoded')
        }
        params = parseParams(body.toString('utf8'), true)
      } else {
        if (request.body !== undefined && request.body.length > 0) throw new ApisignError('ERR_BODY_UNSUPPORTED', `an OST ${method} has no body; parameters go in the query`)
        params = parseParams(request.url.search.slice(1), false)
      }
      delete params['api_signature']
      const signed = signOstRequest({
        method,
        resource,
        params,
        apiKey: await apiKey.get(),
        apiSecret: await apiSecret.get(),
        nowMs: context.now(),
        keyOrder: options.keyOrder ?? 'server',
      })
      if (method === 'POST') {
        return { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(signed.signedQuery, 'utf8'), baseString: signed.stringToSign }
      }
      const url = new URL(request.url.href)
      url.search = `?${signed.signedQuery}`
      return { headers: {}, url, baseString: signed.stringToSign }
    },
  }
}

/** Options of {@link createOstVerifier}. */
export interface OstVerifierOptions {
  /** API secrets per API key; each may expire (the old key stays valid for its grace period). */
  readonly keys: SecretsByKeyId
  /** The versioned base path stripped before signing, e.g. `/testnet/v2`. Default: none. */
  readonly basePath?: string
  /** The platform rejects `now > timestamp + 100 s` (`signatureValidity`). Default 100. */
  readonly validitySeconds?: Duration
  /**
   * How far in the future a timestamp may be. The platform accepts any future timestamp (one-sided
   * window, reference §1.6), so the default is `Infinity`; set e.g. 100 to close that gap.
   */
  readonly maxFutureSeconds?: Duration
  /** Largest body / URL, bytes. Defaults 1 MiB / 16 KiB. */
  readonly limits?: { readonly maxBodyBytes?: number; readonly maxUrlBytes?: number }
  /** Clock, ms. Default `Date.now`. */
  readonly now?: () => number
}


/**
 * The platform's OST1-HMAC-SHA256 check: parameters from the query (GET, DELETE) or form body (POST), a
 * 10-digit timestamp inside the one-sided validity window, a known and unexpired key, and the signature
 * over `resource?canonical_query` recomputed from the parsed parameters (server key order), compared in
 * constant time against every live secret of the key. Like the platform it keeps no nonce: a captured
 * request replays within the window, and the method is not signed (a logged GET URL replays as DELETE);
 * that is the scheme's design, not something a verifier can fix.
 *
 * @example
 * ```ts
 * const verifier = createOstVerifier({ keys: { [apiKey]: [current, { secret: previous, notAfter: rotatedAt + 86_400_000 }] }, basePath: '/testnet/v2' })
 * const verdict = await verifier.verify({ method: req.method, url, headers: req.headers, body })
 * ```
 */
export function createOstVerifier(options: OstVerifierOptions): SchemeVerifier {
  const now = options.now ?? Date.now
  const validity = durationOption(options.validitySeconds, 'validitySeconds', 100_000) / 1000
  const maxFuture = durationOption(options.maxFutureSeconds, 'maxFutureSeconds', Number.POSITIVE_INFINITY, { allowInfinity: true }) / 1000
  const maxBody = limitOption(options.limits?.maxBodyBytes, 'limits.maxBodyBytes', 1024 * 1024, { integer: true })
  const maxUrl = limitOption(options.limits?.maxUrlBytes, 'limits.maxUrlBytes', 16 * 1024, { integer: true })
  return {
    async verify(request: ReceivedRequest): Promise<SchemeVerdict> {
      const malformed = invalidReceived(request)
      if (malformed !== undefined) return malformed
      const method = request.method.toUpperCase()
      const body = bodyBytes(request.body)
      if (body.length > maxBody || request.url.length > maxUrl) return fail('ERR_INPUT_TOO_LARGE', 'request exceeds the size limit')
      if (!METHODS.has(method)) return fail('ERR_INVALID_METHOD', `OST requests are GET, POST or DELETE, not ${method}`)
      let url: URL
      try {
        url = new URL(request.url)
      } catch {
        return fail('ERR_INVALID_URL', 'request URL is not absolute')
      }
      const resource = ostResource(url.pathname, options.basePath ?? '')
      if (resource === undefined) return fail('ERR_INVALID_URL', `path is not below ${options.basePath ?? '/'}`)
      let params: Record<string, unknown>
      if (method === 'POST' && body.length > 0 && !FORM.test(headerValue(request.headers, 'content-type') ?? '')) return fail('ERR_BODY_UNSUPPORTED', 'POST body must be application/x-www-form-urlencoded')
      try {
        params = method === 'POST' ? parseParams(body.toString('utf8'), true) : parseParams(url.search.slice(1), false)
      } catch {
        return fail('ERR_INPUT_TOO_LARGE', 'more than 1000 parameters')
      }
      const { api_signature: signature, api_key: apiKey, api_request_timestamp: timestamp, api_signature_kind: kind } = params
      for (const [name, value] of Object.entries({ api_key: apiKey, api_request_timestamp: timestamp, api_signature_kind: kind, api_signature: signature })) {
        if (value === undefined) return fail('ERR_CREDENTIALS_MISSING', `${name} is missing`)
        if (typeof value !== 'string') return fail('ERR_INVALID_INPUT', `${name} must appear once`)
      }
      if (kind !== OST_SIGNATURE_KIND) return fail('ERR_ALG_NOT_ALLOWED', `api_signature_kind must be ${OST_SIGNATURE_KIND}`)
      if (!/^[0-9]{10}$/.test(timestamp as string)) return fail('ERR_INVALID_INPUT', 'api_request_timestamp must be 10 digits')
      const nowSeconds = now() / 1000
      // The platform's words, so clients that learn clock skew from the message recognise it.
      if (nowSeconds > Number(timestamp) + validity) return fail('ERR_TIMESTAMP_OUT_OF_WINDOW', `Timestamp expired: given timestamp not within ${validity} secs of server time`)
      if (Number(timestamp) - nowSeconds > maxFuture) return fail('ERR_TIMESTAMP_OUT_OF_WINDOW', 'Timestamp is in the future beyond the allowed window')
      if (!/^[0-9a-f]{64}$/.test(signature as string)) return fail('ERR_SIGNATURE_INVALID', 'api_signature must be 64 lower-case hex digits')
      const { known, secrets } = await liveSecrets(options.keys, apiKey as string, now())
      const rest = { ...params }
      delete rest['api_signature']
      const stringToSign = ostStringToSign(resource, ostCanonicalQuery(rest, { keyOrder: 'server' }))
      const given = Buffer.from(signature as string, 'hex')
      let ok = false
      // Unknown and expired keys go through one HMAC with a dummy secret: same work as a known key.
      for (const secret of secrets.length > 0 ? secrets : ['\u0000apisign-dummy-secret']) {
        const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(stringToSign, 'utf8').digest()
        if (timingSafeEqual(given, expected) && secrets.length > 0) ok = true
      }
      if (!known) return fail('ERR_CREDENTIALS_UNKNOWN', 'api_key is not known')
      if (secrets.length === 0) return fail('ERR_CREDENTIALS_EXPIRED', 'api_key has expired')
      if (!ok) return { ok: false, code: 'ERR_SIGNATURE_INVALID', message: 'api_signature does not match', acceptableSignatureBaseString: stringToSign }
      return { ok: true, principal: apiKey as string }
    },
  }
}
