// `apisign doctor`'s checks of a profile's `tls` (issue 14 item 5): the client certificate is valid now,
// is meant for client authentication, matches its key, and chains to the CA when the profile gives one.
// Only names, subjects, dates and fingerprints are printed.
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isAbsolute, resolve } from 'node:path'
import { isApisignError } from '../errors.js'
import { type ClientTlsOptions, createHttpsAgent } from '../http/tls.js'
import { fingerprint, keyMatchesCertificate, loadCertificate, loadKeyStore, loadPrivateKey } from '../keys/index.js'
import type { ProfileTlsSpec } from '../profiles/tls.js'
import type { DoctorCheck } from './doctor.js'

const DAY = 86_400_000
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'
const subjectOf = (cert: X509Certificate) => cert.subject.replace(/\n/g, ', ')

/** The certificates of a PEM bundle (or one DER certificate). */
function bundle(path: string): X509Certificate[] {
  const bytes = readFileSync(path)
  const blocks = bytes.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
  return blocks === null ? [new X509Certificate(bytes)] : blocks.map((b) => new X509Certificate(b))
}

/**
 * Check a profile's `tls` section, adding one check per finding.
 *
 * @example
 * ```ts
 * tlsChecks(spec.tls, baseDir, env, Date.now(), 30, (c) => checks.push(c))
 * ```
 */
export function tlsChecks(
  tls: ProfileTlsSpec,
  baseDir: string,
  env: Readonly<Record<string, string | undefined>>,
  now: number,
  warnDays: number,
  add: (c: DoctorCheck) => void,
): void {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p))
  const ref = tls.passphrase as { env?: string; file?: string } | undefined
  let passphrase: string | undefined
  try {
    passphrase = ref?.env !== undefined ? env[ref.env] : ref?.file !== undefined ? readFileSync(at(ref.file), 'utf8').replace(/\r?\n$/, '') : undefined
  } catch {
    passphrase = undefined
  }
  let cas: X509Certificate[] = []
  if (tls.ca !== undefined) {
    try {
      cas = (Array.isArray(tls.ca) ? tls.ca : [tls.ca]).flatMap((c: string) => bundle(at(c)))
      add({ id: 'tls-ca', status: 'pass', message: `tls.ca: ${cas.length} certificate(s), ${cas.map(subjectOf).join('; ')}` })
    } catch {
      add({ id: 'tls-ca', status: 'fail', message: 'tls.ca cannot be read as PEM/DER certificates', fix: 'point tls.ca at the PEM file of the CA that issued the partner\'s server certificate' })
    }
  }
  if (tls.cert === undefined && tls.p12 === undefined) return
  let cert: X509Certificate | undefined
  let matches: boolean | undefined
  try {
    if (tls.p12 !== undefined) {
      if (passphrase === undefined) {
        add({ id: 'tls-client-certificate', status: 'fail', message: 'tls.p12 needs tls.passphrase, and it does not resolve', fix: `export ${ref?.env ?? 'the passphrase variable'} or add it to .env (tls.passphrase: { "env": "NAME" })` })
        return
      }
      const entry = loadKeyStore({ p12: at(tls.p12), password: passphrase }, { filePermissions: 'ignore' })
      cert = entry.certificate
      matches = cert === undefined ? undefined : keyMatchesCertificate(entry.privateKey, cert)
    } else if (tls.cert !== undefined) {
      cert = loadCertificate(at(tls.cert))
      if (tls.key !== undefined) {
        const key = loadPrivateKey(at(tls.key), { filePermissions: 'ignore', ...(passphrase === undefined ? {} : { password: passphrase }) })
        matches = keyMatchesCertificate(key, cert)
      }
    }
  } catch (error) {
    add({ id: 'tls-client-certificate', status: 'fail', message: `the client certificate or key cannot be read (${isApisignError(error) ? `${error.code}: ${error.message}` : 'unreadable'})`, fix: 'point tls.cert/tls.key (or tls.p12 and its passphrase) at the client certificate the partner issued' })
    return
  }
  if (cert === undefined) {
    add({ id: 'tls-client-certificate', status: 'fail', message: 'tls.p12 holds no certificate', fix: 'export the keystore again with its certificate' })
    return
  }
  const from = Date.parse(cert.validFrom)
  const to = Date.parse(cert.validTo)
  const fp = fingerprint(cert).slice(0, 16)
  if (now < from) add({ id: 'tls-client-certificate', status: 'fail', message: `the client certificate (${subjectOf(cert)}) is not valid before ${new Date(from).toISOString()}`, fix: 'check the clock, or wait for the certificate to become valid' })
  else if (now > to) add({ id: 'tls-client-certificate', status: 'fail', message: `the client certificate (${subjectOf(cert)}) expired on ${new Date(to).toISOString()}: the partner refuses the TLS handshake`, fix: 'renew the client certificate with the partner' })
  else if (to - now < warnDays * DAY) add({ id: 'tls-client-certificate', status: 'warn', message: `the client certificate (${subjectOf(cert)}) expires on ${new Date(to).toISOString()}`, fix: 'renew the client certificate with the partner before it expires' })
  else add({ id: 'tls-client-certificate', status: 'pass', message: `the client certificate (${subjectOf(cert)}, sha256 ${fp}…) is valid until ${new Date(to).toISOString()}` })
  // An extended key usage that leaves out clientAuth makes servers refuse the certificate for mTLS.
  const usages = cert.keyUsage
  if (Array.isArray(usages) && usages.length > 0 && !usages.includes(CLIENT_AUTH)) {
    add({ id: 'tls-client-usage', status: 'fail', message: 'the client certificate\'s extended key usage does not include TLS client authentication', fix: 'ask the partner for a client (clientAuth) certificate' })
  }
  if (matches === false) add({ id: 'tls-key', status: 'fail', message: 'tls.key does not match the client certificate', fix: 'use the private key the client certificate was issued for' })
  else if (matches === true) add({ id: 'tls-key', status: 'pass', message: 'the client key matches the client certificate' })
  if (cas.length > 0) {
    const issuer = cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))
    if (issuer !== undefined) add({ id: 'tls-chain', status: 'pass', message: `the client certificate is issued by ${subjectOf(issuer)} (tls.ca)` })
    else add({ id: 'tls-chain', status: 'warn', message: `the client certificate's issuer (${cert.issuer.replace(/\n/g, ', ')}) is not in tls.ca`, fix: 'tls.ca is the CA of the partner\'s server; check with the partner which CA issues client certificates' })
  }
}

/**
 * The `Date` header of a HEAD to the base URL (null when there is none), over the profile's TLS: a
 * partner that demands a client certificate refuses a bare `fetch` at the handshake.
 *
 * @example
 * ```ts
 * const date = await headDate({ baseURL: 'https://sandbox.api.example.com', tls: profile.tls })
 * ```
 */
export function headDate(profile: { readonly baseURL: string; readonly tls?: ClientTlsOptions }): Promise<string | null> {
  const url = new URL(profile.baseURL)
  const secure = url.protocol === 'https:'
  const agent = secure && profile.tls !== undefined ? createHttpsAgent(profile.tls) : undefined
  return new Promise((resolvePromise, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(url, { method: 'HEAD', ...(agent === undefined ? {} : { agent }), timeout: 10_000 }, (res) => {
      res.resume()
      const date = res.headers.date
      resolvePromise(typeof date === 'string' ? date : null)
      agent?.destroy()
    })
    req.once('timeout', () => req.destroy(new Error('timeout')))
    req.once('error', (error) => {
      agent?.destroy()
      reject(error)
    })
    req.end()
  })
}
