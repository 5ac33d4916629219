// The Signer and Decrypter over a node:crypto KeyObject: the same seam as an HSM key, for tests, for parity
// checks (an HSM signature must equal this one for RS256, which is deterministic) and for code that wants
// one type for both kinds of key.
import { type KeyObject, X509Certificate, constants, createPublicKey, privateDecrypt, sign as cryptoSign } from 'node:crypto'
import { ApisignError, describeType } from '../errors.js'
import type { Decrypter, OaepHash, Signer, SignerAlgorithm } from './types.js'

/** Options of {@link createKeySigner}. */
export interface KeySignerOptions {
  /** Default: `RS256` for an RSA key, `ES256` for a P-256 key. */
  readonly algorithm?: SignerAlgorithm
  /** The key's certificate, carried as `certificate`. */
  readonly certificate?: X509Certificate
}

function checkPrivate(key: unknown, what: string): KeyObject {
  if (key === null || typeof key !== 'object' || typeof (key as KeyObject).asymmetricKeyType !== 'string') {
    throw new TypeError(`${what} needs a private KeyObject. Received ${describeType(key)}`)
  }
  const k = key as KeyObject
  if (k.type !== 'private') throw new ApisignError('ERR_KEY_WRONG_TYPE', `${what} needs a private key (got a ${k.type} key)`)
  return k
}

/**
 * The algorithm a key signs with by default, and whether `algorithm` fits it.
 *
 * @example
 * ```ts
 * algorithmFor(ecKey, undefined) // 'ES256'
 * ```
 */
export function algorithmFor(key: KeyObject, algorithm: SignerAlgorithm | undefined): SignerAlgorithm {
  const type = key.asymmetricKeyType
  const curve = key.asymmetricKeyDetails?.namedCurve
  const isRsa = type === 'rsa' || type === 'rsa-pss'
  const isP256 = type === 'ec' && (curve === 'prime256v1' || curve === 'P-256')
  if (algorithm !== undefined && algorithm !== 'RS256' && algorithm !== 'PS256' && algorithm !== 'ES256') {
    throw new TypeError(`algorithm must be RS256, PS256 or ES256. Received ${JSON.stringify(String(algorithm)).slice(0, 24)}`)
  }
  const chosen = algorithm ?? (isRsa ? 'RS256' : isP256 ? 'ES256' : undefined)
  if (chosen === undefined || (chosen === 'ES256' ? !isP256 : !isRsa)) {
    throw new ApisignError(
      'ERR_KEY_WRONG_TYPE',
      `a ${String(type)}${curve === undefined ? '' : ` ${curve}`} key cannot sign ${chosen ?? 'RS256, PS256 or ES256'}`,
    )
  }
  return chosen
}

/**
 * A {@link Signer} over a private `KeyObject`: RSA (RS256, PS256 with a 32-byte salt) or P-256 (ES256, raw
 * `r || s`), signing in the libuv threadpool.
 *
 * @example
 * ```ts
 * import { createKeySigner } from 'apisign/signers'
 * const signer = createKeySigner(loadSigningKey('./signing-key.pem'), { algorithm: 'PS256' })
 * const signature = await signer.sign(Buffer.from('data'))
 * ```
 */
export function createKeySigner(key: KeyObject, options: KeySignerOptions = {}): Signer {
  const privateKey = checkPrivate(key, 'createKeySigner')
  const algorithm = algorithmFor(privateKey, options.algorithm)
  if (options.certificate !== undefined && !(options.certificate instanceof X509Certificate)) {
    throw new TypeError(`certificate must be an X509Certificate. Received ${describeType(options.certificate)}`)
  }
  const signOptions =
    algorithm === 'PS256'
      ? { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
      : algorithm === 'ES256'
        ? { key: privateKey, dsaEncoding: 'ieee-p1363' as const }
        : { key: privateKey, padding: constants.RSA_PKCS1_PADDING }
  return Object.freeze({
    kind: 'signer' as const,
    algorithm,
    publicKey: createPublicKey(privateKey),
    ...(options.certificate === undefined ? {} : { certificate: options.certificate }),
    sign(data: Uint8Array): Promise<Uint8Array> {
      if (!(data instanceof Uint8Array)) return Promise.reject(new TypeError(`data must be bytes. Received ${describeType(data)}`))
      return new Promise((resolve, reject) => {
        cryptoSign('sha256', data, signOptions, (error, signature) => {
          if (error) reject(new ApisignError('ERR_SIGN_FAILED', 'the signature could not be computed with the given key', { cause: error }))
          else resolve(signature)
        })
      })
    },
  })
}

/**
 * A {@link Decrypter} over a private RSA `KeyObject` (RSA-OAEP with SHA-1, SHA-256 or SHA-512).
 *
 * @example
 * ```ts
 * const decrypter = createKeyDecrypter(loadPrivateKey('./decryption-key.pem'))
 * const cek = await decrypter.decrypt('sha256', encryptedKey)
 * ```
 */
export function createKeyDecrypter(key: KeyObject, options: { readonly certificate?: X509Certificate } = {}): Decrypter {
  const privateKey = checkPrivate(key, 'createKeyDecrypter')
  if (privateKey.asymmetricKeyType !== 'rsa') throw new ApisignError('ERR_KEY_WRONG_TYPE', 'RSA-OAEP needs an RSA key')
  return Object.freeze({
    kind: 'decrypter' as const,
    publicKey: createPublicKey(privateKey),
    ...(options.certificate === undefined ? {} : { certificate: options.certificate }),
    async decrypt(oaepHash: OaepHash, data: Uint8Array): Promise<Uint8Array> {
      if (oaepHash !== 'sha1' && oaepHash !== 'sha256' && oaepHash !== 'sha512') throw new TypeError('oaepHash must be sha1, sha256 or sha512')
      if (!(data instanceof Uint8Array)) throw new TypeError(`data must be bytes. Received ${describeType(data)}`)
      return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data)
    },
  })
}
