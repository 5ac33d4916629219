// The profile rules an attacker (or a typo) would otherwise get round (issue 13 items 5 and 6): which
// environment a profile is, whatever the spelling; https off loopback; secret files and config modules
// that others can read or write. Small hooks called from load.ts and the doctor.
import { lstatSync, realpathSync, statSync } from 'node:fs'
import { ApisignError } from '../errors.js'
import { type FilePermissionPolicy, checkPrivateFilePermissions } from '../keys/source.js'

/**
 * The environment names a profile may use, compared case-insensitively: each maps to `production` or
 * `sandbox`; any other name is refused (a production profile spelled `Production` or `live` once skipped
 * every production check).
 *
 * @example
 * ```ts
 * ENVIRONMENT_NAMES.production // ['production', 'prod', 'live', 'prd']
 * ```
 */
export const ENVIRONMENT_NAMES = {
  production: ['production', 'prod', 'live', 'prd'],
  sandbox: ['sandbox', 'sbx', 'test', 'testing', 'staging', 'stage', 'uat', 'qa', 'dev', 'development', 'mtf', 'local'],
} as const

const lookup = (name: string): 'production' | 'sandbox' | undefined => {
  const n = name.trim().toLowerCase()
  if ((ENVIRONMENT_NAMES.production as readonly string[]).includes(n)) return 'production'
  if ((ENVIRONMENT_NAMES.sandbox as readonly string[]).includes(n)) return 'sandbox'
  return undefined
}

/**
 * The environment of a profile: its `environment`, mapped by {@link ENVIRONMENT_NAMES} (case-insensitive),
 * else guessed from the words of the profile's name (`prod-eu` is production; production wins when both
 * appear). An unknown `environment`, or a name that says neither, is `ERR_PROFILE_INVALID`.
 *
 * @example
 * ```ts
 * canonicalEnvironment('eu', 'LIVE') // 'production'
 * canonicalEnvironment('prod-eu', undefined) // 'production'
 * ```
 */
export function canonicalEnvironment(profile: string, environment: unknown): 'production' | 'sandbox' {
  const known = [...ENVIRONMENT_NAMES.production, ...ENVIRONMENT_NAMES.sandbox].join(', ')
  if (environment !== undefined) {
    const found = typeof environment === 'string' ? lookup(environment) : undefined
    if (found === undefined) throw new ApisignError('ERR_PROFILE_INVALID', `profile ${profile}: environment must be one of ${known} (any case)`)
    return found
  }
  const words = profile.split(/[^A-Za-z0-9]+/).map(lookup)
  if (words.includes('production')) return 'production'
  if (words.includes('sandbox')) return 'sandbox'
  throw new ApisignError('ERR_PROFILE_INVALID', `profile ${profile}: set "environment" (one of ${known}); the name does not say which it is`)
}

/**
 * Whether a host is the local machine: `localhost`, 127.0.0.0/8 or `[::1]`.
 *
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.1') // true
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  return /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|::1)$/i.test(hostname)
}

/**
 * Why a base URL's transport is refused, or undefined: production is https only; elsewhere `http://` is
 * allowed for a loopback host, and for another host only when the profile opts out by name
 * (`allowInsecureHttp: true`).
 *
 * @example
 * ```ts
 * transportProblem('sandbox', new URL('http://sandbox.example.com'), false) // 'http:// ... refused ...'
 * ```
 */
export function transportProblem(environment: string, url: URL, allowInsecureHttp: boolean): string | undefined {
  if (url.protocol === 'https:') return undefined
  if (environment === 'production') return 'a production baseURL must use https'
  if (isLoopbackHost(url.hostname)) return undefined
  if (allowInsecureHttp) return undefined
  return `an http:// baseURL is refused for a non-loopback host (${url.hostname}); use https, or set "allowInsecureHttp": true in this profile`
}

/**
 * Treat a secret file like a private key file: refuse (or warn about) one that group or others may read,
 * under the same policy and option as key files (`keyFilePermissions`). The mode is the target's when the
 * path is a symlink.
 *
 * @example
 * ```ts
 * checkSecretFilePermissions('/run/secrets/api-secret', 'refuse', console.warn)
 * ```
 */
export function checkSecretFilePermissions(path: string, policy: FilePermissionPolicy, onWarning: (message: string) => void): void {
  try {
    checkPrivateFilePermissions(path, policy, onWarning)
  } catch (error) {
    if (error instanceof ApisignError) throw new ApisignError(error.code, error.message.replace('private key file', 'secret file'), { details: error.details ?? {} })
    throw error
  }
}

/**
 * Refuse a config module (`apisign.config.mjs`) that group or others may write, before it is imported:
 * importing it runs its code with the caller's rights. POSIX only.
 *
 * @example
 * ```ts
 * checkConfigModulePermissions('/app/apisign.config.mjs')
 * ```
 */
export function checkConfigModulePermissions(path: string): void {
  if (process.platform === 'win32') return
  const mode = statSync(path).mode & 0o777
  if ((mode & 0o022) !== 0) {
    throw new ApisignError('ERR_CONFIG_INVALID', `config module ${path} is writable by group or others (mode ${mode.toString(8).padStart(3, '0')}); it is not imported. Run: chmod go-w ${path}`, { details: { path, mode } })
  }
}

/**
 * Where a path really points: the resolved target when it is a symlink (doctor reports it), else undefined.
 *
 * @example
 * ```ts
 * symlinkTarget('/run/secrets/api-secret') // '/run/secrets/..data/api-secret'
 * ```
 */
export function symlinkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? realpathSync(path) : undefined
  } catch {
    return undefined
  }
}
