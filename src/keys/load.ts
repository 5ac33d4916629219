import { KeyObject, X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { ApisignError, describeType } from '../errors.js'
import { type KeyStoreEntry, looksLikePkcs12, openPkcs12 } from './pkcs12.js'
import {
  type FilePermissionPolicy,
  type RawSource,
  checkPrivateFilePermissions,
  pemLabel,
  toRawSource,
} from './source.js'

/**
 * Where a private key comes from: PEM text (a string containing `-----BEGIN`), a file path (any other
 * string), bytes (PEM, DER PKCS#1/PKCS#8 or PKCS#12, told apart by content), a `KeyObject`, a PKCS#12
 * keystore `{ p12, alias, password }` (path or bytes), or `{ path, password?, alias? }`.
 */
export type KeySource =
  | string
  | Uint8Array
  | KeyObject
  | { readonly p12: string | Uint8Array; readonly alias?: string; readonly password: string }
  | { readonly path: string; readonly password?: string; readonly alias?: string }

/** Options of {@link loadSigningKey} and {@link loadPrivateKey}. */
export interface LoadKeyOptions {
  /** Password of an encrypted PEM/PKCS#8 key or of a PKCS#12 keystore. */
  readonly password?: string
  /** PKCS#12 alias (friendlyName); optional when the keystore holds one key. */
  readonly alias?: string
  /** Smallest RSA modulus accepted, in bits. Default 2048 (NIST SP 800-131A; jose's `minRsaBits`). */
  readonly minRsaBits?: number
  /** A key file readable by group or others: `refuse` (default), `warn` or `ignore`. */
  readonly filePermissions?: FilePermissionPolicy
  /** Receives permission warnings. Default: `process.emitWarning`. */
  readonly onWarning?: (message: string) => void
  /**
   * Key types accepted. Default `['rsa']` (OAuth 1.0a and RSA-OAEP need RSA); OAuth 2.0 client
   * assertions and DPoP proofs also take `'ec-p256'` (ES256, FAPI 2.0 §5.4).
   */
  readonly keyTypes?: ReadonlyArray<'rsa' | 'ec-p256'>
}

const defaultWarning = (message: string): void => process.emitWarning(message, { code: 'APISIGN_KEY_PERMISSIONS' })

function describeSource(raw: RawSource): string {
  return raw.path === undefined ? 'key content' : `key file ${raw.path}`
}

function parsePrivate(raw: RawSource, options: LoadKeyOptions): KeyObject {
  const what = describeSource(raw)
  const label = pemLabel(raw.bytes)
  if (label !== undefined) {
    if (label === 'CERTIFICATE' || label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY') {
      throw new ApisignError('ERR_KEY_WRONG_TYPE', `${what} holds a ${label.toLowerCase()}, not a private key`)
    }
    try {
      return createPrivateKey(
        options.password === undefined ? raw.bytes : { key: raw.bytes, passphrase: options.password },
      )
    } catch (cause) {
      const code = (cause as { code?: string }).code
      if (code === 'ERR_MISSING_PASSPHRASE' || label === 'ENCRYPTED PRIVATE KEY' || /decrypt/i.test(String(cause))) {
        throw new ApisignError(
          'ERR_KEY_PASSWORD',
          `${what} is encrypted and ${options.password === undefined ? 'no password was given' : 'the password is wrong'}`,
          { cause },
        )
      }
      throw new ApisignError('ERR_KEY_INVALID', `${what} is not a readable PEM private key (truncated or corrupt)`, {
        cause,
      })
    }
  }
  // Binary: PKCS#12, or DER PKCS#8 / PKCS#1, or something that is not a private key at all.
  if (looksLikePkcs12(raw.bytes)) {
    if (options.password === undefined) {
      throw new ApisignError('ERR_KEY_PASSWORD', `${what} is a PKCS#12 keystore; give its password`)
    }
    return openPkcs12(raw.bytes, options.password, options.alias, what).privateKey
  }
  let encrypted = false
  for (const type of ['pkcs8', 'pkcs1'] as const) {
    try {
      return createPrivateKey({ key: raw.bytes, format: 'der', type })
    } catch (cause) {
      // An encrypted PKCS#8 DER key (EncryptedPrivateKeyInfo) is recognised by node, which asks for the
      // passphrase: report it as the PEM path does, not as a corrupt file.
      if ((cause as { code?: string }).code === 'ERR_MISSING_PASSPHRASE') encrypted = true
    }
  }
  if (encrypted) {
    if (options.password === undefined) throw new ApisignError('ERR_KEY_PASSWORD', `${what} is encrypted and no password was given`)
    try {
      return createPrivateKey({ key: raw.bytes, format: 'der', type: 'pkcs8', passphrase: options.password })
    } catch (cause) {
      throw new ApisignError('ERR_KEY_PASSWORD', `${what} is encrypted and the password is wrong`, { cause })
    }
  }
  if (isPublicMaterial(raw.bytes)) {
    throw new ApisignError('ERR_KEY_WRONG_TYPE', `${what} holds a certificate or public key, not a private key`)
  }
  throw new ApisignError('ERR_KEY_INVALID', `${what} is not a PEM, DER or PKCS#12 private key (truncated or corrupt)`)
}

function isPublicMaterial(der: Buffer): boolean {
  try {
    new X509Certificate(der)
    return true
  } catch {
    try {
      createPublicKey({ key: der, format: 'der', type: 'spki' })
      return true
    } catch {
      return false
    }
  }
}

function checkRsa(key: KeyObject, minBits: number, what: string, types: ReadonlyArray<'rsa' | 'ec-p256'> = ['rsa']): KeyObject {
  if (key.type !== 'private') {
    throw new ApisignError('ERR_KEY_WRONG_TYPE', `${what} is a ${key.type} key; a private key is needed`)
  }
  if (types.includes('ec-p256') && key.asymmetricKeyType === 'ec') {
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new ApisignError('ERR_KEY_WRONG_TYPE', `${what} is an EC key on ${String(key.asymmetricKeyDetails?.namedCurve)}; ES256 needs P-256`)
    }
    return key
  }
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') {
    if (types.includes('ec-p256')) throw new ApisignError('ERR_KEY_WRONG_TYPE', `${what} is a ${String(key.asymmetricKeyType)} key; an RSA or EC P-256 key is needed`)
    throw new ApisignError('ERR_KEY_WRONG_TYPE', `${what} is a ${String(key.asymmetricKeyType)} key; an RSA key is needed`)
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (bits < minBits) {
    throw new ApisignError('ERR_KEY_TOO_SMALL', `${what} is RSA-${bits}; at least ${minBits} bits are required`)
  }
  return key
}

function normalizeSource(
  source: KeySource,
  options: LoadKeyOptions,
): { raw: RawSource | undefined; key: KeyObject | undefined; options: LoadKeyOptions } {
  if (source instanceof KeyObject) return { raw: undefined, key: source, options }
  if (typeof source === 'string' || source instanceof Uint8Array) {
    return { raw: toRawSource(source, 'key'), key: undefined, options }
  }
  if (source !== null && typeof source === 'object') {
    if ('p12' in source) {
      const raw = toRawSource(source.p12, 'PKCS#12 keystore')
      return {
        raw,
        key: undefined,
        options: { ...options, password: source.password, ...(source.alias === undefined ? {} : { alias: source.alias }) },
      }
    }
    if ('path' in source && typeof source.path === 'string') {
      return {
        raw: toRawSource(source.path.includes('-----BEGIN') ? Buffer.from(source.path) : source.path, 'key'),
        key: undefined,
        options: {
          ...options,
          ...(source.password === undefined ? {} : { password: source.password }),
          ...(source.alias === undefined ? {} : { alias: source.alias }),
        },
      }
    }
  }
  throw new TypeError(
    `key must be PEM text, a file path, bytes, a KeyObject or { p12, alias, password }. Received ${describeType(source)}`,
  )
}

/**
 * Load a private key once and return a `KeyObject` to reuse for every signature (re-parsing a PEM per
 * call is ~3x slower: reference/oauth1.md §7). Accepts PEM (PKCS#1, PKCS#8, encrypted PKCS#8), DER,
 * PKCS#12 (alias + password; OpenSSL 3 and legacy 3DES keystores) as a path, text or bytes, or a
 * `KeyObject`. The key must be RSA of at least `minRsaBits` (2048) bits; a key file readable by group or
 * others is refused unless `filePermissions` says otherwise.
 *
 * @example
 * ```ts
 * import { loadSigningKey } from 'apisign/keys'
 * const key = loadSigningKey({ p12: './sandbox.p12', alias: 'keyalias', password: process.env.P12_PASSWORD! })
 * const pemKey = loadSigningKey('./signing-key.pem')
 * ```
 */
export function loadSigningKey(source: KeySource, options: LoadKeyOptions = {}): KeyObject {
  const resolved = normalizeSource(source, options)
  const opts = resolved.options
  if (resolved.key !== undefined) return checkRsa(resolved.key, opts.minRsaBits ?? 2048, 'key', opts.keyTypes)
  const raw = resolved.raw as RawSource
  if (raw.path !== undefined) {
    checkPrivateFilePermissions(raw.path, opts.filePermissions ?? 'refuse', opts.onWarning ?? defaultWarning)
  }
  return checkRsa(parsePrivate(raw, opts), opts.minRsaBits ?? 2048, describeSource(raw), opts.keyTypes)
}

/**
 * Load a private key for decryption (RSA-OAEP): the same sources, checks and caching advice as
 * {@link loadSigningKey}.
 *
 * @example
 * ```ts
 * const decryptionKey = loadPrivateKey('./decryption-key.pem')
 * ```
 */
export function loadPrivateKey(source: KeySource, options: LoadKeyOptions = {}): KeyObject {
  return loadSigningKey(source, options)
}

/**
 * Open a PKCS#12 keystore and return its private key and certificate (the certificate is what the
 * partner portal holds; `keyMatchesCertificate` checks the pair).
 *
 * @example
 * ```ts
 * const { privateKey, certificate } = loadKeyStore({ p12: './sandbox.p12', alias: 'keyalias', password })
 * ```
 */
export function loadKeyStore(
  source: { readonly p12: string | Uint8Array; readonly alias?: string; readonly password: string },
  options: Omit<LoadKeyOptions, 'password' | 'alias'> = {},
): KeyStoreEntry {
  if (source === null || typeof source !== 'object' || !('p12' in source)) {
    throw new TypeError(`source must be { p12, alias?, password }. Received ${describeType(source)}`)
  }
  if (typeof source.password !== 'string') throw new TypeError('password must be a string')
  const raw = toRawSource(source.p12, 'PKCS#12 keystore')
  if (raw.path !== undefined) {
    checkPrivateFilePermissions(raw.path, options.filePermissions ?? 'refuse', options.onWarning ?? defaultWarning)
  }
  const entry = openPkcs12(raw.bytes, source.password, source.alias, raw.path ?? 'PKCS#12 content')
  checkRsa(entry.privateKey, options.minRsaBits ?? 2048, raw.path ?? 'PKCS#12 key')
  return entry
}

/**
 * Load an X.509 certificate from PEM or DER (text, path or bytes), or from a PKCS#12 keystore
 * (`{ p12, password, alias? }`). Invalid input is `ERR_CERT_INVALID`.
 *
 * @example
 * ```ts
 * const cert = loadCertificate('./partner-encryption.crt')
 * cert.validTo
 * ```
 */
export function loadCertificate(
  source: string | Uint8Array | X509Certificate | { readonly p12: string | Uint8Array; readonly alias?: string; readonly password: string },
): X509Certificate {
  if (source instanceof X509Certificate) return source
  if (source !== null && typeof source === 'object' && 'p12' in source) {
    const raw = toRawSource(source.p12, 'PKCS#12 keystore')
    const entry = openPkcs12(raw.bytes, source.password, source.alias, raw.path ?? 'PKCS#12 content')
    if (entry.certificate === undefined) {
      throw new ApisignError('ERR_CERT_INVALID', `${raw.path ?? 'PKCS#12 content'} holds no certificate for that key`)
    }
    return entry.certificate
  }
  const raw = toRawSource(source, 'certificate')
  const label = pemLabel(raw.bytes)
  if (label !== undefined && label !== 'CERTIFICATE') {
    throw new ApisignError(
      'ERR_CERT_INVALID',
      `${raw.path === undefined ? 'certificate content' : `certificate file ${raw.path}`} holds a ${label.toLowerCase()}, not a certificate`,
    )
  }
  try {
    return new X509Certificate(raw.bytes)
  } catch (cause) {
    throw new ApisignError(
      'ERR_CERT_INVALID',
      `${raw.path === undefined ? 'certificate content' : `certificate file ${raw.path}`} is not a readable X.509 certificate`,
      { cause },
    )
  }
}

/**
 * Load a public key from SPKI or PKCS#1 PEM/DER, a certificate (PEM/DER or `X509Certificate`), or derive it
 * from a private `KeyObject`.
 *
 * @example
 * ```ts
 * const publicKey = loadPublicKey('./partner-public-key.pem')
 * ```
 */
export function loadPublicKey(source: string | Uint8Array | KeyObject | X509Certificate): KeyObject {
  if (source instanceof X509Certificate) return source.publicKey
  if (source instanceof KeyObject) {
    if (source.type === 'secret') throw new ApisignError('ERR_KEY_WRONG_TYPE', 'a secret key has no public key')
    return source.type === 'public' ? source : createPublicKey(source)
  }
  const raw = toRawSource(source, 'public key')
  const what = raw.path === undefined ? 'public key content' : `public key file ${raw.path}`
  const label = pemLabel(raw.bytes)
  if (label === 'CERTIFICATE') return loadCertificate(raw.bytes).publicKey
  const attempts =
    label !== undefined
      ? [() => createPublicKey(raw.bytes)]
      : [
          () => createPublicKey({ key: raw.bytes, format: 'der', type: 'spki' }),
          () => createPublicKey({ key: raw.bytes, format: 'der', type: 'pkcs1' }),
          () => new X509Certificate(raw.bytes).publicKey,
        ]
  for (const attempt of attempts) {
    try {
      return attempt()
    } catch {
      // next form
    }
  }
  throw new ApisignError('ERR_KEY_INVALID', `${what} is not a readable public key or certificate`)
}
