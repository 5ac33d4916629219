// `key: { "pkcs11": { ... } }` in a profile: a signing or decryption key held in an HSM, opened once when the
// profile loads. The reference names the module, the token, the key and where the PIN is; never the PIN.
import { isAbsolute, resolve } from 'node:path'
import { ApisignError, describeType } from '../errors.js'
import { openPkcs11Decrypter, openPkcs11Signer } from '../signers/pkcs11.js'
import type { Pkcs11Decrypter, Pkcs11Signer } from '../signers/pkcs11.js'
import type { OaepHash, SignerAlgorithm } from '../signers/types.js'

/**
 * A key in a PKCS#11 token as a profile names it:
 * `{ "module": "/usr/lib/softhsm/libsofthsm2.so", "token": "payments", "label": "oauth-signing", "pinEnv": "HSM_PIN" }`
 * (`id` instead of or with `label`; `pinFile` instead of `pinEnv`, relative to the config file).
 */
export interface Pkcs11KeyReference {
  readonly module: string
  readonly token: string
  readonly label?: string
  readonly id?: string
  readonly pinEnv?: string
  readonly pinFile?: string
  readonly maxSessions?: number
  /** Decryption keys only: see `rawOaepHashes` of `openPkcs11Decrypter`. */
  readonly rawOaepHashes?: readonly OaepHash[]
}

const FIELDS = new Set(['module', 'token', 'label', 'id', 'pinEnv', 'pinFile', 'maxSessions', 'rawOaepHashes'])

/** Is this profile key value a `{ pkcs11: { ... } }` reference? */
export function isPkcs11Reference(value: unknown): value is { readonly pkcs11: Pkcs11KeyReference } {
  return value !== null && typeof value === 'object' && 'pkcs11' in value
}

interface Context {
  /** The profile's name, for messages (omitted for a bare config, e.g. `apisign decrypt --config`). */
  readonly profile?: string
  /** Where the reference sits, for messages (`auth.key.pkcs11`). */
  readonly where: string
  readonly baseDir: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** The profile's key file policy, applied to a PIN file too. Default `refuse`. */
  readonly filePermissions?: 'refuse' | 'warn' | 'ignore'
}

function check(ref: unknown, c: Context): Pkcs11KeyReference {
  const invalid = (message: string) => new ApisignError('ERR_PROFILE_INVALID', `${prefix(c)}${message}`)
  if (ref === null || typeof ref !== 'object' || Array.isArray(ref)) throw invalid(`must be an object (got ${describeType(ref)})`)
  const r = ref as Record<string, unknown>
  if ('pin' in r) throw invalid('the PIN must not be written in the config file; use pinEnv or pinFile')
  for (const k of Object.keys(r)) if (!FIELDS.has(k)) throw invalid(`unknown field ${JSON.stringify(k)} (known: ${[...FIELDS].join(', ')})`)
  for (const k of ['module', 'token']) if (typeof r[k] !== 'string' || r[k] === '') throw invalid(`${k} is required (a string)`)
  if (r['label'] === undefined && r['id'] === undefined) throw invalid('give the key\'s label or id')
  if ((r['pinEnv'] === undefined) === (r['pinFile'] === undefined)) throw invalid('give exactly one of pinEnv or pinFile')
  if (r['pinEnv'] !== undefined && (c.env[r['pinEnv'] as string] ?? '') === '') throw invalid(`environment variable ${String(r['pinEnv'])} (the token PIN) is not set`)
  return ref as Pkcs11KeyReference
}

function options(ref: Pkcs11KeyReference, c: Context) {
  // A relative module path is the config's (`./vendor/libcloudhsm.so`); a bare name is left to the loader.
  const module = ref.module.startsWith('.') && !isAbsolute(ref.module) ? resolve(c.baseDir, ref.module) : ref.module
  return {
    module,
    token: ref.token,
    ...(ref.label === undefined ? {} : { label: ref.label }),
    ...(ref.id === undefined ? {} : { id: ref.id }),
    ...(ref.pinEnv === undefined ? {} : { pinEnv: ref.pinEnv, env: c.env }),
    ...(ref.pinFile === undefined ? {} : { pinFile: resolve(c.baseDir, ref.pinFile) }),
    ...(c.filePermissions === undefined ? {} : { pinFilePermissions: c.filePermissions }),
    ...(ref.maxSessions === undefined ? {} : { maxSessions: ref.maxSessions }),
  }
}

const prefix = (c: Context) => `${c.profile === undefined ? '' : `profile ${c.profile}: `}${c.where}: `

async function named<T>(c: Context, open: () => Promise<T>): Promise<T> {
  try {
    return await open()
  } catch (error) {
    if (error instanceof ApisignError) throw new ApisignError(error.code, `${prefix(c)}${error.message}`, { cause: error })
    if (error instanceof TypeError) throw new ApisignError('ERR_PROFILE_INVALID', `${prefix(c)}${error.message}`, { cause: error })
    throw error
  }
}

/**
 * The algorithm a signing key is opened for: fixed (`RS256` for an OAuth 1.0a profile, `PS256` for RSA-PSS),
 * or chosen by the key type the token holds (an OAuth 2.0 profile without `algorithm`: PS256 for RSA,
 * ES256 for P-256, since FAPI 2.0 §5.4.1 allows only those two).
 */
export type ProfileSignerAlgorithm = SignerAlgorithm | ((keyType: 'rsa' | 'ec') => SignerAlgorithm)

/**
 * Open the signing key a profile's `auth.key.pkcs11` names (`RS256`, or `PS256` for RSA-PSS profiles; an
 * OAuth 2.0 profile passes a choice by key type).
 *
 * @example
 * ```ts
 * const signer = await openProfileSigner(spec.auth.key.pkcs11, 'RS256', { profile: 'production', where: 'auth.key.pkcs11', baseDir, env })
 * ```
 */
export function openProfileSigner(ref: unknown, algorithm: ProfileSignerAlgorithm, c: Context): Promise<Pkcs11Signer> {
  return named(c, async () => {
    const checked = check(ref, c)
    if (checked.rawOaepHashes !== undefined) throw new TypeError('rawOaepHashes is for decryption keys')
    if (typeof algorithm !== 'function') return openPkcs11Signer({ ...options(checked, c), algorithm })
    // The key type is known only once the key is found: open with the token's default (RS256 for RSA,
    // ES256 for EC), and reopen for the chosen algorithm when it differs (its mechanism is checked then).
    const first = await openPkcs11Signer(options(checked, c))
    const wanted = algorithm(first.algorithm === 'ES256' ? 'ec' : 'rsa')
    if (wanted === first.algorithm) return first
    await first.close()
    return openPkcs11Signer({ ...options(checked, c), algorithm: wanted })
  })
}

/**
 * Open the decryption key a profile's `encryption.decryptionKey.pkcs11` (or the encryption config's
 * `privateKey.pkcs11`) names.
 *
 * @example
 * ```ts
 * const decrypter = await openProfileDecrypter(ref, { profile: 'sandbox', where: 'encryption.decryptionKey.pkcs11', baseDir, env })
 * ```
 */
export function openProfileDecrypter(ref: unknown, c: Context): Promise<Pkcs11Decrypter> {
  return named(c, async () => {
    const checked = check(ref, c)
    return openPkcs11Decrypter({ ...options(checked, c), ...(checked.rawOaepHashes === undefined ? {} : { rawOaepHashes: checked.rawOaepHashes }) })
  })
}

/**
 * An encryption config with its decryption key opened as a Decrypter when it is in an HSM: named by the
 * profile's `encryption.decryptionKey.pkcs11` (`profileRef`) or by the config's own `privateKey` /
 * `decryptionKey` `{ pkcs11 }`. Returns the config unchanged (and no decrypter) otherwise.
 *
 * @example
 * ```ts
 * const { config: ready, decrypter } = await withPkcs11Decrypter(config, undefined, { configDir, baseDir: configDir, env: process.env })
 * ```
 */
export async function withPkcs11Decrypter(
  config: Record<string, unknown>,
  profileRef: unknown,
  c: { readonly profile?: string; readonly configDir: string; readonly baseDir: string; readonly env: Readonly<Record<string, string | undefined>>; readonly filePermissions?: 'refuse' | 'warn' | 'ignore' },
): Promise<{ config: Record<string, unknown>; decrypter: Pkcs11Decrypter | undefined }> {
  const field = 'endpoints' in config && !('paths' in config) ? 'decryptionKey' : 'privateKey'
  const inConfig = config[field]
  const fromProfile = isPkcs11Reference(profileRef)
  const ref = fromProfile ? profileRef : isPkcs11Reference(inConfig) ? inConfig : undefined
  if (ref === undefined) return { config, decrypter: undefined }
  const decrypter = await openProfileDecrypter(ref.pkcs11, {
    ...(c.profile === undefined ? {} : { profile: c.profile }),
    where: fromProfile ? 'encryption.decryptionKey.pkcs11' : `encryption ${field}.pkcs11`,
    baseDir: fromProfile ? c.baseDir : c.configDir,
    env: c.env,
    ...(c.filePermissions === undefined ? {} : { filePermissions: c.filePermissions }),
  })
  const { keyStore: _keyStore, keyStorePassword: _password, keyStoreAlias: _alias, ...rest } = config
  return { config: { ...rest, [field]: decrypter }, decrypter }
}
