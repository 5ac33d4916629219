import { ApisignError } from '../errors.js'
import { limitOption } from '../option-values.js'

/**
 * Where verifiers remember nonces. `checkAndRecord` records `key` for `ttlMs` and answers whether it was
 * new; it must be atomic across every verifier that shares the store, and must throw
 * `ERR_NONCE_STORE_UNAVAILABLE` (never answer "new") when it cannot tell.
 */
export interface NonceStore {
  checkAndRecord(key: string, ttlMs: number): Promise<boolean>
  /** Release resources (connections, timers). */
  close?(): Promise<void>
}

/** Options of {@link createMemoryNonceStore}. */
export interface MemoryNonceStoreOptions {
  /** Entries kept at most; when full of live entries the store fails closed. Default 1 000 000. */
  readonly maxEntries?: number
  /** Clock, ms. Default `Date.now`. */
  readonly now?: () => number
}

/**
 * In-process nonce store with TTL: the default for a single verifier instance. Bounded: expired entries
 * are swept as it fills, and a store full of live entries fails closed rather than forgetting nonces.
 *
 * @example
 * ```ts
 * const verifier = createOAuth1Verifier({ consumers, nonceStore: createMemoryNonceStore() })
 * ```
 */
export function createMemoryNonceStore(options: MemoryNonceStoreOptions = {}): NonceStore {
  const max = limitOption(options.maxEntries, 'maxEntries', 1_000_000, { integer: true, positive: true })
  const now = options.now ?? Date.now
  const entries = new Map<string, number>()
  let nextSweep = 0
  const sweep = (t: number) => {
    for (const [k, expires] of entries) if (expires <= t) entries.delete(k)
    nextSweep = t + 1000
  }
  return {
    async checkAndRecord(key, ttlMs) {
      // A NaN TTL made `expires > t` false, so the same nonce was "new" again (issue 13 item 1).
      limitOption(ttlMs ?? Number.NaN, 'ttlMs', 0, { positive: true })
      const t = now()
      const expires = entries.get(key)
      if (expires !== undefined && expires > t) return false
      if (entries.size >= max || t >= nextSweep) sweep(t)
      if (entries.size >= max) {
        throw new ApisignError('ERR_NONCE_STORE_UNAVAILABLE', `nonce store is full (${max} live nonces); refusing rather than forgetting`)
      }
      entries.set(key, t + ttlMs)
      return true
    },
    async close() {
      entries.clear()
    },
  }
}
