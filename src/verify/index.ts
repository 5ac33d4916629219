// apisign/verify: the server side (contract tests, providers). Curated named exports. This folder is the
// server side's front door: the verifiers live with their scheme in src/schemes/ (one table row per scheme,
// client and server side together) and the request types in src/pipeline/types.ts, so verify/ imports
// them and nothing imports verify/ back (issue 15: no cycle between src/ folders).
export { createOAuth1Verifier } from '../schemes/oauth1-verifier.js'
export type { ConsumerKey, ConsumerKeys, OAuth1Verifier, OAuth1VerifierOptions, VerificationResult, VerifierLimits } from '../schemes/oauth1-verifier.js'
export type { ReceivedRequest, SchemeVerdict, SchemeVerifier, VerifyContext } from '../pipeline/types.js'
export { createMemoryNonceStore } from '../schemes/nonce-store.js'
export type { MemoryNonceStoreOptions, NonceStore } from '../schemes/nonce-store.js'
export { createRedisNonceStore } from './redis-nonce-store.js'
export type { RedisNonceStoreOptions } from './redis-nonce-store.js'
// The other schemes' server side, the ones a provider or a webhook receiver reaches for first.
export { verifyWebhook } from '../schemes/ost.js'
export type { VerifyWebhookOptions, WebhookSecret } from '../schemes/ost.js'
export { createOstVerifier } from '../schemes/ost-auth.js'
export type { OstVerifierOptions } from '../schemes/ost-auth.js'
export { createApiKeyVerifier, createBasicVerifier, createBearerTokenVerifier, createJwtBearerVerifier, createSigV4Verifier } from '../schemes/verifiers.js'
export { createOAuth2Verifier, verifyDpopProof } from '../schemes/oauth2-verifier.js'
export type { OAuth2VerifierOptions } from '../schemes/oauth2-verifier.js'
