// AWS Signature Version 4 through @smithy/signature-v4 (a well-kept, typed implementation; we do not write
// SigV4 ourselves), as an AuthApplier: re-signed per attempt with the client's skew-corrected clock, and
// credentials from a provider (rotation without restart).
import type { AuthApplier } from '../pipeline/types.js'
import type { CredentialProvider } from './appliers.js'

// @smithy/signature-v4 and its hash are loaded on first use (~110 ms of start-up otherwise charged to every
// importer of the scheme table: the CLI, createClient, the mock gateway, codegen), shared with the verifier.
let loading: Promise<{ SignatureV4: typeof import('@smithy/signature-v4').SignatureV4; HttpRequest: typeof import('@smithy/protocol-http').HttpRequest; Sha256: typeof import('@aws-crypto/sha256-js').Sha256 }> | undefined
/** The SigV4 libraries, imported once. */
export function smithy() {
  loading ??= Promise.all([import('@smithy/signature-v4'), import('@smithy/protocol-http'), import('@aws-crypto/sha256-js')]).then(([sig, http, sha]) => ({ SignatureV4: sig.SignatureV4, HttpRequest: http.HttpRequest, Sha256: sha.Sha256 }))
  return loading
}

/** AWS-style credentials. */
export interface SigV4Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/** Credentials whose secret parts may each come from a provider (a profile's `{ "env": ... }`, a file). */
export interface SigV4CredentialSources {
  readonly accessKeyId: string | CredentialProvider<string>
  readonly secretAccessKey: string | CredentialProvider<string>
  readonly sessionToken?: string | CredentialProvider<string>
}

/** Options of {@link sigv4Auth}. */
export interface SigV4Options {
  readonly region: string
  readonly service: string
  readonly credentials: SigV4CredentialSources | CredentialProvider<SigV4Credentials>
  /** Add `x-amz-content-sha256` (S3 wants it). Default false. */
  readonly contentSha256Header?: boolean
}

/**
 * A URL's query in the shape `@smithy/protocol-http`'s HttpRequest takes (repeated names as lists), shared
 * by the applier and the verifier so both canonicalise the same parameters.
 *
 * @example
 * ```ts
 * sigv4Query(new URL('https://x.test/?a=1&a=2&b=3')) // { a: ['1', '2'], b: '3' }
 * ```
 */
export function sigv4Query(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {}
  for (const [k, v] of url.searchParams) {
    const prev = query[k]
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  return query
}

/**
 * SigV4 request signing (`AWS4-HMAC-SHA256`) for createClient.
 *
 * @example
 * ```ts
 * createClient({ baseURL, auth: sigv4Auth({ region: 'eu-west-1', service: 'execute-api', credentials: { accessKeyId, secretAccessKey } }) })
 * ```
 */
export function sigv4Auth(options: SigV4Options): AuthApplier {
  const value = (v: string | CredentialProvider<string>) => (typeof v === 'string' ? v : v.get())
  const provider: CredentialProvider<SigV4Credentials> =
    typeof (options.credentials as CredentialProvider<SigV4Credentials>).get === 'function'
      ? (options.credentials as CredentialProvider<SigV4Credentials>)
      : {
          get: async () => {
            const c = options.credentials as SigV4CredentialSources
            return {
              accessKeyId: await value(c.accessKeyId),
              secretAccessKey: await value(c.secretAccessKey),
              ...(c.sessionToken === undefined ? {} : { sessionToken: await value(c.sessionToken) }),
            }
          },
        }
  const lib = smithy()
  const signer = lib.then(({ SignatureV4, Sha256 }) => new SignatureV4({
    credentials: async () => {
      const c = await provider.get()
      return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken === undefined ? {} : { sessionToken: c.sessionToken }) }
    },
    region: options.region,
    service: options.service,
    sha256: Sha256,
    applyChecksum: options.contentSha256Header === true,
    uriEscapePath: true,
  }))
  // Loaded once, on first use: an unhandled rejection is never left behind when no request comes.
  signer.catch(() => undefined)
  return {
    async apply(request, context) {
      const query = sigv4Query(request.url)
      const headers: Record<string, string> = { host: request.url.host }
      const contentType = request.headers['content-type']
      if (contentType !== undefined) headers['content-type'] = contentType
      // A streamed body: SigV4 takes the payload hash from x-amz-content-sha256 (signed and sent), computed
      // by streaming the body once, instead of the bytes.
      if (request.streamed !== undefined) headers['x-amz-content-sha256'] = (await request.streamed.digest('sha256')).toString('hex')
      const { HttpRequest } = await lib
      const signed = await (await signer).sign(
        new HttpRequest({
          method: request.method,
          protocol: request.url.protocol,
          hostname: request.url.hostname,
          ...(request.url.port === '' ? {} : { port: Number(request.url.port) }),
          path: request.url.pathname,
          query,
          headers,
          ...(request.streamed !== undefined || request.body === undefined ? {} : { body: request.body }),
        }),
        { signingDate: new Date(context.now()) },
      )
      const out: Record<string, string> = {}
      for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host' && k !== 'content-type') out[k] = String(v)
      return { headers: out }
    },
  }
}
