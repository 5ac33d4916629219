// JWS compact serialisation (RFC 7515 §7.1) with a Signer: the one place a JWT or JWS is signed with an
// asymmetric key (client assertions, DPoP proofs, signed JWT bearers), whatever holds the key.
import { describeType } from '../errors.js'
import { type Signer, isSigner } from './types.js'

/** Options of {@link signCompactJws}. */
export interface SignCompactJwsOptions {
  /** Holds the key; its `algorithm` is the header's `alg`. */
  readonly signer: Signer
  /** Protected header parameters besides `alg` (`typ`, `kid`, `jwk`...), serialised in the order given. */
  readonly header?: Readonly<Record<string, unknown>>
  /** The payload: claims (serialised as JSON, in the order given), or bytes / text as they are. */
  readonly payload: Readonly<Record<string, unknown>> | Uint8Array | string
}

const b64url = (data: Uint8Array | string) => Buffer.from(data).toString('base64url')

/** The one signing call a compact JWS needs: a {@link Signer}, or oauth2's `JwsKey` over a KeyObject. */
export interface JwsSigningKey {
  sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>
}

/**
 * The compact serialisation itself (RFC 7515 §7.1): `header.payload` (both already base64url-encoded), then
 * the key's signature over that ASCII signing input. Every JWS apisign writes (client assertions, DPoP
 * proofs, signed JWT bearers, `signCompactJws` of apisign/signers and of apisign/schemes) goes through
 * here; the result is synchronous when the key signs synchronously (the DPoP hot path), a promise otherwise.
 * Internal: not exported from apisign/signers.
 *
 * @example
 * ```ts
 * const jws = await encodeCompactJws(b64urlHeader, b64urlPayload, createKeySigner(privateKey))
 * ```
 */
export function encodeCompactJws(headerSegment: string, payloadSegment: string, key: JwsSigningKey): string | Promise<string> {
  const signingInput = `${headerSegment}.${payloadSegment}`
  const signature = key.sign(Buffer.from(signingInput, 'ascii'))
  return signature instanceof Uint8Array ? `${signingInput}.${b64url(signature)}` : signature.then((s) => `${signingInput}.${b64url(s)}`)
}

/**
 * Sign a compact JWS with a {@link Signer} (an HSM key, a KMS key, or `createKeySigner(keyObject)`):
 * header `{ alg, ...header }`, payload as given, signature as the signer returns it (`ES256`: raw `r || s`).
 *
 * @example
 * ```ts
 * import { signCompactJws, createKeySigner } from 'apisign/signers'
 * const jwt = await signCompactJws({
 *   signer: createKeySigner(privateKey, { algorithm: 'PS256' }),
 *   header: { typ: 'JWT', kid: 'key-1' },
 *   payload: { iss: 'client-1', aud: 'https://as.example.com/token', exp: 1767225600 },
 * })
 * ```
 */
export async function signCompactJws(options: SignCompactJwsOptions): Promise<string> {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object. Received ${describeType(options)}`)
  if (!isSigner(options.signer)) throw new TypeError(`signer must be a Signer. Received ${describeType(options.signer)}`)
  const extra = options.header ?? {}
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) throw new TypeError('header must be an object')
  if ('alg' in extra && extra['alg'] !== options.signer.algorithm) {
    throw new TypeError(`header.alg ${JSON.stringify(String(extra['alg']))} does not match the signer's ${options.signer.algorithm}`)
  }
  const { alg: _alg, ...rest } = extra
  const payload = options.payload
  let payloadSegment: string
  if (typeof payload === 'string' || payload instanceof Uint8Array) payloadSegment = b64url(payload)
  else if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) payloadSegment = b64url(JSON.stringify(payload))
  else throw new TypeError(`payload must be an object, a string or bytes. Received ${describeType(payload)}`)
  return encodeCompactJws(b64url(JSON.stringify({ alg: options.signer.algorithm, ...rest })), payloadSegment, options.signer)
}
