// apisign/verify: the server side (contract tests, providers). Curated named exports.
export { createOAuth1Verifier } from './oauth1-verifier.js'
export type { ConsumerKey, ConsumerKeys, OAuth1Verifier, OAuth1VerifierOptions, ReceivedRequest, VerificationResult, VerifierLimits } from './oauth1-verifier.js'
export { createMemoryNonceStore } from './nonce-store.js'
export type { MemoryNonceStoreOptions, NonceStore } from './nonce-store.js'
export { createRedisNonceStore } from './redis-nonce-store.js'
export type { RedisNonceStoreOptions } from './redis-nonce-store.js'
