import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { ApisignError } from '../errors.js'
import { type ClientTlsOptions, resolveClientTls } from '../http/tls.js'
import { type FilePermissionPolicy, keyMatchesCertificate, loadCertificate, loadKeyStore, loadPrivateKey } from '../keys/index.js'

/**
 * A profile's `tls`, as written: files relative to the config file, the passphrase as a secret reference.
 *
 * ```json
 * "tls": { "ca": "./partner-ca.pem", "cert": "./client-cert.pem", "key": "./client-key.pem" }
 * "tls": { "ca": "./partner-ca.pem", "p12": "./client.p12", "passphrase": { "env": "CLIENT_P12_PASSWORD" } }
 * ```
 */
export interface ProfileTlsSpec {
  /** The CA that issued the partner's server certificate, when it is not one of Node's roots. */
  readonly ca?: string | readonly string[]
  /** Client certificate for mTLS (PEM) and its key (PEM/DER, encrypted or not). */
  readonly cert?: string
  readonly key?: string
  /** Or both as a PKCS#12 keystore. */
  readonly p12?: string
  /** Passphrase of `key` or `p12`: `{ "env": "NAME" }` or `{ "file": "./path" }`, never the value. */
  readonly passphrase?: { readonly env: string } | { readonly file: string }
}

const KNOWN = new Set(['ca', 'cert', 'key', 'p12', 'passphrase'])

/**
 * Load a profile's `tls` once: files read, the passphrase resolved and used here (the key is kept
 * decrypted in memory, never the passphrase), the key checked against the certificate.
 *
 * @example
 * ```ts
 * const tls = loadProfileTls('sandbox', { ca: './ca.pem', p12: './client.p12', passphrase: { env: 'P12_PASSWORD' } }, '/etc/app', process.env)
 * ```
 */
export function loadProfileTls(
  profile: string,
  spec: ProfileTlsSpec,
  baseDir: string,
  env: Readonly<Record<string, string | undefined>>,
  filePermissions: FilePermissionPolicy = 'refuse',
): ClientTlsOptions {
  const invalid = (message: string) => new ApisignError('ERR_PROFILE_INVALID', `profile ${profile}: tls${message}`)
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw invalid(' must be an object')
  for (const k of Object.keys(spec)) if (!KNOWN.has(k)) throw invalid(`.${k} is not a tls option (ca, cert, key, p12, passphrase)`)
  const file = (value: unknown, name: string): string => {
    if (typeof value !== 'string' || value === '') throw invalid(`.${name} must be a file path`)
    const path = isAbsolute(value) ? value : resolve(baseDir, value)
    if (!existsSync(path)) throw new ApisignError('ERR_FILE_NOT_FOUND', `profile ${profile}: tls.${name} ${path} does not exist`)
    return path
  }
  let passphrase: string | undefined
  const ref = spec.passphrase as Record<string, unknown> | undefined
  if (ref !== undefined) {
    if (ref === null || typeof ref !== 'object' || (typeof ref['env'] !== 'string' && typeof ref['file'] !== 'string')) {
      throw invalid('.passphrase must be { "env": "NAME" } or { "file": "./path" }, not the value')
    }
    if (typeof ref['env'] === 'string') {
      passphrase = env[ref['env']]
      if (passphrase === undefined) throw invalid(`.passphrase: environment variable ${ref['env']} is not set`)
    } else passphrase = readFileSync(file(ref['file'], 'passphrase.file'), 'utf8').replace(/\r?\n$/, '')
  }
  const wrap = <T>(name: string, fn: () => T): T => {
    try {
      return fn()
    } catch (error) {
      if (error instanceof ApisignError) throw new ApisignError(error.code, `profile ${profile}: tls.${name}: ${error.message}`, { cause: error })
      throw error
    }
  }
  const ca = spec.ca === undefined ? undefined : (Array.isArray(spec.ca) ? spec.ca : [spec.ca]).map((c, i) => readFileSync(file(c, Array.isArray(spec.ca) ? `ca[${i}]` : 'ca')))
  const options = { keyFilePermissions: filePermissions, ...(ca === undefined ? {} : { ca }) }
  if (spec.p12 !== undefined) {
    if (spec.cert !== undefined || spec.key !== undefined) throw invalid(': give either p12 or cert + key, not both')
    if (passphrase === undefined) throw invalid('.p12 needs tls.passphrase')
    const pass = passphrase
    const entry = wrap('p12', () => loadKeyStore({ p12: file(spec.p12, 'p12'), password: pass }, { filePermissions, minRsaBits: 2048 }))
    if (entry.certificate === undefined) throw invalid('.p12 holds no certificate')
    const cert = entry.certificate.toString()
    const key = entry.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    const result: ClientTlsOptions = { ...options, cert, key }
    wrap('p12', () => resolveClientTls(result))
    return result
  }
  if ((spec.cert === undefined) !== (spec.key === undefined)) throw invalid(spec.cert === undefined ? '.key needs tls.cert' : '.cert needs tls.key')
  if (spec.cert === undefined) {
    wrap('ca', () => resolveClientTls(options))
    return options
  }
  const certificate = wrap('cert', () => loadCertificate(file(spec.cert, 'cert')))
  const pass = passphrase
  const privateKey = wrap('key', () => loadPrivateKey(file(spec.key, 'key'), { filePermissions, ...(pass === undefined ? {} : { password: pass }) }))
  if (!keyMatchesCertificate(privateKey, certificate)) throw new ApisignError('ERR_KEY_MISMATCH', `profile ${profile}: tls.key does not match tls.cert (${certificate.subject.replace(/\n/g, ', ')})`)
  const result: ClientTlsOptions = { ...options, cert: readFileSync(file(spec.cert, 'cert'), 'utf8'), key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }
  wrap('cert', () => resolveClientTls(result))
  return result
}
