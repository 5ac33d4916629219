// The client's own JOSE for OAuth 2.0: DPoP proofs for resource calls (RFC 9449 §4), JWK thumbprints
// (RFC 7638) and `ath`. oauth4webapi signs the token request (client assertion and its DPoP proof); the
// per-request proof is written here because the AuthApplier seam only returns headers (oauth4webapi's
// proof writer is reachable only through requests it sends itself), it must use the client's
// skew-corrected clock, and it is the hot path (one signature per request, nothing else). Every signature
// goes through one `JwsKey.sign`, where an external Signer (apisign/signers, HSM) plugs in, and every JWS
// is serialised by signers/jws.ts's encodeCompactJws (one compact-JWS writer for both entry points).
import { type KeyObject, constants, createHash, createPublicKey, randomBytes, sign as cryptoSign } from 'node:crypto'
import { ApisignError } from '../errors.js'
import { encodeCompactJws } from '../signers/jws.js'

/** The JWS algorithms FAPI 2.0 allows (Security Profile §5.4.1): PS256 and ES256. */
export type JwsAlgorithm = 'PS256' | 'ES256'

/** A public JWK with the required members of its key type only (RFC 7638 §3.2). */
export type PublicJwk = { readonly kty: 'EC'; readonly crv: 'P-256'; readonly x: string; readonly y: string } | { readonly kty: 'RSA'; readonly e: string; readonly n: string }

/**
 * What signs a JWS: the algorithm, the public key (for the `jwk` header and the thumbprint) and the one
 * signing call. `sign` takes the JWS signing input and returns the JWS signature (ES256: raw r||s).
 */
export interface JwsKey {
  readonly algorithm: JwsAlgorithm
  readonly publicKey: KeyObject
  sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>
}

const b64u = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url')

/**
 * The JWS algorithm of a private key: ES256 for EC P-256, PS256 for RSA (FAPI 2.0 forbids RS256).
 *
 * @example
 * ```ts
 * algorithmOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey) // 'ES256'
 * ```
 */
export function algorithmOf(key: KeyObject): JwsAlgorithm {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return 'PS256'
  throw new ApisignError('ERR_KEY_WRONG_TYPE', `a ${String(key.asymmetricKeyType)} key cannot sign PS256 or ES256; use RSA (2048+) or EC P-256`)
}

/**
 * A {@link JwsKey} over a node:crypto private key (PS256: RSASSA-PSS, SHA-256, 32-byte salt, RFC 7518
 * §3.5; ES256: IEEE P1363 r||s, RFC 7518 §3.4).
 *
 * @example
 * ```ts
 * const key = keyObjectJwsKey(loadSigningKey('./client.pem', { keyTypes: ['rsa', 'ec-p256'] }))
 * ```
 */
export function keyObjectJwsKey(privateKey: KeyObject, algorithm: JwsAlgorithm = algorithmOf(privateKey)): JwsKey {
  if (privateKey.type !== 'private') throw new ApisignError('ERR_KEY_WRONG_TYPE', 'a private key is needed to sign')
  if (algorithmOf(privateKey) !== algorithm) throw new ApisignError('ERR_KEY_WRONG_TYPE', `the key cannot sign ${algorithm}`)
  const options =
    algorithm === 'ES256'
      ? { key: privateKey, dsaEncoding: 'ieee-p1363' as const }
      : { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
  return { algorithm, publicKey: createPublicKey(privateKey), sign: (data) => cryptoSign('sha256', data, options) }
}

/**
 * The public JWK of a key, required members only, in the lexicographic order RFC 7638 §3.3 hashes.
 *
 * @example
 * ```ts
 * publicJwk(publicKey) // { crv: 'P-256', kty: 'EC', x: '...', y: '...' }
 * ```
 */
export function publicJwk(key: KeyObject): PublicJwk {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' })
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return { crv: 'P-256', kty: 'EC', x: jwk.x as string, y: jwk.y as string } as PublicJwk
  if (jwk.kty === 'RSA') return { e: jwk.e as string, kty: 'RSA', n: jwk.n as string } as PublicJwk
  throw new ApisignError('ERR_KEY_WRONG_TYPE', `a ${String(jwk.kty)} key has no PS256/ES256 JWK`)
}

/**
 * The JWK SHA-256 thumbprint (RFC 7638 §3): base64url(SHA-256 of the required members, sorted, no
 * whitespace). DPoP binds a token to it (`cnf.jkt`, RFC 9449 §6.1).
 *
 * @example
 * ```ts
 * jwkThumbprint({ kty: 'RSA', n: '0vx7...', e: 'AQAB' }) // 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
 * ```
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const members = jwk['kty'] === 'EC' ? ['crv', 'kty', 'x', 'y'] : jwk['kty'] === 'RSA' ? ['e', 'kty', 'n'] : jwk['kty'] === 'OKP' ? ['crv', 'kty', 'x'] : undefined
  if (members === undefined) throw new ApisignError('ERR_KEY_WRONG_TYPE', 'a JWK thumbprint needs an EC, RSA or OKP key')
  const canonical = `{${members
    .map((m) => {
      const value = jwk[m]
      if (typeof value !== 'string') throw new ApisignError('ERR_KEY_INVALID', `the JWK lacks its ${m} member`)
      return `${JSON.stringify(m)}:${JSON.stringify(value)}`
    })
    .join(',')}}`
  return b64u(createHash('sha256').update(canonical).digest())
}

/**
 * `ath`: base64url(SHA-256(ASCII access token)), RFC 9449 §4.2.
 *
 * @example
 * ```ts
 * accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU') // 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo'
 * ```
 */
export function accessTokenHash(accessToken: string): string {
  return b64u(createHash('sha256').update(accessToken, 'ascii').digest())
}

/**
 * `htu` of a proof: the request URL without query and fragment (RFC 9449 §4.2), WHATWG-normalised
 * (default port dropped, host lower-cased), which is how the verifier compares it (§4.3 step 9).
 *
 * @example
 * ```ts
 * dpopHtu(new URL('https://API.example.com:443/v1/p?x=1#f')) // 'https://api.example.com/v1/p'
 * ```
 */
export function dpopHtu(url: URL): string {
  return `${url.origin}${url.pathname}`
}

/**
 * Sign a compact JWS with the one signing call of a {@link JwsKey} or a Signer (apisign/signers), the
 * header serialised exactly as given (`alg` included by the caller). The same encoder as apisign/signers'
 * `signCompactJws`, which takes `{ signer, header, payload }` and writes `alg` from the signer.
 *
 * @example
 * ```ts
 * const jws = await signCompactJws({ alg: 'ES256', typ: 'JWT' }, { sub: 'x' }, keyObjectJwsKey(privateKey))
 * ```
 */
export async function signCompactJws(header: Readonly<Record<string, unknown>>, payload: Readonly<Record<string, unknown>>, key: Pick<JwsKey, 'sign'>): Promise<string> {
  return encodeCompactJws(b64u(JSON.stringify(header)), b64u(JSON.stringify(payload)), key)
}

/** One DPoP proof's request-specific parts. */
export interface DpopProofInput {
  readonly method: string
  readonly url: URL
  /** Issued-at, seconds since the epoch (from the client's skew-corrected clock). */
  readonly iat: number
  /** The access token the proof accompanies (resource calls): `ath` is its hash. */
  readonly accessToken?: string
  /** A precomputed `ath` for `accessToken` (the token cache keeps one per token). */
  readonly ath?: string
  /** The server's last `DPoP-Nonce` for this origin. */
  readonly nonce?: string
  /** `jti`, default 16 random bytes, base64url. */
  readonly jti?: string
}

/** Writes DPoP proofs with one key: its header (`typ`, `alg`, `jwk`) encoded once. */
export interface DpopProver {
  /** The key's JWK thumbprint (what the token's `cnf.jkt` must hold). */
  readonly jkt: string
  readonly algorithm: JwsAlgorithm
  readonly jwk: PublicJwk
  proof(input: DpopProofInput): Promise<string>
}

/**
 * A DPoP proof writer (RFC 9449 §4.2): header `{ typ: 'dpop+jwt', alg, jwk }`, claims `jti`, `htm`,
 * `htu` (no query, no fragment), `iat`, and `ath` / `nonce` when given. A fresh `jti` per proof, so every
 * attempt (and every retry) carries a new proof.
 *
 * @example
 * ```ts
 * const prover = createDpopProver(keyObjectJwsKey(dpopPrivateKey))
 * const proof = await prover.proof({ method: 'GET', url: new URL('https://api.example.com/v1/x'), iat: Math.floor(Date.now() / 1000), accessToken })
 * ```
 */
export function createDpopProver(key: JwsKey): DpopProver {
  const prover = createDpopProverSync(key)
  return { jkt: prover.jkt, algorithm: prover.algorithm, jwk: prover.jwk, proof: async (input) => prover.proof(input) }
}

// jtis come from a pooled random buffer: one randomBytes call per 256 proofs instead of one per proof.
let pool = Buffer.alloc(0)
let poolOffset = 0
function randomJti(): string {
  if (poolOffset + 16 > pool.length) {
    pool = randomBytes(4096)
    poolOffset = 0
  }
  poolOffset += 16
  return pool.toString('base64url', poolOffset - 16, poolOffset)
}

/**
 * {@link createDpopProver} for the client's hot path: `proof` returns the proof itself (not a promise)
 * when the key signs synchronously, so a cached-token request costs one signature and little else.
 *
 * @example
 * ```ts
 * const proof = await createDpopProverSync(keyObjectJwsKey(dpopPrivateKey)).proof({ method: 'GET', url, iat })
 * ```
 */
export function createDpopProverSync(key: JwsKey): Omit<DpopProver, 'proof'> & { proof(input: DpopProofInput): string | Promise<string> } {
  const jwk = publicJwk(key.publicKey)
  const header = b64u(JSON.stringify({ typ: 'dpop+jwt', alg: key.algorithm, jwk }))
  return {
    jkt: jwkThumbprint(jwk),
    algorithm: key.algorithm,
    jwk,
    proof(input) {
      const claims: Record<string, unknown> = { jti: input.jti ?? randomJti(), htm: input.method.toUpperCase(), htu: dpopHtu(input.url), iat: input.iat }
      if (input.accessToken !== undefined) claims['ath'] = input.ath ?? accessTokenHash(input.accessToken)
      if (input.nonce !== undefined) claims['nonce'] = input.nonce
      return encodeCompactJws(header, b64u(JSON.stringify(claims)), key)
    },
  }
}
