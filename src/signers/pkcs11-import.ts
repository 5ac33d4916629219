// Putting a software key into a token: for sandbox and test set-ups only (`apisign keys import-p12`), since a
// production HSM key is generated inside the HSM and never exists outside it. The private key is created
// sensitive and not extractable, with its public key and certificate beside it under the same CKA_ID.
import { X509Certificate, type KeyObject, createPublicKey } from 'node:crypto'
import { ApisignError, describeType } from '../errors.js'
import { CK, type Attribute, ckrOf } from './pkcs11-binding.js'
import { TokenPool, type TokenPoolOptions } from './pkcs11-pool.js'
import { findObjects } from './pkcs11.js'

/** Options of {@link importPkcs11Key}. */
export interface ImportPkcs11KeyOptions extends TokenPoolOptions {
  /** `CKA_LABEL` of the three objects. */
  readonly label: string
  /** `CKA_ID`, hex (e.g. `"01"`). */
  readonly id: string
  /** The private key: RSA, or EC P-256. */
  readonly privateKey: KeyObject
  /** Stored beside the key under the same label and id. */
  readonly certificate?: X509Certificate
  /** What the key may do in the token. Default: `sign` for EC, `sign` and `decrypt` for RSA. */
  readonly usage?: ReadonlyArray<'sign' | 'decrypt'>
  /** Replace objects already under this label or id. Default false (`ERR_CONFIG_INVALID` if any exist). */
  readonly replace?: boolean
}

/** What {@link importPkcs11Key} created (never key material). */
export interface ImportedPkcs11Key {
  readonly token: string
  readonly label: string
  readonly id: string
  readonly keyType: 'rsa' | 'ec'
  readonly objects: ReadonlyArray<'private-key' | 'public-key' | 'certificate'>
}

const P256_OID = Buffer.from('06082a8648ce3d030107', 'hex')
const b64 = (value: string | undefined): Buffer => Buffer.from(value ?? '', 'base64url')

// DER: the length and offset of the element at `offset` (tag, length, contents).
function element(der: Buffer, offset: number): { start: number; end: number; next: number } {
  let length = der[offset + 1] as number
  let start = offset + 2
  if (length & 0x80) {
    const bytes = length & 0x7f
    length = 0
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[start + i] as number)
    start += bytes
  }
  return { start, end: start + length, next: start + length }
}

/**
 * The DER of a certificate's subject Name (X.509 §4.1: tbsCertificate = [0] version, serial, signature,
 * issuer, validity, subject), which PKCS#11 wants as `CKA_SUBJECT` and node:crypto only gives as text.
 */
export function certificateSubjectDer(certificate: X509Certificate): Buffer {
  const der = certificate.raw
  const tbs = element(der, element(der, 0).start)
  let at = tbs.start
  if (der[at] === 0xa0) at = element(der, at).next // version
  for (let i = 0; i < 4; i++) at = element(der, at).next // serial, signature, issuer, validity
  return Buffer.from(der.subarray(at, element(der, at).end))
}

/**
 * Import a private key (and its public key and certificate) into a token, sensitive and not extractable.
 * For sandbox and test set-ups; production keys are generated in the HSM.
 *
 * @example
 * ```ts
 * import { importPkcs11Key } from 'apisign/signers'
 * const { privateKey, certificate } = loadKeyStore({ p12: './sandbox.p12', alias: 'keyalias', password })
 * await importPkcs11Key({ module, token: 'sandbox', pinEnv: 'HSM_PIN', label: 'oauth-signing', id: '01', privateKey, certificate })
 * ```
 */
export async function importPkcs11Key(options: ImportPkcs11KeyOptions): Promise<ImportedPkcs11Key> {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object. Received ${describeType(options)}`)
  if (typeof options.label !== 'string' || options.label === '') throw new TypeError('label must be a non-empty string')
  if (typeof options.id !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(options.id)) throw new TypeError('id must be hex (e.g. "01")')
  const key = options.privateKey
  if (key === null || typeof key !== 'object' || key.type !== 'private') throw new TypeError(`privateKey must be a private KeyObject. Received ${describeType(key)}`)
  const jwk = key.export({ format: 'jwk' })
  const id = Buffer.from(options.id, 'hex')
  const common: Attribute[] = [
    { type: CK.CKA_TOKEN, value: true },
    { type: CK.CKA_LABEL, value: options.label },
    { type: CK.CKA_ID, value: id },
  ]
  let keyType: 'rsa' | 'ec'
  let privateTemplate: Attribute[]
  let publicTemplate: Attribute[]
  const usage = new Set(options.usage ?? (jwk.kty === 'EC' ? ['sign'] : ['sign', 'decrypt']))
  if (jwk.kty === 'RSA') {
    keyType = 'rsa'
    const n = b64(jwk.n)
    const e = b64(jwk.e)
    privateTemplate = [
      { type: CK.CKA_KEY_TYPE, value: CK.CKK_RSA },
      { type: CK.CKA_MODULUS, value: n },
      { type: CK.CKA_PUBLIC_EXPONENT, value: e },
      { type: CK.CKA_PRIVATE_EXPONENT, value: b64(jwk.d) },
      { type: CK.CKA_PRIME_1, value: b64(jwk.p) },
      { type: CK.CKA_PRIME_2, value: b64(jwk.q) },
      { type: CK.CKA_EXPONENT_1, value: b64(jwk.dp) },
      { type: CK.CKA_EXPONENT_2, value: b64(jwk.dq) },
      { type: CK.CKA_COEFFICIENT, value: b64(jwk.qi) },
      { type: CK.CKA_SIGN, value: usage.has('sign') },
      { type: CK.CKA_DECRYPT, value: usage.has('decrypt') },
    ]
    publicTemplate = [
      { type: CK.CKA_KEY_TYPE, value: CK.CKK_RSA },
      { type: CK.CKA_MODULUS, value: n },
      { type: CK.CKA_PUBLIC_EXPONENT, value: e },
      { type: CK.CKA_VERIFY, value: usage.has('sign') },
      { type: CK.CKA_ENCRYPT, value: usage.has('decrypt') },
    ]
  } else if (jwk.kty === 'EC' && jwk.crv === 'P-256') {
    keyType = 'ec'
    if (usage.has('decrypt')) throw new TypeError('an EC key only signs (usage: ["sign"])')
    const point = Buffer.concat([Buffer.from([0x04, 0x41, 0x04]), b64(jwk.x), b64(jwk.y)])
    privateTemplate = [
      { type: CK.CKA_KEY_TYPE, value: CK.CKK_EC },
      { type: CK.CKA_EC_PARAMS, value: P256_OID },
      { type: CK.CKA_VALUE, value: b64(jwk.d) },
      { type: CK.CKA_SIGN, value: true },
    ]
    publicTemplate = [
      { type: CK.CKA_KEY_TYPE, value: CK.CKK_EC },
      { type: CK.CKA_EC_PARAMS, value: P256_OID },
      { type: CK.CKA_EC_POINT, value: point },
      { type: CK.CKA_VERIFY, value: true },
    ]
  } else {
    throw new ApisignError('ERR_KEY_WRONG_TYPE', `only RSA and P-256 keys can be imported (got ${String(jwk.kty)}${jwk.crv === undefined ? '' : ` ${jwk.crv}`})`)
  }
  const certificate = options.certificate
  if (certificate !== undefined) {
    if (!(certificate instanceof X509Certificate)) throw new TypeError(`certificate must be an X509Certificate. Received ${describeType(certificate)}`)
    if (!certificate.publicKey.equals(createPublicKey(key))) throw new ApisignError('ERR_KEY_MISMATCH', 'the certificate does not belong to the private key')
  }
  const pool = new TokenPool({ ...options, maxSessions: 1 })
  try {
    return await pool.run(async ({ lib, session }) => {
      const existing = [
        ...findObjects(lib, session, [{ type: CK.CKA_LABEL, value: options.label }]),
        ...findObjects(lib, session, [{ type: CK.CKA_ID, value: id }]),
      ]
      if (existing.length > 0) {
        if (options.replace !== true) {
          throw new ApisignError('ERR_CONFIG_INVALID', `token ${JSON.stringify(pool.token)} already holds objects with label ${JSON.stringify(options.label)} or id ${options.id}; pass replace to overwrite them`)
        }
        const seen = new Set<string>()
        for (const h of existing) {
          if (seen.has(h.toString('hex'))) continue
          seen.add(h.toString('hex'))
          lib.C_DestroyObject(session, h)
        }
      }
      const created: Array<'private-key' | 'public-key' | 'certificate'> = []
      try {
        lib.C_CreateObject(session, [
          { type: CK.CKA_CLASS, value: CK.CKO_PRIVATE_KEY },
          ...common,
          { type: CK.CKA_PRIVATE, value: true },
          { type: CK.CKA_SENSITIVE, value: true },
          { type: CK.CKA_EXTRACTABLE, value: false },
          ...privateTemplate,
        ])
        created.push('private-key')
        lib.C_CreateObject(session, [{ type: CK.CKA_CLASS, value: CK.CKO_PUBLIC_KEY }, ...common, { type: CK.CKA_PRIVATE, value: false }, ...publicTemplate])
        created.push('public-key')
        if (certificate !== undefined) {
          lib.C_CreateObject(session, [
            { type: CK.CKA_CLASS, value: CK.CKO_CERTIFICATE },
            ...common,
            { type: CK.CKA_PRIVATE, value: false },
            { type: CK.CKA_CERTIFICATE_TYPE, value: CK.CKC_X_509 },
            { type: CK.CKA_SUBJECT, value: certificateSubjectDer(certificate) },
            { type: CK.CKA_VALUE, value: certificate.raw },
          ])
          created.push('certificate')
        }
      } catch (error) {
        if (error instanceof ApisignError) throw error
        throw new ApisignError('ERR_HSM_FAILED', `token ${JSON.stringify(pool.token)} refused to create the ${created.length === 0 ? 'private key' : created.length === 1 ? 'public key' : 'certificate'} object (${ckrOf(error) ?? 'native error'})`, { cause: error })
      }
      return { token: pool.token, label: options.label, id: options.id.toLowerCase(), keyType, objects: created }
    })
  } finally {
    await pool.close()
  }
}
