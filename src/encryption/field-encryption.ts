import { isUtf8 } from 'node:buffer'
import { randomBytes as cryptoRandomBytes } from 'node:crypto'
import { ApisignError, describeType } from '../errors.js'
import {
  type ApisignEncryptionConfig,
  type CompiledEndpoint,
  type CompiledMapping,
  type EncryptionOptions,
  type MastercardEncryptionConfig,
  type ResolvedEncryptionConfig,
  resolveEncryptionConfig,
} from './config.js'
import { compactDecrypt, compactEncrypt } from './jwe.js'
import { legacyDecrypt, legacyDecryptionFailed, legacyEncrypt, parseLegacyDigest } from './legacy.js'
import { deleteAt, expandPath, getAt, isPlainObject, setAt } from './paths.js'

/** A message to encrypt or decrypt: the request/response URL, its JSON body and headers. */
export interface EncryptionMessage {
  /** The endpoint: a path or a full URL (the query is ignored when matching `paths[].path`). */
  readonly url: string
  /** The parsed JSON body. */
  readonly body: unknown
  /** HTTP headers (the legacy header mode reads and writes its parameters here). */
  readonly headers?: Readonly<Record<string, string | undefined>>
}

/** The result: a new body and a new headers object. The inputs are never modified. */
export interface EncryptionResult {
  readonly body: unknown
  readonly headers: Record<string, string | undefined>
}

/** Field-level encryption bound to one config: see {@link createEncryption}. */
export interface FieldEncryption {
  /** Encrypt the configured fields of a request body. A body whose endpoint has no mapping is returned as is. */
  encrypt(message: EncryptionMessage): EncryptionResult
  /** Decrypt the configured fields of a response body; fields that are absent are left alone. */
  decrypt(message: EncryptionMessage): EncryptionResult
  /** Does any `paths[].path` match this URL (for encryption, for decryption)? */
  matches(url: string): { encrypt: boolean; decrypt: boolean }
  /** The `kid` (fingerprint) sent with encrypted values; never secret. */
  readonly kid: string | undefined
  /** `jwe` or `legacy`. */
  readonly scheme: 'jwe' | 'legacy'
}

/** Longest URL matched against the path patterns (issue 13 item 12: the regex work is bounded). */
export const MAX_MATCHED_URL_LENGTH = 8192

/**
 * The path a config pattern is matched against: the path only, whatever the caller passes (an absolute
 * URL loses its scheme, host and port; a query or fragment is dropped), from a URL capped in length first.
 */
const pathOf = (url: string): string => {
  if (url.length > MAX_MATCHED_URL_LENGTH) throw new ApisignError('ERR_INPUT_TOO_LARGE', `URL exceeds ${MAX_MATCHED_URL_LENGTH} characters; not matched against the encryption paths`)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      return new URL(url).pathname
    } catch {
      throw new ApisignError('ERR_INVALID_URL', 'URL to match against the encryption paths is not valid')
    }
  }
  const end = url.search(/[?#]/)
  return end === -1 ? url : url.slice(0, end)
}

function endpointFor(config: ResolvedEncryptionConfig, url: string): CompiledEndpoint | undefined {
  const path = pathOf(url)
  return config.endpoints.find((e) => e.pattern.test(path))
}

function lowerCaseHeaders(headers: Readonly<Record<string, string | undefined>> | undefined) {
  const map = new Map<string, string>()
  for (const [k, v] of Object.entries(headers ?? {})) if (typeof v === 'string') map.set(k.toLowerCase(), v)
  return map
}

/**
 * Parse decrypted bytes as they were meant: strict UTF-8 (the reference returns mojibake for non-ASCII
 * legacy payloads), then JSON. Text that is not JSON comes back as the string itself (the reference
 * encrypts non-JSON strings raw), except where the mapping targets the whole body, which must be JSON.
 */
function parsePlaintext(bytes: Buffer, toRoot: boolean, scheme: 'jwe' | 'legacy'): unknown {
  // One failure for every way the plaintext can be wrong, the same as the cipher's own (issue 13 item 3):
  // "not UTF-8" vs "bad padding" is a padding oracle on the unauthenticated legacy scheme.
  const failed = () => (scheme === 'legacy' ? legacyDecryptionFailed() : new ApisignError('ERR_JWE_DECRYPTION_FAILED', 'JWE decryption failed'))
  if (!isUtf8(bytes)) throw failed()
  const text = bytes.toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    if (toRoot) throw failed()
    return text
  }
}

/**
 * Field-level payload encryption for one partner: JWE (RSA-OAEP-256 + A256GCM) or the legacy Mastercard
 * scheme, configured per endpoint with a `mastercard-client-encryption` config object taken as it is.
 * Paths support array indexes and `[*]`. Every JSON value is encrypted, falsy ones included, as its JSON
 * text, so it decrypts to the same type (`"123"` stays a string, long digit strings keep every digit).
 * The config is validated and its keys are loaded once, here.
 *
 * @example
 * ```ts
 * import { createEncryption } from 'apisign/encryption'
 * const enc = createEncryption({
 *   mode: 'JWE', encryptedValueFieldName: 'encryptedData',
 *   paths: [{ path: '/payments$', toEncrypt: [{ element: 'card', obj: 'encryptedCard' }],
 *             toDecrypt: [{ element: 'encryptedCard', obj: 'card' }] }],
 *   encryptionCertificate: './partner-encryption.crt', privateKey: './decryption-key.pem',
 * })
 * const { body } = enc.encrypt({ url: '/v1/payments', body: { card: { pan: '5123...' }, amount: 10 } })
 * ```
 */
export function createEncryption(
  config: MastercardEncryptionConfig | ApisignEncryptionConfig | Record<string, unknown>,
  options: EncryptionOptions = {},
): FieldEncryption {
  const resolved = resolveEncryptionConfig(config, options)
  const random = options.randomBytes ?? cryptoRandomBytes
  const field = resolved.field

  function encryptValue(value: unknown, headersOut: Record<string, string | undefined>): unknown {
    const plaintext = JSON.stringify(value)
    if (resolved.scheme === 'jwe') {
      return compactEncrypt(plaintext, resolved.encryptionKey as never, {
        ...(resolved.kid === undefined ? {} : { kid: resolved.kid }),
        ...(options.ivLength === undefined ? {} : { ivLength: options.ivLength }),
        randomBytes: random,
      })
    }
    const legacy = resolved.legacy as NonNullable<ResolvedEncryptionConfig['legacy']>
    const parts = legacyEncrypt(Buffer.from(plaintext, 'utf8'), resolved.encryptionKey as never, legacy.digest, legacy.encoding, random)
    const params: Record<string, string> = { [legacy.ivName]: parts.iv, [legacy.keyName]: parts.encryptedKey }
    if (legacy.fingerprintName !== undefined && resolved.kid !== undefined) params[legacy.fingerprintName] = resolved.kid
    if (legacy.digestName !== undefined) params[legacy.digestName] = parts.oaepHashingAlgorithm
    if (legacy.place === 'header') {
      Object.assign(headersOut, params)
      return { [field]: parts.encryptedValue }
    }
    return { [field]: parts.encryptedValue, ...params }
  }

  function place(body: unknown, mapping: CompiledMapping, encrypted: unknown): unknown {
    // JWE "first-level field" form: obj names the encrypted-value field itself (reference §2.1).
    const wrapped = resolved.scheme === 'jwe' ? (mapping.objText === field ? encrypted : { [field]: encrypted }) : encrypted
    if (mapping.obj.length === 0) return isPlainObject(body) && isPlainObject(wrapped) ? { ...body, ...wrapped } : wrapped
    const path = mapping.obj as Array<string | number>
    const existing = getAt(body, path)
    if (isPlainObject(existing) && isPlainObject(wrapped)) setAt(body as never, path, { ...existing, ...wrapped })
    else setAt(body as never, path, wrapped)
    return body
  }

  function encrypt(message: EncryptionMessage): EncryptionResult {
    checkMessage(message)
    const headers: Record<string, string | undefined> = { ...message.headers }
    const endpoint = endpointFor(resolved, message.url)
    if (endpoint === undefined || endpoint.toEncrypt.length === 0) return { body: message.body, headers }
    checkBody(message.body)
    // Root mappings read the body and build a fresh one, so only field mappings need a private copy to
    // edit (a deep clone of a 1 MB body costs more than encrypting it).
    let body: unknown = endpoint.toEncrypt.every((m) => m.element.length === 0) ? message.body : structuredClone(message.body)
    for (const mapping of endpoint.toEncrypt) {
      if (mapping.element.length === 0) {
        // The whole body becomes the plaintext; the result is a fresh body holding only the encrypted value.
        body = place({}, mapping, encryptValue(body, headers))
        continue
      }
      // `items[*].card -> items[*].encryptedCard`: each match is encrypted into its own position. Last match
      // first: removing an array element (`items[*] -> enc[*]`) shifts the indexes of the ones after it.
      for (const path of expandPath(body, mapping.element).reverse()) body = encryptAt(body, path, mapping, headers)
    }
    return { body, headers }
  }

  function encryptAt(body: unknown, path: Array<string | number>, mapping: CompiledMapping, headers: Record<string, string | undefined>): unknown {
    const value = getAt(body, path)
    const encrypted = encryptValue(value, headers)
    const objPath = concretise(mapping.obj, path)
    // MDES in-place form (`x.encryptedData -> x`): the element sits inside obj and is replaced by the result.
    const inPlace = objPath.length + 1 === path.length && objPath.every((s, i) => s === path[i]) && path[path.length - 1] === field
    if (!inPlace) deleteAt(body as never, path)
    // A root obj (`card -> $`) gives a new body: the encrypted value merged into what is left.
    return place(body, { ...mapping, obj: objPath }, encrypted)
  }

  function decrypt(message: EncryptionMessage): EncryptionResult {
    checkMessage(message)
    const headers: Record<string, string | undefined> = { ...message.headers }
    const endpoint = endpointFor(resolved, message.url)
    if (endpoint === undefined || endpoint.toDecrypt.length === 0) return { body: message.body, headers }
    if (resolved.decryptionKey === undefined) {
      throw new ApisignError('ERR_ENCRYPTION_CONFIG', 'encryption config: privateKey or keyStore is required to decrypt')
    }
    let body: unknown = message.body
    let cloned = false
    const lower = lowerCaseHeaders(message.headers)
    for (const mapping of endpoint.toDecrypt) {
      // Last match first, as in encrypt: removing `enc[0]` would shift `enc[1]`.
      for (const path of expandPath(body, mapping.element).reverse()) {
        const node = getAt(body, path)
        const found = decryptNode(node, lower, mapping.obj.length === 0, mapping.elementText)
        if (found === NOT_ENCRYPTED) continue
        const objPath = concretise(mapping.obj, path)
        if (path.length === 0 && !found.holder) {
          // The whole body was the token: the result is fresh, nothing of the input is edited.
          body = objPath.length === 0 ? found.value : setFresh(objPath, found.value)
          cloned = true
          continue
        }
        // Only the encryption fields go; whatever else the encrypted object holds stays, and an object left
        // empty is removed (client-encryption-java keeps extra fields, the Node reference drops the whole
        // object: testDecryptPayload_ShouldKeepInputObject_WhenContainsAdditionalFields).
        if (path.length === 0) {
          // The body itself holds the token: a private copy of the rest only (copying the ciphertext too
          // would cost as much as decrypting a large payload).
          body = structuredClone(withoutEncryptionFields(body as Record<string, unknown>))
          cloned = true
        } else {
          if (!cloned) {
            body = structuredClone(body)
            cloned = true
          }
          const rest = found.holder ? withoutEncryptionFields(getAt(body, path) as Record<string, unknown>) : undefined
          if (rest !== undefined && Object.keys(rest).length > 0) setAt(body as never, path, rest)
          else {
            deleteAt(body as never, path)
            // A token held directly (`parent.encryptedData`) leaves its parent empty: removed too, as Java
            // does (testDecryptPayload_ShouldRemoveParentEncryptedFieldIfEmpty); never an array element (that
            // would shift the indexes of the other matches) nor the root.
            const parentPath = path.slice(0, -1)
            const parent = getAt(body, parentPath)
            if (!found.holder && typeof parentPath[parentPath.length - 1] === 'string' && isPlainObject(parent) && Object.keys(parent).length === 0) {
              deleteAt(body as never, parentPath)
            }
          }
        }
        const value = found.value
        if (objPath.length === 0) {
          // Into the whole body: merged with the response's other top-level fields (both references replace
          // the body, losing them).
          body = isPlainObject(body) && isPlainObject(value) ? { ...body, ...value } : value
        } else {
          const existing = getAt(body, objPath)
          setAt(body as never, objPath, isPlainObject(existing) && isPlainObject(value) ? { ...existing, ...value } : value)
        }
      }
    }
    if (resolved.legacy?.place === 'header' && cloned) {
      for (const name of [resolved.legacy.ivName, resolved.legacy.keyName, resolved.legacy.digestName, resolved.legacy.fingerprintName]) {
        if (name !== undefined) for (const k of Object.keys(headers)) if (k.toLowerCase() === name.toLowerCase()) delete headers[k]
      }
    }
    return { body, headers }
  }

  /** The names a legacy body-mode encrypted object carries besides the data (removed once decrypted). */
  const encryptionFields = new Set<string>(
    resolved.scheme === 'jwe'
      ? [field]
      : resolved.legacy?.place === 'header'
        ? [field]
        : [field, resolved.legacy?.ivName, resolved.legacy?.keyName, resolved.legacy?.digestName, resolved.legacy?.fingerprintName].filter((n): n is string => n !== undefined),
  )

  const withoutEncryptionFields = (object: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(object).filter(([k]) => !encryptionFields.has(k)))

  function notEncrypted(node: unknown, element: string): ApisignError {
    // Both references refuse a configured path that holds a plain value (Java: "JSON object expected at
    // path"; Node: "Input not valid"); passing it through would hand the caller ciphertext-shaped data.
    return new ApisignError(
      'ERR_ENCRYPTION_CONFIG',
      `encryption config: toDecrypt element ${JSON.stringify(element)} holds a plain value (${describeType(node)}), not an encrypted ${resolved.scheme === 'jwe' ? 'token or object' : 'object'} (check the path)`,
    )
  }

  function decryptNode(
    node: unknown,
    headers: Map<string, string>,
    toRoot: boolean,
    element: string,
  ): { value: unknown; holder: boolean } | typeof NOT_ENCRYPTED {
    if (node === undefined || node === null) return NOT_ENCRYPTED
    const key = resolved.decryptionKey as NonNullable<typeof resolved.decryptionKey>
    if (resolved.scheme === 'jwe') {
      // Decide by type, not by name (client-encryption-nodejs #65): the node is the token or holds it.
      let token: string
      if (typeof node === 'string') token = node
      else if (isPlainObject(node)) {
        const inner = node[field]
        if (inner === undefined || inner === null) return NOT_ENCRYPTED
        if (typeof inner !== 'string') throw notEncrypted(inner, `${element}.${field}`)
        token = inner
      } else throw notEncrypted(node, element)
      const { plaintext } = compactDecrypt(token, key, {
        ...(options.maxTokenLength === undefined ? {} : { maxTokenLength: options.maxTokenLength }),
        ...(options.allowRsaOaepSha1 === undefined ? {} : { allowRsaOaepSha1: options.allowRsaOaepSha1 }),
      })
      return { value: parsePlaintext(plaintext, toRoot, 'jwe'), holder: typeof node !== 'string' }
    }
    const legacy = resolved.legacy as NonNullable<ResolvedEncryptionConfig['legacy']>
    if (!isPlainObject(node)) throw notEncrypted(node, element)
    if (node[field] === undefined || node[field] === null) return NOT_ENCRYPTED
    const read = (name: string | undefined): unknown =>
      name === undefined ? undefined : legacy.place === 'header' ? headers.get(name.toLowerCase()) : node[name]
    const digestText = read(legacy.digestName)
    // A payload without its digest field is decrypted with the configured digest, as Java does (the
    // reference crashes); a digest we do not support is an error.
    const digest = digestText === undefined ? legacy.digest : parseLegacyDigest(digestText)
    if (digest === undefined) throw new ApisignError('ERR_LEGACY_DECRYPTION_FAILED', 'unsupported OAEP digest in the encrypted payload')
    const bytes = legacyDecrypt({ encryptedValue: node[field], iv: read(legacy.ivName), encryptedKey: read(legacy.keyName) }, key, digest, legacy.encoding)
    return { value: parsePlaintext(bytes, toRoot, 'legacy'), holder: true }
  }

  return Object.freeze({
    encrypt,
    decrypt,
    kid: resolved.kid,
    scheme: resolved.scheme,
    matches(url: string) {
      const e = endpointFor(resolved, url)
      return { encrypt: (e?.toEncrypt.length ?? 0) > 0, decrypt: (e?.toDecrypt.length ?? 0) > 0 }
    },
  })
}

const NOT_ENCRYPTED = Symbol('not encrypted')

/** Replace `[*]` in an obj path by the indexes the element matched at the same positions. */
function concretise(obj: readonly (string | number | symbol)[], elementPath: readonly (string | number)[]): Array<string | number> {
  return obj.map((s, i) => (typeof s === 'symbol' ? (elementPath[i] as string | number) : s))
}

function setFresh(path: Array<string | number>, value: unknown): unknown {
  const root: Record<string, unknown> = {}
  setAt(root, path, value)
  return root
}

function checkMessage(message: EncryptionMessage): void {
  if (message === null || typeof message !== 'object') throw new TypeError(`message must be { url, body, headers? }. Received ${describeType(message)}`)
  if (typeof message.url !== 'string') throw new TypeError('message.url must be a string')
}

function checkBody(body: unknown): void {
  if (body === null || typeof body !== 'object') {
    throw new ApisignError('ERR_INVALID_INPUT', `body to encrypt must be a JSON object or array (got ${describeType(body)}); parse JSON text first`)
  }
}
