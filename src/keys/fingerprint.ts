import { KeyObject, X509Certificate, createHash, createPublicKey } from 'node:crypto'
import { ApisignError, describeType } from '../errors.js'

/** Options of {@link fingerprint}. */
export interface FingerprintOptions {
  /**
   * `publicKey` (default): SHA-256 of the SubjectPublicKeyInfo DER, what `mastercard-client-encryption`
   * sends as `kid` by default. `certificate`: SHA-256 of the certificate DER.
   */
  readonly kind?: 'publicKey' | 'certificate'
  /** Default `hex` (lower-case). */
  readonly encoding?: 'hex' | 'base64'
}

function spkiOf(key: KeyObject | X509Certificate): Buffer {
  const publicKey = key instanceof X509Certificate ? key.publicKey : key.type === 'private' ? createPublicKey(key) : key
  if (publicKey.type !== 'public') throw new ApisignError('ERR_KEY_WRONG_TYPE', 'a secret key has no fingerprint')
  return publicKey.export({ type: 'spki', format: 'der' })
}

/**
 * Key or certificate fingerprint, usable as a JWE `kid` and to tell keys apart in logs (never the key
 * itself). A private key's fingerprint is its public key's.
 *
 * @example
 * ```ts
 * fingerprint(loadCertificate('./encryption.crt'))                          // SHA-256 of the SPKI, hex
 * fingerprint(cert, { kind: 'certificate', encoding: 'base64' })            // SHA-256 of the cert DER
 * ```
 */
export function fingerprint(key: KeyObject | X509Certificate, options: FingerprintOptions = {}): string {
  if (!(key instanceof KeyObject) && !(key instanceof X509Certificate)) {
    throw new TypeError(`key must be a KeyObject or X509Certificate. Received ${describeType(key)}`)
  }
  const encoding = options.encoding ?? 'hex'
  if ((options.kind ?? 'publicKey') === 'certificate') {
    if (!(key instanceof X509Certificate)) {
      throw new TypeError('a certificate fingerprint needs an X509Certificate')
    }
    return createHash('sha256').update(key.raw).digest(encoding)
  }
  return createHash('sha256').update(spkiOf(key)).digest(encoding)
}

/**
 * Does `privateKey` belong to `certificate` (or public key)? The commonest integration failure is a key
 * that does not match the certificate uploaded to the partner portal.
 *
 * @example
 * ```ts
 * if (!keyMatchesCertificate(key, cert)) throw new Error('wrong key for this certificate')
 * ```
 */
export function keyMatchesCertificate(privateKey: KeyObject, certificate: X509Certificate | KeyObject): boolean {
  return spkiOf(privateKey).equals(spkiOf(certificate))
}

/** A key's non-secret description. */
export interface KeyDescription {
  readonly type: 'private' | 'public' | 'secret'
  readonly algorithm: string | undefined
  readonly bits: number | undefined
}

/**
 * Describe a key without revealing it: type, algorithm and size.
 *
 * @example
 * ```ts
 * describeKey(key) // { type: 'private', algorithm: 'rsa', bits: 2048 }
 * ```
 */
export function describeKey(key: KeyObject): KeyDescription {
  if (!(key instanceof KeyObject)) throw new TypeError(`key must be a KeyObject. Received ${describeType(key)}`)
  return {
    type: key.type,
    algorithm: key.asymmetricKeyType,
    bits: key.asymmetricKeyDetails?.modulusLength ?? (key.type === 'secret' ? (key.symmetricKeySize ?? 0) * 8 : undefined),
  }
}
