import { limitOption } from '../option-values.js'
/** When and how the client retries (every attempt is re-signed with a fresh nonce and timestamp). */
export interface RetryPolicy {
  /** Retries after the first attempt. Default 2; 0 disables. */
  readonly retries?: number
  /** Methods retried. Default the idempotent ones: GET, HEAD, OPTIONS, PUT, DELETE (RFC 9110 §9.2.2). */
  readonly methods?: readonly string[]
  /** Statuses retried. Default 429, 502, 503, 504. */
  readonly statuses?: readonly number[]
  /** Retry network errors (no response) for the methods above. Default true. */
  readonly networkErrors?: boolean
  /** First backoff delay; doubles per attempt, with up to 20 % jitter. Default 200 ms. */
  readonly baseDelayMs?: number
  /** Largest backoff delay. Default 5 s. */
  readonly maxDelayMs?: number
  /** Largest `Retry-After` honoured; a longer one ends the retries. Default 60 s. */
  readonly retryAfterCapMs?: number
  /** Overall budget for all attempts and waits, from the first attempt. Default 60 s. */
  readonly deadlineMs?: number
  /** On a 401 caused by our clock, learn the offset from the response `Date` and retry once. Default true. */
  readonly clockSkew?: boolean
}

export interface ResolvedRetryPolicy {
  readonly retries: number
  readonly methods: ReadonlySet<string>
  readonly statuses: ReadonlySet<number>
  readonly networkErrors: boolean
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  readonly retryAfterCapMs: number
  readonly deadlineMs: number
  readonly clockSkew: boolean
}

/** Fill in the defaults. */
export function resolveRetryPolicy(policy: RetryPolicy | false | undefined): ResolvedRetryPolicy {
  const p = policy === false ? { retries: 0, clockSkew: false } : (policy ?? {})
  if (p === null || typeof p !== 'object') throw new TypeError('retry must be a policy object or false')
  // Every number validated when the client is built (issue 13 item 1): NaN must not mean "no deadline".
  const ms = (value: number | undefined, name: string, fallback: number) => limitOption(value, `retry.${name}`, fallback)
  return {
    retries: limitOption(p.retries, 'retry.retries', 2, { integer: true }),
    methods: new Set((p.methods ?? ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']).map((m) => m.toUpperCase())),
    statuses: new Set(p.statuses ?? [429, 502, 503, 504]),
    networkErrors: p.networkErrors ?? true,
    baseDelayMs: ms(p.baseDelayMs, 'baseDelayMs', 200),
    maxDelayMs: ms(p.maxDelayMs, 'maxDelayMs', 5000),
    retryAfterCapMs: ms(p.retryAfterCapMs, 'retryAfterCapMs', 60_000),
    deadlineMs: ms(p.deadlineMs, 'deadlineMs', 60_000),
    clockSkew: p.clockSkew ?? true,
  }
}

/**
 * `Retry-After` in milliseconds (RFC 9110 §10.2.3): delta-seconds or an HTTP-date, the latter measured
 * against `now` (the skew-corrected clock). Undefined when absent or unreadable.
 *
 * @example
 * ```ts
 * parseRetryAfter('2', Date.now()) // 2000
 * ```
 */
export function parseRetryAfter(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Exponential backoff with jitter for attempt `n` (1 = first retry). */
export function backoffMs(n: number, policy: ResolvedRetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1))
  return Math.round(base * (1 + 0.2 * random()))
}
