// apisign/signers: keys held elsewhere (an HSM over PKCS#11, a cloud KMS), behind one async Signer and
// Decrypter seam. Curated named exports only.
export { isSigner, isDecrypter, isKeyServiceError } from './types.js'
export type { Signer, Decrypter, SignerAlgorithm, OaepHash } from './types.js'
export { createKeySigner, createKeyDecrypter } from './software.js'
export type { KeySignerOptions } from './software.js'
export { signCompactJws } from './jws.js'
export type { SignCompactJwsOptions } from './jws.js'
export { removeOaepPadding } from './oaep.js'
export { openPkcs11Signer, openPkcs11Decrypter, listPkcs11Objects } from './pkcs11.js'
export type {
  Pkcs11KeyOptions,
  Pkcs11SignerOptions,
  Pkcs11DecrypterOptions,
  Pkcs11KeyInfo,
  Pkcs11Signer,
  Pkcs11Decrypter,
  Pkcs11ObjectInfo,
  Pkcs11Listing,
} from './pkcs11.js'
export type { PinSource, TokenPoolOptions } from './pkcs11-pool.js'
export { importPkcs11Key } from './pkcs11-import.js'
export type { ImportPkcs11KeyOptions, ImportedPkcs11Key } from './pkcs11-import.js'
