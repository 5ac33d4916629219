/**
 * The one error class of apisign, with a stable `code` per failure class.
 *
 * Rules (see `reference/anchors-style.md` §9 rules 2-4):
 * - `ApisignError` is thrown for bad *input* (a malformed key, URL, token, config or response) and for
 *   rejected requests; `TypeError` is thrown for programmer misuse (wrong argument types).
 * - A message never contains a secret, a private key, a signature or plaintext. It names *what* was wrong
 *   (an option, a file path, a header name, a type name), never the value.
 * - `code` is the contract: tests and callers switch on it, messages may improve.
 *
 * @packageDocumentation
 */

/**
 * Every failure class apisign reports. Stable: a code is never renamed or reused for another meaning.
 *
 * @example
 * ```ts
 * import { isApisignError } from 'apisign/errors'
 * try { signRequest(opts) } catch (e) { if (isApisignError(e) && e.code === 'ERR_INVALID_URL') { ... } }
 * ```
 */
export type ApisignErrorCode =
  // generic input
  | 'ERR_INVALID_URL'
  | 'ERR_INVALID_INPUT'
  | 'ERR_INVALID_METHOD'
  | 'ERR_INPUT_TOO_LARGE'
  | 'ERR_UNSUPPORTED_ALGORITHM'
  | 'ERR_ALG_NOT_ALLOWED'
  | 'ERR_FILE_NOT_FOUND'
  | 'ERR_FILE_UNREADABLE'
  // keys and certificates
  | 'ERR_KEY_INVALID'
  | 'ERR_KEY_PASSWORD'
  | 'ERR_KEY_ALIAS_NOT_FOUND'
  | 'ERR_KEY_WRONG_TYPE'
  | 'ERR_KEY_TOO_SMALL'
  | 'ERR_KEY_FILE_PERMISSIONS'
  | 'ERR_KEY_MISMATCH'
  | 'ERR_CERT_INVALID'
  | 'ERR_CERT_EXPIRED'
  | 'ERR_CERT_NOT_YET_VALID'
  // external keys (apisign/signers: HSMs over PKCS#11, KMS adapters)
  | 'ERR_SIGNER_ASYNC_ONLY'
  | 'ERR_PKCS11_UNAVAILABLE'
  | 'ERR_HSM_UNAVAILABLE'
  | 'ERR_HSM_PIN'
  | 'ERR_HSM_KEY_NOT_FOUND'
  | 'ERR_HSM_MECHANISM'
  | 'ERR_HSM_FAILED'
  // OAuth 1.0a signing and verification
  | 'ERR_SIGN_FAILED'
  | 'ERR_OAUTH1_HEADER_INVALID'
  | 'ERR_OAUTH1_PARAM_MISSING'
  | 'ERR_OAUTH1_PARAM_DUPLICATE'
  | 'ERR_OAUTH1_SIGNATURE_INVALID'
  | 'ERR_OAUTH1_TIMESTAMP_STALE'
  | 'ERR_OAUTH1_TIMESTAMP_FUTURE'
  | 'ERR_OAUTH1_NONCE_REPLAY'
  | 'ERR_OAUTH1_UNKNOWN_CONSUMER'
  | 'ERR_BODY_HASH_MISSING'
  | 'ERR_BODY_HASH_MISMATCH'
  | 'ERR_NONCE_STORE_UNAVAILABLE'
  // encryption
  | 'ERR_ENCRYPTION_CONFIG'
  | 'ERR_ENCRYPTION_FAILED'
  | 'ERR_JWE_INVALID'
  | 'ERR_JWE_DECRYPTION_FAILED'
  | 'ERR_LEGACY_DECRYPTION_FAILED'
  // other schemes
  | 'ERR_SCHEME_CONFIG'
  | 'ERR_SIGNATURE_INVALID'
  | 'ERR_TIMESTAMP_OUT_OF_WINDOW'
  | 'ERR_WEBHOOK_SIGNATURE_INVALID'
  | 'ERR_WEBHOOK_TIMESTAMP'
  | 'ERR_JWT_INVALID'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_CREDENTIALS_UNAVAILABLE'
  | 'ERR_CREDENTIALS_UNKNOWN'
  | 'ERR_CREDENTIALS_EXPIRED'
  | 'ERR_CREDENTIALS_MISSING'
  // OAuth 2.0 (FAPI 2.0 client credentials, private_key_jwt, DPoP)
  | 'ERR_OAUTH2_TOKEN_REQUEST'
  | 'ERR_OAUTH2_TOKEN_INVALID'
  | 'ERR_OAUTH2_TOKEN_EXPIRED'
  | 'ERR_OAUTH2_AUDIENCE_INVALID'
  | 'ERR_OAUTH2_INSUFFICIENT_SCOPE'
  | 'ERR_OAUTH2_SCOPE_INVALID'
  | 'ERR_OAUTH2_CLIENT_INVALID'
  | 'ERR_OAUTH2_ASSERTION_REPLAY'
  | 'ERR_OAUTH2_REQUEST_INVALID'
  | 'ERR_DPOP_PROOF_INVALID'
  | 'ERR_DPOP_HTM_MISMATCH'
  | 'ERR_DPOP_HTU_MISMATCH'
  | 'ERR_DPOP_IAT_OUT_OF_WINDOW'
  | 'ERR_DPOP_REPLAY'
  | 'ERR_DPOP_ATH_MISMATCH'
  | 'ERR_DPOP_KEY_MISMATCH'
  | 'ERR_DPOP_NONCE_REQUIRED'
  // profiles and config
  | 'ERR_CONFIG_INVALID'
  | 'ERR_PROFILE_INVALID'
  | 'ERR_PROFILE_NOT_FOUND'
  // http client
  | 'ERR_ORIGIN_NOT_ALLOWED'
  | 'ERR_REDIRECT_REFUSED'
  | 'ERR_BODY_UNSUPPORTED'
  | 'ERR_SIGNATURE_MISMATCH'
  | 'ERR_GATEWAY_REJECTED'
  | 'ERR_SERVICE_REJECTED'
  | 'ERR_RATE_LIMITED'
  | 'ERR_QUOTA_STORE_UNAVAILABLE'
  | 'ERR_DEADLINE_EXCEEDED'
  | 'ERR_NETWORK'
  | 'ERR_RESPONSE_INVALID'
  // codegen and CLI
  | 'ERR_SPEC_INVALID'
  | 'ERR_CODEGEN_FAILED'
  | 'ERR_GENERATOR_UNAVAILABLE'
  | 'ERR_CLI_USAGE'
  | 'ERR_PORT_IN_USE'
  | 'ERR_INTERNAL'

/**
 * Options accepted by {@link ApisignError}.
 *
 * @example
 * ```ts
 * new ApisignError('ERR_KEY_INVALID', 'key file is not PEM, DER or PKCS#12', { cause: err, details: { path } })
 * ```
 */
export interface ApisignErrorOptions {
  /** The underlying error. Kept for debugging; never shown by the CLI, which prints `code` and `message`. */
  readonly cause?: unknown
  /** Non-secret structured facts (option names, file paths, lengths, a differing offset). */
  readonly details?: Readonly<Record<string, unknown>>
}

// Marks every ApisignError, whichever copy of this module made it (see isApisignError).
const BRAND = Symbol.for('apisign.ApisignError')

/**
 * The single error class of apisign. Switch on `code`.
 *
 * @example
 * ```ts
 * import { ApisignError } from 'apisign/errors'
 * throw new ApisignError('ERR_INVALID_URL', 'url must be absolute (got a relative URL)')
 * ```
 */
export class ApisignError extends Error {
  /** Stable failure class. */
  readonly code: ApisignErrorCode
  /** Non-secret structured facts about the failure. */
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: ApisignErrorCode, message: string, options: ApisignErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ApisignError'
    Object.defineProperty(this, BRAND, { value: true })
    this.code = code
    this.details = options.details
  }

  /** A JSON form without `cause` (which may hold foreign data), as the CLI prints it. */
  toJSON(): { code: ApisignErrorCode; message: string } {
    return { code: this.code, message: this.message }
  }
}

/**
 * Type guard: is `value` an {@link ApisignError} (optionally with the given code)?
 *
 * @example
 * ```ts
 * if (isApisignError(e, 'ERR_OAUTH1_NONCE_REPLAY')) res.statusCode = 401
 * ```
 */
export function isApisignError(value: unknown, code?: ApisignErrorCode): value is ApisignError {
  // The brand, not only `instanceof`: a second copy of this module (two apisign versions installed, a
  // module registry reset, a command group imported lazily after one) makes errors of another class.
  const branded = value instanceof ApisignError || (value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[BRAND] === true)
  return branded && (code === undefined || (value as ApisignError).code === code)
}

/**
 * Describe a value's *type* for an error message without ever echoing the value (it may be a secret).
 *
 * @example
 * ```ts
 * throw new TypeError(`key must be a KeyObject or string. Received ${describeType(key)}`)
 * ```
 */
export function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name
    return typeof name === 'string' && name !== 'Object' ? `an instance of ${name}` : 'an object'
  }
  return `type ${typeof value}`
}
