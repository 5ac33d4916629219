// Signer and Decrypter over a key in a PKCS#11 token (an HSM, a cloud HSM's PKCS#11 library, SoftHSM2 in
// the tests). The key never leaves the token: apisign holds object handles and sessions only.
import { X509Certificate, type KeyObject, createHash, createPublicKey } from 'node:crypto'
import { ApisignError, describeType } from '../errors.js'
import { CK, type Attribute, type Handle, type Mechanism, type Pkcs11Lib, ckrOf, loadBinding } from './pkcs11-binding.js'
import { type SessionContext, TokenPool, type TokenPoolOptions, isGone } from './pkcs11-pool.js'
import { removeOaepPadding } from './oaep.js'
import type { Decrypter, OaepHash, Signer, SignerAlgorithm } from './types.js'

/**
 * Which key of which token: the module, the token label, the key's `CKA_LABEL` and/or `CKA_ID` (hex), and
 * where the user PIN is (`pinEnv` or `pinFile`, never the PIN itself).
 */
export interface Pkcs11KeyOptions extends TokenPoolOptions {
  /** The key's `CKA_LABEL`. */
  readonly label?: string
  /** The key's `CKA_ID`, hex (e.g. `"01"`); with `label`, both must match. */
  readonly id?: string
}

/** Options of {@link openPkcs11Signer}. */
export interface Pkcs11SignerOptions extends Pkcs11KeyOptions {
  /** Default `RS256` for an RSA key, `ES256` for a P-256 key. */
  readonly algorithm?: SignerAlgorithm
}

/** Options of {@link openPkcs11Decrypter}. */
export interface Pkcs11DecrypterOptions extends Pkcs11KeyOptions {
  /**
   * OAEP digests the token lacks, for which apisign asks the token for raw RSA (`CKM_RSA_X_509`) and
   * removes the OAEP padding itself, in constant time. Default none: every digest goes to
   * `CKM_RSA_PKCS_OAEP`. Debian's SoftHSM 2.6 does OAEP with SHA-1 only, so JWE's `RSA-OAEP-256` needs
   * `['sha256']` there. Trade-off: the key stays in the token, but the token must allow raw RSA with it
   * (which also lets any holder of a session compute raw signatures with it: keep decryption keys apart
   * from signing keys), and the unwrapped block, content key included, is unmasked in this process
   * rather than inside the token.
   */
  readonly rawOaepHashes?: readonly OaepHash[]
}

/** What was found in the token (never secret). */
export interface Pkcs11KeyInfo {
  readonly token: string
  readonly label: string | undefined
  /** `CKA_ID`, hex. */
  readonly id: string | undefined
  readonly keyType: 'rsa' | 'ec'
  /** RSA modulus bits, or 256 for P-256. */
  readonly bits: number
}

/** A {@link Signer} over a token key, with its pool of sessions. */
export interface Pkcs11Signer extends Signer {
  readonly key: Pkcs11KeyInfo
  /** Close the sessions (the module stays initialised for other keys). */
  close(): Promise<void>
}

/** A {@link Decrypter} over a token key, with its pool of sessions. */
export interface Pkcs11Decrypter extends Decrypter {
  readonly key: Pkcs11KeyInfo
  /** Close the sessions (the module stays initialised for other keys). */
  close(): Promise<void>
}

const P256_OID = Buffer.from('06082a8648ce3d030107', 'hex')
const OAEP_HASHES: readonly OaepHash[] = ['sha1', 'sha256', 'sha512'] // the keys of OAEP below

// CK_ULONG and CK_BBOOL as the binding returns them: host-order bytes.
const ulong = (b: Buffer | undefined): number => (b === undefined || b.length === 0 ? -1 : b.length >= 4 ? b.readUInt32LE(0) : (b[0] as number))
const bool = (b: Buffer | undefined): boolean => b !== undefined && b.length > 0 && b[0] !== 0
const stripZeros = (b: Buffer): Buffer => {
  let i = 0
  while (i < b.length - 1 && b[i] === 0) i++
  return b.subarray(i)
}

function attributes(lib: Pkcs11Lib, session: Handle, object: Handle, types: number[]): Map<number, Buffer | undefined> {
  const out = new Map<number, Buffer | undefined>()
  // One attribute per call: a token answers CKR_ATTRIBUTE_TYPE_INVALID for the whole template when one
  // of them does not apply to the object.
  for (const type of types) {
    try {
      out.set(type, lib.C_GetAttributeValue(session, object, [{ type }])[0]?.value)
    } catch (error) {
      if (isGone(error)) throw error
      out.set(type, undefined)
    }
  }
  return out
}

/** Find objects matching a template (all of them, in pages). */
export function findObjects(lib: Pkcs11Lib, session: Handle, template: Attribute[]): Handle[] {
  lib.C_FindObjectsInit(session, template)
  try {
    const found: Handle[] = []
    for (;;) {
      const page = lib.C_FindObjects(session, 64)
      found.push(...page)
      if (page.length < 64) return found
    }
  } finally {
    lib.C_FindObjectsFinal(session)
  }
}

function selector(options: Pkcs11KeyOptions): Attribute[] {
  const template: Attribute[] = []
  if (options.label !== undefined) template.push({ type: CK.CKA_LABEL, value: options.label })
  if (options.id !== undefined) template.push({ type: CK.CKA_ID, value: Buffer.from(options.id, 'hex') })
  return template
}

function checkKeyOptions(options: Pkcs11KeyOptions, what: string): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`${what} options must be an object. Received ${describeType(options)}`)
  if (options.label === undefined && options.id === undefined) throw new TypeError(`${what}: give the key's label or id`)
  if (options.label !== undefined && (typeof options.label !== 'string' || options.label === '')) throw new TypeError(`${what}: label must be a non-empty string`)
  if (options.id !== undefined && (typeof options.id !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(options.id))) throw new TypeError(`${what}: id must be hex (e.g. "01")`)
}

const describeSelector = (options: Pkcs11KeyOptions) =>
  [options.label === undefined ? undefined : `label ${JSON.stringify(options.label)}`, options.id === undefined ? undefined : `id ${options.id}`].filter(Boolean).join(' and ')

interface FoundKey {
  readonly handle: Handle
  readonly info: Pkcs11KeyInfo
  readonly identity: string | undefined
  readonly publicKey: KeyObject | undefined
  readonly certificate: X509Certificate | undefined
  readonly canSign: boolean
  readonly canDecrypt: boolean
}

function ecPoint(value: Buffer | undefined): Buffer | undefined {
  if (value === undefined) return undefined
  // CKA_EC_POINT is DER OCTET STRING { 04 || X || Y } (PKCS#11 v2.40 §2.3.3); some tokens give it bare.
  if (value.length === 67 && value[0] === 0x04 && value[1] === 0x41 && value[2] === 0x04) return value.subarray(2)
  if (value.length === 65 && value[0] === 0x04) return value
  return undefined
}

function findKey(lib: Pkcs11Lib, session: Handle, options: Pkcs11KeyOptions, token: string): FoundKey {
  const handles = findObjects(lib, session, [{ type: CK.CKA_CLASS, value: CK.CKO_PRIVATE_KEY }, ...selector(options)])
  if (handles.length !== 1) {
    throw new ApisignError(
      'ERR_HSM_KEY_NOT_FOUND',
      handles.length === 0
        ? `token ${JSON.stringify(token)} holds no private key with ${describeSelector(options)}`
        : `token ${JSON.stringify(token)} holds ${handles.length} private keys with ${describeSelector(options)}; give the id too`,
      { details: { token, ...(options.label === undefined ? {} : { label: options.label }), ...(options.id === undefined ? {} : { id: options.id }) } },
    )
  }
  const handle = handles[0] as Handle
  const a = attributes(lib, session, handle, [CK.CKA_KEY_TYPE, CK.CKA_LABEL, CK.CKA_ID, CK.CKA_SIGN, CK.CKA_DECRYPT, CK.CKA_MODULUS, CK.CKA_PUBLIC_EXPONENT, CK.CKA_EC_PARAMS])
  const keyType = ulong(a.get(CK.CKA_KEY_TYPE))
  const id = a.get(CK.CKA_ID)
  const label = a.get(CK.CKA_LABEL)
  const idHex = id === undefined || id.length === 0 ? undefined : id.toString('hex')
  // The certificate and public key objects carry the key's CKA_ID (PKCS#11 v2.40 §4.4: "the key identifier
  // ... to distinguish multiple keys"), else its label.
  const companion = idHex === undefined ? (label === undefined ? [] : [{ type: CK.CKA_LABEL, value: label.toString('utf8') }]) : [{ type: CK.CKA_ID, value: id as Buffer }]
  let certificate: X509Certificate | undefined
  for (const c of companion.length === 0 ? [] : findObjects(lib, session, [{ type: CK.CKA_CLASS, value: CK.CKO_CERTIFICATE }, ...companion])) {
    const der = attributes(lib, session, c, [CK.CKA_VALUE]).get(CK.CKA_VALUE)
    try {
      if (der !== undefined) certificate = new X509Certificate(der)
      break
    } catch {
      // an unreadable certificate object does not keep the key from being used
    }
  }
  let publicKey: KeyObject | undefined
  let identity: string | undefined
  let info: Pkcs11KeyInfo
  const base = { token, label: label === undefined ? undefined : label.toString('utf8'), id: idHex }
  if (keyType === CK.CKK_RSA) {
    const n = a.get(CK.CKA_MODULUS)
    const e = a.get(CK.CKA_PUBLIC_EXPONENT)
    if (n === undefined || e === undefined) throw new ApisignError('ERR_HSM_FAILED', `the RSA key on token ${JSON.stringify(token)} does not show its modulus`)
    publicKey = createPublicKey({ key: { kty: 'RSA', n: stripZeros(n).toString('base64url'), e: stripZeros(e).toString('base64url') }, format: 'jwk' })
    identity = stripZeros(n).toString('hex')
    info = { ...base, keyType: 'rsa', bits: publicKey.asymmetricKeyDetails?.modulusLength ?? stripZeros(n).length * 8 }
  } else if (keyType === CK.CKK_EC) {
    if (!P256_OID.equals(a.get(CK.CKA_EC_PARAMS) ?? Buffer.alloc(0))) {
      throw new ApisignError('ERR_KEY_WRONG_TYPE', `the EC key on token ${JSON.stringify(token)} is not on P-256 (ES256 is the one EC algorithm apisign signs with)`)
    }
    const pub = companion.length === 0 ? [] : findObjects(lib, session, [{ type: CK.CKA_CLASS, value: CK.CKO_PUBLIC_KEY }, ...companion])
    const point = pub[0] === undefined ? undefined : ecPoint(attributes(lib, session, pub[0], [CK.CKA_EC_POINT]).get(CK.CKA_EC_POINT))
    if (point !== undefined) {
      publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' })
      identity = point.toString('hex')
    } else if (certificate !== undefined) {
      publicKey = certificate.publicKey
    }
    info = { ...base, keyType: 'ec', bits: 256 }
  } else {
    throw new ApisignError('ERR_KEY_WRONG_TYPE', `the key on token ${JSON.stringify(token)} is neither RSA nor EC (CKA_KEY_TYPE ${keyType})`)
  }
  if (certificate !== undefined && publicKey !== undefined && !certificate.publicKey.equals(publicKey)) certificate = undefined
  return { handle, info, identity, publicKey, certificate, canSign: bool(a.get(CK.CKA_SIGN)), canDecrypt: bool(a.get(CK.CKA_DECRYPT)) }
}

/** The key's handle on this connection: found once per connection, and checked to be the same key. */
function keyHandle(context: SessionContext, options: Pkcs11KeyOptions, token: string, identity: string | undefined): Handle {
  const cached = context.cache.get('key') as Handle | undefined
  if (cached !== undefined) return cached
  const found = findKey(context.lib, context.session, options, token)
  if (identity !== undefined && found.identity !== identity) {
    throw new ApisignError('ERR_HSM_KEY_NOT_FOUND', `the key with ${describeSelector(options)} on token ${JSON.stringify(token)} is not the key that was opened (it was replaced); open it again`)
  }
  context.cache.set('key', found.handle)
  return found.handle
}

const MECHANISM_ERRORS = new Set(['CKR_MECHANISM_INVALID', 'CKR_MECHANISM_PARAM_INVALID', 'CKR_ARGUMENTS_BAD', 'CKR_KEY_TYPE_INCONSISTENT', 'CKR_KEY_FUNCTION_NOT_PERMITTED'])

function operationError(error: unknown, token: string, what: string): unknown {
  if (error instanceof ApisignError || error instanceof TypeError) return error
  const ckr = ckrOf(error)
  if (ckr !== undefined && MECHANISM_ERRORS.has(ckr)) {
    return new ApisignError('ERR_HSM_MECHANISM', `token ${JSON.stringify(token)} refused to ${what} with this key and mechanism (${ckr})`, { cause: error })
  }
  return new ApisignError('ERR_HSM_FAILED', `token ${JSON.stringify(token)} failed to ${what} (${ckr ?? 'native error'})`, { cause: error })
}

async function openKey(options: Pkcs11KeyOptions, what: string): Promise<{ pool: TokenPool; found: FoundKey; mechanisms: ReadonlySet<number> }> {
  checkKeyOptions(options, what)
  const pool = new TokenPool(options)
  try {
    const { found, mechanisms } = await pool.run(async (context) => {
      const key = findKey(context.lib, context.session, options, pool.token)
      context.cache.set('key', key.handle)
      return { found: key, mechanisms: new Set(context.lib.C_GetMechanismList(context.slot)) }
    })
    return { pool, found, mechanisms }
  } catch (error) {
    await pool.close()
    throw error
  }
}

/**
 * What each JWS algorithm is in PKCS#11: the mechanism, its parameter, and whether the token gets the data
 * (it hashes) or its SHA-256 digest (CKM_ECDSA signs a digest, returning r || s as JWS wants it).
 */
const SIGNING: Readonly<Record<SignerAlgorithm, { readonly keyType: 'rsa' | 'ec'; readonly mechanism: (b: { CK_PARAMS_RSA_PSS: number }) => Mechanism; readonly digestFirst: boolean }>> = {
  RS256: { keyType: 'rsa', mechanism: () => ({ mechanism: CK.CKM_SHA256_RSA_PKCS }), digestFirst: false },
  PS256: {
    keyType: 'rsa',
    mechanism: (b) => ({ mechanism: CK.CKM_SHA256_RSA_PKCS_PSS, parameter: { type: b.CK_PARAMS_RSA_PSS, hashAlg: CK.CKM_SHA256, mgf: CK.CKG_MGF1_SHA256, saltLen: 32 } }),
    digestFirst: false,
  },
  ES256: { keyType: 'ec', mechanism: () => ({ mechanism: CK.CKM_ECDSA }), digestFirst: true },
}

/** CKM_RSA_PKCS_OAEP's parameters per digest (MGF1 with the same digest, no label). */
const OAEP: Readonly<Record<OaepHash, { readonly hashAlg: number; readonly mgf: number }>> = {
  sha1: { hashAlg: CK.CKM_SHA_1, mgf: CK.CKG_MGF1_SHA1 },
  sha256: { hashAlg: CK.CKM_SHA256, mgf: CK.CKG_MGF1_SHA256 },
  sha512: { hashAlg: CK.CKM_SHA512, mgf: CK.CKG_MGF1_SHA512 },
}

/**
 * Open a signing key held in a PKCS#11 token: finds the token by label and the key by label and/or id,
 * logs in with the PIN from `pinEnv` or `pinFile`, reads the public key (and the certificate stored under
 * the same id, if any), and checks the token has the mechanism: `CKM_SHA256_RSA_PKCS` (RS256),
 * `CKM_SHA256_RSA_PKCS_PSS` (PS256, 32-byte salt) or `CKM_ECDSA` over a SHA-256 digest (ES256). Signatures
 * run in the libuv threadpool on a pool of up to `maxSessions` sessions (more callers wait); a token reset
 * or removal reconnects once, then fails with `ERR_HSM_UNAVAILABLE` until the token is back.
 *
 * @example
 * ```ts
 * import { openPkcs11Signer } from 'apisign/signers'
 * const signer = await openPkcs11Signer({
 *   module: '/usr/lib/softhsm/libsofthsm2.so', token: 'payments', label: 'oauth-signing', pinEnv: 'HSM_PIN',
 * })
 * const api = createClient({ baseURL, auth: { scheme: 'oauth1', consumerKey, key: signer } })
 * ```
 */
export async function openPkcs11Signer(options: Pkcs11SignerOptions): Promise<Pkcs11Signer> {
  if (options?.algorithm !== undefined && !['RS256', 'PS256', 'ES256'].includes(options.algorithm)) throw new TypeError('algorithm must be RS256, PS256 or ES256')
  const binding = loadBinding()
  const { pool, found, mechanisms } = await openKey(options, 'openPkcs11Signer')
  const algorithm = options.algorithm ?? (found.info.keyType === 'ec' ? 'ES256' : 'RS256')
  const fail = async (error: ApisignError): Promise<never> => {
    await pool.close()
    throw error
  }
  const entry = SIGNING[algorithm]
  if (entry.keyType !== found.info.keyType) return fail(new ApisignError('ERR_KEY_WRONG_TYPE', `a ${found.info.keyType.toUpperCase()} key cannot sign ${algorithm}`))
  if (!found.canSign) return fail(new ApisignError('ERR_HSM_MECHANISM', `the key with ${describeSelector(options)} may not sign (CKA_SIGN is false)`))
  const mechanism = entry.mechanism(binding)
  if (!mechanisms.has(mechanism.mechanism)) return fail(new ApisignError('ERR_HSM_MECHANISM', `token ${JSON.stringify(pool.token)} does not offer the mechanism ${algorithm} needs (0x${mechanism.mechanism.toString(16)})`))
  const outLength = found.info.keyType === 'ec' ? 64 : Math.ceil(found.info.bits / 8)
  return Object.freeze({
    kind: 'signer' as const,
    algorithm,
    ...(found.publicKey === undefined ? {} : { publicKey: found.publicKey }),
    ...(found.certificate === undefined ? {} : { certificate: found.certificate }),
    key: found.info,
    async sign(data: Uint8Array): Promise<Uint8Array> {
      if (!(data instanceof Uint8Array)) throw new TypeError(`data must be bytes. Received ${describeType(data)}`)
      const input = entry.digestFirst ? createHash('sha256').update(data).digest() : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      try {
        return await pool.run(async (context) => {
          const key = keyHandle(context, options, pool.token, found.identity)
          context.lib.C_SignInit(context.session, mechanism, key)
          return await context.lib.C_SignAsync(context.session, input, Buffer.alloc(outLength))
        })
      } catch (error) {
        throw operationError(error, pool.token, 'sign')
      }
    },
    close: () => pool.close(),
  })
}

const decryptFailed = () => new ApisignError('ERR_JWE_DECRYPTION_FAILED', 'RSA-OAEP unwrap failed')

/**
 * Open an RSA decryption key held in a PKCS#11 token (the key JWE and legacy responses are encrypted to):
 * `decrypt(hash, data)` unwraps with `CKM_RSA_PKCS_OAEP` (MGF1 with the same digest), or, for the digests
 * in `rawOaepHashes`, with raw RSA (`CKM_RSA_X_509`) in the token and the OAEP padding removed here in
 * constant time (see that option for the trade-off). Sessions are pooled as for {@link openPkcs11Signer}.
 *
 * @example
 * ```ts
 * import { openPkcs11Decrypter } from 'apisign/signers'
 * const decrypter = await openPkcs11Decrypter({
 *   module: '/usr/lib/softhsm/libsofthsm2.so', token: 'payments', label: 'response-decryption',
 *   pinFile: '/run/secrets/hsm-pin', rawOaepHashes: ['sha256'], // SoftHSM 2.6 does OAEP with SHA-1 only
 * })
 * const enc = createEncryption({ ...config, privateKey: decrypter })
 * ```
 */
export async function openPkcs11Decrypter(options: Pkcs11DecrypterOptions): Promise<Pkcs11Decrypter> {
  if (options?.rawOaepHashes !== undefined && !Array.isArray(options.rawOaepHashes)) throw new TypeError('rawOaepHashes must be an array of sha1, sha256, sha512')
  const raw = new Set<OaepHash>(options?.rawOaepHashes ?? [])
  for (const h of raw) if (!OAEP_HASHES.includes(h)) throw new TypeError('rawOaepHashes takes sha1, sha256 and sha512')
  const binding = loadBinding()
  const { pool, found, mechanisms } = await openKey(options, 'openPkcs11Decrypter')
  const fail = async (error: ApisignError): Promise<never> => {
    await pool.close()
    throw error
  }
  if (found.info.keyType !== 'rsa') return fail(new ApisignError('ERR_KEY_WRONG_TYPE', 'RSA-OAEP needs an RSA key'))
  if (!found.canDecrypt) return fail(new ApisignError('ERR_HSM_MECHANISM', `the key with ${describeSelector(options)} may not decrypt (CKA_DECRYPT is false)`))
  if (raw.size > 0 && !mechanisms.has(CK.CKM_RSA_X_509)) return fail(new ApisignError('ERR_HSM_MECHANISM', `token ${JSON.stringify(pool.token)} does not offer raw RSA (CKM_RSA_X_509) for rawOaepHashes`))
  if (raw.size < OAEP_HASHES.length && !mechanisms.has(CK.CKM_RSA_PKCS_OAEP)) return fail(new ApisignError('ERR_HSM_MECHANISM', `token ${JSON.stringify(pool.token)} does not offer CKM_RSA_PKCS_OAEP; list the digests in rawOaepHashes`))
  const k = Math.ceil(found.info.bits / 8)
  const oaep = (hash: OaepHash): Mechanism => ({
    mechanism: CK.CKM_RSA_PKCS_OAEP,
    parameter: { type: binding.CK_PARAMS_RSA_OAEP, ...OAEP[hash], source: CK.CKZ_DATA_SPECIFIED, sourceData: null },
  })
  return Object.freeze({
    kind: 'decrypter' as const,
    ...(found.publicKey === undefined ? {} : { publicKey: found.publicKey }),
    ...(found.certificate === undefined ? {} : { certificate: found.certificate }),
    key: found.info,
    async decrypt(oaepHash: OaepHash, data: Uint8Array): Promise<Uint8Array> {
      if (!OAEP_HASHES.includes(oaepHash)) throw new TypeError('oaepHash must be sha1, sha256 or sha512')
      if (!(data instanceof Uint8Array)) throw new TypeError(`data must be bytes. Received ${describeType(data)}`)
      // RFC 8017 §7.1.2 step 1: the ciphertext is exactly k bytes.
      if (data.length !== k) throw decryptFailed()
      const useRaw = raw.has(oaepHash)
      const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      const block = await pool.run(async (context) => {
        const key = keyHandle(context, options, pool.token, found.identity)
        try {
          context.lib.C_DecryptInit(context.session, useRaw ? { mechanism: CK.CKM_RSA_X_509 } : oaep(oaepHash), key)
        } catch (error) {
          if (isGone(error)) throw error
          const ckr = ckrOf(error)
          throw new ApisignError(
            'ERR_HSM_MECHANISM',
            useRaw
              ? `token ${JSON.stringify(pool.token)} refused raw RSA with this key (${ckr ?? 'native error'})`
              : `token ${JSON.stringify(pool.token)} refused RSA-OAEP with ${oaepHash} (${ckr ?? 'native error'}); if it lacks that digest, list it in rawOaepHashes`,
            { cause: error },
          )
        }
        try {
          return await context.lib.C_DecryptAsync(context.session, input, Buffer.alloc(k))
        } catch (error) {
          // A ciphertext that does not unwrap: the same error whatever the token said (no oracle).
          if (isGone(error)) throw error
          throw decryptFailed()
        }
      })
      return useRaw ? removeOaepPadding(oaepHash, block, k) : block
    },
    close: () => pool.close(),
  })
}

/** One object of a token as {@link listPkcs11Objects} describes it (never key material). */
export interface Pkcs11ObjectInfo {
  readonly class: 'private-key' | 'public-key' | 'certificate' | 'other'
  readonly label: string | undefined
  readonly id: string | undefined
  readonly keyType?: 'rsa' | 'ec' | 'other'
  readonly bits?: number
  readonly sign?: boolean
  readonly decrypt?: boolean
  /** SHA-256 of the public key's SPKI, hex (keys with a readable public half, certificates). */
  readonly publicKeyFingerprint?: string
  readonly subject?: string
  readonly validTo?: string
}

/** A token's description: its info and its objects. */
export interface Pkcs11Listing {
  readonly token: { readonly label: string; readonly model: string; readonly manufacturer: string; readonly serial: string }
  readonly objects: readonly Pkcs11ObjectInfo[]
}

const CLASS_NAMES: Readonly<Record<number, Pkcs11ObjectInfo['class']>> = { [CK.CKO_PRIVATE_KEY]: 'private-key', [CK.CKO_PUBLIC_KEY]: 'public-key', [CK.CKO_CERTIFICATE]: 'certificate' }

/**
 * List a token's keys and certificates after logging in (private objects are visible only then): class,
 * label, id, key type and size, usage flags, public key fingerprints, certificate subjects. What
 * `apisign keys inspect --pkcs11` prints.
 *
 * @example
 * ```ts
 * const { objects } = await listPkcs11Objects({ module, token: 'payments', pinEnv: 'HSM_PIN' })
 * ```
 */
export async function listPkcs11Objects(options: TokenPoolOptions): Promise<Pkcs11Listing> {
  const pool = new TokenPool({ ...options, maxSessions: 1 })
  try {
    return await pool.run(async ({ lib, session, slot }) => {
      const info = lib.C_GetTokenInfo(slot)
      const objects = findObjects(lib, session, []).map((handle): Pkcs11ObjectInfo => {
        const a = attributes(lib, session, handle, [CK.CKA_CLASS, CK.CKA_LABEL, CK.CKA_ID])
        const cls = CLASS_NAMES[ulong(a.get(CK.CKA_CLASS))] ?? 'other'
        const base = { class: cls, label: a.get(CK.CKA_LABEL)?.toString('utf8'), id: a.get(CK.CKA_ID)?.toString('hex') || undefined }
        if (cls === 'certificate') {
          const der = attributes(lib, session, handle, [CK.CKA_VALUE]).get(CK.CKA_VALUE)
          try {
            const cert = new X509Certificate(der as Buffer)
            return { ...base, subject: cert.subject.replace(/\n/g, ', '), validTo: new Date(cert.validTo).toISOString(), publicKeyFingerprint: spkiFingerprint(cert.publicKey) }
          } catch {
            return base
          }
        }
        if (cls !== 'private-key' && cls !== 'public-key') return base
        const k = attributes(lib, session, handle, [CK.CKA_KEY_TYPE, CK.CKA_MODULUS, CK.CKA_PUBLIC_EXPONENT, CK.CKA_SIGN, CK.CKA_DECRYPT, CK.CKA_EC_POINT])
        const type = ulong(k.get(CK.CKA_KEY_TYPE))
        const usage = cls === 'private-key' ? { sign: bool(k.get(CK.CKA_SIGN)), decrypt: bool(k.get(CK.CKA_DECRYPT)) } : {}
        if (type === CK.CKK_RSA) {
          const n = k.get(CK.CKA_MODULUS)
          const e = k.get(CK.CKA_PUBLIC_EXPONENT)
          const publicKey = n === undefined || e === undefined ? undefined : createPublicKey({ key: { kty: 'RSA', n: stripZeros(n).toString('base64url'), e: stripZeros(e).toString('base64url') }, format: 'jwk' })
          return { ...base, keyType: 'rsa', ...(n === undefined ? {} : { bits: stripZeros(n).length * 8 }), ...usage, ...(publicKey === undefined ? {} : { publicKeyFingerprint: spkiFingerprint(publicKey) }) }
        }
        if (type === CK.CKK_EC) {
          const point = ecPoint(k.get(CK.CKA_EC_POINT))
          const publicKey = point === undefined ? undefined : createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' })
          return { ...base, keyType: 'ec', bits: 256, ...usage, ...(publicKey === undefined ? {} : { publicKeyFingerprint: spkiFingerprint(publicKey) }) }
        }
        return { ...base, keyType: 'other', ...usage }
      })
      return { token: { label: info.label.trimEnd(), model: info.model.trimEnd(), manufacturer: info.manufacturerID.trimEnd(), serial: info.serialNumber.trimEnd() }, objects }
    })
  } finally {
    await pool.close()
  }
}

const spkiFingerprint = (key: KeyObject) => createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex')
