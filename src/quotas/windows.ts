// Quota windows as partners publish them ("5 calls per second or 5,000 per day", "180 per 15 minutes"):
// parsed and validated once, when the limiter is built, so a NaN or a typo never disables a check.
import { Redis, type RedisOptions } from 'ioredis'
import { parseDuration } from '../option-values.js'

/**
 * One quota window: at most `requests` calls per `perMs` milliseconds (or per `per`, e.g. `'1s'`, `'15m'`,
 * `'1d'`). A string `'5/1s'` means the same.
 */
export type QuotaWindowSpec = { readonly requests: number; readonly perMs: number } | { readonly requests: number; readonly per: string } | string

/** A validated window. */
export interface QuotaWindow {
  readonly requests: number
  readonly perMs: number
  /** `5/1s`: how the window is named in errors, headers and usage. */
  readonly label: string
}

// The one duration grammar of apisign (src/option-values.ts), narrowed to what a window can be: a whole,
// positive number of milliseconds.
function windowDuration(text: string, what: string): number {
  const ms = parseDuration(text, what)
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new TypeError(`${what} must be a positive whole number of milliseconds such as "1s", "15m" or "1d"`)
  return ms
}

const human = (ms: number): string => {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`
  return `${ms}ms`
}

/** A positive integer option, or a TypeError naming it (NaN, Infinity, 1.5, -1, '5' are all refused). */
export function positiveInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${what} must be a positive integer`)
  return value
}

/** A non-negative integer option (0 allowed). */
export function nonNegativeInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new TypeError(`${what} must be a non-negative integer`)
  return value
}

/**
 * Validate one window spec.
 *
 * @example
 * ```ts
 * parseWindow('5/1s') // { requests: 5, perMs: 1000, label: '5/1s' }
 * parseWindow({ requests: 5000, per: '1d' })
 * ```
 */
export function parseWindow(spec: QuotaWindowSpec, what = 'window'): QuotaWindow {
  let requests: unknown
  let perMs: unknown
  if (typeof spec === 'string') {
    const m = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(spec)
    if (m === null) throw new TypeError(`${what} must look like "5/1s" (requests/duration)`)
    requests = Number(m[1])
    perMs = windowDuration(m[2] as string, `${what} duration`)
  } else if (spec !== null && typeof spec === 'object') {
    requests = spec.requests
    perMs = 'per' in spec ? windowDuration(spec.per, `${what}.per`) : spec.perMs
  } else {
    throw new TypeError(`${what} must be "5/1s" or { requests, perMs }`)
  }
  const r = positiveInteger(requests, `${what}.requests`)
  const p = positiveInteger(perMs, `${what}.perMs`)
  return { requests: r, perMs: p, label: `${r}/${human(p)}` }
}

/**
 * Validate a list of windows (at least one), shortest first (it is the one that fills first).
 *
 * @example
 * ```ts
 * parseWindows(['5/1s', '5000/1d'])
 * ```
 */
export function parseWindows(specs: unknown, what = 'windows'): QuotaWindow[] {
  const list = typeof specs === 'string' ? specs.split(',').filter((s) => s.trim() !== '') : specs
  if (!Array.isArray(list) || list.length === 0) throw new TypeError(`${what} must be a non-empty list of windows such as ["5/1s", "5000/1d"]`)
  const windows = list.map((w, i) => parseWindow(w as QuotaWindowSpec, `${what}[${i}]`))
  const labels = new Set(windows.map((w) => w.perMs))
  if (labels.size !== windows.length) throw new TypeError(`${what}: two windows have the same duration`)
  return windows.sort((a, b) => a.perMs - b.perMs)
}

/** A Redis connection: an ioredis client (duplicated: yours stays as it is) or a URL / options. `close()` closes apisign's connection. */
export type RedisConnection = Redis | string | RedisOptions

/**
 * Resolves once the client has connected for the first time (or after `timeoutMs`): with no offline queue,
 * a command sent while the first connection is still being made would fail although Redis is up. After
 * that, a disconnection is Redis being down, answered at once.
 */
export function firstConnection(redis: Redis, timeoutMs = 2000): () => Promise<void> {
  let waiting: Promise<void> | undefined
  return () => {
    if (redis.status === 'ready') return Promise.resolve()
    waiting ??= new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs)
      timer.unref?.()
      function done() {
        clearTimeout(timer)
        redis.off('ready', done)
        resolve()
      }
      redis.once('ready', done)
    })
    return waiting
  }
}

/** An ioredis client with fail-fast settings (no offline queue: a down Redis answers at once, never queues). */
export function connectRedis(connection: RedisConnection, unref = false, extra: RedisOptions = {}): { redis: Redis; own: boolean } {
  // Your client is duplicated (same options, a connection of our own, closed by close()): rate-limiter-
  // flexible registers its script under one command name per client, and another limiter of yours on the
  // same client would replace our millisecond-precise one.
  if (connection instanceof Redis) {
    const copy = connection.duplicate(extra)
    copy.on('error', () => undefined)
    return { redis: copy, own: true }
  }
  const opened = open(typeof connection === 'string' ? connection : { ...connection, ...extra }, extra)
  // A client made from a URL in a profile has no close(): its socket must not keep the process alive.
  if (unref) opened.on('connect', () => (opened as unknown as { stream?: { unref?: () => void } }).stream?.unref?.())
  return { redis: opened, own: true }
}

function open(connection: string | RedisOptions, extra: RedisOptions = {}): Redis {
  const base: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2000 }
  if (typeof connection === 'string') {
    try {
      new URL(connection)
    } catch {
      throw new TypeError('redis must be an ioredis client, a redis:// URL or ioredis options')
    }
    const redis = new Redis(connection, { ...base, ...extra })
    redis.on('error', () => undefined) // surfaced per command
    return redis
  }
  if (connection === null || typeof connection !== 'object') throw new TypeError('redis must be an ioredis client, a redis:// URL or ioredis options')
  const redis = new Redis({ ...base, ...connection })
  redis.on('error', () => undefined)
  return redis
}
