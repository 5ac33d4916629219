import { X509Certificate } from 'node:crypto'
import { Agent as HttpsAgent } from 'node:https'
import { type SecureContext, createSecureContext, type SecureContextOptions } from 'node:tls'
import { ApisignError, describeType } from '../errors.js'
import { type FilePermissionPolicy, checkPrivateFilePermissions, isPemText, readSourceFile } from '../keys/source.js'

/** PEM content, DER/PKCS#12 bytes, or a file path (a string without a PEM boundary). */
export type TlsMaterial = string | Uint8Array

/**
 * TLS towards the partner, as production set-ups use it: the CA that issued the partner's server
 * certificate (when it is not one of Node's roots, e.g. a partner's private CA or a local test CA), and a
 * client certificate for mutual TLS (the norm for open-banking partners): `cert` + `key`, or a PKCS#12
 * `pfx`, with its `passphrase`. Certificate validation is never turned off.
 */
export interface ClientTlsOptions {
  /** CA certificate(s) to trust, instead of Node's roots. */
  readonly ca?: TlsMaterial | readonly TlsMaterial[]
  /** Client certificate (chain) for mTLS, PEM. */
  readonly cert?: TlsMaterial
  /** Its private key, PEM. */
  readonly key?: TlsMaterial
  /** Or the client certificate and key as a PKCS#12 keystore. */
  readonly pfx?: TlsMaterial
  /** Passphrase of an encrypted `key` or of `pfx`. */
  readonly passphrase?: string
  /** Private key files readable by group or others: `refuse` (default), `warn` or `ignore`. */
  readonly keyFilePermissions?: FilePermissionPolicy
}

const bad = (message: string, cause?: unknown) => new ApisignError('ERR_CONFIG_INVALID', `tls: ${message}`, cause === undefined ? {} : { cause })

function read(value: unknown, what: string, secret: boolean, policy: FilePermissionPolicy): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value)
  if (typeof value !== 'string' || value === '') throw new TypeError(`tls.${what} must be PEM text, a file path or bytes. Received ${describeType(value)}`)
  if (isPemText(value)) return Buffer.from(value, 'utf8')
  if (secret) checkPrivateFilePermissions(value, policy, (m) => process.emitWarning(m))
  return readSourceFile(value, `tls.${what}`)
}

/**
 * Node skips CA entries it cannot parse without a word, and then every handshake fails as "self-signed
 * certificate in chain": check each certificate of the bundle here. DER is turned into PEM.
 */
function checkedCa(bytes: Buffer, name: string): Buffer {
  const text = bytes.toString('latin1')
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
  try {
    if (blocks === null) return Buffer.from(new X509Certificate(bytes).toString())
    for (const block of blocks) new X509Certificate(block)
    return bytes
  } catch (cause) {
    throw new ApisignError('ERR_CERT_INVALID', `tls.${name} holds a certificate that cannot be read (not PEM/DER, or corrupt)`, { cause })
  }
}

/**
 * Validate TLS options once and turn them into what `https`/`tls` take (files read, the key checked
 * against the certificate, the passphrase tried), so a wrong file or password fails when the client is
 * built, not on the first request. Errors name the option, never a key or passphrase.
 *
 * @example
 * ```ts
 * const secure = resolveClientTls({ ca: './ca.pem', cert: './client.pem', key: './client-key.pem' })
 * ```
 */
export function resolveClientTls(tls: ClientTlsOptions): SecureContextOptions {
  return resolve(tls).options
}

function resolve(tls: ClientTlsOptions): { options: SecureContextOptions; context: SecureContext } {
  if (tls === null || typeof tls !== 'object') throw new TypeError(`tls must be an object. Received ${describeType(tls)}`)
  const policy = tls.keyFilePermissions ?? 'refuse'
  if (tls.pfx !== undefined && (tls.cert !== undefined || tls.key !== undefined)) throw bad('give either pfx or cert + key, not both')
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw bad(tls.cert === undefined ? 'key needs its cert' : 'cert needs its key')
  if (tls.passphrase !== undefined && typeof tls.passphrase !== 'string') throw new TypeError('tls.passphrase must be a string')
  const out: { -readonly [K in keyof SecureContextOptions]: SecureContextOptions[K] } = {}
  if (tls.ca !== undefined) {
    out.ca = (Array.isArray(tls.ca) ? tls.ca : [tls.ca]).map((c, i) => {
      const name = Array.isArray(tls.ca) ? `ca[${i}]` : 'ca'
      return checkedCa(read(c, name, false, policy), name)
    })
  }
  if (tls.cert !== undefined) out.cert = read(tls.cert, 'cert', false, policy)
  if (tls.key !== undefined) out.key = read(tls.key, 'key', true, policy)
  if (tls.pfx !== undefined) out.pfx = read(tls.pfx, 'pfx', true, policy)
  if (tls.passphrase !== undefined) out.passphrase = tls.passphrase
  try {
    return { options: out, context: createSecureContext(out) }
  } catch (cause) {
    const text = `${(cause as { code?: string }).code ?? ''} ${(cause as Error).message}`
    if (/KEY_VALUES_MISMATCH|key values mismatch/i.test(text)) throw new ApisignError('ERR_KEY_MISMATCH', 'tls: the client key does not match the client certificate', { cause })
    if (/bad decrypt|mac verify|BAD_PASSWORD|passphrase|bad password/i.test(text)) {
      throw new ApisignError('ERR_KEY_PASSWORD', `tls: ${tls.pfx !== undefined ? 'pfx' : 'key'} is encrypted and ${tls.passphrase === undefined ? 'no passphrase was given' : 'the passphrase is wrong'}`, { cause })
    }
    throw bad('the certificate, key or CA cannot be used (not PEM, or corrupt)', cause)
  }
}

/**
 * An `https.Agent` carrying {@link ClientTlsOptions} (keep-alive on); `createClient` makes one from its
 * `tls` option. The agent holds a ready `SecureContext`, not the key and certificate: Node names its
 * connection pool and TLS session cache after the agent's options, so a key given as an option would
 * end up, in PEM, in every serialised error or agent dump.
 *
 * @example
 * ```ts
 * const agent = createHttpsAgent({ ca: './ca.pem', pfx: './client.p12', passphrase: process.env.CLIENT_P12_PASSWORD! })
 * ```
 */
export function createHttpsAgent(tls: ClientTlsOptions): HttpsAgent {
  return new HttpsAgent({ secureContext: resolve(tls).context, keepAlive: true })
}

/**
 * A `fetch` that carries {@link ClientTlsOptions}: undici's own fetch over an undici `Agent` whose TLS
 * connections use the same ready `SecureContext` as {@link createHttpsAgent} (Node's built-in fetch takes
 * no TLS options). undici is loaded on first use. `createFetch` uses it for its `tls` option.
 *
 * @example
 * ```ts
 * const tlsFetch = createTlsFetch({ ca: './ca.pem', cert: './client.pem', key: './client-key.pem' })
 * const response = await tlsFetch('https://127.0.0.1:8443/health', { method: 'GET' })
 * ```
 */
export function createTlsFetch(tls: ClientTlsOptions): (input: string, init: RequestInit) => Promise<Response> {
  const { context } = resolve(tls)
  let ready: Promise<(input: string, init: RequestInit) => Promise<Response>> | undefined
  const load = async () => {
    const undici = await import('undici')
    const dispatcher = new undici.Agent({ connect: { secureContext: context } })
    return (input: string, init: RequestInit) => undici.fetch(input, { ...(init as object), dispatcher } as never) as unknown as Promise<Response>
  }
  return async (input, init) => (await (ready ??= load()))(input, init)
}
