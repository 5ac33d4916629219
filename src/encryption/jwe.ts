import {
  type KeyObject,
  X509Certificate,
  createCipheriv,
  createDecipheriv,
  createHmac,
  privateDecrypt,
  publicEncrypt,
  randomBytes as cryptoRandomBytes,
  timingSafeEqual,
} from 'node:crypto'
import { ApisignError, describeType } from '../errors.js'
import { type Decrypter, asyncOnly, isDecrypter, isKeyServiceError } from '../signers/types.js'
import {
  CONTENT_ENCRYPTION,
  type ContentEncryptionAlgorithm,
  type ContentEncryptionEntry,
  KEY_MANAGEMENT,
  type KeyManagementEntry,
  lookup,
} from './algorithms.js'
import { base64url, decodeSegment } from './base64.js'

/**
 * Default ceiling on a compact token's length, checked before any parsing (1 MiB JSON ~ 1.4 MB token).
 *
 * @example
 * ```ts
 * compactDecrypt(token, key, { maxTokenLength: DEFAULT_MAX_TOKEN_LENGTH * 4 })
 * ```
 */
export const DEFAULT_MAX_TOKEN_LENGTH = 16 * 1024 * 1024

/** Options of {@link compactEncrypt}. */
export interface CompactEncryptOptions {
  /** `kid` header: the recipient key's fingerprint (see `fingerprint` in apisign/keys). Omitted if undefined. */
  readonly kid?: string
  /** `cty` header. Default `application/json` (what Mastercard peers expect). */
  readonly cty?: string
  /** Default `A256GCM`. */
  readonly enc?: ContentEncryptionAlgorithm
  /** GCM IV length: 12 bytes (RFC 7518 §5.3, default) or 16 for peers that demand it (Java's default). */
  readonly ivLength?: 12 | 16
  /** Injected randomness (tests only): returns `n` random bytes. Default `crypto.randomBytes`. */
  readonly randomBytes?: (n: number) => Uint8Array
}

/** Options of {@link compactDecrypt}. */
export interface CompactDecryptOptions {
  /** Refuse longer tokens before parsing (`ERR_INPUT_TOO_LARGE`). Default 16 MiB. */
  readonly maxTokenLength?: number
  /** Accept `alg: RSA-OAEP` (OAEP with SHA-1). Off by default. */
  readonly allowRsaOaepSha1?: boolean
}

/** A decrypted token. */
export interface DecryptedJwe {
  /** The parsed protected header (as sent; never re-serialised). */
  readonly protectedHeader: Readonly<Record<string, unknown>>
  /** The plaintext bytes. */
  readonly plaintext: Buffer
}

function publicKeyOf(key: KeyObject | X509Certificate): KeyObject {
  if (key instanceof X509Certificate) return key.publicKey
  if (key === null || typeof key !== 'object' || typeof (key as KeyObject).type !== 'string') {
    throw new TypeError(`key must be a KeyObject or X509Certificate. Received ${describeType(key)}`)
  }
  return key
}

/**
 * JWE compact serialisation (RFC 7516 §7.1) with RSA-OAEP-256 and AES-GCM (or A128CBC-HS256): a fresh CEK
 * and IV per message, protected header `{kid, cty, alg, enc}`, strict base64url segments. The recipient
 * key is a public `KeyObject` or an `X509Certificate`, converted once by the caller.
 *
 * @example
 * ```ts
 * import { compactEncrypt } from 'apisign/encryption'
 * import { loadCertificate, fingerprint } from 'apisign/keys'
 * const cert = loadCertificate('./partner-encryption.crt')
 * const token = compactEncrypt(JSON.stringify({ pan: '5123...' }), cert, { kid: fingerprint(cert) })
 * ```
 */
export function compactEncrypt(
  plaintext: string | Uint8Array,
  key: KeyObject | X509Certificate,
  options: CompactEncryptOptions = {},
): string {
  const recipient = publicKeyOf(key)
  const entry = lookup(CONTENT_ENCRYPTION, options.enc ?? 'A256GCM')
  if (entry === undefined) throw new TypeError(`enc must be one of ${Object.keys(CONTENT_ENCRYPTION).join(', ')}`)
  const ivLength = entry.mode === 'gcm' ? (options.ivLength ?? 12) : 16
  if (!entry.ivBytes.includes(ivLength)) throw new TypeError(`ivLength must be one of ${entry.ivBytes.join(', ')}`)
  const random = options.randomBytes ?? cryptoRandomBytes
  const header: Record<string, string> = {}
  if (options.kid !== undefined) header['kid'] = options.kid
  header['cty'] = options.cty ?? 'application/json'
  header['alg'] = 'RSA-OAEP-256'
  header['enc'] = entry.enc
  const headerSegment = Buffer.from(JSON.stringify(header), 'utf8').toString('base64url')
  const cek = Buffer.from(random(entry.cekBytes))
  const iv = Buffer.from(random(ivLength))
  let encryptedKey: Buffer
  try {
    encryptedKey = publicEncrypt({ key: recipient, padding: KEY_MANAGEMENT['RSA-OAEP-256'].padding, oaepHash: 'sha256' }, cek)
  } catch (cause) {
    throw new ApisignError('ERR_ENCRYPTION_FAILED', 'the encryption key cannot wrap the content key (is it an RSA public key?)', { cause })
  }
  const aad = Buffer.from(headerSegment, 'ascii')
  const { ciphertext, tag } = seal(entry, cek, iv, aad, plaintext)
  return `${headerSegment}.${base64url(encryptedKey)}.${base64url(iv)}.${base64url(ciphertext)}.${base64url(tag)}`
}

// A string plaintext goes to the cipher as UTF-8 directly, without an intermediate Buffer copy.
function seal(entry: ContentEncryptionEntry, cek: Buffer, iv: Buffer, aad: Buffer, data: string | Uint8Array) {
  if (entry.mode === 'gcm') {
    const cipher = createCipheriv(entry.cipher as 'aes-256-gcm', cek, iv, { authTagLength: entry.tagBytes })
    cipher.setAAD(aad)
    const ciphertext = Buffer.concat([typeof data === 'string' ? cipher.update(data, 'utf8') : cipher.update(data), cipher.final()])
    return { ciphertext, tag: cipher.getAuthTag() }
  }
  const cipher = createCipheriv(entry.cipher, cek.subarray(16), iv)
  const ciphertext = Buffer.concat([typeof data === 'string' ? cipher.update(data, 'utf8') : cipher.update(data), cipher.final()])
  return { ciphertext, tag: cbcHmacTag(cek.subarray(0, 16), aad, iv, ciphertext) }
}

// RFC 7518 §5.2.2.1: HMAC-SHA-256 over AAD || IV || ciphertext || AL (AAD length in bits, 64-bit BE),
// truncated to 16 bytes. The MAC key is the FIRST half of the CEK (client-encryption-nodejs PR #92 review).
function cbcHmacTag(macKey: Buffer, aad: Buffer, iv: Buffer, ciphertext: Buffer): Buffer {
  const al = Buffer.alloc(8)
  al.writeBigUInt64BE(BigInt(aad.length) * 8n)
  return createHmac('sha256', macKey).update(aad).update(iv).update(ciphertext).update(al).digest().subarray(0, 16)
}

const failed = () => new ApisignError('ERR_JWE_DECRYPTION_FAILED', 'JWE decryption failed')

interface ParsedJwe {
  readonly header: Record<string, unknown>
  readonly alg: KeyManagementEntry
  readonly enc: ContentEncryptionEntry
  readonly encryptedKey: Buffer
  readonly iv: Buffer
  readonly ciphertext: Buffer
  readonly tag: Buffer
  readonly aad: Buffer
}

// Everything before the key unwrap: size, segments, header, algorithms, lengths (RFC 7516 §5.2 steps 1-9).
function parseCompact(token: string, options: CompactDecryptOptions): ParsedJwe {
  if (typeof token !== 'string') throw new ApisignError('ERR_JWE_INVALID', `JWE must be a string (got ${describeType(token)})`)
  const max = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH
  if (token.length > max) {
    throw new ApisignError('ERR_INPUT_TOO_LARGE', `JWE is ${token.length} characters; the limit is ${max}`)
  }
  const parts = token.split('.')
  if (parts.length !== 5) throw new ApisignError('ERR_JWE_INVALID', `JWE compact serialisation has 5 segments (got ${parts.length})`)
  const [h, k, i, c, t] = parts as [string, string, string, string, string]
  let header: unknown
  try {
    header = JSON.parse(decodeSegment(h, 'protected header').toString('utf8'))
  } catch (cause) {
    if (cause instanceof ApisignError) throw cause
    throw new ApisignError('ERR_JWE_INVALID', 'JWE protected header is not JSON')
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new ApisignError('ERR_JWE_INVALID', 'JWE protected header is not a JSON object')
  }
  const hdr = header as Record<string, unknown>
  const alg = lookup(KEY_MANAGEMENT, hdr['alg'])
  if (alg === undefined || (alg.optIn && options.allowRsaOaepSha1 !== true)) {
    throw new ApisignError('ERR_ALG_NOT_ALLOWED', `JWE alg ${JSON.stringify(String(hdr['alg']).slice(0, 32))} is not allowed`)
  }
  const enc = lookup(CONTENT_ENCRYPTION, hdr['enc'])
  if (enc === undefined) {
    throw new ApisignError('ERR_UNSUPPORTED_ALGORITHM', `JWE enc ${JSON.stringify(String(hdr['enc']).slice(0, 32))} is not supported`)
  }
  if ('zip' in hdr) throw new ApisignError('ERR_JWE_INVALID', 'compressed JWE (zip) is not accepted')
  if ('crit' in hdr) throw new ApisignError('ERR_JWE_INVALID', 'JWE crit header parameters are not supported')
  const encryptedKey = decodeSegment(k, 'encrypted key')
  const iv = decodeSegment(i, 'initialization vector')
  const ciphertext = decodeSegment(c, 'ciphertext')
  const tag = decodeSegment(t, 'authentication tag')
  if (!enc.ivBytes.includes(iv.length)) throw new ApisignError('ERR_JWE_INVALID', `JWE IV of ${iv.length} bytes is not accepted for ${enc.enc}`)
  if (tag.length !== enc.tagBytes) throw new ApisignError('ERR_JWE_INVALID', `JWE authentication tag must be ${enc.tagBytes} bytes (got ${tag.length})`)
  return { header: hdr, alg, enc, encryptedKey, iv, ciphertext, tag, aad: Buffer.from(h, 'ascii') }
}

// After the unwrap: a CEK of the wrong length becomes a random one (RFC 7516 §11.5), then the content.
function openContent(p: ParsedJwe, unwrapped: Buffer | undefined): DecryptedJwe {
  const { enc, iv, aad, tag, ciphertext } = p
  const cek = unwrapped !== undefined && unwrapped.length === enc.cekBytes ? unwrapped : cryptoRandomBytes(enc.cekBytes)
  try {
    if (enc.mode === 'gcm') {
      const decipher = createDecipheriv(enc.cipher as 'aes-256-gcm', cek, iv, { authTagLength: enc.tagBytes })
      decipher.setAAD(aad)
      decipher.setAuthTag(tag)
      return { protectedHeader: p.header, plaintext: Buffer.concat([decipher.update(ciphertext), decipher.final()]) }
    }
    const expected = cbcHmacTag(cek.subarray(0, 16), aad, iv, ciphertext)
    if (!timingSafeEqual(expected, tag)) throw failed()
    const decipher = createDecipheriv(enc.cipher, cek.subarray(16), iv)
    return { protectedHeader: p.header, plaintext: Buffer.concat([decipher.update(ciphertext), decipher.final()]) }
  } catch {
    throw failed()
  }
}

/**
 * Decrypt a compact JWE (RFC 7516 §5.2). Accepts what real peers send: base64url or `+/` base64, padded or
 * not; GCM IVs of 12 or 16 bytes; A128GCM, A192GCM, A256GCM and A128CBC-HS256 (HMAC verified in constant
 * time, RFC 7518 §5.2). Refuses RSA1_5, RSA-OAEP (SHA-1) unless allowed, `zip`, `crit`, unknown `enc`,
 * truncated tags, and tokens over the size limit (checked first). AAD is the raw header segment. Every
 * cryptographic failure is the same `ERR_JWE_DECRYPTION_FAILED`: a bad key unwrap continues with a random
 * CEK (RFC 7516 §11.5), so key, tag and ciphertext failures cannot be told apart. A key held elsewhere (a
 * {@link Decrypter}) needs {@link compactDecryptAsync}.
 *
 * @example
 * ```ts
 * import { compactDecrypt } from 'apisign/encryption'
 * const { plaintext, protectedHeader } = compactDecrypt(token, decryptionKey)
 * JSON.parse(plaintext.toString('utf8'))
 * ```
 */
export function compactDecrypt(token: string, key: KeyObject, options: CompactDecryptOptions = {}): DecryptedJwe {
  if (isDecrypter(key)) throw asyncOnly('compactDecrypt', 'compactDecryptAsync')
  if (key === null || typeof key !== 'object' || (key as KeyObject).type !== 'private') {
    throw new TypeError(`key must be a private KeyObject. Received ${describeType(key)}`)
  }
  const parsed = parseCompact(token, options)
  let cek: Buffer | undefined
  try {
    cek = privateDecrypt({ key, padding: parsed.alg.padding, oaepHash: parsed.alg.oaepHash }, parsed.encryptedKey)
  } catch {
    cek = undefined
  }
  return openContent(parsed, cek)
}

/**
 * {@link compactDecrypt} with the key unwrap done by a {@link Decrypter} (an HSM key from
 * `openPkcs11Decrypter`, a KMS adapter) or, given a `KeyObject`, by node:crypto. A failed unwrap continues
 * with a random CEK as in the synchronous path, so the result is the same `ERR_JWE_DECRYPTION_FAILED`; an
 * outage of the key service (`ERR_HSM_UNAVAILABLE`, ...) is passed on as it is.
 *
 * @example
 * ```ts
 * import { compactDecryptAsync } from 'apisign/encryption'
 * const { plaintext } = await compactDecryptAsync(token, await openPkcs11Decrypter({ ...hsm, rawOaepHashes: ['sha256'] }))
 * ```
 */
export async function compactDecryptAsync(token: string, key: KeyObject | Decrypter, options: CompactDecryptOptions = {}): Promise<DecryptedJwe> {
  if (!isDecrypter(key)) return compactDecrypt(token, key, options)
  const parsed = parseCompact(token, options)
  let cek: Buffer | undefined
  try {
    const out = await key.decrypt(parsed.alg.oaepHash, parsed.encryptedKey)
    cek = Buffer.from(out.buffer, out.byteOffset, out.byteLength)
  } catch (error) {
    if (isKeyServiceError(error)) throw error
    cek = undefined
  }
  return openContent(parsed, cek)
}
