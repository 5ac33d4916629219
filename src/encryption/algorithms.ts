import { constants } from 'node:crypto'

/** Key management algorithms (RFC 7518 §4.3). RSA-OAEP (SHA-1) is off unless explicitly allowed. */
export type KeyManagementAlgorithm = 'RSA-OAEP-256' | 'RSA-OAEP'
/** Content encryption algorithms (RFC 7518 §5). */
export type ContentEncryptionAlgorithm = 'A128GCM' | 'A192GCM' | 'A256GCM' | 'A128CBC-HS256'

/** Everything about one `alg`, in one place. */
export interface KeyManagementEntry {
  readonly alg: KeyManagementAlgorithm
  readonly oaepHash: 'sha256' | 'sha1'
  readonly padding: number
  /** Needs an explicit opt-in to decrypt (SHA-1 OAEP); never used to encrypt. */
  readonly optIn: boolean
}

/** Everything about one `enc`, in one place (jose's descriptor-table pattern). */
export interface ContentEncryptionEntry {
  readonly enc: ContentEncryptionAlgorithm
  /** CEK length in bytes. */
  readonly cekBytes: number
  readonly mode: 'gcm' | 'cbc-hmac'
  /** node:crypto cipher name. */
  readonly cipher: string
  /** IV lengths accepted on decrypt: GCM takes 12 (RFC 7518) or 16 (the reference and Java peers). */
  readonly ivBytes: readonly number[]
  /** Authentication tag length: always the full 16 bytes (truncated tags are refused). */
  readonly tagBytes: number
}

/**
 * The `alg` table.
 *
 * @example
 * ```ts
 * KEY_MANAGEMENT['RSA-OAEP-256'].oaepHash // 'sha256'
 * ```
 */
export const KEY_MANAGEMENT: Readonly<Record<KeyManagementAlgorithm, KeyManagementEntry>> = Object.freeze({
  'RSA-OAEP-256': { alg: 'RSA-OAEP-256', oaepHash: 'sha256', padding: constants.RSA_PKCS1_OAEP_PADDING, optIn: false },
  'RSA-OAEP': { alg: 'RSA-OAEP', oaepHash: 'sha1', padding: constants.RSA_PKCS1_OAEP_PADDING, optIn: true },
})

/**
 * The `enc` table.
 *
 * @example
 * ```ts
 * CONTENT_ENCRYPTION['A256GCM'].cekBytes // 32
 * ```
 */
export const CONTENT_ENCRYPTION: Readonly<Record<ContentEncryptionAlgorithm, ContentEncryptionEntry>> = Object.freeze({
  A128GCM: { enc: 'A128GCM', cekBytes: 16, mode: 'gcm', cipher: 'aes-128-gcm', ivBytes: [12, 16], tagBytes: 16 },
  A192GCM: { enc: 'A192GCM', cekBytes: 24, mode: 'gcm', cipher: 'aes-192-gcm', ivBytes: [12, 16], tagBytes: 16 },
  A256GCM: { enc: 'A256GCM', cekBytes: 32, mode: 'gcm', cipher: 'aes-256-gcm', ivBytes: [12, 16], tagBytes: 16 },
  // RFC 7518 §5.2.3: MAC key = first 16 bytes of the CEK, encryption key = last 16; tag = first 16 bytes of
  // HMAC-SHA-256(AAD || IV || ciphertext || AL).
  'A128CBC-HS256': { enc: 'A128CBC-HS256', cekBytes: 32, mode: 'cbc-hmac', cipher: 'aes-128-cbc', ivBytes: [16], tagBytes: 16 },
})

export function lookup<T>(table: Readonly<Record<string, T>>, name: unknown): T | undefined {
  return typeof name === 'string' && Object.hasOwn(table, name) ? table[name] : undefined
}
