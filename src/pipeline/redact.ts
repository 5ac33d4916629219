import { debuglog } from 'node:util'

/** Debug log for the http part, off unless NODE_DEBUG=apisign; never given a secret. */
export const debug = debuglog('apisign')

const SENSITIVE = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'cookie', 'set-cookie'])
export const REDACTED = '[REDACTED]'

/**
 * A copy of `headers` with credential headers replaced by `[REDACTED]`.
 *
 * @example
 * ```ts
 * redactHeaders({ Authorization: 'OAuth ...', Accept: 'application/json' }) // { Authorization: '[REDACTED]', Accept: 'application/json' }
 * ```
 */
export function redactHeaders(headers: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (headers === null || typeof headers !== 'object') return out
  const plain = typeof (headers as { toJSON?: () => object }).toJSON === 'function' ? (headers as { toJSON: () => object }).toJSON() : headers
  for (const [k, v] of Object.entries(plain)) out[k] = SENSITIVE.has(k.toLowerCase()) ? REDACTED : v
  return out
}

/**
 * Strip credentials from an error before it leaves the client, and from every error in its `cause` chain:
 * the Authorization header in `config.headers` and `response.config`, and the raw `request` objects (a
 * Node `ClientRequest` keeps the header block, Authorization included, in `_header`). The signing key is
 * never on the config.
 */
export function redactError<T>(error: T): T {
  // The whole cause chain: axios wraps a stream or socket error (AxiosError.from), and the wrapped error
  // keeps its own `request`, whose header block holds the Authorization.
  const seen = new Set<unknown>()
  for (let e: unknown = error; e !== null && typeof e === 'object' && !seen.has(e) && seen.size < 8; e = (e as { cause?: unknown }).cause) {
    seen.add(e)
    redactOne(e)
  }
  return error
}

function redactOne(error: object): void {
  const e = error as { config?: { headers?: unknown }; request?: unknown; response?: { config?: { headers?: unknown }; request?: unknown } }
  const scrub = (config: { headers?: unknown } | undefined) => {
    if (config && config.headers !== undefined) config.headers = redactHeaders(config.headers)
  }
  scrub(e.config)
  if (e.response) {
    scrub(e.response.config)
    if ('request' in e.response) e.response.request = undefined
  }
  if ('request' in e) e.request = undefined
}
