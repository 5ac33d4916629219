import {
  type KeyObject,
  constants,
  createHmac,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
} from 'node:crypto'
import { ApisignError, describeType } from '../errors.js'
import { percentEncode } from './percent-encode.js'

/** The `oauth_signature_method` values apisign signs with. */
export type SignatureMethodName = 'RSA-SHA256' | 'RSA-PSS' | 'HMAC-SHA1' | 'HMAC-SHA256' | 'PLAINTEXT'

/**
 * Everything the implementation needs to know about one signature method, in one place (the jose
 * `jws_algorithms.ts` pattern): nothing else switches on the method name.
 */
export interface SignatureMethod {
  /** The `oauth_signature_method` value on the wire. */
  readonly name: SignatureMethodName
  /** RSA signs with a private key; HMAC and PLAINTEXT with the consumer and token secrets. */
  readonly family: 'rsa' | 'hmac' | 'plaintext'
  /** Digest of the signature (and of `oauth_body_hash`, draft-eaton-oauth-bodyhash-00 §3.2). */
  readonly digest: 'sha256' | 'sha1'
  /** RSA padding: PKCS#1 v1.5 or PSS with a 32-byte salt (mastercard-oauth1-signer 1.2.0 `RSA-PSS`). */
  readonly rsaPadding?: number
  readonly saltLength?: number
}

/**
 * The descriptor table of signature methods.
 *
 * @example
 * ```ts
 * Object.keys(SIGNATURE_METHODS) // ['RSA-SHA256', 'RSA-PSS', 'HMAC-SHA1', 'HMAC-SHA256', 'PLAINTEXT']
 * ```
 */
export const SIGNATURE_METHODS: Readonly<Record<SignatureMethodName, SignatureMethod>> = Object.freeze({
  'RSA-SHA256': { name: 'RSA-SHA256', family: 'rsa', digest: 'sha256', rsaPadding: constants.RSA_PKCS1_PADDING },
  'RSA-PSS': {
    name: 'RSA-PSS',
    family: 'rsa',
    digest: 'sha256',
    rsaPadding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  },
  'HMAC-SHA1': { name: 'HMAC-SHA1', family: 'hmac', digest: 'sha1' },
  'HMAC-SHA256': { name: 'HMAC-SHA256', family: 'hmac', digest: 'sha256' },
  PLAINTEXT: { name: 'PLAINTEXT', family: 'plaintext', digest: 'sha256' },
})

/** Other spellings accepted for a method (the Node reference calls PSS `RSA-PSS-SHA256`). */
const ALIASES: Readonly<Record<string, SignatureMethodName>> = { 'RSA-PSS-SHA256': 'RSA-PSS' }

/**
 * Resolve a signature method name (or alias) to its descriptor; `ERR_UNSUPPORTED_ALGORITHM` otherwise.
 *
 * @example
 * ```ts
 * resolveSignatureMethod('RSA-PSS-SHA256').name // 'RSA-PSS'
 * ```
 */
export function resolveSignatureMethod(name: string): SignatureMethod {
  if (typeof name !== 'string') {
    throw new TypeError(`signatureMethod must be a string. Received ${describeType(name)}`)
  }
  const canonical = ALIASES[name] ?? name
  const entry = Object.hasOwn(SIGNATURE_METHODS, canonical)
    ? SIGNATURE_METHODS[canonical as SignatureMethodName]
    : undefined
  if (entry === undefined) {
    throw new ApisignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `unsupported signature method ${JSON.stringify(name)}; expected one of ${Object.keys(SIGNATURE_METHODS).join(', ')}`,
    )
  }
  return entry
}

/** What a signature is made with: a private RSA key, or the HMAC/PLAINTEXT secrets (RFC 5849 §3.4.2). */
export interface SigningMaterial {
  /** Private RSA key for RSA-SHA256 and RSA-PSS (public key for verification). */
  readonly key?: KeyObject
  /** Consumer secret for HMAC-* and PLAINTEXT. */
  readonly consumerSecret?: string
  /** Token secret for HMAC-* and PLAINTEXT (empty when there is no token). */
  readonly tokenSecret?: string
}

/**
 * Check that `key` can sign (or verify) with an RSA method; `ERR_KEY_WRONG_TYPE` otherwise. Called once per
 * signer, not per signature.
 */
export function assertRsaKey(key: unknown, use: 'sign' | 'verify'): asserts key is KeyObject {
  if (
    key === null ||
    typeof key !== 'object' ||
    typeof (key as KeyObject).asymmetricKeyType !== 'string' ||
    typeof (key as KeyObject).type !== 'string'
  ) {
    throw new TypeError(`an RSA ${use === 'sign' ? 'private' : 'public'} KeyObject is required. Received ${describeType(key)}`)
  }
  const k = key as KeyObject
  if (k.asymmetricKeyType !== 'rsa' && k.asymmetricKeyType !== 'rsa-pss') {
    throw new ApisignError('ERR_KEY_WRONG_TYPE', `an RSA key is required (got a ${String(k.asymmetricKeyType)} key)`)
  }
  if (use === 'sign' && k.type !== 'private') {
    throw new ApisignError('ERR_KEY_WRONG_TYPE', `signing needs a private key (got a ${k.type} key)`)
  }
}

function hmacKey(material: SigningMaterial): string {
  if (typeof material.consumerSecret !== 'string') {
    throw new TypeError('consumerSecret (a string) is required for HMAC and PLAINTEXT signature methods')
  }
  // RFC 5849 §3.4.2: key = encode(consumer secret) "&" encode(token secret), the "&" always present.
  return `${percentEncode(material.consumerSecret)}&${percentEncode(material.tokenSecret ?? '')}`
}

function rsaOptions(method: SignatureMethod, key: KeyObject) {
  return method.saltLength === undefined
    ? { key, padding: method.rsaPadding as number }
    : { key, padding: method.rsaPadding as number, saltLength: method.saltLength }
}

function signFailed(cause: unknown): ApisignError {
  return new ApisignError('ERR_SIGN_FAILED', 'the signature could not be computed with the given key', { cause })
}

/**
 * Sign a signature base string (RFC 5849 §3.4.2-3.4.4; RSA over its UTF-8 bytes). Returns the base64
 * signature (standard alphabet, padded), before the header's percent-encoding.
 *
 * @example
 * ```ts
 * const key = createPrivateKey(pem) // once, then reuse: re-parsing a PEM per call costs ~3x
 * const signature = signBaseString(sbs, SIGNATURE_METHODS['RSA-SHA256'], { key })
 * ```
 */
export function signBaseString(baseString: string, method: SignatureMethod, material: SigningMaterial): string {
  switch (method.family) {
    case 'rsa': {
      assertRsaKey(material.key, 'sign')
      try {
        return cryptoSign(method.digest, Buffer.from(baseString, 'utf8'), rsaOptions(method, material.key)).toString(
          'base64',
        )
      } catch (cause) {
        throw signFailed(cause)
      }
    }
    case 'hmac':
      return createHmac(method.digest, hmacKey(material)).update(baseString, 'utf8').digest('base64')
    case 'plaintext':
      return hmacKey(material)
  }
}

/**
 * Like {@link signBaseString}, but an RSA signature is computed in the libuv threadpool
 * (`crypto.sign` with a callback), so a busy service never blocks its event loop for the ~0.3 ms an
 * RSA-2048 signature takes. HMAC and PLAINTEXT take microseconds and are computed inline.
 *
 * @example
 * ```ts
 * const signature = await signBaseStringAsync(sbs, SIGNATURE_METHODS['RSA-PSS'], { key })
 * ```
 */
export function signBaseStringAsync(
  baseString: string,
  method: SignatureMethod,
  material: SigningMaterial,
): Promise<string> {
  if (method.family !== 'rsa') {
    try {
      return Promise.resolve(signBaseString(baseString, method, material))
    } catch (error) {
      return Promise.reject(error)
    }
  }
  assertRsaKey(material.key, 'sign')
  const options = rsaOptions(method, material.key)
  return new Promise((resolve, reject) => {
    cryptoSign(method.digest, Buffer.from(baseString, 'utf8'), options, (error, signature) => {
      if (error) reject(signFailed(error))
      else resolve(signature.toString('base64'))
    })
  })
}

/**
 * Verify a signature over a signature base string. `signature` is the base64 value (already
 * percent-decoded from the header) or raw bytes. HMAC and PLAINTEXT compare in constant time. Never
 * throws for a bad signature: returns `false`.
 *
 * @example
 * ```ts
 * verifyBaseString(sbs, signatureB64, SIGNATURE_METHODS['RSA-SHA256'], { key: publicKey }) // true
 * ```
 */
export function verifyBaseString(
  baseString: string | Uint8Array,
  signature: string | Uint8Array,
  method: SignatureMethod,
  material: SigningMaterial,
): boolean {
  const data = typeof baseString === 'string' ? Buffer.from(baseString, 'utf8') : baseString
  if (method.family === 'rsa') {
    assertRsaKey(material.key, 'verify')
    const sig = typeof signature === 'string' ? decodeBase64Strict(signature) : signature
    if (sig === undefined) return false
    try {
      return cryptoVerify(method.digest, data, rsaOptions(method, material.key), sig)
    } catch {
      return false
    }
  }
  const expected = Buffer.from(
    method.family === 'hmac'
      ? createHmac(method.digest, hmacKey(material)).update(data).digest('base64')
      : hmacKey(material),
    'utf8',
  )
  const given = typeof signature === 'string' ? Buffer.from(signature, 'utf8') : Buffer.from(signature)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/**
 * Like {@link verifyBaseString}, but an RSA verification runs in the libuv threadpool (`crypto.verify`
 * with a callback), so a server verifying many requests at once keeps its event loop free. HMAC and
 * PLAINTEXT compare inline. Never rejects for a bad signature: resolves `false`.
 *
 * @example
 * ```ts
 * await verifyBaseStringAsync(sbs, signatureB64, SIGNATURE_METHODS['RSA-SHA256'], { key: publicKey }) // true
 * ```
 */
export function verifyBaseStringAsync(
  baseString: string | Uint8Array,
  signature: string | Uint8Array,
  method: SignatureMethod,
  material: SigningMaterial,
): Promise<boolean> {
  if (method.family !== 'rsa') {
    try {
      return Promise.resolve(verifyBaseString(baseString, signature, method, material))
    } catch (error) {
      return Promise.reject(error)
    }
  }
  try {
    assertRsaKey(material.key, 'verify')
  } catch (error) {
    return Promise.reject(error)
  }
  const data = typeof baseString === 'string' ? Buffer.from(baseString, 'utf8') : baseString
  const sig = typeof signature === 'string' ? decodeBase64Strict(signature) : signature
  if (sig === undefined) return Promise.resolve(false)
  return new Promise((resolve) => {
    try {
      cryptoVerify(method.digest, data, rsaOptions(method, material.key as KeyObject), sig, (error, ok) => resolve(error === null && ok))
    } catch {
      resolve(false)
    }
  })
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/**
 * Decode canonical padded base64; `undefined` for anything else (Buffer.from would skip junk silently).
 * Canonical includes zero pad bits (RFC 4648 §3.5): `aGk=` and `aGl=` decode to the same bytes, and only
 * the first is accepted, so each signature has exactly one accepted spelling (issue 13 item 7).
 *
 * @example
 * ```ts
 * decodeBase64Strict('aGk=') // <Buffer 68 69>; decodeBase64Strict('aGk') // undefined; decodeBase64Strict('aGl=') // undefined
 * ```
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (typeof text !== 'string' || !BASE64.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64')
  // Re-encoding gives back the input exactly when every pad bit was zero.
  return bytes.toString('base64') === text ? bytes : undefined
}
