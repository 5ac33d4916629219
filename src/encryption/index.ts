// apisign/encryption: JWE and the legacy Mastercard field-level scheme on node:crypto. Curated exports.
export { createEncryption } from './field-encryption.js'
export type { EncryptionMessage, EncryptionResult, FieldEncryption } from './field-encryption.js'
export { resolveEncryptionConfig, fromApisignConfig } from './config.js'
export type {
  ApisignEncryptionConfig,
  EncryptionOptions,
  EndpointPaths,
  FieldMapping,
  KeyMaterial,
  MastercardEncryptionConfig,
  ResolvedEncryptionConfig,
} from './config.js'
export { compactEncrypt, compactDecrypt, compactDecryptAsync, DEFAULT_MAX_TOKEN_LENGTH } from './jwe.js'
export type { CompactEncryptOptions, CompactDecryptOptions, DecryptedJwe } from './jwe.js'
export { CONTENT_ENCRYPTION, KEY_MANAGEMENT } from './algorithms.js'
export type {
  ContentEncryptionAlgorithm,
  ContentEncryptionEntry,
  KeyManagementAlgorithm,
  KeyManagementEntry,
} from './algorithms.js'
export { legacyEncrypt, legacyDecrypt, legacyDecryptAsync, parseLegacyDigest } from './legacy.js'
export type { DataEncoding, LegacyDigest, LegacyParts } from './legacy.js'
export { parseFieldPath, WILDCARD } from './paths.js'
export type { PathSegment } from './paths.js'
export { base64url, decodeSegment } from './base64.js'
