// The external-key seam (COMMON.md, issue 17): a private key that apisign never holds, only asks to sign or
// to unwrap. This file imports nothing but errors, so every part (oauth1, encryption, schemes, profiles)
// can accept a Signer or Decrypter without depending on how it is implemented.
import type { KeyObject, X509Certificate } from 'node:crypto'
import { ApisignError, type ApisignErrorCode } from '../errors.js'

/** The JWS names of what a {@link Signer} produces (RFC 7518 §3.1). */
export type SignerAlgorithm = 'RS256' | 'PS256' | 'ES256'

/** The OAEP digests a {@link Decrypter} is asked for (MGF1 uses the same digest). */
export type OaepHash = 'sha1' | 'sha256' | 'sha512'

/**
 * A private key held elsewhere (an HSM, a cloud KMS) that signs on request. Accepted wherever apisign takes a
 * signing key, on the asynchronous paths: OAuth 1.0a `signAsync`/`signRequestAsync` and the client, JWS
 * signing (`signCompactJws`), profiles.
 *
 * `sign` receives the data to be signed, not a digest: `RS256` is RSASSA-PKCS1-v1_5 with SHA-256, `PS256`
 * RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt, `ES256` ECDSA P-256 with SHA-256 returning the
 * raw 64-byte `r || s` form JWS uses (RFC 7518 §3.4), not DER.
 *
 * @example
 * ```ts
 * const signer: Signer = {
 *   kind: 'signer', algorithm: 'RS256', publicKey,
 *   sign: async (data) => kms.sign(createHash('sha256').update(data).digest()),
 * }
 * ```
 */
export interface Signer {
  readonly kind: 'signer'
  readonly algorithm: SignerAlgorithm
  /** The public half, when known (fingerprints, `kid`, doctor's key/certificate check). */
  readonly publicKey?: KeyObject
  /** The certificate the key belongs to, when the key service holds one. */
  readonly certificate?: X509Certificate
  sign(data: Uint8Array): Promise<Uint8Array>
}

/**
 * A private RSA key held elsewhere that removes RSA-OAEP (MGF1 with the same digest) from a wrapped key:
 * what JWE (`RSA-OAEP-256`, `RSA-OAEP`) and the legacy Mastercard scheme need to decrypt responses.
 *
 * Failure contract: an outage of the key service rejects with an {@link isKeyServiceError} code
 * (`ERR_HSM_UNAVAILABLE`, ...), which callers pass on; any other rejection counts as a failed unwrap,
 * which callers make indistinguishable from a bad tag (RFC 7516 §11.5).
 *
 * @example
 * ```ts
 * const { plaintext } = await compactDecryptAsync(token, decrypter)
 * ```
 */
export interface Decrypter {
  readonly kind: 'decrypter'
  readonly publicKey?: KeyObject
  readonly certificate?: X509Certificate
  decrypt(oaepHash: OaepHash, data: Uint8Array): Promise<Uint8Array>
}

/**
 * Is `value` a {@link Signer}?
 *
 * @example
 * ```ts
 * if (isSigner(options.key)) return signer.signAsync(request)
 * ```
 */
export function isSigner(value: unknown): value is Signer {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as Signer).kind === 'signer' &&
    typeof (value as Signer).sign === 'function'
  )
}

/**
 * Is `value` a {@link Decrypter}?
 *
 * @example
 * ```ts
 * const key = isDecrypter(config.privateKey) ? config.privateKey : loadPrivateKey(config.privateKey)
 * ```
 */
export function isDecrypter(value: unknown): value is Decrypter {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as Decrypter).kind === 'decrypter' &&
    typeof (value as Decrypter).decrypt === 'function'
  )
}

const KEY_SERVICE_CODES: ReadonlySet<ApisignErrorCode> = new Set<ApisignErrorCode>([
  'ERR_PKCS11_UNAVAILABLE',
  'ERR_HSM_UNAVAILABLE',
  'ERR_HSM_PIN',
  'ERR_HSM_KEY_NOT_FOUND',
  'ERR_HSM_MECHANISM',
  'ERR_HSM_FAILED',
])

/**
 * Is `error` the key service failing (binding missing, token absent, PIN refused, key gone, mechanism
 * unsupported), as opposed to a ciphertext that does not unwrap? Decryption paths rethrow these and mask
 * everything else.
 *
 * @example
 * ```ts
 * try { cek = await decrypter.decrypt('sha256', wrapped) } catch (e) { if (isKeyServiceError(e)) throw e; cek = randomBytes(32) }
 * ```
 */
export function isKeyServiceError(error: unknown): error is ApisignError {
  return error instanceof ApisignError && KEY_SERVICE_CODES.has(error.code)
}

/**
 * The typed error of a synchronous path given an external signer: names the asynchronous one to use.
 *
 * @example
 * ```ts
 * if (isSigner(key)) throw asyncOnly('signRequest', 'signRequestAsync')
 * ```
 */
export function asyncOnly(syncPath: string, asyncPath: string): ApisignError {
  return new ApisignError(
    'ERR_SIGNER_ASYNC_ONLY',
    `${syncPath} is synchronous and an external signer (HSM, KMS) answers asynchronously: use ${asyncPath}`,
  )
}
