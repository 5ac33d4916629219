// apisign/keys: load keys and certificates once, as node:crypto objects. Curated named exports only.
export { loadSigningKey, loadPrivateKey, loadKeyStore, loadCertificate, loadPublicKey } from './load.js'
export type { KeySource, LoadKeyOptions } from './load.js'
export type { KeyStoreEntry } from './pkcs12.js'
export type { FilePermissionPolicy } from './source.js'
export { fingerprint, keyMatchesCertificate, describeKey } from './fingerprint.js'
export type { FingerprintOptions, KeyDescription } from './fingerprint.js'
