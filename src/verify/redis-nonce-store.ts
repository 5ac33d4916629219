import { Redis, type RedisOptions } from 'ioredis'
import { ApisignError } from '../errors.js'
import type { NonceStore } from '../schemes/nonce-store.js'

/** Options of {@link createRedisNonceStore}. */
export interface RedisNonceStoreOptions {
  /** An ioredis client, or a URL / options to create one (created with fail-fast settings). */
  readonly redis: Redis | string | RedisOptions
  /** Key prefix. Default `apisign:nonce:`. */
  readonly prefix?: string
  /**
   * How long after Redis lost its data every request is refused: at least the nonce TTL (2 x the
   * timestamp window), so a request accepted before the loss cannot be replayed after it. Default 600 s.
   */
  readonly restartQuarantineMs?: number
  /**
   * Treat an empty Redis at start-up as fresh (first deployment) instead of as data loss. Default false:
   * fail closed, because a verifier cannot tell the two apart.
   */
  readonly trustEmptyOnStart?: boolean
  /** Clock, ms. Default `Date.now`. */
  readonly now?: () => number
}

// One atomic step: detect a Redis that lost its data (the epoch key is gone), refuse everything during
// the quarantine that follows, otherwise SET NX PX the nonce. Runs as a script so that two verifiers can
// never both see a nonce as new.
const SCRIPT = `
local epoch = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[2])
if not epoch then
  redis.call('SET', KEYS[1], ARGV[2])
  return -1
end
if now - tonumber(epoch) < tonumber(ARGV[3]) then return -2 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
`

/**
 * A nonce store shared by several verifier instances through Redis (`SET key 1 NX PX ttl`, inside one
 * script), so a replay sent to another instance is still rejected.
 *
 * Redis restarts: a Redis that restarts empty would forget every nonce and accept replays of requests
 * still inside their timestamp window. This store keeps an epoch key; when it vanishes (data loss), the
 * store refuses every request (`ERR_NONCE_STORE_UNAVAILABLE`) for `restartQuarantineMs`, the lifetime of
 * any nonce it may have forgotten. Redis down or unreachable also fails closed, at once (no offline queue).
 * (The alternative, AOF with `appendfsync always`, costs a disk sync per request and still loses data
 * if the volume is lost, so the epoch was chosen.)
 *
 * @example
 * ```ts
 * const nonceStore = createRedisNonceStore({ redis: 'redis://127.0.0.1:6379' })
 * const verifier = createOAuth1Verifier({ consumers, nonceStore })
 * ```
 */
export function createRedisNonceStore(options: RedisNonceStoreOptions): NonceStore & { ready(): Promise<void> } {
  const own = !(options.redis instanceof Redis)
  const base: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2000, lazyConnect: false }
  const redis =
    options.redis instanceof Redis
      ? options.redis
      : typeof options.redis === 'string'
        ? new Redis(options.redis, base)
        : new Redis({ ...base, ...options.redis })
  redis.on('error', () => undefined) // surfaced per command as ERR_NONCE_STORE_UNAVAILABLE
  const prefix = options.prefix ?? 'apisign:nonce:'
  const epochKey = `${prefix}__epoch`
  const quarantine = options.restartQuarantineMs ?? 600_000
  const now = options.now ?? Date.now
  const unavailable = (why: string, cause?: unknown) =>
    new ApisignError('ERR_NONCE_STORE_UNAVAILABLE', `nonce store unavailable: ${why}; request refused`, { cause })

  let initialised: Promise<void> | undefined
  let firstStart = options.trustEmptyOnStart === true
  const ready = () => {
    initialised ??= (async () => {
      if (redis.status !== 'ready') {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(unavailable('not connected')), 2000)
          redis.once('ready', () => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
      // A first deployment may declare an empty Redis fresh, once; an empty Redis found after a reconnect
      // is data loss and goes through the quarantine.
      if (firstStart) {
        await redis.set(epochKey, String(now() - quarantine), 'NX')
        firstStart = false
      }
    })()
    return initialised
  }
  return {
    ready,
    async checkAndRecord(key, ttlMs) {
      let result: unknown
      try {
        await ready()
        result = await redis.eval(SCRIPT, 2, epochKey, `${prefix}${key}`, String(ttlMs), String(now()), String(quarantine))
      } catch (cause) {
        initialised = undefined
        throw unavailable('Redis did not answer', cause)
      }
      if (result === -1 || result === -2) throw unavailable('Redis lost its data recently (epoch key missing); refusing for one nonce lifetime')
      return result === 1
    },
    async close() {
      if (own) redis.disconnect()
    },
  }
}
