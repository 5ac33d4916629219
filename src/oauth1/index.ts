// apisign/oauth1: OAuth 1.0a signing in three dialects, every canonicalisation stage exported.
// Curated named exports only (reference/anchors-style.md §9 rule 1).
export { createOAuth1Signer, signRequest, signRequestAsync, normalizeMethod } from './signer.js'
export type {
  OAuth1Request,
  OAuth1Signature,
  OAuth1Signer,
  OAuth1SignerOptions,
  SignRequestOptions,
  SigningKeyInput,
} from './signer.js'
export { DIALECTS, resolveDialect } from './dialects.js'
export type { OAuth1Dialect, DialectEntry, CanonicalRequest } from './dialects.js'
export { percentEncode, assertWellFormed } from './percent-encode.js'
export { toWireUrl, baseStringUri } from './url.js'
export { collectQueryParameters, decodeFormParameters, normalizeParameters } from './parameters.js'
export type { Parameter } from './parameters.js'
export { signatureBaseString } from './base-string.js'
export { computeBodyHash, bodyBytes, EMPTY_BODY_HASH } from './body-hash.js'
export type { RequestBody } from './body-hash.js'
export {
  SIGNATURE_METHODS,
  resolveSignatureMethod,
  signBaseString,
  signBaseStringAsync,
  verifyBaseString,
  verifyBaseStringAsync,
  decodeBase64Strict,
} from './methods.js'
export type { SignatureMethod, SignatureMethodName, SigningMaterial } from './methods.js'
export { buildAuthorizationHeader, parseAuthorizationHeader } from './header.js'
export type { HeaderStyle, ParsedAuthorizationHeader } from './header.js'
export { generateNonce, NONCE_LENGTH } from './nonce.js'
export type { RandomFill } from './nonce.js'
export {
  compatParseUrl,
  compatBaseStringUri,
  compatQueryParameters,
  compatParameterString,
  compatSignatureBaseString,
} from './compat.js'
