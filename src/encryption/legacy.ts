// The legacy Mastercard field-level scheme ("Mastercard encryption"): AES-128-CBC with a random session
// key wrapped with RSA-OAEP (SHA-256 or SHA-512, MGF1 with the same digest). No integrity protection: that
// is the scheme's design, which is why JWE is preferred (reference/encryption.md §3.3).
import {
  type KeyObject,
  constants,
  createCipheriv,
  createDecipheriv,
  privateDecrypt,
  publicEncrypt,
  randomBytes as cryptoRandomBytes,
} from 'node:crypto'
import { ApisignError } from '../errors.js'

/** OAEP digests the legacy scheme accepts (Java accepts the same two; the Node reference silently uses SHA-1 for others). */
export type LegacyDigest = 'SHA-256' | 'SHA-512'
/** How the legacy scheme encodes binary fields (the `dataEncoding` option of mastercard-client-encryption). */
export type DataEncoding = 'hex' | 'base64'

/** The parts of one legacy-encrypted value, each encoded with the configured data encoding. */
export interface LegacyParts {
  readonly encryptedValue: string
  readonly iv: string
  readonly encryptedKey: string
  /** As the payload names it: the digest without its dash (`SHA256`). */
  readonly oaepHashingAlgorithm: string
}

/**
 * Normalise `SHA-256`/`SHA256`/`sha256`/`SHA-512`/`SHA512` to the canonical name, else undefined.
 *
 * @example
 * ```ts
 * parseLegacyDigest('SHA256') // 'SHA-256'
 * ```
 */
export function parseLegacyDigest(value: unknown): LegacyDigest | undefined {
  if (typeof value !== 'string') return undefined
  const v = value.toUpperCase().replace('-', '')
  return v === 'SHA256' ? 'SHA-256' : v === 'SHA512' ? 'SHA-512' : undefined
}

const nodeDigest = (d: LegacyDigest) => (d === 'SHA-256' ? 'sha256' : 'sha512')

/**
 * Encrypt bytes with a fresh AES-128 session key and IV.
 *
 * @example
 * ```ts
 * const parts = legacyEncrypt(Buffer.from(JSON.stringify(card)), partnerPublicKey, 'SHA-256', 'hex')
 * ```
 */
export function legacyEncrypt(
  plaintext: Uint8Array,
  publicKey: KeyObject,
  digest: LegacyDigest,
  encoding: DataEncoding,
  random: (n: number) => Uint8Array = cryptoRandomBytes,
): LegacyParts {
  const key = Buffer.from(random(16))
  const iv = Buffer.from(random(16))
  const cipher = createCipheriv('aes-128-cbc', key, iv)
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()])
  let wrapped: Buffer
  try {
    wrapped = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: nodeDigest(digest) }, key)
  } catch (cause) {
    throw new ApisignError('ERR_ENCRYPTION_FAILED', 'the encryption key cannot wrap the session key (is it an RSA public key?)', { cause })
  }
  return {
    encryptedValue: ct.toString(encoding),
    iv: iv.toString(encoding),
    encryptedKey: wrapped.toString(encoding),
    oaepHashingAlgorithm: digest.replace('-', ''),
  }
}

const STRICT: Record<DataEncoding, RegExp> = {
  hex: /^(?:[0-9a-fA-F]{2})*$/,
  base64: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
}

function decode(value: unknown, encoding: DataEncoding, what: string): Buffer {
  if (typeof value !== 'string' || !STRICT[encoding].test(value)) {
    throw new ApisignError('ERR_LEGACY_DECRYPTION_FAILED', `encrypted ${what} is missing or not ${encoding}`)
  }
  return Buffer.from(value, encoding)
}

/**
 * The one failure of legacy decryption once the encoded parts are read: a failed key unwrap, a bad session
 * key or IV length, bad PKCS#7 padding and (in field decryption) plaintext that is not UTF-8 or not JSON
 * all give this same code and message. Distinct messages ("bad padding" vs "not valid UTF-8") are a
 * padding oracle: the scheme has no MAC, so an attacker who can tell them apart recovers plaintext in a
 * few thousand queries (Vaudenay 2002; issue 13 item 3).
 *
 * @example
 * ```ts
 * throw legacyDecryptionFailed()
 * ```
 */
export const legacyDecryptionFailed = (cause?: unknown): ApisignError =>
  new ApisignError('ERR_LEGACY_DECRYPTION_FAILED', 'legacy decryption failed', cause === undefined ? {} : { cause })

/**
 * Decrypt a legacy value. A wrong key, a tampered wrapped key or a wrong digest fails the OAEP unwrap; a
 * tampered ciphertext usually fails the PKCS#7 padding check (the scheme has no MAC, so a change to the
 * IV or an early block is only caught when the result is not valid UTF-8 JSON, by the caller). Every one
 * of those is the same {@link legacyDecryptionFailed}; a failed unwrap goes on with a random session key
 * (as RFC 7516 §11.5 asks of JWE), so it also costs the same work as a padding failure.
 *
 * @example
 * ```ts
 * const plaintext = legacyDecrypt({ encryptedValue, iv, encryptedKey }, privateKey, 'SHA-256', 'hex')
 * ```
 */
export function legacyDecrypt(
  parts: { encryptedValue: unknown; iv: unknown; encryptedKey: unknown },
  privateKey: KeyObject,
  digest: LegacyDigest,
  encoding: DataEncoding,
): Buffer {
  const ct = decode(parts.encryptedValue, encoding, 'value')
  const iv = decode(parts.iv, encoding, 'IV')
  const wrapped = decode(parts.encryptedKey, encoding, 'key')
  let key: Buffer
  let unwrapped = true
  try {
    key = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: nodeDigest(digest) }, wrapped)
  } catch {
    unwrapped = false
    key = cryptoRandomBytes(16)
  }
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    unwrapped = false
    key = cryptoRandomBytes(16)
  }
  let plaintext: Buffer | undefined
  try {
    const decipher = createDecipheriv(`aes-${key.length * 8}-cbc`, key, iv.length === 16 ? iv : Buffer.alloc(16))
    plaintext = Buffer.concat([decipher.update(ct), decipher.final()])
  } catch {
    plaintext = undefined
  }
  if (plaintext === undefined || !unwrapped || iv.length !== 16) throw legacyDecryptionFailed()
  return plaintext
}
