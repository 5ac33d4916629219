// One strict reading of every window, tolerance, TTL and limit option (issue 13 item 1). Before this, each
// option went through `(x ?? default) * 1000`, so `NaN`, `'abc'` or `Number(process.env.UNSET)` silently
// turned a comparison into `false` and switched a check off. Every verifier, store, webhook check, JWT
// check, client and CLI command reads its numeric options through these functions when it is built.
// Imports nothing but errors, so any folder may use it.

/**
 * A duration option: a finite number `>= 0` in the option's own unit (seconds for `...Seconds` options,
 * milliseconds for `...Ms` options), or a string with a unit, parsed strictly: `'250ms'`, `'30s'`, `'5m'`,
 * `'2h'`, `'1d'` (digits, an optional fraction, one unit; nothing else, no spaces, no sign).
 *
 * @example
 * ```ts
 * createOAuth1Verifier({ consumers, clockSkewSeconds: '5m' }) // the same as 300
 * ```
 */
export type Duration = number | string

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const DURATION = /^(\d{1,12})(?:\.(\d{1,6}))?(ms|s|m|h|d)$/

/**
 * Parse a duration string strictly into milliseconds; a `TypeError` naming the option for anything else.
 *
 * @example
 * ```ts
 * parseDuration('5m') // 300000
 * parseDuration('1.5s') // 1500
 * parseDuration('5 min') // TypeError
 * ```
 */
export function parseDuration(text: string, name = 'duration'): number {
  const match = typeof text === 'string' ? DURATION.exec(text) : null
  if (match === null) throw new TypeError(`${name} must be a number >= 0 or a duration such as '300s' or '5m' (got ${describeValue(text)})`)
  const [, whole, fraction, unit] = match as unknown as [string, string, string | undefined, keyof typeof UNIT_MS]
  return Number(`${whole}.${fraction ?? '0'}`) * UNIT_MS[unit]
}

/** How a numeric option is read by {@link durationOption} / {@link limitOption}. */
export interface OptionRule {
  /** What a bare number means for a duration: `'s'` (the `...Seconds` options) or `'ms'`. */
  readonly unit?: 's' | 'ms'
  /** Accept `Infinity` (only where the option documents it as "no limit"). Default false. */
  readonly allowInfinity?: boolean
  /** Require an integer (counts and byte sizes). Default false. */
  readonly integer?: boolean
  /** Require a value > 0 (e.g. a TTL). Default false (0 is allowed). */
  readonly positive?: boolean
}

/** Describe a rejected value without echoing strings at length (they are config, but keep errors short). */
function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') return JSON.stringify(value.length > 24 ? `${value.slice(0, 24)}...` : value)
  return value === null ? 'null' : `type ${typeof value}`
}

function checkNumber(value: number, name: string, rule: OptionRule): number {
  const ok =
    !Number.isNaN(value) &&
    value >= 0 &&
    (Number.isFinite(value) || rule.allowInfinity === true) &&
    (rule.integer !== true || Number.isInteger(value) || value === Number.POSITIVE_INFINITY) &&
    (rule.positive !== true || value > 0)
  if (!ok) {
    const what = `${rule.positive === true ? 'a number > 0' : 'a number >= 0'}${rule.integer === true ? ' (an integer)' : ''}${rule.allowInfinity === true ? ' or Infinity' : ''}`
    throw new TypeError(`${name} must be ${what} (got ${describeValue(value)})`)
  }
  return value
}

/**
 * Read a duration option into milliseconds: `undefined` gives `fallbackMs`; a number is in `rule.unit`
 * (default seconds); a string is parsed by {@link parseDuration}. `NaN`, negative numbers, `Infinity`
 * (unless allowed) and any other type are a `TypeError` naming the option.
 *
 * @example
 * ```ts
 * const windowMs = durationOption(options.clockSkewSeconds, 'clockSkewSeconds', 300_000) // 300 -> 300000, '5m' -> 300000
 * ```
 */
export function durationOption(value: unknown, name: string, fallbackMs: number, rule: OptionRule = {}): number {
  if (value === undefined) return fallbackMs
  const factor = (rule.unit ?? 's') === 's' ? 1000 : 1
  if (typeof value === 'number') return checkNumber(value, name, rule) * factor
  if (typeof value === 'string') return checkNumber(parseDuration(value, name), name, rule)
  throw new TypeError(`${name} must be a number >= 0 or a duration such as '300s' or '5m' (got ${describeValue(value)})`)
}

/**
 * Read a size or count limit: `undefined` gives `fallback`; otherwise a finite number >= 0 (an integer when
 * `rule.integer`), else a `TypeError` naming the option.
 *
 * @example
 * ```ts
 * const maxBodyBytes = limitOption(options.limits?.maxBodyBytes, 'limits.maxBodyBytes', 1024 * 1024, { integer: true })
 * ```
 */
export function limitOption(value: unknown, name: string, fallback: number, rule: OptionRule = {}): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number >= 0 (got ${describeValue(value)})`)
  return checkNumber(value, name, rule)
}
