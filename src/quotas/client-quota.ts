// The client side of a partner's quota: checked before a request is signed, shared by a fleet on Redis,
// paused fleet-wide by a 429 + Retry-After (issue 18, item 1).
import { ApisignError } from '../errors.js'
import { PauseFlag, WindowLimiter, type WindowState } from './limiter.js'
import { type QuotaWindowSpec, type RedisConnection, connectRedis, firstConnection, nonNegativeInteger, parseWindows, positiveInteger } from './windows.js'

/** `createClient({ rateLimit })` and a profile's `rateLimit`: the partner's quota for this key. */
export interface RateLimitOptions {
  /** The windows of the key's quota, e.g. `['5/1s', '5000/1d']` or `[{ requests: 180, per: '15m' }]`. */
  readonly windows: readonly QuotaWindowSpec[] | string
  /**
   * Extra windows per operation, by `"METHOD /path"` below the base URL (`{param}` matches one segment),
   * e.g. `{ "POST /payments": ["1/1s"] }`. They count on top of the key's windows.
   */
  readonly operations?: Readonly<Record<string, readonly QuotaWindowSpec[] | string>>
  /** The key the quota belongs to. Default: the auth's consumer key / API key / user, else the origin. */
  readonly key?: string
  /** Count on Redis so a fleet sharing the key shares the quota. Default: in this process only. */
  readonly redis?: RedisConnection
  /** Redis key prefix. Default `apisign:quota`. */
  readonly keyPrefix?: string
  /**
   * Added to each window's length, ms, so that this side's window never ends before the partner's (its
   * clock starts when our first call arrives). Default 50.
   */
  readonly marginMs?: number
  /** Waiting calls (per client): at most `maxWaiting` (default 1000), each at most `maxWaitMs` (default 30 s). */
  readonly queue?: { readonly maxWaiting?: number; readonly maxWaitMs?: number }
  /**
   * Redis down or unreachable: `'fail-closed'` (the default) refuses calls with
   * `ERR_QUOTA_STORE_UNAVAILABLE`, so the fleet can never exceed the partner's quota; `'local'` counts in
   * memory with a `1/fleetSize` share of each window, so the fleet stays within the quota while Redis is down
   * (plus what was counted on Redis in the window it died).
   */
  readonly onRedisDown?: 'fail-closed' | 'local'
  /** Instances sharing the key (needed with `onRedisDown: 'local'`). */
  readonly fleetSize?: number
  /** Longest `Retry-After` pause honoured, ms. Default 60 s. */
  readonly maxPauseMs?: number
  /** Clock, ms (the time an `ERR_RATE_LIMITED` says a window frees). Default `Date.now`. */
  readonly now?: () => number
}

/** What the quota needs to know about a request. */
export interface QuotaRequest {
  readonly method: string
  readonly url: URL
}

/** A client's quota: one call before signing, one on a 429. */
export interface ClientQuota {
  /** The key counted. */
  readonly key: string
  /** Wait (queued, bounded) until every window has room, then count the call. Throws `ERR_RATE_LIMITED` past the deadline. */
  acquire(request: QuotaRequest, baseURL?: URL): Promise<void>
  /** A 429: pause every instance sharing the key for `retryAfterMs` (capped at `maxPauseMs`). */
  rateLimited(retryAfterMs: number | undefined): Promise<void>
  /** How full the key's windows are (no call counted). */
  state(): Promise<WindowState[]>
  /** Close apisign's Redis connection (a client you passed is duplicated, never closed). */
  close(): Promise<void>
}

interface Waiter {
  readonly request: QuotaRequest
  readonly baseURL: URL | undefined
  readonly deadline: number
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
  timer?: NodeJS.Timeout
  settled: boolean
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function operationMatcher(spec: string): { method: string; pattern: RegExp } {
  const m = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(spec)
  if (m === null) throw new TypeError(`rateLimit.operations: ${JSON.stringify(spec.slice(0, 60))} must look like "POST /payments"`)
  const path = (m[2] as string).replace(/\/$/, '') || '/'
  const source = path.replace(/[.*+?^${}()|[\]\\]/g, (c) => (c === '{' || c === '}' ? c : `\\${c}`)).replace(/\{[^}]+\}/g, '[^/]+')
  return { method: (m[1] as string).toUpperCase(), pattern: new RegExp(`^${source}/?$`) }
}

/**
 * The error for a full window: which one, and when it frees (in the message and in `details`).
 *
 * @example
 * ```ts
 * throw rateLimitedError(result.full, 'partner-key', Date.now(), 'not waiting')
 * ```
 */
export function rateLimitedError(full: WindowState, key: string, now: number, why: string): ApisignError {
  const freesAt = now + full.resetsInMs
  return new ApisignError(
    'ERR_RATE_LIMITED',
    `quota window ${full.window.label} for ${key} is full (${full.used}/${full.window.requests}); it frees in ${full.resetsInMs} ms (${new Date(freesAt).toISOString()}); ${why}`,
    { details: { window: full.window.label, requests: full.window.requests, perMs: full.window.perMs, freesInMs: full.resetsInMs, freesAt } },
  )
}

/**
 * A partner quota for one key: several windows (per second, per 15 minutes, per day...), optionally more
 * per operation, enforced before signing, in memory or shared on Redis by a fleet; a 429 with
 * `Retry-After` pauses every instance. Calls wait in a bounded queue with a deadline, then fail with
 * `ERR_RATE_LIMITED` naming the full window and when it frees.
 *
 * @example
 * ```ts
 * const quota = createQuota({ windows: ['5/1s', '5000/1d'], redis: 'redis://127.0.0.1:6379' }, 'partner-key')
 * await quota.acquire({ method: 'GET', url: new URL('https://api.example.com/v1/users') })
 * ```
 */
export function createQuota(options: RateLimitOptions, defaultKey?: string): ClientQuota {
  return buildQuota(options, defaultKey, false)
}

/**
 * Check `rateLimit` options without connecting anywhere (profiles call it at load): every window, bound
 * and choice, as createQuota would.
 *
 * @example
 * ```ts
 * validateRateLimit({ windows: ['5/1s', '5000/1d'], onRedisDown: 'local' }) // throws TypeError on a NaN, a typo, a missing fleetSize
 * ```
 */
export function validateRateLimit(options: RateLimitOptions, defaultKey = 'key'): void {
  resolveOptions(options, defaultKey)
}

function resolveOptions(options: RateLimitOptions, defaultKey: string | undefined) {
  if (options === null || typeof options !== 'object') throw new TypeError('rateLimit must be an object such as { windows: ["5/1s"] }')
  const windows = parseWindows(options.windows, 'rateLimit.windows')
  const given = options.key ?? defaultKey
  if (typeof given !== 'string' || given === '') throw new TypeError('rateLimit.key must be a non-empty string')
  const key: string = given
  const marginMs = nonNegativeInteger(options.marginMs ?? 50, 'rateLimit.marginMs')
  const maxWaiting = positiveInteger(options.queue?.maxWaiting ?? 1000, 'rateLimit.queue.maxWaiting')
  const maxWaitMs = nonNegativeInteger(options.queue?.maxWaitMs ?? 30_000, 'rateLimit.queue.maxWaitMs')
  const maxPauseMs = positiveInteger(options.maxPauseMs ?? 60_000, 'rateLimit.maxPauseMs')
  const onRedisDown = options.onRedisDown ?? 'fail-closed'
  if (onRedisDown !== 'fail-closed' && onRedisDown !== 'local') throw new TypeError('rateLimit.onRedisDown must be "fail-closed" or "local"')
  const fleetSize = options.fleetSize === undefined ? undefined : positiveInteger(options.fleetSize, 'rateLimit.fleetSize')
  if (onRedisDown === 'local' && options.redis !== undefined && fleetSize === undefined) throw new TypeError('rateLimit.onRedisDown "local" needs fleetSize (each instance then takes 1/fleetSize of every window)')
  const prefix = options.keyPrefix ?? 'apisign:quota'
  if (typeof prefix !== 'string' || prefix === '') throw new TypeError('rateLimit.keyPrefix must be a non-empty string')
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('rateLimit.now must be a function')
  const operations = Object.entries(options.operations ?? {}).map(([spec, list]) => ({ ...operationMatcher(spec), spec, windows: parseWindows(list, `rateLimit.operations[${JSON.stringify(spec)}]`) }))
  if (options.redis !== undefined) {
    if (typeof options.redis === 'string') {
      try {
        new URL(options.redis)
      } catch {
        throw new TypeError('rateLimit.redis must be an ioredis client, a redis:// URL or ioredis options')
      }
    }
    for (const w of [...windows, ...operations.flatMap((o) => o.windows)]) {
      // rate-limiter-flexible's Redis store keeps whole seconds for shorter windows (no expiry at all below 1 s).
      if (w.perMs < 1000) throw new TypeError(`rateLimit window ${w.label}: windows on Redis must be at least 1s`)
    }
  }
  return { windows, key, marginMs, maxWaiting, maxWaitMs, maxPauseMs, onRedisDown, fleetSize, prefix, now, operations }
}

/** createQuota, for createClient: a Redis connection it opens from a URL never holds the process open. */
export function buildQuota(options: RateLimitOptions, defaultKey: string | undefined, unrefRedis: boolean): ClientQuota {
  const { windows, key, marginMs, maxWaiting, maxWaitMs, maxPauseMs, onRedisDown, fleetSize, prefix, now, operations } = resolveOptions(options, defaultKey)
  const connection = options.redis === undefined ? undefined : connectRedis(options.redis, unrefRedis)
  const redis = connection?.redis
  const connected = redis === undefined ? async () => undefined : firstConnection(redis)
  const localShare = onRedisDown === 'local' ? 1 / (fleetSize ?? 1) : undefined
  const shared = { marginMs, ...(redis === undefined ? {} : { redis }), ...(localShare === undefined ? {} : { localShare }) }
  const keyLimiter = new WindowLimiter({ windows, keyPrefix: `${prefix}:key`, ...shared })
  const opLimiters = operations.map((o) => ({ ...o, limiter: new WindowLimiter({ windows: o.windows, keyPrefix: `${prefix}:op`, ...shared }) }))
  // Pause notices arrive on a connection of their own (a subscribed connection can do nothing else).
  const subscription = options.redis === undefined ? undefined : connectRedis(options.redis, unrefRedis)
  const pauseFlag = new PauseFlag({
    keyPrefix: `${prefix}:pause`,
    ...(redis === undefined ? {} : { redis }),
    ...(subscription === undefined ? {} : { subscriber: subscription.redis }),
    local: onRedisDown === 'local',
    now,
  })
  let localPauseUntil = 0

  const storeDown = (cause: unknown) =>
    new ApisignError('ERR_QUOTA_STORE_UNAVAILABLE', `the quota store (Redis) is unavailable; call refused (rateLimit.onRedisDown: ${onRedisDown})`, { cause })
  const operationOf = (request: QuotaRequest, baseURL: URL | undefined) => {
    if (opLimiters.length === 0) return undefined
    const basePath = (baseURL?.pathname ?? '').replace(/\/$/, '')
    const path = basePath !== '' && request.url.pathname.startsWith(basePath) ? request.url.pathname.slice(basePath.length) || '/' : request.url.pathname
    const method = request.method.toUpperCase()
    return opLimiters.find((o) => o.method === method && o.pattern.test(path))
  }

  // One waiter at a time polls the store (FIFO per client): a queue of 1000 waiting calls costs one Redis
  // round trip per wake-up, not a thousand.
  const queue: Waiter[] = []
  let pumping = false
  let lastFull: WindowState | undefined

  const settle = (w: Waiter, error?: unknown) => {
    if (w.settled) return
    w.settled = true
    if (w.timer !== undefined) clearTimeout(w.timer)
    if (error === undefined) w.resolve()
    else w.reject(error)
  }
  const expired = (full: WindowState | undefined) =>
    full === undefined
      ? new ApisignError('ERR_RATE_LIMITED', `${key} is paused after a 429 past this call's deadline (${maxWaitMs} ms)`, { details: { freesInMs: Math.max(0, localPauseUntil - now()) } })
      : rateLimitedError(full, key, now(), `waited past the deadline (rateLimit.queue.maxWaitMs ${maxWaitMs})`)

  async function serve(w: Waiter): Promise<void> {
    if (w.settled) return // its deadline passed while queued
    await connected()
    const op = operationOf(w.request, w.baseURL)
    for (;;) {
      // The pause is known locally (announced on Redis); only the windows cost a round trip.
      let paused: number
      try {
        paused = Math.max(localPauseUntil - now(), pauseFlag.knownRemainingMs(key) ?? (await pauseFlag.remainingMs(key)))
      } catch (cause) {
        throw storeDown(cause)
      }
      if (paused > 0) {
        if (now() + paused > w.deadline) throw expired(undefined)
        await sleep(paused)
        continue
      }
      let result: Awaited<ReturnType<WindowLimiter['consume']>>
      try {
        const [keyResult, opResult] = op === undefined ? [await keyLimiter.consume(key), undefined] : await Promise.all([keyLimiter.consume(key), op.limiter.consume(`${key}:${op.spec}`)])
        result = !keyResult.ok ? keyResult : opResult !== undefined && !opResult.ok ? opResult : keyResult
        if (!result.ok) {
          // Give back what the other side counted: a refused call costs nothing outside the full window.
          if (keyResult.ok) await keyLimiter.refund(key)
          if (op !== undefined && opResult?.ok === true) await op.limiter.refund(`${key}:${op.spec}`)
        }
      } catch (cause) {
        throw storeDown(cause)
      }
      if (result.ok) return
      lastFull = result.full
      if (now() + result.full.resetsInMs > w.deadline) throw rateLimitedError(result.full, key, now(), maxWaitMs === 0 ? 'not waiting (rateLimit.queue.maxWaitMs 0)' : `it would wait past the deadline (rateLimit.queue.maxWaitMs ${maxWaitMs})`)
      // A few ms after the reset, so the store has expired the window when we ask again.
      await sleep(result.full.resetsInMs + 2)
    }
  }

  async function pump(): Promise<void> {
    if (pumping) return
    pumping = true
    try {
      while (queue.length > 0) {
        const w = queue[0] as Waiter
        // At the head its own deadline is enforced by serve(): it never sleeps past it.
        if (w.timer !== undefined) clearTimeout(w.timer)
        try {
          await serve(w)
          settle(w)
        } catch (error) {
          settle(w, error)
        }
        queue.shift()
      }
    } finally {
      pumping = false
    }
  }

  return {
    key,
    acquire(request, baseURL) {
      return new Promise<void>((resolve, reject) => {
        if (queue.length >= maxWaiting) {
          reject(
            lastFull === undefined
              ? new ApisignError('ERR_RATE_LIMITED', `${maxWaiting} calls are already waiting for ${key}'s quota (rateLimit.queue.maxWaiting)`)
              : rateLimitedError(lastFull, key, now(), `${maxWaiting} calls are already waiting (rateLimit.queue.maxWaiting)`),
          )
          return
        }
        const w: Waiter = { request, baseURL, deadline: now() + maxWaitMs, resolve, reject, settled: false }
        if (queue.length > 0) {
          // Behind others: give up at the deadline even if the one being served is still waiting.
          w.timer = setTimeout(() => {
            const i = queue.indexOf(w)
            if (i > 0) queue.splice(i, 1)
            settle(w, expired(lastFull))
          }, maxWaitMs)
          w.timer.unref?.()
        }
        queue.push(w)
        void pump()
      })
    },
    async rateLimited(retryAfterMs) {
      if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs) || retryAfterMs <= 0) return
      const ms = Math.min(retryAfterMs, maxPauseMs)
      localPauseUntil = Math.max(localPauseUntil, now() + ms)
      try {
        await connected()
        await pauseFlag.pause(key, ms)
      } catch {
        // Redis down: this instance still pauses (localPauseUntil); the others learn from their own 429.
      }
    },
    async state() {
      try {
        await connected()
        return await keyLimiter.peek(key)
      } catch (cause) {
        throw storeDown(cause)
      }
    },
    async close() {
      if (connection?.own === true) connection.redis.disconnect()
      subscription?.redis.disconnect()
    },
  }
}

/**
 * The key a client's quota counts under when `rateLimit.key` is not given: the auth's consumer key, API
 * key id or user name (never a secret or an API key value) at the partner's host, else the host alone.
 *
 * @example
 * ```ts
 * defaultQuotaKey({ scheme: 'oauth1', consumerKey: 'ck!abc' }, new URL('https://api.example.com')) // 'ck!abc@api.example.com'
 * ```
 */
export function defaultQuotaKey(auth: unknown, baseURL: URL): string {
  const a = (auth ?? {}) as Record<string, unknown>
  const id = [a['consumerKey'], a['apiKey'], a['username']].find((v): v is string => typeof v === 'string' && v !== '')
  return id === undefined ? baseURL.host : `${id}@${baseURL.host}`
}

/** Whether `value` is a ready {@link ClientQuota} (shared by several clients) rather than options. */
export const isClientQuota = (value: unknown): value is ClientQuota => typeof (value as ClientQuota | undefined)?.acquire === 'function'
