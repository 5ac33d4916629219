import { type KeyObject, X509Certificate } from 'node:crypto'
import { isAbsolute, resolve } from 'node:path'
import { ApisignError, describeType } from '../errors.js'
import { type FilePermissionPolicy, fingerprint, loadCertificate, loadPrivateKey, loadPublicKey } from '../keys/index.js'
import { type DataEncoding, type LegacyDigest, parseLegacyDigest } from './legacy.js'
import { type PathSegment, WILDCARD, parseFieldPath } from './paths.js'

/** A key or certificate as a config gives it: a file path, PEM/DER content, bytes, or a node:crypto object. */
export type KeyMaterial = string | Uint8Array | KeyObject | X509Certificate

/** One `{ element, obj }` mapping of a `mastercard-client-encryption` config. */
export interface FieldMapping {
  readonly element: string
  readonly obj: string
}

/** One endpoint entry: `path` is a regular expression matched against the URL without its query. */
export interface EndpointPaths {
  readonly path: string
  readonly toEncrypt?: readonly FieldMapping[]
  readonly toDecrypt?: readonly FieldMapping[]
}

/**
 * A `mastercard-client-encryption` config object, accepted as it is (JWE with `mode: 'JWE'`, the legacy
 * field-level scheme otherwise). Key fields take file paths (relative to `baseDir`), PEM/DER content,
 * bytes or node:crypto objects.
 */
export interface MastercardEncryptionConfig {
  readonly paths: readonly EndpointPaths[]
  readonly mode?: 'JWE' | string
  readonly encryptedValueFieldName: string
  readonly encryptionCertificate?: KeyMaterial
  /** apisign extension: a bare RSA public key instead of a certificate. */
  readonly encryptionKey?: KeyMaterial
  readonly privateKey?: KeyMaterial
  readonly keyStore?: string | Uint8Array
  readonly keyStoreAlias?: string
  readonly keyStorePassword?: string
  readonly publicKeyFingerprint?: string
  readonly publicKeyFingerprintType?: 'certificate' | 'publicKey'
  readonly dataEncoding?: DataEncoding
  readonly useCertificateContent?: boolean
  // legacy scheme
  readonly oaepPaddingDigestAlgorithm?: string
  readonly ivFieldName?: string
  readonly encryptedKeyFieldName?: string
  readonly oaepHashingAlgorithmFieldName?: string
  readonly publicKeyFingerprintFieldName?: string
  readonly ivHeaderName?: string
  readonly encryptedKeyHeaderName?: string
  readonly oaepHashingAlgorithmHeaderName?: string
  readonly publicKeyFingerprintHeaderName?: string
}

/**
 * apisign's own typed config, for new integrations: JWE by default, one entry per endpoint, mappings as
 * `{ from, to }` pairs. It is translated into the `mastercard-client-encryption` form, so both behave
 * identically.
 *
 * @example
 * ```ts
 * const config: ApisignEncryptionConfig = {
 *   encryptionCertificate: './partner-encryption.crt', decryptionKey: './decryption-key.pem',
 *   endpoints: [{ path: '/payments$', encrypt: [{ from: 'card', to: 'encryptedCard' }], decrypt: [{ from: 'encryptedCard', to: 'card' }] }],
 * }
 * ```
 */
export interface ApisignEncryptionConfig {
  /** Only JWE for the typed form; use the `mastercard-client-encryption` form for the legacy scheme. */
  readonly scheme?: 'jwe'
  readonly endpoints: ReadonlyArray<{
    /**
     * Regular expression (source or RegExp) matched against the URL path only (never the query or the
     * host). Anchor it (`^/v1/payments$`): an unanchored `.*` matches more endpoints than meant, and
     * apisign warns once about it.
     */
    readonly path: string | RegExp
    readonly encrypt?: ReadonlyArray<{ readonly from: string; readonly to: string }>
    readonly decrypt?: ReadonlyArray<{ readonly from: string; readonly to: string }>
  }>
  /** Field that carries the token inside an object. Default `encryptedData`. */
  readonly encryptedValueFieldName?: string
  /** The partner's certificate (or `encryptionKey`, a bare public key). */
  readonly encryptionCertificate?: KeyMaterial
  readonly encryptionKey?: KeyMaterial
  /** Our private key for responses: PEM/DER/path/KeyObject, or a PKCS#12 `{ p12, alias, password }`. */
  readonly decryptionKey?: KeyMaterial | { readonly p12: string | Uint8Array; readonly alias?: string; readonly password: string }
  /** Explicit `kid`; default the SHA-256 fingerprint of the public key, hex. */
  readonly kid?: string
}

/**
 * Translate {@link ApisignEncryptionConfig} into the `mastercard-client-encryption` form.
 *
 * @example
 * ```ts
 * const mceShape = fromApisignConfig({ mode: 'jwe', endpoints: [{ path: '/payments', encrypt: [{ from: 'card', to: 'encryptedCard' }] }], encryptionCertificate: 'partner.pem' })
 * ```
 */
export function fromApisignConfig(config: ApisignEncryptionConfig): Record<string, unknown> {
  if (config.scheme !== undefined && config.scheme !== 'jwe') throw bad('scheme must be "jwe" in the typed config')
  if (!Array.isArray(config.endpoints)) throw bad('endpoints must be an array')
  const map = (list: ReadonlyArray<{ from: string; to: string }> | undefined) => (list ?? []).map(({ from, to }) => ({ element: from, obj: to }))
  const key = config.decryptionKey
  const p12 = key !== undefined && typeof key === 'object' && 'p12' in key ? key : undefined
  return {
    mode: 'JWE',
    encryptedValueFieldName: config.encryptedValueFieldName ?? 'encryptedData',
    paths: config.endpoints.map((e) => ({ path: e.path instanceof RegExp ? e.path.source : e.path, toEncrypt: map(e.encrypt), toDecrypt: map(e.decrypt) })),
    ...(config.encryptionCertificate === undefined ? {} : { encryptionCertificate: config.encryptionCertificate }),
    ...(config.encryptionKey === undefined ? {} : { encryptionKey: config.encryptionKey }),
    ...(p12 !== undefined ? { keyStore: p12.p12, keyStorePassword: p12.password, ...(p12.alias === undefined ? {} : { keyStoreAlias: p12.alias }) } : key === undefined ? {} : { privateKey: key }),
    ...(config.kid === undefined ? {} : { publicKeyFingerprint: config.kid }),
  }
}

/** apisign options around a config. */
export interface EncryptionOptions {
  /** Directory relative key paths are resolved against (the config file's). Default: the working directory. */
  readonly baseDir?: string
  /** JWE GCM IV length on encrypt: 12 (RFC 7518, default) or 16 for peers that demand it. */
  readonly ivLength?: 12 | 16
  /** Largest compact JWE accepted on decrypt, checked before parsing. Default 16 MiB. */
  readonly maxTokenLength?: number
  /** Decrypt `alg: RSA-OAEP` (SHA-1) tokens. Off by default. */
  readonly allowRsaOaepSha1?: boolean
  /** Private key files readable by group or others: `refuse` (default), `warn` or `ignore`. */
  readonly keyFilePermissions?: FilePermissionPolicy
  /** Injected randomness (tests only). */
  readonly randomBytes?: (n: number) => Uint8Array
  /** Receives configuration warnings (an unanchored `.*` path pattern, once each). Default `process.emitWarning`. */
  readonly onWarning?: (message: string) => void
}

export interface CompiledMapping {
  readonly element: readonly PathSegment[]
  readonly obj: readonly PathSegment[]
  readonly elementText: string
  readonly objText: string
}

export interface CompiledEndpoint {
  readonly pattern: RegExp
  readonly toEncrypt: readonly CompiledMapping[]
  readonly toDecrypt: readonly CompiledMapping[]
}

/** The validated, resolved form of a config: keys loaded once, paths parsed once. */
export interface ResolvedEncryptionConfig {
  readonly scheme: 'jwe' | 'legacy'
  readonly endpoints: readonly CompiledEndpoint[]
  readonly field: string
  readonly encryptionKey: KeyObject | undefined
  readonly decryptionKey: KeyObject | undefined
  readonly kid: string | undefined
  readonly legacy:
    | {
        readonly digest: LegacyDigest
        readonly encoding: DataEncoding
        readonly place: 'body' | 'header'
        readonly ivName: string
        readonly keyName: string
        readonly digestName: string | undefined
        readonly fingerprintName: string | undefined
      }
    | undefined
}

const bad = (message: string) => new ApisignError('ERR_ENCRYPTION_CONFIG', `encryption config: ${message}`)

function optionalString(config: Record<string, unknown>, name: string): string | undefined {
  const v = config[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || v === '') throw bad(`${name} must be a non-empty string`)
  return v
}

function material(value: unknown, baseDir: string): string | Uint8Array | KeyObject | X509Certificate {
  if (typeof value === 'string' && !value.includes('-----BEGIN') && !isAbsolute(value)) return resolve(baseDir, value)
  return value as string | Uint8Array | KeyObject | X509Certificate
}

const wildcardPositions = (path: readonly PathSegment[]): string =>
  path.flatMap((segment, i) => (segment === WILDCARD ? [i] : [])).join(',')

function compileMappings(list: unknown, where: string): CompiledMapping[] {
  if (list === undefined) return []
  if (!Array.isArray(list)) throw bad(`${where} must be an array of { element, obj }`)
  const out = list.map((m: unknown, i) => {
    if (m === null || typeof m !== 'object') throw bad(`${where}[${i}] must be an object { element, obj }`)
    const { element, obj } = m as Record<string, unknown>
    if (typeof element !== 'string' || typeof obj !== 'string') throw bad(`${where}[${i}] needs string element and obj`)
    const compiled = { element: parseFieldPath(element), obj: parseFieldPath(obj), elementText: element, objText: obj }
    // Each match of a `[*]` element goes to the obj position with the same indexes; an obj without the same
    // wildcards would send every match to one place, and all but one value would be lost.
    if (wildcardPositions(compiled.element) !== wildcardPositions(compiled.obj)) {
      throw bad(`${where}[${i}]: element and obj must have [*] at the same positions`)
    }
    return compiled
  })
  // The reference refuses a root mapping mixed with others: the root replaces the whole body.
  if (out.length > 1 && out.some((m) => m.element.length === 0 || m.obj.length === 0)) {
    throw bad(`${where} has a root ($) mapping together with others`)
  }
  return out
}

/**
 * Validate a `mastercard-client-encryption` config once, load its keys once, and compile its paths. Every
 * mistake is an `ERR_ENCRYPTION_CONFIG` naming the field.
 *
 * @example
 * ```ts
 * const resolved = resolveEncryptionConfig(JSON.parse(readFileSync('encryption.json', 'utf8')), { baseDir: '.' })
 * ```
 */
export function resolveEncryptionConfig(input: unknown, options: EncryptionOptions = {}): ResolvedEncryptionConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw bad(`config must be an object (got ${describeType(input)})`)
  }
  const config = ('endpoints' in input && !('paths' in input) ? fromApisignConfig(input as ApisignEncryptionConfig) : input) as Record<string, unknown>
  const baseDir = options.baseDir ?? process.cwd()
  const scheme = config['mode'] === undefined || config['mode'] !== 'JWE' ? 'legacy' : 'jwe'
  if (config['mode'] !== undefined && config['mode'] !== 'JWE') throw bad(`mode must be "JWE" or absent (legacy), got ${JSON.stringify(String(config['mode']))}`)
  const field = optionalString(config, 'encryptedValueFieldName')
  if (field === undefined) throw bad('encryptedValueFieldName is required')
  if (!Array.isArray(config['paths'])) throw bad('paths must be an array of { path, toEncrypt, toDecrypt }')
  if (config['paths'].length === 0) throw bad('paths must not be empty')
  const endpoints = (config['paths'] as unknown[]).map((p, i): CompiledEndpoint => {
    if (p === null || typeof p !== 'object') throw bad(`paths[${i}] must be an object`)
    const entry = p as Record<string, unknown>
    if (typeof entry['path'] !== 'string' || entry['path'] === '') throw bad(`paths[${i}].path must be a regular expression string`)
    let pattern: RegExp
    try {
      pattern = new RegExp(entry['path'])
    } catch {
      throw bad(`paths[${i}].path is not a valid regular expression`)
    }
    warnUnanchored(entry['path'], i, options.onWarning)
    return {
      pattern,
      toEncrypt: compileMappings(entry['toEncrypt'], `paths[${i}].toEncrypt`),
      toDecrypt: compileMappings(entry['toDecrypt'], `paths[${i}].toDecrypt`),
    }
  })

  const dataEncoding = config['dataEncoding']
  if (dataEncoding !== undefined && dataEncoding !== 'hex' && dataEncoding !== 'base64') throw bad('dataEncoding must be "hex" or "base64"')
  const fpType = config['publicKeyFingerprintType']
  if (fpType !== undefined && fpType !== 'certificate' && fpType !== 'publicKey') {
    throw bad('publicKeyFingerprintType must be "certificate" or "publicKey"')
  }
  if (fpType === 'certificate' && dataEncoding === undefined) {
    throw bad('publicKeyFingerprintType "certificate" needs dataEncoding "hex" or "base64"')
  }

  // Keys: loaded once, here. A wrong file is reported with the config field's name. A value of the wrong
  // type (a number from a JSON config, say) is a config mistake too, not a TypeError from deep in apisign/keys.
  const load = <T>(name: string, fn: () => T): T => {
    try {
      return fn()
    } catch (error) {
      const code = error instanceof ApisignError ? error.code : 'ERR_ENCRYPTION_CONFIG'
      throw new ApisignError(code, `encryption config ${name}: ${(error as Error).message}`, { cause: error })
    }
  }
  let certificate: X509Certificate | undefined
  let encryptionKey: KeyObject | undefined
  if (config['encryptionCertificate'] !== undefined) {
    certificate = load('encryptionCertificate', () => loadCertificate(material(config['encryptionCertificate'], baseDir) as string))
    encryptionKey = certificate.publicKey
  } else if (config['encryptionKey'] !== undefined) {
    encryptionKey = load('encryptionKey', () => loadPublicKey(material(config['encryptionKey'], baseDir) as string))
  }
  const permissions = { filePermissions: options.keyFilePermissions ?? 'refuse' } as const
  let decryptionKey: KeyObject | undefined
  if (config['privateKey'] !== undefined) {
    decryptionKey = load('privateKey', () => loadPrivateKey(material(config['privateKey'], baseDir) as string, permissions))
  } else if (config['keyStore'] !== undefined) {
    const alias = optionalString(config, 'keyStoreAlias')
    const password = config['keyStorePassword']
    if (password !== undefined && typeof password !== 'string') throw bad('keyStorePassword must be a string')
    // Like mastercard-client-encryption, keyStore may name an unencrypted PEM or DER private key (no
    // password); loadPrivateKey tells a PKCS#12 keystore apart by its content and asks for the password
    // then (client-encryption-nodejs test "valid pkcs8 pem in keyStore").
    decryptionKey = load('keyStore', () =>
      password === undefined
        ? loadPrivateKey(material(config['keyStore'], baseDir) as string, permissions)
        : loadPrivateKey({ p12: material(config['keyStore'], baseDir) as string, password, ...(alias === undefined ? {} : { alias }) }, permissions),
    )
  }
  const encrypts = endpoints.some((e) => e.toEncrypt.length > 0)
  if (encrypts && encryptionKey === undefined) throw bad('encryptionCertificate is required to encrypt (paths have toEncrypt entries)')

  const explicitKid = optionalString(config, 'publicKeyFingerprint')
  const kid =
    explicitKid ??
    (encryptionKey === undefined
      ? undefined
      : fpType === 'certificate'
        ? certificate === undefined
          ? (() => {
              throw bad('publicKeyFingerprintType "certificate" needs encryptionCertificate')
            })()
          : fingerprint(certificate, { kind: 'certificate', encoding: dataEncoding as DataEncoding })
        : fingerprint(encryptionKey))

  let legacy: ResolvedEncryptionConfig['legacy']
  if (scheme === 'legacy') {
    const digest = parseLegacyDigest(config['oaepPaddingDigestAlgorithm'])
    if (digest === undefined) throw bad('oaepPaddingDigestAlgorithm must be SHA-256 or SHA-512')
    if (dataEncoding === undefined) throw bad('dataEncoding ("hex" or "base64") is required for the legacy scheme')
    const ivHeader = optionalString(config, 'ivHeaderName')
    const keyHeader = optionalString(config, 'encryptedKeyHeaderName')
    const ivField = optionalString(config, 'ivFieldName')
    const keyField = optionalString(config, 'encryptedKeyFieldName')
    const header = ivHeader !== undefined && keyHeader !== undefined
    if ((ivHeader === undefined) !== (keyHeader === undefined)) throw bad('ivHeaderName and encryptedKeyHeaderName go together')
    if (!header && (ivField === undefined || keyField === undefined)) {
      throw bad('the legacy scheme needs ivFieldName and encryptedKeyFieldName (body mode) or ivHeaderName and encryptedKeyHeaderName (header mode)')
    }
    if (header) {
      // One set of crypto headers can describe one encrypted value only; the reference sends the body in
      // clear when several paths are configured (vector fle-hdr-07). A config error, never a leak.
      for (const [i, e] of endpoints.entries()) {
        if (e.toEncrypt.length > 1 || e.toDecrypt.length > 1) throw bad(`paths[${i}]: header mode allows one toEncrypt and one toDecrypt entry`)
      }
    }
    legacy = {
      digest,
      encoding: dataEncoding as DataEncoding,
      place: header ? 'header' : 'body',
      ivName: (header ? ivHeader : ivField) as string,
      keyName: (header ? keyHeader : keyField) as string,
      digestName: header ? optionalString(config, 'oaepHashingAlgorithmHeaderName') : optionalString(config, 'oaepHashingAlgorithmFieldName'),
      fingerprintName: header ? optionalString(config, 'publicKeyFingerprintHeaderName') : optionalString(config, 'publicKeyFingerprintFieldName'),
    }
  }
  return { scheme, endpoints, field, encryptionKey, decryptionKey, kid, legacy }
}

// Issue 13 item 12: a path pattern with `.*` and no `^` anchor matches any path that merely contains the
// rest (`.*payments` also matches `/v1/refunds/payments-report`), and `.*` scanning is where regex cost
// lives. Warned once per pattern per process, since a config is usually built once per client.
const warnedPatterns = new Set<string>()
function warnUnanchored(source: string, index: number, onWarning: ((message: string) => void) | undefined): void {
  if (!source.includes('.*') || source.startsWith('^')) return
  if (warnedPatterns.has(source)) return
  warnedPatterns.add(source)
  const message = `encryption config paths[${index}].path ${JSON.stringify(source.slice(0, 80))} has an unanchored .*: anchor it, e.g. "^/v1/payments$"`
  if (onWarning !== undefined) onWarning(message)
  else process.emitWarning(message, { code: 'APISIGN_UNANCHORED_PATH' })
}
