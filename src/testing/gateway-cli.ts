// `apisign mock`'s provider flags (--quota, --quota-redis, --key-store, --usage-log, --admin-port), read
// into the mock gateway's options; kept here so the CLI command only calls one function.
import { resolve } from 'node:path'
import { ApisignError } from '../errors.js'
import { createKeyStore, parseWindows } from '../quotas/index.js'
import type { GatewayProviderOptions } from './gateway-quotas.js'

/** The provider flags of `apisign mock`. */
export interface MockProviderFlags {
  readonly quota?: string
  readonly quotaRedis?: string
  readonly keyStore?: string
  readonly usageLog?: string
  readonly adminPort?: string
}

const usage = (message: string) => new ApisignError('ERR_CLI_USAGE', message)

/**
 * The mock gateway's provider options from `apisign mock`'s flags; bad values are `ERR_CLI_USAGE`.
 *
 * @example
 * ```ts
 * const provider = mockProviderOptions({ quota: '5/1s,5000/1d', usageLog: 'usage.ndjson' }, process.cwd(), process.env)
 * ```
 */
export function mockProviderOptions(flags: MockProviderFlags, cwd: string, env: Readonly<Record<string, string | undefined>>): GatewayProviderOptions {
  let windows: ReturnType<typeof parseWindows> | undefined
  if (flags.quota !== undefined) {
    try {
      windows = parseWindows(flags.quota, '--quota')
    } catch (error) {
      throw usage(`--quota: ${(error as Error).message}; write e.g. 5/1s,5000/1d`)
    }
  }
  if (flags.quotaRedis !== undefined && windows === undefined) throw usage('--quota-redis needs --quota')
  if (flags.quotaRedis !== undefined && !/^rediss?:\/\/\S+$/.test(flags.quotaRedis)) throw usage('--quota-redis must be a redis:// URL')
  let keyStore: GatewayProviderOptions['keyStore']
  if (flags.keyStore !== undefined) {
    if (flags.keyStore === 'memory') keyStore = createKeyStore()
    else if (/^rediss?:\/\//.test(flags.keyStore)) keyStore = createKeyStore({ redis: flags.keyStore })
    else if (/^env:[A-Za-z_][A-Za-z0-9_]*$/.test(flags.keyStore)) {
      const url = env[flags.keyStore.slice(4)]
      if (url === undefined || !/^rediss?:\/\//.test(url)) throw usage(`--key-store ${flags.keyStore}: that variable must hold a redis:// URL`)
      keyStore = createKeyStore({ redis: url })
    } else throw usage('--key-store must be "memory", a redis:// URL or env:NAME')
  }
  let admin: GatewayProviderOptions['admin']
  if (flags.adminPort !== undefined) {
    const port = Number(flags.adminPort)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage('--admin-port must be a port number (0: a free one)')
    // The admin token only ever comes from the environment: a CLI never prints a secret (PRODUCT.md).
    const token = env['APISIGN_ADMIN_TOKEN']
    if (token === undefined) throw usage('--admin-port needs APISIGN_ADMIN_TOKEN (at least 16 characters) in the environment')
    if (token.length < 16) throw usage('APISIGN_ADMIN_TOKEN must be at least 16 characters')
    admin = { port, token }
  }
  try {
    return {
      ...(windows === undefined ? {} : { quotas: { windows: windows.map((w) => w.label), ...(flags.quotaRedis === undefined ? {} : { redis: flags.quotaRedis }) } }),
      ...(keyStore === undefined ? {} : { keyStore }),
      ...(flags.usageLog === undefined ? {} : { usageLog: resolve(cwd, flags.usageLog) }),
      ...(admin === undefined ? {} : { admin }),
    }
  } catch (error) {
    throw usage((error as Error).message)
  }
}
