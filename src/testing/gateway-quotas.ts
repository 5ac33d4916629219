// The mock gateway as a provider (issue 18, item 2): per-key quotas, usage, the usage log, the admin API
// and the key store every scheme row reads its keys from. mock-gateway.ts only calls in here.
import { appendFileSync } from 'node:fs'
import {
  type KeyStore,
  type KeyUsage,
  type ProviderQuotaOptions,
  type ProviderQuotas,
  type QuotaDecision,
  type UsageEvent,
  createProviderQuotas,
  createUsageRecorder,
} from '../quotas/index.js'
import type { SchemeId } from '../schemes/table.js'
import { type AdminServer, startAdminServer } from './admin-server.js'

/** The provider-side options of the mock gateway. */
export interface GatewayProviderOptions {
  /** Per-key quotas (several windows, per key, per operation; on Redis to share counts between instances). */
  readonly quotas?: ProviderQuotaOptions | ProviderQuotas
  /** Where every scheme reads its keys (consumer public keys, secrets, API keys): issue, roll, revoke. */
  readonly keyStore?: KeyStore
  /** One NDJSON line per request: a file path (appended) or a function. */
  readonly usageLog?: string | ((event: UsageEvent) => void)
  /** Start the JSON admin API on its own 127.0.0.1 port (`true`, or its port and token). */
  readonly admin?: boolean | { readonly port?: number; readonly token?: string }
}

/**
 * The verifier options through which a scheme row reads its keys from the key store, per scheme: the
 * lookups run on every request, so a roll or a revocation applies at once.
 *
 * @example
 * ```ts
 * const verifier = SCHEMES.ost.verifier({ ...storeCredentials('ost', store) }, { basePath: '/testnet/v2' })
 * ```
 */
export function storeCredentials(id: SchemeId, store: KeyStore): Record<string, unknown> {
  const secrets = (keyId: string) => store.secrets(keyId)
  const byValue = (value: string) => store.keyIdOfValue(value)
  const table: { readonly [K in SchemeId]: Record<string, unknown> } = {
    oauth1: { consumers: (consumerKey: string) => store.publicKeys(consumerKey) },
    ost: { keys: secrets },
    'jwt-bearer': { keys: secrets },
    sigv4: { credentials: secrets },
    basic: { users: secrets },
    'api-key': { keys: byValue },
    'bearer-token': { tokens: byValue },
    // OAuth 2.0 tokens come from the authorization server (its JWKS), not from the key store.
    oauth2: {},
  }
  return table[id]
}

const isQuotas = (q: unknown): q is ProviderQuotas => typeof (q as ProviderQuotas | undefined)?.check === 'function'

/** What the gateway needs from its provider side. */
export interface GatewayProvider {
  readonly keyStore: KeyStore | undefined
  /** Count a call of an authenticated principal; undefined when no quotas are configured. 503 when the store fails. */
  quota(principal: string, operation: string | undefined): Promise<(QuotaDecision & { readonly status?: number }) | undefined>
  /** After a successful authentication: last use of each key of the principal. */
  used(principal: string): void
  record(event: UsageEvent): void
  usage(): Promise<Record<string, KeyUsage>>
  readonly admin: AdminServer | undefined
  /** Start the admin API (once the gateway listens). */
  start(): Promise<void>
  close(): Promise<void>
}

/**
 * Build the provider side of a mock gateway from its options (quotas, usage, log, admin API).
 *
 * @example
 * ```ts
 * const provider = createGatewayProvider({ quotas: { windows: ['5/1s'] }, usageLog: 'usage.ndjson' })
 * ```
 */
export function createGatewayProvider(options: GatewayProviderOptions): GatewayProvider {
  const ownQuotas = options.quotas !== undefined && !isQuotas(options.quotas)
  const quotas = options.quotas === undefined ? undefined : isQuotas(options.quotas) ? options.quotas : createProviderQuotas(options.quotas)
  const recorder = createUsageRecorder()
  const log = options.usageLog
  if (log !== undefined && typeof log !== 'string' && typeof log !== 'function') throw new TypeError('usageLog must be a file path or a function')
  const store = options.keyStore
  const usage = async () => {
    const snapshot = recorder.snapshot()
    if (quotas !== undefined) {
      await Promise.all(
        Object.entries(snapshot).map(async ([key, u]) => {
          try {
            u.windows = await quotas.state(key)
          } catch {
            // Redis down: the counts are still worth showing.
          }
        }),
      )
    }
    return snapshot
  }
  const adminOptions = options.admin === undefined || options.admin === false ? undefined : options.admin === true ? {} : options.admin
  let admin: AdminServer | undefined
  return {
    keyStore: store,
    get admin() {
      return admin
    },
    async start() {
      if (adminOptions !== undefined) admin = await startAdminServer({ usage, ...(store === undefined ? {} : { keyStore: store }), ...adminOptions })
    },
    async quota(principal, operation) {
      if (quotas === undefined) return undefined
      try {
        return await quotas.check(principal, operation)
      } catch {
        return { allowed: false, headers: {}, status: 503 }
      }
    },
    used(principal) {
      if (store === undefined) return
      for (const keyId of principal.split('+')) void store.touch(keyId).catch(() => undefined)
    },
    record(event) {
      recorder.record(event)
      if (log === undefined) return
      if (typeof log === 'function') log(event)
      else appendFileSync(log, `${JSON.stringify(event)}\n`)
    },
    usage,
    async close() {
      await admin?.close()
      if (ownQuotas) await quotas?.close()
    },
  }
}
