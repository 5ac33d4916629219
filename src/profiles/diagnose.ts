// Errors a person can act on (issue 14 item 7): where a JSON file breaks (line and column), and which
// known key a misspelt one was meant to be. Pure helpers; no secret ever passes through them.

/**
 * Where `JSON.parse` stopped in `text`, as `line L, column C` (1-based), or undefined when it does not
 * say. The message never quotes the text (a config file may hold secrets next to the mistake).
 *
 * @example
 * ```ts
 * try { JSON.parse(text) } catch (e) { jsonErrorLocation(text, e) } // 'line 3, column 3'
 * ```
 */
export function jsonErrorLocation(text: string, error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : ''
  const explicit = /line (\d+) column (\d+)/.exec(message)
  if (explicit !== null) return `line ${explicit[1]}, column ${explicit[2]}`
  let position = Number(/at position (\d+)/.exec(message)?.[1])
  if (!Number.isInteger(position)) {
    // "Unexpected end of JSON input": the file stops early. Other V8 messages quote the text instead of
    // giving a position: find the shortest prefix that is already wrong (not merely unfinished).
    if (INCOMPLETE.test(message)) position = text.length
    else {
      let lo = 0
      let hi = text.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (wrongPrefix(text.slice(0, mid + 1))) hi = mid
        else lo = mid + 1
      }
      if (lo >= text.length) return undefined
      position = lo
    }
  }
  const before = text.slice(0, position)
  const line = before.split('\n').length
  const column = position - before.lastIndexOf('\n')
  return `line ${line}, column ${column}`
}

const INCOMPLETE = /end of (JSON )?input|Unterminated string/i

function wrongPrefix(prefix: string): boolean {
  try {
    JSON.parse(prefix)
    return false
  } catch (error) {
    const message = error instanceof Error ? error.message : ''
    if (INCOMPLETE.test(message)) return false
    // "Expected ':' after property name in JSON at position 8" on an 8-character prefix: it just stops there.
    const at = Number(/at position (\d+)/.exec(message)?.[1])
    return !(Number.isInteger(at) && at >= prefix.length)
  }
}

/** Edit distance (Levenshtein), for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, previous + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1))
      previous = current
    }
  }
  return row[b.length] as number
}

/**
 * The known key nearest to an unknown one (`basURL` -> `baseURL`), if it is close enough to be a typo.
 *
 * @example
 * ```ts
 * nearestKey('basURL', ['baseURL', 'auth']) // 'baseURL'
 * ```
 */
export function nearestKey(unknown: string, known: readonly string[]): string | undefined {
  let best: { key: string; d: number } | undefined
  for (const key of known) {
    const d = key.toLowerCase() === unknown.toLowerCase() ? 0 : distance(unknown, key)
    if (best === undefined || d < best.d) best = { key, d }
  }
  return best !== undefined && best.d <= Math.max(2, Math.floor(unknown.length / 3)) ? best.key : undefined
}

/**
 * Unknown keys of an object, each with its likely intended key: `["basURL" (did you mean "baseURL"?)]`.
 *
 * @example
 * ```ts
 * unknownKeys({ basURL: 'x' }, ['baseURL'], 'profile sandbox') // ['profile sandbox: unknown key "basURL" (did you mean "baseURL"?)']
 * ```
 */
export function unknownKeys(value: object, known: readonly string[], where: string): string[] {
  return Object.keys(value)
    .filter((k) => !known.includes(k))
    .map((k) => {
      const near = nearestKey(k, known)
      return `${where}: unknown key ${JSON.stringify(k)}${near === undefined ? ` (known: ${known.join(', ')})` : ` (did you mean ${JSON.stringify(near)}?)`}`
    })
}

/** The keys a profile may have (ProfileSpec); other parts add theirs here. */
export const PROFILE_KEYS: readonly string[] = ['environment', 'baseURL', 'auth', 'encryption', 'timeoutMs', 'retry', 'limits', 'skipHostCheck', 'allowInsecureHttp', 'tls', 'rateLimit']
/**
 * The keys of an OAuth 1.0a profile's `auth` and of its `auth.key`. `consumerSecret` and `password` are
 * listed so that the loader's own "secrets must not be written in the config file" answers them.
 */
export const OAUTH1_AUTH_KEYS: readonly string[] = ['scheme', 'consumerKey', 'consumerKeyEnv', 'dialect', 'signatureMethod', 'certificate', 'key', 'consumerSecret']
/** The keys of an OAuth 1.0a profile's `auth.key`. */
export const OAUTH1_KEY_KEYS: readonly string[] = ['path', 'pathEnv', 'alias', 'passwordEnv', 'passwordFile', 'password']
/** The top-level keys of the config file. */
export const CONFIG_FILE_KEYS: readonly string[] = ['defaultProfile', 'profiles']
