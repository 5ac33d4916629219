// apisign/verify: the server side (contract tests, providers). Curated named exports.
export { createOAuth1Verifier } from './oauth1-verifier.js'
export type { ConsumerKey, ConsumerKeys, OAuth1Verifier, OAuth1VerifierOptions, ReceivedRequest, VerificationResult, VerifierLimits } from './oauth1-verifier.js'
export { createMemoryNonceStore } from './nonce-store.js'
export type { MemoryNonceStoreOptions, NonceStore } from './nonce-store.js'
export { createRedisNonceStore } from './redis-nonce-store.js'
export type { RedisNonceStoreOptions } from './redis-nonce-store.js'
// The other schemes' server side lives with their client side in apisign/schemes; the ones a provider or a
// webhook receiver reaches for first are here too.
export { verifyWebhook } from '../schemes/ost.js'
export type { VerifyWebhookOptions, WebhookSecret } from '../schemes/ost.js'
export { createOstVerifier } from '../schemes/ost-auth.js'
export type { OstVerifierOptions } from '../schemes/ost-auth.js'
export { createApiKeyVerifier, createBasicVerifier, createBearerTokenVerifier, createJwtBearerVerifier, createSigV4Verifier } from '../schemes/verifiers.js'
export type { SchemeVerdict, SchemeVerifier, VerifyContext } from '../schemes/verifier-types.js'
export { createOAuth2Verifier, verifyDpopProof } from '../schemes/oauth2-verifier.js'
export type { OAuth2VerifierOptions } from '../schemes/oauth2-verifier.js'
