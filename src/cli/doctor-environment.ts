// `apisign doctor`: every environment variable a profile needs, listed at once with what to do (issue 14
// item 7), and a production profile that reuses the sandbox's consumer key or signing key.
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { fingerprint, loadSigningKey } from '../keys/index.js'
import { type ProfileSpec, type ProfilesFile, profileEnvironment } from '../profiles/load.js'
import type { DoctorCheck } from './doctor.js'

/** Every variable a profile names: `*Env` fields and `{ "env": NAME }` references, with where. */
export function environmentReferences(spec: ProfileSpec): Array<{ name: string; where: string }> {
  const out: Array<{ name: string; where: string }> = []
  const walk = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object') return
    for (const [k, v] of Object.entries(value)) {
      const here = path === '' ? k : `${path}.${k}`
      if (typeof v === 'string' && (k === 'env' || /Env$/.test(k))) out.push({ name: v, where: k === 'env' ? path : here })
      else walk(v, here)
    }
  }
  walk(spec, '')
  return out
}

/**
 * One check listing every environment variable the profile names that is not set (the profile load
 * stops at the first one), with the fix spelt out.
 *
 * @example
 * ```ts
 * environmentCheck(spec, env, '/srv/app') // { id: 'environment', status: 'fail', fix: 'export MC_P12_PASSWORD MC_CONSUMER_KEY, or add them to /srv/app/.env' }
 * ```
 */
export function environmentCheck(spec: ProfileSpec, env: Readonly<Record<string, string | undefined>>, baseDir: string): DoctorCheck | undefined {
  const refs = environmentReferences(spec)
  if (refs.length === 0) return undefined
  const missing = refs.filter((r) => env[r.name] === undefined || env[r.name] === '')
  const names = [...new Set(missing.map((r) => r.name))]
  if (names.length === 0) return { id: 'environment', status: 'pass', message: `every environment variable the profile names is set (${[...new Set(refs.map((r) => r.name))].join(', ')})` }
  return {
    id: 'environment',
    status: 'fail',
    message: `not set: ${missing.map((r) => `${r.name} (${r.where})`).join(', ')}`,
    fix: `export ${names.join(' ')}, or add ${names.length === 1 ? 'it' : 'them'} to ${resolve(baseDir, '.env')} (NAME=value; never commit it)`,
  }
}

function consumerKeyOf(spec: ProfileSpec, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const auth = spec.auth as { scheme?: string; consumerKey?: string; consumerKeyEnv?: string } | undefined
  if (auth?.scheme !== 'oauth1') return undefined
  return auth.consumerKey ?? (auth.consumerKeyEnv === undefined ? undefined : env[auth.consumerKeyEnv])
}

function keyFingerprintOf(spec: ProfileSpec, env: Readonly<Record<string, string | undefined>>, baseDir: string): string | undefined {
  const key = (spec.auth as { scheme?: string; key?: { path?: string; pathEnv?: string; alias?: string; passwordEnv?: string; passwordFile?: string } } | undefined)
  if (key?.scheme !== 'oauth1' || key.key === undefined) return undefined
  const path = key.key.path ?? (key.key.pathEnv === undefined ? undefined : env[key.key.pathEnv])
  if (path === undefined) return undefined
  const file = isAbsolute(path) ? path : resolve(baseDir, path)
  if (!existsSync(file)) return undefined
  try {
    const passwordFile = key.key.passwordFile === undefined ? undefined : resolve(baseDir, key.key.passwordFile)
    const password = key.key.passwordEnv !== undefined ? env[key.key.passwordEnv] : passwordFile !== undefined && existsSync(passwordFile) ? readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '') : undefined
    return fingerprint(loadSigningKey(file, { filePermissions: 'ignore', ...(password === undefined ? {} : { password }), ...(key.key.alias === undefined ? {} : { alias: key.key.alias }) }))
  } catch {
    return undefined // unreadable here: the signing-key checks report it
  }
}

/**
 * A production profile must not use the consumer key or the signing key of a sandbox profile of the same
 * file: the partner rejects sandbox credentials in production, and a sandbox key in production is a
 * key that was handled as test material.
 *
 * @example
 * ```ts
 * const checks = sandboxCredentialChecks('production', file, env, baseDir)
 * ```
 */
export function sandboxCredentialChecks(chosen: string, file: ProfilesFile, env: Readonly<Record<string, string | undefined>>, baseDir: string): DoctorCheck[] {
  // An environment name that is not known throws; such a profile is reported by its own checks.
  const environmentOf = (name: string, s: ProfileSpec): string | undefined => {
    try {
      return profileEnvironment(name, s)
    } catch {
      return undefined
    }
  }
  const spec = file.profiles[chosen]
  if (spec === undefined || environmentOf(chosen, spec) !== 'production') return []
  const sandboxes = Object.entries(file.profiles).filter(([name, s]) => name !== chosen && s !== null && typeof s === 'object' && environmentOf(name, s) === 'sandbox')
  if (sandboxes.length === 0) return []
  const checks: DoctorCheck[] = []
  const consumerKey = consumerKeyOf(spec, env)
  const sameConsumer = consumerKey === undefined ? undefined : sandboxes.find(([, s]) => consumerKeyOf(s, env) === consumerKey)
  if (sameConsumer !== undefined) {
    checks.push({ id: 'production-credentials', status: 'fail', message: `profile ${chosen} (production) uses the consumer key of sandbox profile ${sameConsumer[0]}`, fix: 'use the production consumer key from the partner portal in the production profile' })
  }
  const keyFp = keyFingerprintOf(spec, env, baseDir)
  const sameKey = keyFp === undefined ? undefined : sandboxes.find(([, s]) => keyFingerprintOf(s, env, baseDir) === keyFp)
  if (sameKey !== undefined) {
    checks.push({ id: 'production-key', status: 'fail', message: `profile ${chosen} (production) signs with the same key as sandbox profile ${sameKey[0]} (public key sha256 ${keyFp?.slice(0, 16)}…)`, fix: 'make a separate production key (a CSR from a new key) and upload it to the production project' })
  }
  if (checks.length === 0) checks.push({ id: 'production-credentials', status: 'pass', message: `the consumer key and signing key differ from the sandbox profile${sandboxes.length > 1 ? 's' : ''} (${sandboxes.map(([n]) => n).join(', ')})` })
  return checks
}
