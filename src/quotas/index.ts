// apisign/quotas: partner quotas on the client (before signing, shared by a fleet on Redis, paused
// fleet-wide by a 429) and the provider side (per-key quotas, usage, key store). Curated named exports.
export { createQuota, defaultQuotaKey, rateLimitedError, validateRateLimit } from './client-quota.js'
export type { ClientQuota, QuotaRequest, RateLimitOptions } from './client-quota.js'
export { createProviderQuotas, rateLimitHeaders } from './provider-quota.js'
export type { ProviderQuotaOptions, ProviderQuotas, QuotaDecision } from './provider-quota.js'
export { createKeyStore } from './key-store.js'
export type { IssueKeyOptions, IssuedKey, KeyInfo, KeyKind, KeyStore, KeyStoreOptions, RollKeyOptions, StoredCredential } from './key-store.js'
export { createUsageRecorder } from './usage.js'
export type { KeyUsage, UsageEvent, UsageRecorder } from './usage.js'
export { PauseFlag, WindowLimiter } from './limiter.js'
export type { ConsumeResult, PauseFlagOptions, WindowLimiterOptions, WindowState } from './limiter.js'
export { parseDuration, parseWindow, parseWindows } from './windows.js'
export type { QuotaWindow, QuotaWindowSpec, RedisConnection } from './windows.js'
