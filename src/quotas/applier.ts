// The client hook (issue 18, item 1) on the pipeline's seam: a quota wrapped around the auth applier, so
// it runs before every attempt is signed and hears every answer, on every transport (axios, fetch).
import type { AuthApplier, RequestToAuthorize } from '../pipeline/types.js'
import { type ClientQuota, type QuotaTicket, parseRetryAfterMs } from './client-quota.js'

/**
 * An AuthApplier that waits for `quota` before `auth` signs each attempt (a fresh timestamp after the
 * wait), and tells the quota about each answer (window anchoring; a 429 + Retry-After pauses the key
 * everywhere); `auth`'s own `onResponse` still runs.
 *
 * @example
 * ```ts
 * const auth = withQuota(resolveAuth({ scheme: 'ost', apiKey, apiSecret }), createQuota({ windows: ['5/1s'] }, apiKey))
 * ```
 */
export function withQuota(auth: AuthApplier, quota: ClientQuota): AuthApplier {
  const tickets = new WeakMap<RequestToAuthorize, QuotaTicket>()
  return {
    async apply(request, context) {
      tickets.set(request, await quota.acquire(request, context.baseURL))
      return auth.apply(request, context)
    },
    async onResponse(response, context) {
      const ticket = tickets.get(response.request)
      if (ticket !== undefined) {
        tickets.delete(response.request)
        await quota.responded(ticket, response.status, response.status === 429 ? parseRetryAfterMs(response.headers['retry-after'], context.now()) : undefined)
      }
      return auth.onResponse?.(response, context)
    },
  }
}
