// Per-key usage analytics of a provider (issue 18, item 2): requests, rejections by code, bytes, per
// operation; the quota windows' state is added by whoever owns the quotas.
import type { WindowState } from './limiter.js'

/** One request as the provider saw it (one NDJSON line of `--usage-log`). Never a secret. */
export interface UsageEvent {
  /** ms since the epoch. */
  readonly at: number
  /** The principal (consumer key, API key id, user), or `anonymous` / `unauthenticated`. */
  readonly key: string
  /** `"METHOD /template"` of the spec, when routed. */
  readonly operation?: string
  readonly method: string
  readonly path: string
  readonly status: number
  /** Why it was refused (`ERR_RATE_LIMITED`, `ERR_SIGNATURE_INVALID`, ...). */
  readonly code?: string
  readonly bytesIn: number
  readonly bytesOut: number
  readonly durationMs: number
}

/** The usage of one key. */
export interface KeyUsage {
  requests: number
  accepted: number
  rejected: number
  rejectedByCode: Record<string, number>
  bytesIn: number
  bytesOut: number
  operations: Record<string, { requests: number; rejected: number; bytesIn: number; bytesOut: number }>
  firstAt: number
  lastAt: number
  /** The key's quota windows now (used, remaining, reset), when quotas apply. */
  windows?: readonly WindowState[]
}

/** A usage counter. */
export interface UsageRecorder {
  record(event: UsageEvent): void
  /** A copy of the counts, per key. */
  snapshot(): Record<string, KeyUsage>
}

/**
 * Counts requests, rejections by code, bytes in and out, per key and per operation.
 *
 * @example
 * ```ts
 * const usage = createUsageRecorder()
 * usage.record({ at: Date.now(), key: 'partner-key', operation: 'GET /users', method: 'GET', path: '/users', status: 200, bytesIn: 0, bytesOut: 42, durationMs: 3 })
 * usage.snapshot()['partner-key'].requests // 1
 * ```
 */
export function createUsageRecorder(): UsageRecorder {
  const byKey = new Map<string, KeyUsage>()
  return {
    record(e) {
      let u = byKey.get(e.key)
      if (u === undefined) byKey.set(e.key, (u = { requests: 0, accepted: 0, rejected: 0, rejectedByCode: {}, bytesIn: 0, bytesOut: 0, operations: {}, firstAt: e.at, lastAt: e.at }))
      const refused = e.status >= 400
      u.requests++
      if (refused) {
        u.rejected++
        const code = e.code ?? `HTTP_${e.status}`
        u.rejectedByCode[code] = (u.rejectedByCode[code] ?? 0) + 1
      } else u.accepted++
      u.bytesIn += e.bytesIn
      u.bytesOut += e.bytesOut
      u.lastAt = Math.max(u.lastAt, e.at)
      if (e.operation !== undefined) {
        const op = (u.operations[e.operation] ??= { requests: 0, rejected: 0, bytesIn: 0, bytesOut: 0 })
        op.requests++
        if (refused) op.rejected++
        op.bytesIn += e.bytesIn
        op.bytesOut += e.bytesOut
      }
    },
    snapshot() {
      return structuredClone(Object.fromEntries(byKey))
    },
  }
}
