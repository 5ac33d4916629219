// HS256 JWT bearer + X-Api-Key (the "Original" API scheme): reference/other-schemes.md §2. JWS compact
// (RFC 7515) on node:crypto; jose is only a differential oracle in the tests.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { ApisignError, describeType } from '../errors.js'
import { type Duration, durationOption, limitOption } from '../option-values.js'

/** Options of {@link signJwt}. */
export interface SignJwtOptions {
  /** The API secret, used as raw UTF-8 bytes (never base64-decoded). */
  readonly secret: string
  /** Claims, serialised in the order given (the SDK's order keeps tokens byte-identical). */
  readonly payload: Readonly<Record<string, unknown>>
  /** Append `iat` (seconds) after the claims unless the payload has one. Default false (the SDK sends none). */
  readonly iat?: boolean
  /** Append `exp = iat + expiresIn` (seconds). */
  readonly expiresIn?: number
  /** Clock, ms. Default `Date.now`. */
  readonly nowMs?: number
  /** Header `typ: "JWT"` (jsonwebtoken's default). Default true. */
  readonly typ?: boolean
  /** Receives a warning when the secret is shorter than 32 bytes (RFC 7518 §3.2 wants >= 256 bits). */
  readonly onWarning?: (message: string) => void
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url')
const B64URL = /^[A-Za-z0-9_-]*$/

/**
 * Sign an HS256 JWT as the partner's SDK does (`jsonwebtoken.sign(payload, secret, { noTimestamp })`):
 * header `{"alg":"HS256","typ":"JWT"}`, claims in the given order, optional `iat`/`exp` appended after.
 *
 * @example
 * ```ts
 * const token = signJwt({ secret, payload: { resource: '*', action: '*', user_id: '*', api_key: apiKey } })
 * headers = { Authorization: `Bearer ${token}`, 'X-Api-Key': apiKey }
 * ```
 */
export function signJwt(options: SignJwtOptions): string {
  if (typeof options.secret !== 'string' || options.secret === '') throw new TypeError('secret must be a non-empty string')
  if (options.payload === null || typeof options.payload !== 'object' || Array.isArray(options.payload)) {
    throw new TypeError(`payload must be an object. Received ${describeType(options.payload)}`)
  }
  if (Buffer.byteLength(options.secret, 'utf8') < 32) {
    ;(options.onWarning ?? ((m: string) => process.emitWarning(m, { code: 'APISIGN_WEAK_SECRET' })))('the HS256 secret is shorter than 32 bytes (RFC 7518 §3.2)')
  }
  const claims: Record<string, unknown> = { ...options.payload }
  const now = Math.floor((options.nowMs ?? Date.now()) / 1000)
  if ((options.iat === true || options.expiresIn !== undefined) && claims['iat'] === undefined) claims['iat'] = now
  if (options.expiresIn !== undefined) {
    if (!Number.isInteger(options.expiresIn) || options.expiresIn <= 0) throw new TypeError('expiresIn must be a positive integer of seconds')
    claims['exp'] = (typeof claims['iat'] === 'number' ? claims['iat'] : now) + options.expiresIn
  }
  const header = options.typ === false ? { alg: 'HS256' } : { alg: 'HS256', typ: 'JWT' }
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
  return `${signingInput}.${createHmac('sha256', Buffer.from(options.secret, 'utf8')).update(signingInput).digest('base64url')}`
}

/** Options of {@link verifyJws} and {@link verifyJwt}. */
export interface VerifyJwtOptions {
  /** Keys accepted (current and, during rotation, the previous one): strings are UTF-8 secrets. */
  readonly secrets: ReadonlyArray<string | Uint8Array>
  /** Allowed `alg` values: only HS256 is implemented; `none` and asymmetric algorithms are always refused. */
  readonly algorithms?: readonly 'HS256'[]
  /** Clock, ms. */
  readonly nowMs?: number
  /** Leeway for exp/nbf: seconds or a duration such as `'30s'`. Default 30. `NaN` is a TypeError. */
  readonly clockToleranceSeconds?: Duration
  /** Largest token accepted, characters. Default 16 KiB. */
  readonly maxLength?: number
}

const invalid = (why: string) => new ApisignError('ERR_JWT_INVALID', `JWT ${why}`)

/**
 * Verify a compact HS256 JWS and return its header and payload bytes. The algorithm allowlist is applied
 * to the header before any key is used (`none`, RS/ES/PS and the RS/HS confusion attack are refused);
 * segments must be strict base64url; the MAC is compared in constant time against every key.
 *
 * @example
 * ```ts
 * const { payload } = verifyJws(token, { secrets: [key] })
 * ```
 */
export function verifyJws(token: string, options: VerifyJwtOptions): { header: Record<string, unknown>; payload: Buffer } {
  const maxLength = limitOption(options.maxLength, 'maxLength', 16_384, { integer: true })
  if (typeof token !== 'string') throw invalid('must be a string')
  if (token.length > maxLength) throw new ApisignError('ERR_INPUT_TOO_LARGE', 'JWT exceeds the size limit')
  const parts = token.split('.')
  if (parts.length !== 3) throw invalid('must have three segments')
  const [h, p, s] = parts as [string, string, string]
  // Strict base64url (RFC 7515 §2): the alphabet only, no padding, and canonical (no stray trailing bits),
  // so one token has one reading.
  const canonical = (seg: string) => B64URL.test(seg) && seg.length % 4 !== 1 && Buffer.from(seg, 'base64url').toString('base64url') === seg
  if (!canonical(h) || !canonical(p) || !canonical(s)) throw invalid('segments must be canonical base64url')
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))
  } catch {
    throw invalid('header is not JSON')
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw invalid('header must be a JSON object')
  const hdr = header as Record<string, unknown>
  const allowed = options.algorithms ?? ['HS256']
  if (typeof hdr['alg'] !== 'string' || !(allowed as readonly string[]).includes(hdr['alg']) || hdr['alg'] !== 'HS256') {
    throw new ApisignError('ERR_ALG_NOT_ALLOWED', `JWT alg ${JSON.stringify(String(hdr['alg']).slice(0, 16))} is not allowed`)
  }
  if ('crit' in hdr) throw invalid('has crit header parameters')
  if ('b64' in hdr) throw invalid('has an unsupported b64 header parameter')
  const given = Buffer.from(s, 'base64url')
  let ok = false
  for (const secret of options.secrets) {
    const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret
    const expected = createHmac('sha256', key).update(`${h}.${p}`).digest()
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true
  }
  if (!ok) throw new ApisignError('ERR_SIGNATURE_INVALID', 'JWT signature verification failed')
  return { header: hdr, payload: Buffer.from(p, 'base64url') }
}

/**
 * Verify an HS256 JWT ({@link verifyJws}), then its claims: a JSON object, `exp` and `nbf` within the
 * leeway. Returns the claims.
 *
 * @example
 * ```ts
 * const claims = verifyJwt(token, { secrets: [currentSecret] })
 * ```
 */
export function verifyJwt(token: string, options: VerifyJwtOptions): Record<string, unknown> {
  // Read before the token is looked at: a NaN leeway made both claim comparisons false (issue 13 item 1).
  const leeway = durationOption(options.clockToleranceSeconds, 'clockToleranceSeconds', 30_000) / 1000
  if (options.nowMs !== undefined && !Number.isFinite(options.nowMs)) throw new TypeError('nowMs must be a finite number')
  const { payload } = verifyJws(token, options)
  let claims: unknown
  try {
    claims = JSON.parse(payload.toString('utf8'))
  } catch {
    throw invalid('payload is not JSON')
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw invalid('payload must be a JSON object')
  const c = claims as Record<string, unknown>
  const now = (options.nowMs ?? Date.now()) / 1000
  if (typeof c['exp'] === 'number' && now - leeway >= c['exp']) throw new ApisignError('ERR_JWT_EXPIRED', 'JWT has expired')
  if (typeof c['nbf'] === 'number' && now + leeway < c['nbf']) throw invalid('is not valid yet (nbf)')
  return c
}
