import { ApisignError } from '../errors.js'

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
  /**
   * Largest clock offset learned from a `Date` header; a response claiming more is not believed (one
   * response must not move the client's clock by hours: issue 13 item 9). Default 15 minutes.
   */
  readonly clockSkewCapMs?: number
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
  readonly clockSkewCapMs: number
}

/** The retry policy with defaults filled in; every value is checked here, so a NaN never disables a limit. */
export function resolveRetryPolicy(policy: RetryPolicy | false | undefined): ResolvedRetryPolicy {
  if (policy !== undefined && policy !== false && (policy === null || typeof policy !== 'object')) throw new ApisignError('ERR_CONFIG_INVALID', 'retry must be an object or false')
  const p: RetryPolicy = policy === false ? { retries: 0, clockSkew: false } : (policy ?? {})
  const count = (name: keyof RetryPolicy, fallback: number, allowZero: boolean) => {
    const v = p[name]
    if (v === undefined) return fallback
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || (!allowZero && v === 0)) {
      throw new ApisignError('ERR_CONFIG_INVALID', `retry.${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer`)
    }
    return v
  }
  const flag = (name: 'networkErrors' | 'clockSkew', fallback: boolean) => {
    const v = p[name]
    if (v === undefined) return fallback
    if (typeof v !== 'boolean') throw new ApisignError('ERR_CONFIG_INVALID', `retry.${name} must be true or false`)
    return v
  }
  const list = <T>(name: 'methods' | 'statuses', fallback: readonly T[], ok: (v: unknown) => boolean): readonly T[] => {
    const v = p[name]
    if (v === undefined) return fallback
    if (!Array.isArray(v) || !v.every(ok)) throw new ApisignError('ERR_CONFIG_INVALID', `retry.${name} must be an array of ${name === 'methods' ? 'method names' : 'HTTP statuses'}`)
    return v as readonly T[]
  }
  return {
    retries: count('retries', 2, true),
    methods: new Set(list<string>('methods', ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'], (m) => typeof m === 'string' && /^[A-Za-z]+$/.test(m)).map((m) => m.toUpperCase())),
    statuses: new Set(list<number>('statuses', [429, 502, 503, 504], (s) => Number.isInteger(s) && (s as number) >= 100 && (s as number) <= 599)),
    networkErrors: flag('networkErrors', true),
    baseDelayMs: count('baseDelayMs', 200, true),
    maxDelayMs: count('maxDelayMs', 5000, true),
    retryAfterCapMs: count('retryAfterCapMs', 60_000, true),
    deadlineMs: count('deadlineMs', 60_000, true),
    clockSkew: flag('clockSkew', true),
    clockSkewCapMs: count('clockSkewCapMs', 15 * 60_000, true),
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
