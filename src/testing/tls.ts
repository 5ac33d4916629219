import { type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse, createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { describeType } from '../errors.js'
import { type TlsMaterial, resolveClientTls } from '../http/tls.js'

/**
 * The mock gateway over HTTPS: its server certificate and key (e.g. from `npm run certs`: a local test CA
 * issues one for 127.0.0.1, localhost and ::1) and, for mutual TLS as open-banking partners demand it, the
 * CA whose client certificates it accepts. With `requireClientCertificate`, a caller without a certificate
 * from that CA fails the TLS handshake, as at the real gateway; no HTTP response is sent.
 */
export interface MockGatewayTls {
  readonly cert: TlsMaterial
  readonly key: TlsMaterial
  /** CA(s) that issue accepted client certificates (required with `requireClientCertificate`). */
  readonly ca?: TlsMaterial | readonly TlsMaterial[]
  readonly requireClientCertificate?: boolean
  readonly passphrase?: string
}

/**
 * An HTTP server, or an HTTPS one (optionally mTLS) when `tls` is given.
 *
 * @example
 * ```ts
 * const server = createGatewayServer({ cert: 'server-cert.pem', key: 'server-key.pem', ca: 'ca-cert.pem', requireClientCertificate: true }, {}, listener)
 * ```
 */
export function createGatewayServer(tls: MockGatewayTls | undefined, options: ServerOptions, listener: RequestListener<typeof IncomingMessage, typeof ServerResponse>): Server {
  if (tls === undefined) return createHttpServer(options, listener)
  if (tls === null || typeof tls !== 'object') throw new TypeError(`tls must be { cert, key, ca?, requireClientCertificate? }. Received ${describeType(tls)}`)
  if (tls.requireClientCertificate === true && tls.ca === undefined) throw new TypeError('tls.requireClientCertificate needs tls.ca, the CA that issues client certificates')
  // Same reading and checks as the client side (files, key against certificate, passphrase); the server's
  // key file is throwaway test material, so its permissions are not policed here.
  const secure = resolveClientTls({ cert: tls.cert, key: tls.key, ...(tls.ca === undefined ? {} : { ca: tls.ca }), ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }), keyFilePermissions: 'ignore' })
  return createHttpsServer({ ...options, ...secure, requestCert: tls.requireClientCertificate === true, rejectUnauthorized: tls.requireClientCertificate === true }, listener)
}
