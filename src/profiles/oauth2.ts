// OAuth 2.0 in a profile: `auth: { scheme: 'oauth2', tokenUrl | issuer, clientId, key, kid, scopes, dpop }`.
// The client authentication key (and a DPoP key, when one is given) is loaded once here, from a file with
// its password in the environment or a file, as for OAuth 1.0a, or (the client assertion key) opened in an
// HSM from `key: { pkcs11: { ... } }`; nothing secret is written in the config.
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { ApisignError } from '../errors.js'
import { type FilePermissionPolicy, loadSigningKey } from '../keys/index.js'
import type { OAuth2AuthOptions } from '../schemes/oauth2-client.js'
import { oauth2Auth } from '../schemes/oauth2-client.js'
import type { JwsAlgorithm } from '../schemes/oauth2-jose.js'
import { type Pkcs11KeyReference, isPkcs11Reference, openProfileSigner } from './pkcs11.js'

/** A key file in a profile: `{ "path": "./keys/client.pem", "passwordEnv": "CLIENT_KEY_PASSWORD" }`. */
export interface ProfileKeyFile {
  readonly path?: string
  readonly pathEnv?: string
  readonly alias?: string
  readonly passwordEnv?: string
  readonly passwordFile?: string
}

/** The `auth` of an OAuth 2.0 profile as written. */
export interface OAuth2ProfileAuth {
  readonly scheme: 'oauth2'
  readonly clientId?: string
  readonly clientIdEnv?: string
  readonly tokenUrl?: string
  readonly issuer?: string
  readonly audience?: string
  readonly kid: string
  /**
   * The client assertion key: a key file, or `{ "pkcs11": { "module", "token", "label" | "id", "pinEnv" | "pinFile" } }`
   * for a key held in an HSM (it signs the assertion in the token).
   */
  readonly key: ProfileKeyFile | { readonly pkcs11: Pkcs11KeyReference }
  /** `PS256` or `ES256`; default by the key type (RSA: PS256, EC P-256: ES256). */
  readonly algorithm?: JwsAlgorithm
  readonly scopes?: readonly string[]
  /** `true` (default): a fresh DPoP key per client; `{ "key": { ... } }`: that key; `false`: bearer tokens. */
  readonly dpop?: boolean | { readonly key: ProfileKeyFile }
  readonly refreshBeforeMs?: number
}

const invalid = (profile: string, message: string) => new ApisignError('ERR_PROFILE_INVALID', `profile ${profile}: ${message}`)

function loadKeyFile(profile: string, where: string, key: ProfileKeyFile | undefined, env: Readonly<Record<string, string | undefined>>, base: string, permissions: FilePermissionPolicy) {
  if (key === null || typeof key !== 'object') throw invalid(profile, `${where} must be { "path": ..., "passwordEnv"?: ... }`)
  if ('password' in key) throw invalid(profile, `secrets must not be written in the config file; use ${where}.passwordEnv or passwordFile`)
  const path = key.path ?? (key.pathEnv === undefined ? undefined : env[key.pathEnv])
  if (path === undefined) throw invalid(profile, `${where}.path (or pathEnv) is required`)
  const absolute = isAbsolute(path) ? path : resolve(base, path)
  if (!existsSync(absolute)) throw new ApisignError('ERR_FILE_NOT_FOUND', `profile ${profile}: ${where}.path ${absolute} does not exist`)
  let password: string | undefined
  if (key.passwordEnv !== undefined) {
    password = env[key.passwordEnv]
    if (password === undefined) throw invalid(profile, `environment variable ${key.passwordEnv} (${where}.passwordEnv) is not set`)
  } else if (key.passwordFile !== undefined) {
    const p = resolve(base, key.passwordFile)
    if (!existsSync(p)) throw new ApisignError('ERR_FILE_NOT_FOUND', `profile ${profile}: ${where}.passwordFile ${p} does not exist`)
    password = readFileSync(p, 'utf8').replace(/\r?\n$/, '')
  }
  try {
    return loadSigningKey(absolute, {
      keyTypes: ['rsa', 'ec-p256'],
      filePermissions: permissions,
      ...(password === undefined ? {} : { password }),
      ...(key.alias === undefined ? {} : { alias: key.alias }),
    })
  } catch (error) {
    if (error instanceof ApisignError) throw new ApisignError(error.code, `profile ${profile}: ${where}: ${error.message}`, { cause: error })
    throw error
  }
}

/**
 * The algorithm an HSM-held client assertion key is opened for: the profile's `algorithm`, else PS256 for
 * an RSA key and ES256 for a P-256 key (FAPI 2.0 §5.4.1; never RS256).
 *
 * @example
 * ```ts
 * const signer = await openProfileSigner(ref, oauth2SignerAlgorithm(spec.auth.algorithm), context)
 * ```
 */
export function oauth2SignerAlgorithm(algorithm: unknown): JwsAlgorithm | ((keyType: 'rsa' | 'ec') => JwsAlgorithm) {
  if (algorithm === undefined) return (keyType) => (keyType === 'ec' ? 'ES256' : 'PS256')
  if (algorithm !== 'PS256' && algorithm !== 'ES256') throw new ApisignError('ERR_ALG_NOT_ALLOWED', `auth.algorithm must be PS256 or ES256 (FAPI 2.0), not ${JSON.stringify(algorithm)}`)
  return algorithm
}

/**
 * Resolve an OAuth 2.0 profile's `auth` into `createClient` options: keys loaded (or opened in the HSM),
 * `clientIdEnv` read, every option checked by building the applier once. A signer opened here is closed
 * again when a later check refuses the profile.
 *
 * @example
 * ```ts
 * const auth = await oauth2ProfileAuth('sandbox', spec.auth, process.env, '/etc/apisign', 'refuse')
 * ```
 */
export async function oauth2ProfileAuth(
  profile: string,
  auth: OAuth2ProfileAuth,
  env: Readonly<Record<string, string | undefined>>,
  base: string,
  permissions: FilePermissionPolicy,
): Promise<OAuth2AuthOptions & { readonly scheme: 'oauth2' }> {
  const clientId = auth.clientId ?? (auth.clientIdEnv === undefined ? undefined : env[auth.clientIdEnv])
  if (clientId === undefined || clientId === '') throw invalid(profile, auth.clientIdEnv === undefined ? 'auth.clientId or auth.clientIdEnv is required' : `environment variable ${auth.clientIdEnv} (auth.clientIdEnv) is not set`)
  let algorithm: ReturnType<typeof oauth2SignerAlgorithm>
  try {
    algorithm = oauth2SignerAlgorithm(auth.algorithm)
  } catch (error) {
    if (error instanceof ApisignError) throw new ApisignError(error.code, `profile ${profile}: ${error.message}`, { cause: error })
    throw error
  }
  // The DPoP key stays a file (or a fresh key per client): it signs every request, on the hot path.
  const dpop = typeof auth.dpop === 'object' && auth.dpop !== null ? { key: loadKeyFile(profile, 'auth.dpop.key', auth.dpop.key, env, base, permissions) } : auth.dpop
  const key = isPkcs11Reference(auth.key)
    ? await openProfileSigner(auth.key.pkcs11, algorithm, { profile, where: 'auth.key.pkcs11', baseDir: base, env, filePermissions: permissions })
    : loadKeyFile(profile, 'auth.key', auth.key, env, base, permissions)
  const options: OAuth2AuthOptions & { readonly scheme: 'oauth2' } = {
    scheme: 'oauth2',
    clientId,
    key,
    kid: auth.kid,
    ...(auth.algorithm === undefined ? {} : { algorithm: auth.algorithm }),
    ...(auth.tokenUrl === undefined ? {} : { tokenUrl: auth.tokenUrl }),
    ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
    ...(auth.audience === undefined ? {} : { audience: auth.audience }),
    ...(auth.scopes === undefined ? {} : { scopes: auth.scopes }),
    ...(dpop === undefined ? {} : { dpop }),
    ...(auth.refreshBeforeMs === undefined ? {} : { refreshBeforeMs: auth.refreshBeforeMs }),
  }
  try {
    oauth2Auth(options)
  } catch (error) {
    if ('kind' in key) await key.close()
    if (error instanceof ApisignError) throw new ApisignError(error.code, `profile ${profile}: ${error.message}`, { cause: error })
    throw error
  }
  return options
}
