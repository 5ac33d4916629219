import { Redis, type RedisOptions } from 'ioredis'
import { ApisignError } from '../errors.js'
import { type Duration, durationOption, limitOption } from '../option-values.js'
import type { NonceStore } from '../schemes/nonce-store.js'

/** Options of {@link createRedisNonceStore}. */
export interface RedisNonceStoreOptions {
  /** An ioredis client, or a URL / options to create one (created with fail-fast settings). */
  readonly redis: Redis | string | RedisOptions
  /** Key prefix. Default `apisign:nonce:`. */
  readonly prefix?: string
  /**
   * How long after Redis restarted, failed over or lost its data every request is refused: at least the
   * nonce TTL (2 x the timestamp window), so a request accepted before the loss cannot be replayed after
   * it. Milliseconds or a duration such as `'10m'`. Default 600 s.
   */
  readonly restartQuarantineMs?: Duration
  /**
   * Treat an empty Redis at start-up as fresh (first deployment) instead of as data loss. Default false:
   * fail closed, because a verifier cannot tell the two apart.
   */
  readonly trustEmptyOnStart?: boolean
  /** Clock, ms. Default `Date.now`. */
  readonly now?: () => number
}

// One atomic step: detect any Redis restart or failover, refuse everything during the quarantine that
// follows, otherwise SET NX PX the nonce. The epoch key holds "<run_id> <since ms>": the run_id of the
// Redis process that holds the data, and when the current quarantine started. INFO server's run_id changes
// on every restart and differs on a replica promoted by a failover, while the epoch key may well survive
// (an older RDB snapshot or AOF brings it back, a replica has it replicated) without the recent nonces:
// so a run_id other than the live one means "possibly lost writes" (issue 13 item 2), just as a missing
// epoch key does. Runs as one script so that two verifiers can never both see a nonce as new, and so the
// run_id is checked atomically with the write.
const SCRIPT = `
local info = redis.call('INFO', 'server')
local runid = string.match(info, 'run_id:(%x+)')
if not runid then return -3 end
local epoch = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[2])
local stored, since
if epoch then stored, since = string.match(epoch, '^(%x+) (%-?%d+)$') end
if stored ~= runid then
  redis.call('SET', KEYS[1], runid .. ' ' .. ARGV[2])
  return -1
end
if now - tonumber(since) < tonumber(ARGV[3]) then return -2 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
`
// First deployment with trustEmptyOnStart: an empty Redis is adopted as fresh (quarantine already over).
const ADOPT_EMPTY = `
local info = redis.call('INFO', 'server')
local runid = string.match(info, 'run_id:(%x+)')
if not runid then return -3 end
redis.call('SET', KEYS[1], runid .. ' ' .. ARGV[1], 'NX')
return 1
`

/**
 * A nonce store shared by several verifier instances through Redis (`SET key 1 NX PX ttl`, inside one
 * script), so a replay sent to another instance is still rejected.
 *
 * Redis restarts: a Redis that restarts empty, or from an older RDB snapshot or AOF, or a replica promoted
 * by a failover that lacks the latest writes, has forgotten recent nonces and would accept replays of
 * requests still inside their timestamp window. This store keeps an epoch key holding the `run_id` (from
 * `INFO server`) of the Redis process it was written on, compared with the live `run_id` inside the same
 * script as each write: when it differs or is missing, the store refuses every request
 * (`ERR_NONCE_STORE_UNAVAILABLE`) for `restartQuarantineMs`, the lifetime of any nonce it may have
 * forgotten. So every restart and failover costs one quarantine, whether or not data was lost (a verifier
 * cannot tell). Redis down or unreachable also fails closed, at once (no offline queue). (The alternative,
 * AOF with `appendfsync always`, costs a disk sync per request and still loses data if the volume is lost
 * or a replica takes over, so the epoch was chosen.)
 *
 * @example
 * ```ts
 * const nonceStore = createRedisNonceStore({ redis: 'redis://127.0.0.1:6379' })
 * const verifier = createOAuth1Verifier({ consumers, nonceStore })
 * ```
 */
export function createRedisNonceStore(options: RedisNonceStoreOptions): NonceStore & { ready(): Promise<void> } {
  // Options first: a bad one must fail before a connection is opened.
  const quarantine = durationOption(options.restartQuarantineMs, 'restartQuarantineMs', 600_000, { unit: 'ms' })
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
        await redis.eval(ADOPT_EMPTY, 1, epochKey, String(Math.floor(now() - quarantine)))
        firstStart = false
      }
    })()
    return initialised
  }
  return {
    ready,
    async checkAndRecord(key, ttlMs) {
      limitOption(ttlMs ?? Number.NaN, 'ttlMs', 0, { positive: true })
      let result: unknown
      try {
        await ready()
        result = await redis.eval(SCRIPT, 2, epochKey, `${prefix}${key}`, String(Math.ceil(ttlMs)), String(Math.floor(now())), String(quarantine))
      } catch (cause) {
        initialised = undefined
        throw unavailable('Redis did not answer', cause)
      }
      if (result === -3) throw unavailable('Redis INFO server has no run_id')
      if (result === -1 || result === -2) throw unavailable('Redis restarted, failed over or lost its data recently; refusing for one nonce lifetime')
      return result === 1
    },
    async close() {
      if (own) redis.disconnect()
    },
  }
}
