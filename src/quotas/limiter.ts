// Several windows over one key, through rate-limiter-flexible (one fixed-window limiter per window, in
// memory or as the library's atomic Redis script). A call is allowed only when every window has room: the
// windows are consumed shortest first, and when one refuses, the points already taken from the others are
// given back (`reward`), so a refused call never eats into the day's quota.
import type { Redis } from 'ioredis'
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import type { QuotaWindow } from './windows.js'

/** How full one window is for one key. */
export interface WindowState {
  readonly window: QuotaWindow
  /** Calls counted in the current window (a refused call counts in the window that refused it). */
  readonly used: number
  readonly remaining: number
  /** Milliseconds until the window resets (0 when nothing is counted). */
  readonly resetsInMs: number
  /** This call opened the window (the first counted in it). */
  readonly first?: boolean
}

/** The outcome of one consume: allowed, or the first window that is full. */
export type ConsumeResult = { readonly ok: true; readonly states: readonly WindowState[] } | { readonly ok: false; readonly full: WindowState }

/** Options of {@link WindowLimiter}. */
export interface WindowLimiterOptions {
  readonly windows: readonly QuotaWindow[]
  /** Shared counters on Redis; default in memory. */
  readonly redis?: Redis
  readonly keyPrefix: string
  /** Added to every window's length (the client's safety margin against the partner's clock). Default 0. */
  readonly marginMs?: number
  /**
   * Redis down: count in memory with this share of each window instead (`1/fleetSize`), rate-limiter-
   * flexible's `insuranceLimiter`. Absent: a Redis error is thrown (fail closed).
   */
  readonly localShare?: number
}

// The library's own script with PEXPIRE instead of EXPIRE: it sets whole seconds (`EX floor(ms/1000)`),
// and a 1.05 s window (1 s plus the client's margin) must stay 1.05 s. ARGV[4] is the limiter's duration
// in seconds, fractional. Same keys, same reply shape ({consumed, pttl}).
const INCR_PTTL_MS = `local ms = math.floor(tonumber(ARGV[4]) * 1000 + 0.5)
redis.call('set', KEYS[1], 0, 'PX', ms, 'NX')
local consumed = redis.call('incrby', KEYS[1], ARGV[1])
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('pexpire', KEYS[1], ms)
  ttl = ms
end
return {consumed, ttl}`

const isRes = (value: unknown): value is RateLimiterRes => value instanceof RateLimiterRes

function stateOf(window: QuotaWindow, res: RateLimiterRes | null, points: number): WindowState {
  if (res === null) return { window, used: 0, remaining: points, resetsInMs: 0 }
  return { window, used: res.consumedPoints, remaining: Math.max(0, points - res.consumedPoints), resetsInMs: Math.max(0, res.msBeforeNext), ...(res.isFirstInDuration ? { first: true } : {}) }
}

/**
 * Several fixed windows over the same keys (e.g. 5/1s and 5000/1d per API key), in memory or on Redis.
 *
 * @example
 * ```ts
 * const limiter = new WindowLimiter({ windows: parseWindows(['5/1s', '5000/1d']), keyPrefix: 'apisign:quota' })
 * const result = await limiter.consume('partner-key')
 * if (!result.ok) console.log(`${result.full.window.label} frees in ${result.full.resetsInMs} ms`)
 * ```
 */
export class WindowLimiter {
  /** The windows, shortest first. */
  readonly windows: readonly QuotaWindow[]
  readonly #limiters: ReadonlyArray<{ window: QuotaWindow; limiter: RateLimiterAbstract }>
  readonly #redis: Redis | undefined
  readonly #margin: number

  constructor(options: WindowLimiterOptions) {
    const margin = options.marginMs ?? 0
    this.#margin = margin
    this.#redis = options.redis
    this.windows = options.windows
    this.#limiters = options.windows.map((window) => {
      const duration = (window.perMs + margin) / 1000
      const keyPrefix = `${options.keyPrefix}:${window.perMs}`
      if (options.redis === undefined) return { window, limiter: new RateLimiterMemory({ points: window.requests, duration, keyPrefix }) }
      const share = options.localShare
      const insuranceLimiter =
        share === undefined ? undefined : new RateLimiterMemory({ points: Math.max(1, Math.floor(window.requests * share)), duration, keyPrefix: `${keyPrefix}:local` })
      const limiter = new RateLimiterRedis({
        storeClient: options.redis,
        points: window.requests,
        duration,
        keyPrefix,
        // Disconnected: refuse (or go local) at once instead of waiting on a reconnect.
        rejectIfRedisNotReady: true,
        customIncrTtlLuaScript: INCR_PTTL_MS,
        ...(insuranceLimiter === undefined ? {} : { insuranceLimiter }),
      })
      return { window, limiter }
    })
  }

  /**
   * Take one call from every window, or none: the first full window (shortest first) is reported. The
   * windows are asked at once (one round trip to Redis, however many windows); when one refuses, the
   * others are given their point back. Throws when the store fails.
   */
  async consume(key: string): Promise<ConsumeResult> {
    const settled = await Promise.allSettled(this.#limiters.map(({ limiter }) => limiter.consume(key, 1)))
    if (settled.every((r) => r.status === 'fulfilled')) {
      return { ok: true, states: settled.map((r, i) => stateOf((this.#limiters[i] as { window: QuotaWindow }).window, (r as PromiseFulfilledResult<RateLimiterRes>).value, this.windows[i]?.requests ?? 0)) }
    }
    // Give back what the other windows counted: a refused call costs nothing outside the full window.
    await Promise.all(settled.map((r, i) => (r.status === 'fulfilled' ? (this.#limiters[i] as { limiter: RateLimiterAbstract }).limiter.reward(key, 1).catch(() => undefined) : undefined)))
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !isRes(r.reason))
    if (failed !== undefined) throw failed.reason
    const i = settled.findIndex((r) => r.status === 'rejected')
    const { window } = this.#limiters[i] as { window: QuotaWindow }
    return { ok: false, full: stateOf(window, (settled[i] as PromiseRejectedResult).reason as RateLimiterRes, window.requests) }
  }

  /**
   * On Redis: make window `index` of `key` last at least its length (plus margin) from now, never shorter
   * (PEXPIRE ... GT, Redis 7; older servers refuse it and the window keeps its length). Called when the
   * answer to the call that opened the window arrives: the partner's window began before that instant.
   */
  async extend(key: string, index: number): Promise<void> {
    const entry = this.#limiters[index]
    if (entry === undefined || this.#redis === undefined) return
    await this.#redis.pexpire(entry.limiter.getKey(key), entry.window.perMs + this.#margin, 'GT').catch(() => undefined)
  }

  /** In memory: forget window `index` of `key` (a window opened too early, before its anchor; one process serves it alone). */
  async restart(key: string, index: number): Promise<void> {
    const entry = this.#limiters[index]
    if (entry === undefined || this.#redis !== undefined) return
    await entry.limiter.delete(key)
  }

  /** Whether the windows are shared on Redis. */
  get shared(): boolean {
    return this.#redis !== undefined
  }

  /** Give one call back to every window but `except` (a call that was counted but never sent). */
  async refund(key: string, except: readonly number[] = []): Promise<void> {
    await Promise.all(this.#limiters.map(({ limiter }, i) => (except.includes(i) ? undefined : limiter.reward(key, 1).catch(() => undefined))))
  }

  /** How full each window is, without counting anything. Throws when the store fails. */
  async peek(key: string): Promise<WindowState[]> {
    return Promise.all(this.#limiters.map(async ({ window, limiter }) => stateOf(window, await limiter.get(key), window.requests)))
  }
}

/** Options of {@link PauseFlag}. */
export interface PauseFlagOptions {
  readonly redis?: Redis
  /** A second connection for the pause notices (subscribe mode needs a connection of its own). */
  readonly subscriber?: Redis
  readonly keyPrefix: string
  /** Redis down: keep the pause in memory (true) or throw (false, fail closed). */
  readonly local?: boolean
  readonly now?: () => number
}

/**
 * A per-key "paused until" flag, shared on Redis so that a 429 seen by one instance pauses the fleet. The
 * flag itself is rate-limiter-flexible's `block` (SET with an expiry) over a one-point limiter, read once
 * per key and after every reconnect; a pause set anywhere is announced on a Redis channel, so checking it
 * before a call costs no round trip.
 *
 * @example
 * ```ts
 * const pause = new PauseFlag({ keyPrefix: 'apisign:pause' })
 * await pause.pause('partner-key', 2000)
 * await pause.remainingMs('partner-key') // about 2000
 * ```
 */
export class PauseFlag {
  readonly #limiter: RateLimiterAbstract | undefined
  readonly #redis: Redis | undefined
  readonly #channel: string
  readonly #until = new Map<string, number>()
  readonly #fresh = new Set<string>()
  readonly #now: () => number

  constructor(options: PauseFlagOptions) {
    const keyPrefix = options.keyPrefix
    this.#now = options.now ?? Date.now
    this.#channel = `${keyPrefix}:notices`
    this.#redis = options.redis
    this.#limiter =
      options.redis === undefined
        ? undefined
        : new RateLimiterRedis({
            storeClient: options.redis,
            points: 1,
            duration: 1,
            keyPrefix,
            rejectIfRedisNotReady: true,
            // Every limiter on a client must define the same script: the library registers it under one
            // command name per client, and the last definition wins.
            customIncrTtlLuaScript: INCR_PTTL_MS,
            ...(options.local === true ? { insuranceLimiter: new RateLimiterMemory({ points: 1, duration: 1, keyPrefix: `${keyPrefix}:local` }) } : {}),
          })
    const sub = options.subscriber
    if (sub !== undefined) {
      sub.on('message', (channel: string, text: string) => {
        if (channel !== this.#channel) return
        try {
          const { key, ms } = JSON.parse(text) as { key: unknown; ms: unknown }
          if (typeof key === 'string' && typeof ms === 'number' && Number.isFinite(ms)) this.#extend(key, ms)
        } catch {
          // not ours
        }
      })
      // Subscribed on every (re)connection; what was announced while disconnected is read again.
      sub.on('ready', () => {
        this.#fresh.clear()
        sub.subscribe(this.#channel).catch(() => undefined)
      })
      if (sub.status === 'ready') sub.subscribe(this.#channel).catch(() => undefined)
    }
  }

  #extend(key: string, ms: number) {
    this.#until.set(key, Math.max(this.#until.get(key) ?? 0, this.#now() + ms))
  }

  /**
   * Pause `key` for `ms` everywhere: here at once, on Redis rounded up to whole seconds (`block` sets
   * whole seconds, and Retry-After is delta-seconds anyway), and announced to the other instances.
   */
  async pause(key: string, ms: number): Promise<void> {
    this.#extend(key, ms)
    if (this.#limiter === undefined || this.#redis === undefined) return
    const seconds = Math.max(1, Math.ceil(ms / 1000))
    const limiter = this.#limiter
    // The notice first (what the other instances act on), the flag (for instances that join later) alongside.
    await Promise.all([
      this.#redis.publish(this.#channel, JSON.stringify({ key, ms })),
      limiter.get(key).then((current) => (current === null || current.consumedPoints <= 1 || current.msBeforeNext < seconds * 1000 ? limiter.block(key, seconds) : undefined)),
    ])
  }

  /** The pause known without asking Redis (undefined: not read yet for this key, or since a reconnect). */
  knownRemainingMs(key: string): number | undefined {
    if (this.#limiter !== undefined && !this.#fresh.has(key)) return undefined
    return Math.max(0, (this.#until.get(key) ?? 0) - this.#now())
  }

  /** Milliseconds the key stays paused (0: not paused). Reads Redis only the first time per key and after a reconnect. */
  async remainingMs(key: string): Promise<number> {
    if (this.#limiter !== undefined && !this.#fresh.has(key)) {
      const res = await this.#limiter.get(key)
      if (res !== null && res.consumedPoints > 1 && res.msBeforeNext > 0) this.#extend(key, res.msBeforeNext)
      this.#fresh.add(key)
    }
    return Math.max(0, (this.#until.get(key) ?? 0) - this.#now())
  }
}
