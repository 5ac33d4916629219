import type { KeyObject } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseEnv } from 'node:util'
import { createEncryption } from '../encryption/index.js'
import { ApisignError, describeType } from '../errors.js'
import { limitOption } from '../option-values.js'
import type { ClientOptions, OAuth1AuthOptions } from '../http/index.js'
import { type RetryPolicy, resolveRetryPolicy } from '../pipeline/retry.js'
import { type RateLimitOptions, validateRateLimit } from '../quotas/client-quota.js'
import { type FilePermissionPolicy, keyMatchesCertificate, loadCertificate, loadSigningKey } from '../keys/index.js'
import { fromEnv, fromFile } from '../schemes/appliers.js'
import { type OAuth2ProfileAuth, oauth2ProfileAuth } from './oauth2.js'
import { SCHEMES, type SchemeAuthOptions, type SchemeId, resolveAuth } from '../schemes/table.js'
import { type Signer, isSigner } from '../signers/types.js'
import { CONFIG_FILE_KEYS, OAUTH1_AUTH_KEYS, OAUTH1_KEY_KEYS, PROFILE_KEYS, jsonErrorLocation, unknownKeys } from './diagnose.js'
import { type Pkcs11KeyReference, isPkcs11Reference, openProfileSigner, withPkcs11Decrypter } from './pkcs11.js'
import { canonicalEnvironment, checkConfigModulePermissions, checkSecretFilePermissions, transportProblem } from './security.js'
import { type ProfileTlsSpec, loadProfileTls } from './tls.js'
import { createTlsFetch } from '../http/tls.js'

/**
 * The environments a profile can target. Written as any name of `ENVIRONMENT_NAMES` in any case
 * (`Production`, `live`, `prd`, `uat`, ...); a loaded profile holds the canonical `production` or `sandbox`.
 */
export type Environment = 'sandbox' | 'production' | (string & {})

/**
 * A secret in a profile, never the value itself: an environment variable (read on every attempt) or a file
 * (re-read when it changes), so a rotated secret is picked up without a restart.
 */
export type SecretReference = { readonly env: string } | { readonly file: string }

/**
 * Another scheme of apisign/schemes' table in a profile: the scheme's client options, with every secret as
 * a {@link SecretReference}, e.g. `{ "scheme": "ost", "apiKey": "65e2...", "apiSecret": { "env": "OST_API_SECRET" } }`
 * or `{ "scheme": "sigv4", "region": "eu-west-1", "service": "execute-api",
 * "credentials": { "accessKeyId": "AKID...", "secretAccessKey": { "file": "./aws-secret" } } }`.
 */
export interface SchemeProfileAuth {
  readonly scheme: Exclude<SchemeId, 'oauth1'>
  readonly [option: string]: unknown
}

/**
 * One profile as written in `apisign.config.json` (or the default export of `apisign.config.mjs`):
 *
 * ```json
 * { "defaultProfile": "sandbox",
 *   "profiles": {
 *     "sandbox": {
 *       "environment": "sandbox",
 *       "baseURL": "https://sandbox.api.mastercard.com",
 *       "auth": { "scheme": "oauth1", "consumerKeyEnv": "MC_CONSUMER_KEY",
 *                 "key": { "path": "./keys/sandbox.p12", "alias": "keyalias", "passwordEnv": "MC_P12_PASSWORD" } },
 *       "encryption": { "configFile": "./encryption.json" },
 *       "timeoutMs": 30000, "retry": { "retries": 2 }, "limits": { "maxBodyLength": 10485760 } } } }
 * ```
 *
 * Secrets never live in this file: passwords come from `passwordEnv` (an environment variable, `.env`
 * supported) or `passwordFile`; the consumer key may be inline or `consumerKeyEnv`. Paths are relative to
 * the config file.
 */
export interface ProfileSpec {
  readonly environment?: Environment
  readonly baseURL: string
  readonly auth: SchemeProfileAuth | OAuth2ProfileAuth | {
    readonly scheme: 'oauth1'
    readonly consumerKey?: string
    readonly consumerKeyEnv?: string
    readonly dialect?: OAuth1AuthOptions['dialect']
    readonly signatureMethod?: OAuth1AuthOptions['signatureMethod']
    /**
     * The certificate the partner holds for this key (from its portal), checked by `apisign doctor`:
     * a key that does not match it is the most common cause of "signature failed verification".
     */
    readonly certificate?: string
    readonly key: {
      readonly path?: string
      readonly pathEnv?: string
      readonly alias?: string
      readonly passwordEnv?: string
      readonly passwordFile?: string
      /** A key held in an HSM instead of a file: `{ module, token, label | id, pinEnv | pinFile }`. */
      readonly pkcs11?: Pkcs11KeyReference
    }
  }
  /**
   * The encryption config: `{ "configFile": "./encryption.json" }` or the config inline. Optional
   * `decryptionCertificate`: the certificate the partner holds for your decryption key (the one you
   * uploaded), which `apisign doctor` checks the decryption key against. Optional `decryptionKey:
   * { "pkcs11": { ... } }`: the decryption key held in an HSM (it replaces the config's `privateKey`).
   */
  readonly encryption?: ({ readonly configFile: string } | Record<string, unknown>) & {
    readonly decryptionCertificate?: string
    readonly decryptionKey?: { readonly pkcs11: Pkcs11KeyReference } | unknown
  }
  readonly timeoutMs?: number
  readonly retry?: RetryPolicy | false
  readonly limits?: ClientOptions['limits']
  /**
   * The partner's quota for this key (apisign/quotas), e.g. `{ "windows": ["5/1s", "5000/1d"], "redis":
   * { "env": "APISIGN_REDIS_URL" } }`: the Redis URL inline or from the environment (it may hold a password).
   */
  readonly rateLimit?: Omit<RateLimitOptions, 'redis' | 'now'> & { readonly redis?: string | { readonly env: string } }
  /** Skip the sandbox/production host check (for partners whose hosts do not say which they are). */
  readonly skipHostCheck?: boolean
  /** Allow an `http://` baseURL on a non-loopback host (never in production). Default false. */
  readonly allowInsecureHttp?: boolean
  /** TLS towards the partner: its CA, a client certificate for mTLS (see {@link ProfileTlsSpec}). */
  readonly tls?: ProfileTlsSpec
}

/** The config file. */
export interface ProfilesFile {
  readonly defaultProfile?: string
  readonly profiles: Readonly<Record<string, ProfileSpec>>
}

/** A loaded, validated, frozen profile: pass it to `createClient`. Holds the loaded key, never its source secret. */
export interface Profile extends ClientOptions {
  readonly name: string
  readonly environment: Environment
  /**
   * OAuth 1.0a with its key loaded (a `KeyObject`, or a `Signer` for a key in an HSM), or another scheme's
   * options with secrets as credential providers.
   */
  readonly auth: (OAuth1AuthOptions & { readonly key: KeyObject | Signer }) | Exclude<SchemeAuthOptions, { readonly scheme: 'oauth1' }>
  readonly timeout: number
}

/** Options of {@link loadProfile}. */
export interface LoadProfileOptions {
  /** Config file; default `apisign.config.json`, then `apisign.config.mjs`, in `cwd`. */
  readonly configPath?: string
  /** Working directory. Default `process.cwd()`. */
  readonly cwd?: string
  /** Environment variables. Default `process.env`, over the `.env` file of `cwd` when present. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Private key file permission policy. Default `refuse`. */
  readonly keyFilePermissions?: FilePermissionPolicy
  /**
   * The set-up checks: the sandbox/production host and https check, and the signing key against
   * `auth.certificate`. Default `'enforce'` (a mismatch refuses the profile); `'report'` leaves them to a
   * tool that reports them itself (`apisign doctor`). A profile's own `skipHostCheck` skips the host check.
   */
  readonly checks?: 'enforce' | 'report'
}

/** A profile as written, before validation: what `apisign doctor` inspects. */
export interface ProfileSource {
  readonly name: string
  readonly spec: ProfileSpec
  /** The config file it came from. */
  readonly configPath: string
  /** Relative paths in the profile resolve against this folder. */
  readonly baseDir: string
  /** The environment it is resolved with (`.env` merged under the real environment). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The whole config file (every profile), as written. */
  readonly file: ProfilesFile
}

/**
 * Find a profile in the config file without validating it (which profile `loadProfile` would load, and
 * its raw spec).
 *
 * @example
 * ```ts
 * const { name, spec, configPath } = await readProfileSource(undefined, { cwd: process.cwd() })
 * ```
 */
export async function readProfileSource(name?: string, options: LoadProfileOptions = {}): Promise<ProfileSource> {
  if (name !== undefined && typeof name !== 'string') throw new TypeError(`name must be a string. Received ${describeType(name)}`)
  const cwd = options.cwd ?? process.cwd()
  const env = environmentWithDotEnv(cwd, options.env ?? process.env)
  const { file, path: configPath } = await readConfigFile(options, cwd)
  const chosen = name ?? env['APISIGN_PROFILE'] ?? file.defaultProfile
  const names = Object.keys(file.profiles)
  if (chosen === undefined) throw new ApisignError('ERR_PROFILE_NOT_FOUND', `no profile named; set APISIGN_PROFILE to one of ${names.join(', ')}`)
  if (!Object.hasOwn(file.profiles, chosen)) {
    throw new ApisignError('ERR_PROFILE_NOT_FOUND', `no profile ${JSON.stringify(chosen)} in ${configPath}; known: ${names.join(', ')}`)
  }
  const spec = file.profiles[chosen] as ProfileSpec
  if (spec === null || typeof spec !== 'object') throw invalid(chosen, 'must be an object')
  return { name: chosen, spec, configPath, baseDir: dirname(configPath), env, file }
}

/**
 * The environment a profile targets, `production` or `sandbox`: its `environment` in any spelling of
 * `ENVIRONMENT_NAMES` (case-insensitive), else guessed from the words of its name. Anything else is
 * `ERR_PROFILE_INVALID` (issue 13 item 5: `"Production"` once skipped the production checks).
 *
 * @example
 * ```ts
 * profileEnvironment('prod-eu', {}) // 'production'
 * profileEnvironment('eu', { environment: 'LIVE' }) // 'production'
 * ```
 */
export function profileEnvironment(name: string, spec: Pick<ProfileSpec, 'environment'>): Environment {
  return canonicalEnvironment(name, spec.environment)
}

/**
 * Whether a base URL's host fits the environment: a sandbox-looking host (`sandbox.`, `-test`, `uat`,
 * ...) or a loopback host in production is wrong; a production-looking host in a sandbox profile is
 * suspicious. Returns why, or undefined when it fits.
 *
 * @example
 * ```ts
 * hostMismatch('production', new URL('https://sandbox.api.mastercard.com')) // { severity: 'fail', ... }
 * ```
 */
export function hostMismatch(environment: Environment, url: URL): { severity: 'fail' | 'warn'; message: string } | undefined {
  const host = url.hostname
  if (environment === 'production' && url.protocol !== 'https:') return { severity: 'fail', message: 'a production baseURL must use https' }
  if (environment === 'production' && (SANDBOX_HOST.test(host) || LOCAL_HOST.test(host))) {
    return { severity: 'fail', message: `a production profile points at a sandbox/test host (${host})` }
  }
  if (environment === 'sandbox' && !SANDBOX_HOST.test(host) && !LOCAL_HOST.test(host)) {
    return { severity: 'warn', message: `a sandbox profile points at what looks like a production host (${host})` }
  }
  return undefined
}

const invalid = (profile: string, message: string) => new ApisignError('ERR_PROFILE_INVALID', `profile ${profile}: ${message}`)
// `mtf`: Mastercard's pre-production test facility (mtf.api.mastercard.com).
const SANDBOX_HOST = /(^|[.-])(sandbox|sbx|mtf|test|testing|staging|stage|uat|qa|dev)([.-]|$)/i
const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i

async function readConfigFile(options: LoadProfileOptions, cwd: string): Promise<{ file: ProfilesFile; path: string }> {
  const candidates = options.configPath !== undefined ? [resolve(cwd, options.configPath)] : [resolve(cwd, 'apisign.config.json'), resolve(cwd, 'apisign.config.mjs')]
  const path = candidates.find((p) => existsSync(p))
  if (path === undefined) {
    throw new ApisignError('ERR_CONFIG_INVALID', `no apisign config found (looked for ${candidates.join(', ')})`)
  }
  let file: unknown
  if (path.endsWith('.mjs') || path.endsWith('.js')) {
    checkConfigModulePermissions(path)
    file = ((await import(pathToFileURL(path).href)) as { default?: unknown }).default
  } else {
    const text = readFileSync(path, 'utf8')
    try {
      file = JSON.parse(text)
    } catch (error) {
      const at = jsonErrorLocation(text, error)
      throw new ApisignError('ERR_CONFIG_INVALID', `${path} is not valid JSON${at === undefined ? '' : ` (${at})`}`)
    }
  }
  if (file === null || typeof file !== 'object' || typeof (file as ProfilesFile).profiles !== 'object' || (file as ProfilesFile).profiles === null) {
    throw new ApisignError('ERR_CONFIG_INVALID', `${path} must hold { "profiles": { "<name>": { ... } } }`)
  }
  return { file: file as ProfilesFile, path }
}

/**
 * Variables from `.env` in `cwd` (never overriding ones already set), then the given environment.
 *
 * @example
 * ```ts
 * const env = environmentWithDotEnv(process.cwd(), process.env) // process.env wins over .env
 * ```
 */
export function environmentWithDotEnv(cwd: string, env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const path = resolve(cwd, '.env')
  if (!existsSync(path)) return { ...env }
  return { ...parseEnv(readFileSync(path, 'utf8')), ...env }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value) && !ArrayBuffer.isView(value) && typeof (value as { export?: unknown }).export !== 'function') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/**
 * Load, validate and freeze a profile (`sandbox`, `production`, or any name) from `apisign.config.json`
 * / `.mjs` and the environment. The name comes from the argument, else `APISIGN_PROFILE`, else the file's
 * `defaultProfile`. The signing key is loaded once here. Each mistake is a precise error: unknown profile
 * (`ERR_PROFILE_NOT_FOUND`), missing key file (`ERR_FILE_NOT_FOUND`), secret written in the file, a
 * production profile on a sandbox host or the reverse, `http:` in production (`ERR_PROFILE_INVALID`).
 *
 * @example
 * ```ts
 * import { loadProfile } from 'apisign/profiles'
 * import { createClient } from 'apisign/http'
 * const api = createClient(await loadProfile()) // APISIGN_PROFILE=production picks production
 * ```
 */
export async function loadProfile(name?: string, options: LoadProfileOptions = {}): Promise<Profile> {
  const { name: chosen, spec, baseDir: base, env, file } = await readProfileSource(name, options)
  const environment = profileEnvironment(chosen, spec)
  // A misspelt key would otherwise be ignored silently (a `basURL` leaves the profile without its URL).
  const typos = [
    ...unknownKeys(file, CONFIG_FILE_KEYS, 'config file'),
    ...unknownKeys(spec, PROFILE_KEYS, `profile ${chosen}`),
    ...(spec.auth !== null && typeof spec.auth === 'object' && spec.auth.scheme === 'oauth1'
      ? [...unknownKeys(spec.auth, OAUTH1_AUTH_KEYS, `profile ${chosen}: auth`), ...(spec.auth.key !== null && typeof spec.auth.key === 'object' ? unknownKeys(spec.auth.key, OAUTH1_KEY_KEYS, `profile ${chosen}: auth.key`) : [])]
      : []),
  ]
  if (typos.length > 0) throw new ApisignError('ERR_PROFILE_INVALID', typos.join('; '))

  let url: URL
  try {
    url = new URL(spec.baseURL)
  } catch {
    throw invalid(chosen, 'baseURL must be an absolute URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(chosen, 'baseURL must be http(s)')
  const enforce = options.checks !== 'report'
  const transport = transportProblem(environment, url, spec.allowInsecureHttp === true)
  if (enforce && transport !== undefined) throw invalid(chosen, transport)
  if (spec.skipHostCheck !== true && enforce) {
    const mismatch = hostMismatch(environment, url)
    if (mismatch !== undefined) throw invalid(chosen, mismatch.severity === 'warn' ? `${mismatch.message}; set skipHostCheck if that is intended` : mismatch.message)
  }

  if (spec.auth === undefined || spec.auth === null || typeof spec.auth !== 'object') throw invalid(chosen, 'auth is required')
  // Read on every attempt: the live environment first (a rotated secret shows there), then `.env`.
  const live = options.env ?? process.env
  const lookup = new Proxy({} as Record<string, string | undefined>, { get: (_t, k) => (typeof k === 'string' ? (live[k] ?? env[k]) : undefined) })
  if (spec.auth.scheme === 'oauth2') {
    const auth = await oauth2ProfileAuth(chosen, spec.auth as unknown as OAuth2ProfileAuth, env, base, options.keyFilePermissions ?? 'refuse')
    let profile: Profile
    try {
      profile = await assemble(chosen, environment, url, auth, spec, base, options, env)
    } catch (error) {
      // A client assertion key opened in an HSM: its sessions end with the refused profile.
      if (isSigner(auth.key)) await (auth.key as { close?: () => Promise<void> }).close?.()
      throw error
    }
    // The token endpoint is reached over the profile's TLS too (its CA, its client certificate).
    return deepFreeze(profile.tls === undefined ? profile : { ...profile, auth: { ...auth, fetch: createTlsFetch(profile.tls) as typeof fetch } })
  }
  if (spec.auth.scheme !== 'oauth1') {
    const auth = schemeAuth(chosen, spec.auth as SchemeProfileAuth, lookup, base, options)
    return deepFreeze(await assemble(chosen, environment, url, auth, spec, base, options, env))
  }
  const auth = spec.auth
  if ('password' in (auth.key ?? {}) || 'consumerSecret' in auth) {
    throw invalid(chosen, 'secrets must not be written in the config file; use passwordEnv or passwordFile')
  }
  const consumerKey = auth.consumerKey ?? (auth.consumerKeyEnv === undefined ? undefined : env[auth.consumerKeyEnv])
  if (consumerKey === undefined || consumerKey === '') {
    throw invalid(chosen, auth.consumerKeyEnv === undefined ? 'auth.consumerKey or auth.consumerKeyEnv is required' : `environment variable ${auth.consumerKeyEnv} (auth.consumerKeyEnv) is not set`)
  }
  // A key held in an HSM (`key: { pkcs11: { ... } }`) is opened instead of loaded from a file.
  if (isPkcs11Reference(auth.key)) return deepFreeze(await assemble(chosen, environment, url, await hsmAuth(chosen, auth, consumerKey, base, lookup, enforce, options), spec, base, options, env))
  const keyPath = auth.key?.path ?? (auth.key?.pathEnv === undefined ? undefined : env[auth.key.pathEnv])
  if (keyPath === undefined) throw invalid(chosen, 'auth.key.path (or pathEnv) is required')
  const absoluteKey = isAbsolute(keyPath) ? keyPath : resolve(base, keyPath)
  if (!existsSync(absoluteKey)) throw new ApisignError('ERR_FILE_NOT_FOUND', `profile ${chosen}: auth.key.path ${absoluteKey} does not exist`)
  let password: string | undefined
  if (auth.key.passwordEnv !== undefined) {
    password = env[auth.key.passwordEnv]
    if (password === undefined) throw invalid(chosen, `environment variable ${auth.key.passwordEnv} (auth.key.passwordEnv) is not set`)
  } else if (auth.key.passwordFile !== undefined) {
    const p = resolve(base, auth.key.passwordFile)
    if (!existsSync(p)) throw new ApisignError('ERR_FILE_NOT_FOUND', `profile ${chosen}: auth.key.passwordFile ${p} does not exist`)
    secretFileCheck(chosen, p, options)
    password = readFileSync(p, 'utf8').replace(/\r?\n$/, '')
  }
  let key: KeyObject
  try {
    key = loadSigningKey(absoluteKey, {
      ...(password === undefined ? {} : { password }),
      ...(auth.key.alias === undefined ? {} : { alias: auth.key.alias }),
      filePermissions: options.keyFilePermissions ?? 'refuse',
    })
  } catch (error) {
    if (error instanceof ApisignError) throw new ApisignError(error.code, `profile ${chosen}: ${error.message}`, { cause: error })
    throw error
  }
  if (enforce && auth.certificate !== undefined) {
    // A key that is not the one the partner's certificate was issued for fails every call with "signature
    // failed verification": refuse it here, before the first request.
    let certificate
    try {
      certificate = loadCertificate(isAbsolute(auth.certificate) ? auth.certificate : resolve(base, auth.certificate))
    } catch (error) {
      if (error instanceof ApisignError) throw new ApisignError(error.code, `profile ${chosen}: auth.certificate: ${error.message}`, { cause: error })
      throw error
    }
    if (!keyMatchesCertificate(key, certificate)) {
      throw new ApisignError('ERR_KEY_MISMATCH', `profile ${chosen}: the signing key does not match auth.certificate (${certificate.subject.replace(/\n/g, ', ')}); run apisign doctor`)
    }
  }

  const oauth1: Profile['auth'] = {
    scheme: 'oauth1',
    consumerKey,
    key,
    ...(auth.dialect === undefined ? {} : { dialect: auth.dialect }),
    ...(auth.signatureMethod === undefined ? {} : { signatureMethod: auth.signatureMethod }),
  }
  return deepFreeze(await assemble(chosen, environment, url, oauth1, spec, base, options, env))
}

// The OAuth1 auth of a profile whose key is in an HSM: the signer opened once, checked against
// auth.certificate like a key file (a mismatch refuses the profile).
async function hsmAuth(
  chosen: string,
  auth: Extract<ProfileSpec['auth'], { readonly scheme: 'oauth1' }>,
  consumerKey: string,
  base: string,
  env: Readonly<Record<string, string | undefined>>,
  enforce: boolean,
  options: LoadProfileOptions,
): Promise<Profile['auth']> {
  const ref = (auth.key as { pkcs11?: unknown }).pkcs11
  const signer = await openProfileSigner(ref, auth.signatureMethod === 'RSA-PSS' ? 'PS256' : 'RS256', { profile: chosen, where: 'auth.key.pkcs11', baseDir: base, env, filePermissions: options.keyFilePermissions ?? 'refuse' })
  if (enforce && auth.certificate !== undefined && signer.publicKey !== undefined) {
    let certificate
    try {
      certificate = loadCertificate(isAbsolute(auth.certificate) ? auth.certificate : resolve(base, auth.certificate))
    } catch (error) {
      await signer.close()
      if (error instanceof ApisignError) throw new ApisignError(error.code, `profile ${chosen}: auth.certificate: ${error.message}`, { cause: error })
      throw error
    }
    if (!keyMatchesCertificate(signer.publicKey, certificate)) {
      await signer.close()
      throw new ApisignError('ERR_KEY_MISMATCH', `profile ${chosen}: the key in the token does not match auth.certificate (${certificate.subject.replace(/\n/g, ', ')}); run apisign doctor`)
    }
  }
  return {
    scheme: 'oauth1',
    consumerKey,
    key: signer,
    ...(auth.dialect === undefined ? {} : { dialect: auth.dialect }),
    ...(auth.signatureMethod === undefined ? {} : { signatureMethod: auth.signatureMethod }),
  }
}

const SECRET_FIELD = /secret|password|token|^key$/i

/**
 * Copy a config value, replacing each `{ "env": NAME }` / `{ "file": path }` secret reference (an object
 * with exactly that one key) with what `replace` makes of it; `onString` sees every plain string with its
 * path (to refuse an inline secret). Shared by profiles (references become providers) and
 * `apisign mock --security` (references become values).
 */
export function mapSecretReferences(
  value: unknown,
  path: string,
  replace: (ref: SecretReference, path: string) => unknown,
  onString: (path: string) => void = () => undefined,
): unknown {
  if (typeof value === 'string') {
    onString(path)
    return value
  }
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v, i) => mapSecretReferences(v, `${path}[${i}]`, replace, onString))
  const entries = Object.entries(value)
  const [only] = entries
  if (entries.length === 1 && only !== undefined && (only[0] === 'env' || only[0] === 'file') && typeof only[1] === 'string') {
    return replace(only[0] === 'env' ? { env: only[1] } : { file: only[1] }, path)
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, mapSecretReferences(v, `${path}.${k}`, replace, onString)]))
}

/** Turn `{ env }` / `{ file }` references into credential providers; refuse inline secrets. */
/** A secret file is a private key as far as permissions go (issue 13 item 6): same policy, same option. */
function secretFileCheck(profile: string, path: string, options: LoadProfileOptions): void {
  try {
    checkSecretFilePermissions(path, options.keyFilePermissions ?? 'refuse', (m) => process.emitWarning(m, { code: 'APISIGN_SECRET_FILE_PERMISSIONS' }))
  } catch (error) {
    if (error instanceof ApisignError) throw new ApisignError(error.code, `profile ${profile}: ${error.message}`, { cause: error })
    throw error
  }
}

function schemeAuth(profile: string, auth: SchemeProfileAuth, env: Readonly<Record<string, string | undefined>>, base: string, options: LoadProfileOptions): Exclude<SchemeAuthOptions, { readonly scheme: 'oauth1' }> {
  if (typeof auth.scheme !== 'string' || !Object.hasOwn(SCHEMES, auth.scheme)) {
    throw invalid(profile, `auth.scheme must be one of ${Object.keys(SCHEMES).join(', ')}`)
  }
  const converted = mapSecretReferences(
    auth,
    'auth',
    (ref, path) => {
      if ('env' in ref) {
        if (env[ref.env] === undefined || env[ref.env] === '') throw invalid(profile, `environment variable ${ref.env} (${path}) is not set`)
        return fromEnv(ref.env, env)
      }
      const file = resolve(base, ref.file)
      if (!existsSync(file)) throw new ApisignError('ERR_FILE_NOT_FOUND', `profile ${profile}: ${path} file ${file} does not exist`)
      secretFileCheck(profile, file, options)
      return fromFile(file)
    },
    (path) => {
      if (SECRET_FIELD.test(path.split('.').pop() ?? '')) throw invalid(profile, `${path} is a secret: write { "env": "NAME" } or { "file": "./path" }, not the value`)
    },
  ) as Exclude<SchemeAuthOptions, { readonly scheme: 'oauth1' }>
  // Build the applier once here so a missing or mistyped option fails at load time, not on the first call.
  try {
    resolveAuth(converted)
  } catch (error) {
    if (error instanceof ApisignError) throw new ApisignError(error.code, `profile ${profile}: ${error.message}`, { cause: error })
    if (error instanceof TypeError) throw invalid(profile, `auth: ${error.message}`)
    throw error
  }
  return converted
}

function profileRateLimit(profile: string, given: NonNullable<ProfileSpec['rateLimit']>, env: Readonly<Record<string, string | undefined>>): RateLimitOptions {
  if (given === null || typeof given !== 'object' || Array.isArray(given)) throw invalid(profile, 'rateLimit must be an object such as { "windows": ["5/1s"] }')
  let redis: string | undefined
  if (typeof given.redis === 'object' && given.redis !== null) {
    redis = env[given.redis.env]
    if (redis === undefined || redis === '') throw invalid(profile, `environment variable ${given.redis.env} (rateLimit.redis) is not set`)
  } else if (given.redis !== undefined) {
    if (typeof given.redis !== 'string') throw invalid(profile, 'rateLimit.redis must be a redis:// URL or { "env": NAME }')
    if (/^rediss?:\/\/[^/]*:[^/@]+@/.test(given.redis)) throw invalid(profile, 'rateLimit.redis holds a password: write { "env": "NAME" }, not the value')
    redis = given.redis
  }
  const options: RateLimitOptions = { ...given, ...(redis === undefined ? {} : { redis }) } as RateLimitOptions
  try {
    validateRateLimit(options)
  } catch (error) {
    if (error instanceof TypeError) throw invalid(profile, error.message)
    throw error
  }
  return options
}

async function assemble(
  chosen: string,
  environment: Environment,
  url: URL,
  auth: Profile['auth'],
  spec: ProfileSpec,
  base: string,
  options: LoadProfileOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Profile> {
  let encryption: ClientOptions['encryption']
  if (spec.encryption !== undefined) {
    const { decryptionCertificate: _forDoctor, ...all } = spec.encryption as Record<string, unknown>
    // A decryption key in an HSM, named beside the config (a typed inline config's own file key stays).
    const { decryptionKey: hsmKey, ...rest } = all
    const enc = isPkcs11Reference(hsmKey) ? rest : all
    const encPath = typeof enc['configFile'] === 'string' ? resolve(base, enc['configFile']) : undefined
    let encConfig: unknown = enc
    if (encPath !== undefined) {
      if (!existsSync(encPath)) throw new ApisignError('ERR_FILE_NOT_FOUND', `profile ${chosen}: encryption.configFile ${encPath} does not exist`)
      const text = readFileSync(encPath, 'utf8')
      try {
        encConfig = JSON.parse(text)
      } catch (error) {
        const at = jsonErrorLocation(text, error)
        throw invalid(chosen, `encryption.configFile ${encPath} is not valid JSON${at === undefined ? '' : ` (${at})`}`)
      }
    }
    encConfig = (await withPkcs11Decrypter(encConfig as Record<string, unknown>, hsmKey, { profile: chosen, configDir: encPath === undefined ? base : dirname(encPath), baseDir: base, env, filePermissions: options.keyFilePermissions ?? 'refuse' })).config
    encryption = createEncryption(encConfig as Record<string, unknown>, {
      baseDir: encPath === undefined ? base : dirname(encPath),
      keyFilePermissions: options.keyFilePermissions ?? 'refuse',
    })
  }
  if (spec.timeoutMs !== undefined && (!Number.isInteger(spec.timeoutMs) || spec.timeoutMs <= 0)) throw invalid(chosen, 'timeoutMs must be a positive integer')
  // Limits and retry budgets are read the client's way here, so a NaN fails at load (issue 13 item 1).
  try {
    resolveRetryPolicy(spec.retry)
    limitOption(spec.limits?.maxBodyLength, 'limits.maxBodyLength', 0, { integer: true })
    limitOption(spec.limits?.maxContentLength, 'limits.maxContentLength', 0, { integer: true })
  } catch (error) {
    if (error instanceof TypeError || (error instanceof ApisignError && error.code === 'ERR_CONFIG_INVALID')) throw invalid(chosen, error.message)
    throw error
  }

  const profile: Profile = {
    name: chosen,
    environment,
    baseURL: url.href.replace(/\/$/, ''),
    auth,
    timeout: spec.timeoutMs ?? 30_000,
    ...(encryption === undefined ? {} : { encryption }),
    ...(spec.retry === undefined ? {} : { retry: spec.retry }),
    ...(spec.limits === undefined ? {} : { limits: spec.limits }),
    ...(spec.rateLimit === undefined ? {} : { rateLimit: profileRateLimit(chosen, spec.rateLimit, env) }),
    ...(spec.tls === undefined ? {} : { tls: loadProfileTls(chosen, spec.tls, base, env, options.keyFilePermissions ?? 'refuse') }),
  }
  return profile
}
