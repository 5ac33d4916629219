import { operationsOf, type OpenApiDocument } from './spec.js'

/** Field names that carry ciphertext in Mastercard-style specs. */
const VALUE_NAMES = ['encryptedData', 'encryptedValue', 'encryptedPayload'] as const
const IV_NAMES = ['iv']
const KEY_NAMES = ['encryptedKey']
const DIGEST_NAMES = ['oaepHashingAlgorithm']
const FINGERPRINT_NAMES = ['publicKeyFingerprint']

/** An object in a request or response schema that holds encrypted data (found by its field names). */
export interface EncryptedContainer {
  readonly method: string
  /** The operation's path template, e.g. `/digitization/static/1/0/tokenize`. */
  readonly path: string
  readonly direction: 'request' | 'response'
  /** Field path of the container (`fundingAccountInfo.encryptedPayload`, `items[*].card`, `$` for the body). */
  readonly container: string
  /** Its ciphertext field (`encryptedData`). */
  readonly valueField: string
  /** Legacy companion fields found next to it. */
  readonly iv?: string
  readonly encryptedKey?: string
  readonly oaepHashingAlgorithm?: string
  readonly publicKeyFingerprint?: string
}

type Schema = Record<string, unknown>

function deref(spec: OpenApiDocument, value: unknown, seen: ReadonlySet<string>): { schema: Schema | undefined; seen: ReadonlySet<string> } {
  let node = value
  let trail = seen
  for (let i = 0; i < 32 && node !== null && typeof node === 'object' && typeof (node as { $ref?: unknown }).$ref === 'string'; i++) {
    const ref = (node as { $ref: string }).$ref
    if (!ref.startsWith('#/') || trail.has(ref)) return { schema: undefined, seen: trail }
    trail = new Set([...trail, ref])
    let target: unknown = spec
    for (const part of ref.slice(2).split('/')) target = (target as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
    node = target
  }
  return { schema: node !== null && typeof node === 'object' ? (node as Schema) : undefined, seen: trail }
}

/** The properties of a schema, `allOf` parts merged in. */
function propertiesOf(spec: OpenApiDocument, schema: Schema, seen: ReadonlySet<string>): Map<string, { value: unknown; seen: ReadonlySet<string> }> {
  const out = new Map<string, { value: unknown; seen: ReadonlySet<string> }>()
  for (const part of (schema['allOf'] as unknown[] | undefined) ?? []) {
    const r = deref(spec, part, seen)
    if (r.schema !== undefined) for (const [k, v] of propertiesOf(spec, r.schema, r.seen)) out.set(k, v)
  }
  for (const [k, v] of Object.entries((schema['properties'] as Record<string, unknown> | undefined) ?? {})) out.set(k, { value: v, seen })
  return out
}

function holdsCiphertextField(spec: OpenApiDocument, value: unknown, seen: ReadonlySet<string>): boolean {
  const r = deref(spec, value, seen)
  if (r.schema === undefined) return false
  return [...propertiesOf(spec, r.schema, r.seen).keys()].some((k) => (VALUE_NAMES as readonly string[]).includes(k))
}

function walk(spec: OpenApiDocument, value: unknown, path: string, seen: ReadonlySet<string>, depth: number, found: (c: Omit<EncryptedContainer, 'method' | 'path' | 'direction'>) => void): void {
  if (depth > 10) return
  const r = deref(spec, value, seen)
  if (r.schema === undefined) return
  const schema = r.schema
  if (schema['type'] === 'array' || schema['items'] !== undefined) walk(spec, schema['items'], `${path}[*]`, r.seen, depth + 1, found)
  const props = propertiesOf(spec, schema, r.seen)
  // A container holds a ciphertext field that is a leaf (a string, or the clear object it replaces), not a
  // further container (MDES: fundingAccountInfo.encryptedPayload holds encryptedData).
  const valueField = VALUE_NAMES.find((n) => props.has(n) && !holdsCiphertextField(spec, props.get(n)?.value, props.get(n)?.seen ?? r.seen))
  if (valueField !== undefined) {
    const pick = (names: readonly string[]) => names.find((n) => props.has(n))
    const iv = pick(IV_NAMES)
    const key = pick(KEY_NAMES)
    const digest = pick(DIGEST_NAMES)
    const fp = pick(FINGERPRINT_NAMES)
    found({
      container: path === '' ? '$' : path,
      valueField,
      ...(iv === undefined ? {} : { iv }),
      ...(key === undefined ? {} : { encryptedKey: key }),
      ...(digest === undefined ? {} : { oaepHashingAlgorithm: digest }),
      ...(fp === undefined ? {} : { publicKeyFingerprint: fp }),
    })
    return
  }
  for (const [name, prop] of props) walk(spec, prop.value, path === '' ? name : `${path}.${name}`, prop.seen, depth + 1, found)
}

const jsonSchema = (spec: OpenApiDocument, holder: unknown): unknown => {
  const r = deref(spec, holder, new Set())
  const content = r.schema?.['content'] as Record<string, { schema?: unknown }> | undefined
  if (content === undefined) return undefined
  const key = Object.keys(content).find((k) => /json/i.test(k))
  return key === undefined ? undefined : content[key]?.schema
}

/**
 * The encrypted-looking fields of a spec: objects in request bodies and 2xx responses that hold
 * `encryptedData`, `encryptedValue` or `encryptedPayload` (with `iv`/`encryptedKey`/... next to it in the
 * legacy scheme). Real Mastercard specs (MDES) mark encryption this way, not with `x-apisign-encrypt`.
 *
 * @example
 * ```ts
 * findEncryptedFields(await loadSpec('mdes.yaml')) // [{ method: 'post', path: '/digitization/static/1/0/tokenize', direction: 'request', container: 'fundingAccountInfo.encryptedPayload', valueField: 'encryptedData', ... }, ...]
 * ```
 */
export function findEncryptedFields(spec: OpenApiDocument): EncryptedContainer[] {
  const out: EncryptedContainer[] = []
  for (const [path, method, op] of operationsOf(spec)) {
    walk(spec, jsonSchema(spec, op['requestBody']), '', new Set(), 0, (c) => out.push({ method, path, direction: 'request', ...c }))
    for (const [code, response] of Object.entries((op['responses'] as Record<string, unknown> | undefined) ?? {})) {
      if (/^2/.test(code)) walk(spec, jsonSchema(spec, response), '', new Set(), 0, (c) => out.push({ method, path, direction: 'response', ...c }))
    }
  }
  const key = (c: EncryptedContainer) => `${c.path} ${c.method} ${c.direction} ${c.container}`
  return [...new Map(out.map((c) => [key(c), c])).values()]
}

/** Choices for {@link scaffoldEncryptionConfig}; the spec cannot tell them. */
export interface ScaffoldOptions {
  /** `legacy` (field-level: iv, encryptedKey, ...) or `jwe`. Default: `legacy` when the fields carry an iv and encryptedKey, else `jwe`. */
  readonly mode?: 'jwe' | 'legacy'
  /** Legacy: how binary fields are written. Default `hex` (MDES). */
  readonly dataEncoding?: 'hex' | 'base64'
  /** Legacy: the RSA-OAEP digest. Default `SHA-256`; MDES uses `SHA-512`. */
  readonly oaepDigest?: 'SHA-256' | 'SHA-512'
  /** What `publicKeyFingerprint` holds. Default `certificate` (the partner's encryption certificate). */
  readonly fingerprintType?: 'certificate' | 'publicKey'
}

const pathRegex = (template: string) => `${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`

/**
 * Scaffold a `mastercard-client-encryption` config from a spec's encrypted-looking fields, for the user
 * to confirm: each request container is encrypted in place (`x.encryptedPayload.encryptedData` ->
 * `x.encryptedPayload`, the MDES form) and each response container decrypted into its value field.
 * Keys are placeholders to replace: `encryptionCertificate` (the partner's) and `privateKey` (yours).
 *
 * @example
 * ```ts
 * const { config, containers, notes } = scaffoldEncryptionConfig(spec, { mode: 'legacy', oaepDigest: 'SHA-512' })
 * ```
 */
export function scaffoldEncryptionConfig(spec: OpenApiDocument, options: ScaffoldOptions = {}): { config: Record<string, unknown>; containers: EncryptedContainer[]; notes: string[] } {
  for (const [k, allowed] of [['mode', ['jwe', 'legacy']], ['dataEncoding', ['hex', 'base64']], ['oaepDigest', ['SHA-256', 'SHA-512']], ['fingerprintType', ['certificate', 'publicKey']]] as const) {
    const v = options[k]
    if (v !== undefined && !(allowed as readonly string[]).includes(v)) throw new TypeError(`${k} must be one of ${allowed.join(', ')}`)
  }
  const containers = findEncryptedFields(spec)
  const notes: string[] = []
  const counts = new Map<string, number>()
  for (const c of containers) counts.set(c.valueField, (counts.get(c.valueField) ?? 0) + 1)
  const valueField = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'encryptedData'
  const used = containers.filter((c) => c.valueField === valueField)
  for (const c of containers) if (c.valueField !== valueField) notes.push(`${c.method.toUpperCase()} ${c.path} ${c.direction} ${c.container}.${c.valueField}: left out (one encryptedValueFieldName per config; this one uses ${valueField})`)
  const legacyLooking = used.some((c) => c.iv !== undefined && c.encryptedKey !== undefined)
  const mode = options.mode ?? (legacyLooking ? 'legacy' : 'jwe')
  const byPath = new Map<string, { toEncrypt: Array<{ element: string; obj: string }>; toDecrypt: Array<{ element: string; obj: string }> }>()
  for (const c of used) {
    const entry = byPath.get(c.path) ?? { toEncrypt: [], toDecrypt: [] }
    const value = c.container === '$' ? c.valueField : `${c.container}.${c.valueField}`
    if (c.direction === 'request') entry.toEncrypt.push({ element: value, obj: c.container })
    else entry.toDecrypt.push({ element: c.container, obj: value })
    byPath.set(c.path, entry)
  }
  const paths = [...byPath.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, e]) => ({ path: pathRegex(path), toEncrypt: e.toEncrypt, toDecrypt: e.toDecrypt }))
  const first = <K extends 'iv' | 'encryptedKey' | 'oaepHashingAlgorithm' | 'publicKeyFingerprint'>(k: K, fallback: string) => used.find((c) => c[k] !== undefined)?.[k] ?? fallback
  const keys = { encryptionCertificate: './partner-encryption-certificate.pem', privateKey: './your-decryption-key.pem' }
  const config: Record<string, unknown> =
    mode === 'jwe'
      ? { mode: 'JWE', encryptedValueFieldName: valueField, paths, ...keys }
      : {
          encryptedValueFieldName: valueField,
          paths,
          ivFieldName: first('iv', 'iv'),
          encryptedKeyFieldName: first('encryptedKey', 'encryptedKey'),
          oaepHashingAlgorithmFieldName: first('oaepHashingAlgorithm', 'oaepHashingAlgorithm'),
          publicKeyFingerprintFieldName: first('publicKeyFingerprint', 'publicKeyFingerprint'),
          publicKeyFingerprintType: options.fingerprintType ?? 'certificate',
          oaepPaddingDigestAlgorithm: options.oaepDigest ?? 'SHA-256',
          dataEncoding: options.dataEncoding ?? 'hex',
          ...keys,
        }
  if (mode === 'legacy' && !legacyLooking) notes.push('mode legacy was asked for, but no encrypted field carries iv and encryptedKey: check the spec')
  if (mode === 'jwe' && legacyLooking) notes.push('mode jwe was asked for, but the encrypted fields carry iv and encryptedKey, which is the legacy scheme')
  return { config, containers, notes }
}
