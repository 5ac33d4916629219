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
   * Added to each window's length, ms. Each window is also anchored to the answer of the call that opened
   * it (it ends no earlier than that answer plus the window: the partner's window began before it), so
   * network delay and a busy event loop never make our window end before the partner's; the margin covers
   * the rest (the partner counting a little after it answers, clock granularity). Default 25.
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

/** What `acquire` hands back, for `responded`: which windows the call opened. Opaque. */
export interface QuotaTicket {
  readonly keyOpened?: readonly number[]
}

interface Ticket extends QuotaTicket {
  readonly keyOpened: readonly number[]
  readonly opOpened: readonly number[]
  readonly op: WindowLimiter | undefined
  readonly opKey: string
}

const NO_TICKET: QuotaTicket = {}

/** A client's quota: one call before signing, one when the answer arrives. */
export interface ClientQuota {
  /** The key counted. */
  readonly key: string
  /** Wait (queued, bounded) until every window has room, then count the call. Throws `ERR_RATE_LIMITED` past the deadline. */
  acquire(request: QuotaRequest, baseURL?: URL): Promise<QuotaTicket>
  /**
   * The answer to an acquired call arrived: a window this call opened is made to end no earlier than now
   * plus its length (the partner's window began before now, whatever the network delay), and a 429 pauses
   * the key (`rateLimited`).
   */
  responded(ticket: QuotaTicket, status: number, retryAfterMs: number | undefined): Promise<void>
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
  readonly resolve: (ticket: QuotaTicket) => void
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
  const marginMs = nonNegativeInteger(options.marginMs ?? 25, 'rateLimit.marginMs')
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
  // PauseFlag subscribes itself on every 'ready'; ioredis's own auto-resubscribe would run with the offline
  // queue off and reject unhandled whenever Redis comes back (seen when a test restarts redis-server).
  const subscription = options.redis === undefined ? undefined : connectRedis(options.redis, unrefRedis, { autoResubscribe: false })
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
  // In memory: when each window may open again at the earliest (see responded()).
  const holds = new Map<string, number>()

  const settle = (w: Waiter, error?: unknown, ticket: QuotaTicket = NO_TICKET) => {
    if (w.settled) return
    w.settled = true
    if (w.timer !== undefined) clearTimeout(w.timer)
    if (error === undefined) w.resolve(ticket)
    else w.reject(error)
  }
  const expired = (full: WindowState | undefined) =>
    full === undefined
      ? new ApisignError('ERR_RATE_LIMITED', `${key} is paused after a 429 past this call's deadline (${maxWaitMs} ms)`, { details: { freesInMs: Math.max(0, localPauseUntil - now()) } })
      : rateLimitedError(full, key, now(), `waited past the deadline (rateLimit.queue.maxWaitMs ${maxWaitMs})`)

  async function serve(w: Waiter): Promise<QuotaTicket> {
    if (w.settled) return NO_TICKET // its deadline passed while queued
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
      let ticket: Ticket | undefined
      let holdMs = 0
      try {
        const opKey = op === undefined ? '' : `${key}:${op.spec}`
        const [keyResult, opResult] = op === undefined ? [await keyLimiter.consume(key), undefined] : await Promise.all([keyLimiter.consume(key), op.limiter.consume(opKey)])
        result = !keyResult.ok ? keyResult : opResult !== undefined && !opResult.ok ? opResult : keyResult
        if (!result.ok) {
          // Give back what the other side counted: a refused call costs nothing outside the full window.
          if (keyResult.ok) await keyLimiter.refund(key)
          if (op !== undefined && opResult?.ok === true) await op.limiter.refund(opKey)
        } else {
          const opened = (r: typeof keyResult) => (r.ok ? r.states.flatMap((st, i) => (st.first === true ? [i] : [])) : [])
          ticket = { keyOpened: opened(keyResult), opOpened: opResult === undefined ? [] : opened(opResult), op: op?.limiter, opKey }
          // In memory: a window opened before its anchor (the answer to the previous window's first call,
          // plus the window) opened too early; forget it and wait for the anchor.
          const t = now()
          const earlyKey = ticket.keyOpened.filter((i) => (holds.get(`k${i}`) ?? 0) > t)
          const earlyOp = ticket.opOpened.filter((i) => (holds.get(`${opKey}#${i}`) ?? 0) > t)
          if (earlyKey.length > 0 || earlyOp.length > 0) {
            holdMs = Math.max(...earlyKey.map((i) => (holds.get(`k${i}`) as number) - t), ...earlyOp.map((i) => (holds.get(`${opKey}#${i}`) as number) - t))
            await Promise.all([...earlyKey.map((i) => keyLimiter.restart(key, i)), keyLimiter.refund(key, earlyKey)])
            if (op !== undefined) await Promise.all([...earlyOp.map((i) => op.limiter.restart(opKey, i)), op.limiter.refund(opKey, earlyOp)])
          }
        }
      } catch (cause) {
        throw storeDown(cause)
      }
      if (result.ok && holdMs === 0) return ticket as Ticket
      if (result.ok) {
        if (now() + holdMs > w.deadline) throw rateLimitedError({ ...result.states[0], resetsInMs: holdMs } as WindowState, key, now(), `it would wait past the deadline (rateLimit.queue.maxWaitMs ${maxWaitMs})`)
        await sleep(holdMs)
        continue
      }
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
          settle(w, undefined, await serve(w))
        } catch (error) {
          settle(w, error)
        }
        queue.shift()
      }
    } finally {
      pumping = false
    }
  }

  async function rateLimited(retryAfterMs: number | undefined): Promise<void> {
    if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs) || retryAfterMs <= 0) return
    const ms = Math.min(retryAfterMs, maxPauseMs)
    localPauseUntil = Math.max(localPauseUntil, now() + ms)
    try {
      await connected()
      await pauseFlag.pause(key, ms)
    } catch {
      // Redis down: this instance still pauses (localPauseUntil); the others learn from their own 429.
    }
  }

  return {
    key,
    acquire(request, baseURL) {
      return new Promise<QuotaTicket>((resolve, reject) => {
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
    async responded(ticket, status, retryAfterMs) {
      const t = ticket as Ticket
      if (t.keyOpened !== undefined) {
        // The partner's window began before this answer came back: ours must not end before this instant
        // plus the window (shared on Redis; in memory a hold the next window waits for).
        const at = now()
        for (const i of t.keyOpened) {
          if (keyLimiter.shared) void keyLimiter.extend(key, i)
          else holds.set(`k${i}`, at + (windows[i] as { perMs: number }).perMs + marginMs)
        }
        for (const i of t.opOpened) {
          if (t.op?.shared === true) void t.op.extend(t.opKey, i)
          else if (t.op !== undefined) holds.set(`${t.opKey}#${i}`, at + (t.op.windows[i] as { perMs: number }).perMs + marginMs)
        }
      }
      if (status === 429) await rateLimited(retryAfterMs)
    },
    rateLimited,
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

/**
 * `Retry-After` in milliseconds (RFC 9110 §10.2.3): delta-seconds or an HTTP-date against `now`.
 *
 * @example
 * ```ts
 * parseRetryAfterMs('3', Date.now()) // 3000
 * ```
 */
export function parseRetryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
