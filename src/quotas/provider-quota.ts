// The provider side of quotas (issue 18, item 2): per-key windows, counted in memory or on Redis so that
// several gateway instances share the counts, answered with X-RateLimit-* and Retry-After.
import { WindowLimiter, type WindowState } from './limiter.js'
import { type QuotaWindowSpec, type RedisConnection, connectRedis, firstConnection, parseWindows } from './windows.js'

/** Options of {@link createProviderQuotas}. */
export interface ProviderQuotaOptions {
  /** Every key's windows, e.g. `['5/1s', '5000/1d']`. */
  readonly windows?: readonly QuotaWindowSpec[] | string
  /** Windows for particular keys (by principal: consumer key, API key id, user), instead of `windows`. */
  readonly keys?: Readonly<Record<string, readonly QuotaWindowSpec[] | string>>
  /** Extra windows per operation and key, by `"METHOD /path"` template (as the spec writes it). */
  readonly operations?: Readonly<Record<string, readonly QuotaWindowSpec[] | string>>
  /** Share the counts between gateway instances. Default in memory. */
  readonly redis?: RedisConnection
  /** Default `apisign:provider-quota`. */
  readonly keyPrefix?: string
}

/** The verdict for one call. */
export interface QuotaDecision {
  readonly allowed: boolean
  /** `X-RateLimit-Limit`, `-Remaining`, `-Reset` (seconds until the window resets), and `Retry-After` when refused. */
  readonly headers: Readonly<Record<string, string>>
  /** The window that refused the call. */
  readonly full?: WindowState
}

/** Per-key quotas of a provider. */
export interface ProviderQuotas {
  /** Count one call of `principal` (to `operation`, a `"METHOD /template"`), or refuse it. Throws when Redis fails. */
  check(principal: string, operation?: string): Promise<QuotaDecision>
  /** How full the key's windows are. */
  state(principal: string): Promise<WindowState[]>
  close(): Promise<void>
}

/**
 * The headers of the tightest window (fewest calls left; the shortest on a tie), per
 * draft-ietf-httpapi-ratelimit-headers' `X-RateLimit-*` convention with `Reset` in delta-seconds.
 *
 * @example
 * ```ts
 * rateLimitHeaders(states) // { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': '1' }
 * ```
 */
export function rateLimitHeaders(states: readonly WindowState[], refused?: WindowState): Record<string, string> {
  const tightest = refused ?? [...states].sort((a, b) => a.remaining - b.remaining || a.window.perMs - b.window.perMs)[0]
  if (tightest === undefined) return {}
  const reset = Math.max(1, Math.ceil((tightest.resetsInMs || tightest.window.perMs) / 1000))
  return {
    'x-ratelimit-limit': String(tightest.window.requests),
    'x-ratelimit-remaining': String(refused === undefined ? tightest.remaining : 0),
    'x-ratelimit-reset': String(reset),
    ...(refused === undefined ? {} : { 'retry-after': String(reset) }),
  }
}

function templateMatcher(spec: string) {
  const m = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(spec)
  if (m === null) throw new TypeError(`quota operations: ${JSON.stringify(spec.slice(0, 60))} must look like "POST /payments"`)
  return { method: (m[1] as string).toUpperCase(), template: m[2] as string }
}

/**
 * Per-key quotas for a provider (the mock gateway, or your own middleware): several windows per key,
 * optionally more per operation, shared on Redis between instances.
 *
 * @example
 * ```ts
 * const quotas = createProviderQuotas({ windows: ['5/1s', '5000/1d'], redis: 'redis://127.0.0.1:6379' })
 * const { allowed, headers } = await quotas.check('partner-key', 'GET /users')
 * ```
 */
export function createProviderQuotas(options: ProviderQuotaOptions): ProviderQuotas {
  if (options === null || typeof options !== 'object') throw new TypeError('quotas must be an object such as { windows: ["5/1s"] }')
  if (options.windows === undefined && options.keys === undefined && options.operations === undefined) throw new TypeError('quotas need windows, keys or operations')
  const prefix = options.keyPrefix ?? 'apisign:provider-quota'
  if (typeof prefix !== 'string' || prefix === '') throw new TypeError('quotas.keyPrefix must be a non-empty string')
  const connection = options.redis === undefined ? undefined : connectRedis(options.redis)
  const redis = connection?.redis
  const connected = redis === undefined ? async () => undefined : firstConnection(redis)
  const make = (specs: unknown, what: string, keyPrefix: string) => {
    const windows = parseWindows(specs, what)
    if (redis !== undefined) for (const w of windows) if (w.perMs < 1000) throw new TypeError(`${what} ${w.label}: windows on Redis must be at least 1s`)
    return new WindowLimiter({ windows, keyPrefix, ...(redis === undefined ? {} : { redis }) })
  }
  const fallback = options.windows === undefined ? undefined : make(options.windows, 'quotas.windows', `${prefix}:key`)
  const perKey = new Map(Object.entries(options.keys ?? {}).map(([k, specs], i) => [k, make(specs, `quotas.keys[${JSON.stringify(k)}]`, `${prefix}:k${i}`)] as const))
  const perOperation = new Map<string, WindowLimiter>(
    Object.entries(options.operations ?? {}).map(([spec, specs], i) => {
      const { method, template } = templateMatcher(spec)
      return [`${method} ${template}`, make(specs, `quotas.operations[${JSON.stringify(spec)}]`, `${prefix}:op${i}`)] as const
    }),
  )
  const limiterOf = (principal: string) => perKey.get(principal) ?? fallback

  return {
    async check(principal, operation) {
      await connected()
      const keyLimiter = limiterOf(principal)
      const opLimiter = operation === undefined ? undefined : perOperation.get(operation)
      const states: WindowState[] = []
      if (keyLimiter !== undefined) {
        const r = await keyLimiter.consume(principal)
        if (!r.ok) return { allowed: false, headers: rateLimitHeaders([], r.full), full: r.full }
        states.push(...r.states)
      }
      if (opLimiter !== undefined) {
        const r = await opLimiter.consume(`${principal}\u0000${operation}`)
        if (!r.ok) {
          if (keyLimiter !== undefined) await keyLimiter.refund(principal)
          return { allowed: false, headers: rateLimitHeaders([], r.full), full: r.full }
        }
        states.push(...r.states)
      }
      return { allowed: true, headers: rateLimitHeaders(states) }
    },
    async state(principal) {
      await connected()
      return (await limiterOf(principal)?.peek(principal)) ?? []
    },
    async close() {
      if (connection?.own === true) connection.redis.disconnect()
    },
  }
}
