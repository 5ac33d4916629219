// `apisign doctor`: the failures integrators report most (reference/: a key that does not match the
// partner's certificate, a clock out of sync, the sandbox key or host used in production, an encryption
// certificate that is not the partner's or has expired, "signature failed verification" with no clue)
// diagnosed in one run, each as pass / warn / fail with a one-line fix. Never prints a secret.
import type { KeyObject, X509Certificate } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { resolveEncryptionConfig } from '../encryption/config.js'
import { isApisignError } from '../errors.js'
import { createClient } from '../http/client.js'
import { describeKey, fingerprint, keyMatchesCertificate, loadCertificate, loadKeyStore } from '../keys/index.js'
import { looksLikePkcs12 } from '../keys/pkcs12.js'
import { type Profile, type ProfileSource, hostMismatch, loadProfile, mapSecretReferences, profileEnvironment, readProfileSource } from '../profiles/load.js'
import { symlinkTarget, transportProblem } from '../profiles/security.js'
import { resolveAuth } from '../schemes/table.js'
import { type Signer, isDecrypter, isSigner } from '../signers/types.js'
import { isPkcs11Reference } from '../profiles/pkcs11.js'
import { pkcs11Checks, pkcs11DecryptionChecks } from './doctor-pkcs11.js'
import type { OAuth2ProfileAuth } from '../profiles/oauth2.js'
import { oauth2Checks } from './doctor-oauth2.js'
import { environmentCheck, sandboxCredentialChecks } from './doctor-environment.js'
import { headDate, tlsChecks } from './doctor-tls.js'

/** One check's outcome. */
export interface DoctorCheck {
  readonly id: string
  readonly status: 'pass' | 'warn' | 'fail'
  readonly message: string
  /** What to do about a warn or fail, one line. */
  readonly fix?: string
}

/** The whole report: `ok` is false when any check failed. */
export interface DoctorReport {
  readonly ok: boolean
  readonly profile?: string
  readonly checks: readonly DoctorCheck[]
}

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  readonly profile?: string
  readonly configPath?: string
  readonly cwd?: string
  readonly env?: Readonly<Record<string, string | undefined>>
  /** A certificate to check the signing key against (else the profile's `auth.certificate`, else the PKCS#12's own). */
  readonly certificate?: string
  /** Also check the clock against the base URL's `Date` and send one signed probe. Default false. */
  readonly online?: boolean
  /** Path of the signed probe (a GET operation of the API). Default: the base URL itself. */
  readonly probePath?: string
  /** Clock, ms. Default `Date.now`. */
  readonly now?: () => number
  /** A certificate expiring within this many days is a warning. Default 30. */
  readonly expiryWarningDays?: number
  /** Clock offset thresholds, seconds: above `warn` a warning, above `fail` a failure. Defaults 5 and 60. */
  readonly clockThresholds?: { readonly warn: number; readonly fail: number }
}

const DAY = 86_400_000
const KEY_CODES = /^ERR_(KEY|FILE)_|^ERR_CERT_/

/** Group or other permission bits on a private file (POSIX only). */
function permissionCheck(id: string, path: string, what: string): DoctorCheck {
  // A symlink is judged by its target, and named (a Kubernetes secret mount is a chain of symlinks).
  const target = symlinkTarget(path)
  const check = permissionCheckOf(id, path, what)
  return target === undefined ? check : { ...check, message: `${check.message}; ${path} is a symlink to ${target}` }
}

function permissionCheckOf(id: string, path: string, what: string): DoctorCheck {
  let mode: number
  try {
    mode = statSync(path).mode & 0o777
  } catch {
    return { id, status: 'fail', message: `${what} ${path} cannot be read`, fix: 'check the path in the profile' }
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    return { id, status: 'fail', message: `${what} ${path} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')})`, fix: `chmod 600 ${path}` }
  }
  return { id, status: 'pass', message: `${what} ${path} is private (mode ${mode.toString(8).padStart(4, '0')})` }
}

function validity(cert: X509Certificate, now: number, warnDays: number): { status: DoctorCheck['status']; text: string } {
  const from = Date.parse(cert.validFrom)
  const to = Date.parse(cert.validTo)
  if (now < from) return { status: 'fail', text: `is not valid before ${new Date(from).toISOString()}` }
  if (now > to) return { status: 'fail', text: `expired on ${new Date(to).toISOString()}` }
  if (to - now < warnDays * DAY) return { status: 'warn', text: `expires on ${new Date(to).toISOString()} (in ${Math.ceil((to - now) / DAY)} days)` }
  return { status: 'pass', text: `is valid until ${new Date(to).toISOString()}` }
}

const shortFp = (key: KeyObject | X509Certificate) => fingerprint(key).slice(0, 16)
const subjectOf = (cert: X509Certificate) => cert.subject.replace(/\n/g, ', ')

/**
 * Diagnose a profile: it resolves and validates; the signing key loads, is RSA >= 2048 and private on
 * disk, and matches the certificate the partner holds; the encryption certificate is valid now (its kid
 * shown); the decryption key loads; the host fits sandbox/production; with `online`, the clock against
 * the base URL's `Date` and one signed probe. Checks never print a secret.
 *
 * @example
 * ```ts
 * const report = await runDoctor({ profile: 'production', online: true })
 * for (const c of report.checks) console.log(c.status, c.id, c.message)
 * process.exitCode = report.ok ? 0 : 1
 * ```
 */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const now = options.now ?? Date.now
  const warnDays = options.expiryWarningDays ?? 30
  const checks: DoctorCheck[] = []
  const add = (c: DoctorCheck) => void checks.push(c)
  const cwd = options.cwd ?? process.cwd()
  const loadOptions = { cwd, ...(options.env === undefined ? {} : { env: options.env }), ...(options.configPath === undefined ? {} : { configPath: options.configPath }) }

  let source: ProfileSource
  try {
    source = await readProfileSource(options.profile, loadOptions)
  } catch (error) {
    add({ id: 'profile', status: 'fail', message: isApisignError(error) ? `${error.code}: ${error.message}` : 'the profile could not be read', fix: 'see the profile file format in the README' })
    return { ok: false, checks }
  }
  const { name, spec, baseDir, env } = source
  let environment: string
  try {
    environment = profileEnvironment(name, spec)
  } catch (error) {
    add({ id: 'profile', status: 'fail', message: isApisignError(error) ? `${error.code}: ${error.message}` : 'the profile environment is not known', fix: 'set "environment" to production (prod, live, prd) or sandbox (sandbox, test, uat, ...)' })
    return { ok: false, checks }
  }
  // Every missing variable at once, before the load stops at the first.
  const variables = environmentCheck(spec, env, baseDir)
  if (variables !== undefined) add(variables)

  let profile: Profile | undefined
  try {
    // Permissions and hosts are reported below as checks of their own, so they must not stop the load.
    profile = await loadProfile(name, { ...loadOptions, keyFilePermissions: 'ignore', checks: 'report' })
    add({ id: 'profile', status: 'pass', message: `profile ${name} (${environment}, ${profile.auth.scheme}) from ${source.configPath}` })
  } catch (error) {
    const code = isApisignError(error) ? error.code : 'ERR_INTERNAL'
    const message = isApisignError(error) ? `${code}: ${error.message}` : 'the profile could not be loaded'
    if (/: tls[.:]/.test(message)) add({ id: 'tls', status: 'fail', message, fix: 'fix the profile\'s tls section (see tls-* below)' })
    // A key in an HSM gets its own checks below (module, token, PIN, key, probe signature).
    else if (/^ERR_(HSM|PKCS11)_/.test(code) && isPkcs11Reference((spec.auth as { key?: unknown } | undefined)?.key)) {
      // reported by pkcs11Checks
    } else if (KEY_CODES.test(code) && !/encryption/i.test(message)) add({ id: 'signing-key', status: 'fail', message, fix: 'point auth.key at the private key (or .p12, alias and password) the partner certificate was issued for' })
    else if (code === 'ERR_ENCRYPTION_CONFIG' || /encryption/i.test(message)) add({ id: 'encryption', status: 'fail', message, fix: 'fix the encryption config named by the profile' })
    else add({ id: 'profile', status: 'fail', message, fix: 'see the profile file format in the README' })
  }

  // The host and the environment.
  try {
    const url = new URL(spec.baseURL)
    const mismatch = spec.skipHostCheck === true ? undefined : hostMismatch(environment, url)
    if (spec.skipHostCheck === true) add({ id: 'host', status: 'warn', message: `host check skipped by the profile (${url.hostname}, ${environment})`, fix: 'remove skipHostCheck unless the partner\'s hosts do not say which environment they are' })
    else if (mismatch !== undefined) add({ id: 'host', status: mismatch.severity, message: mismatch.message, fix: environment === 'production' ? 'use the production base URL (and production keys) in the production profile' : 'use the sandbox base URL, or set environment correctly' })
    else add({ id: 'host', status: 'pass', message: `${url.host} fits the ${environment} environment` })
    const transport = transportProblem(environment, url, spec.allowInsecureHttp === true)
    if (transport !== undefined) add({ id: 'transport', status: 'fail', message: transport, fix: 'use the partner\'s https base URL' })
  } catch {
    add({ id: 'host', status: 'fail', message: 'baseURL is not an absolute URL', fix: 'set baseURL to the partner\'s https base URL' })
  }

  // The signing key (OAuth 1.0a profiles).
  const auth = spec.auth as { scheme?: string; signatureMethod?: string; certificate?: string; key?: { path?: string; pathEnv?: string; alias?: string; passwordEnv?: string; passwordFile?: string; pkcs11?: unknown } }
  let hsmSigner: Signer | undefined
  if (auth?.scheme === 'oauth1' && isPkcs11Reference(auth.key)) {
    hsmSigner = await pkcs11Checks(auth.key.pkcs11, auth.signatureMethod === 'RSA-PSS' ? 'PS256' : 'RS256', { profile: name, baseDir, env }, add)
  }
  if (auth?.scheme === 'oauth1') {
    const keyPath = hsmSigner !== undefined || isPkcs11Reference(auth.key) ? undefined : auth.key?.path ?? (auth.key?.pathEnv === undefined ? undefined : env[auth.key.pathEnv])
    const absoluteKey = keyPath === undefined ? undefined : isAbsolute(keyPath) ? keyPath : resolve(baseDir, keyPath)
    if (absoluteKey !== undefined) add(permissionCheck('key-permissions', absoluteKey, 'signing key file'))
    if (auth.key?.passwordFile !== undefined) {
      const c = permissionCheck('password-file-permissions', resolve(baseDir, auth.key.passwordFile), 'keystore password file')
      add(c.status === 'fail' ? { ...c, status: 'warn' } : c)
    }
    const signer = hsmSigner ?? (profile?.auth.scheme === 'oauth1' && isSigner(profile.auth.key) ? profile.auth.key : undefined)
    const loaded = profile !== undefined && profile.auth.scheme === 'oauth1' ? profile.auth.key : undefined
    // A key in an HSM is checked through its public half; the token may hold its certificate too.
    const key = signer !== undefined ? signer.publicKey : loaded !== undefined && !isSigner(loaded) ? loaded : undefined
    if (key !== undefined) {
      const d = describeKey(key)
      add({ id: 'signing-key', status: 'pass', message: signer !== undefined ? `${String(d.algorithm).toUpperCase()} ${d.bits}-bit key in the token (${signer.algorithm}), public key sha256 ${shortFp(key)}…` : `${String(d.algorithm).toUpperCase()} ${d.bits}-bit private key, public key sha256 ${shortFp(key)}…` })
      let cert: X509Certificate | undefined
      let certSource = ''
      try {
        const certPath = options.certificate ?? auth.certificate
        if (certPath !== undefined) {
          cert = loadCertificate(isAbsolute(certPath) ? certPath : resolve(options.certificate === undefined ? baseDir : cwd, certPath))
          certSource = certPath
        } else if (absoluteKey !== undefined && looksLikePkcs12(readFileSync(absoluteKey))) {
          const password = auth.key?.passwordEnv !== undefined ? env[auth.key.passwordEnv] : auth.key?.passwordFile !== undefined ? readFileSync(resolve(baseDir, auth.key.passwordFile), 'utf8').replace(/\r?\n$/, '') : undefined
          cert = loadKeyStore({ p12: absoluteKey, password: password ?? '', ...(auth.key?.alias === undefined ? {} : { alias: auth.key.alias }) }, { filePermissions: 'ignore' }).certificate
          certSource = 'the PKCS#12 keystore'
        } else if (signer?.certificate !== undefined) {
          cert = signer.certificate
          certSource = 'the token'
        }
      } catch (error) {
        add({ id: 'key-certificate', status: 'fail', message: `the signing certificate cannot be read (${isApisignError(error) ? error.code : 'unreadable'})`, fix: 'point auth.certificate at the PEM/DER certificate from the partner portal' })
      }
      if (cert !== undefined) {
        if (keyMatchesCertificate(key, cert)) add({ id: 'key-certificate', status: 'pass', message: `the signing key matches the certificate in ${certSource} (${subjectOf(cert)})` })
        else {
          add({
            id: 'key-certificate',
            status: 'fail',
            message: `the signing key (public key sha256 ${shortFp(key)}…) does not match the certificate in ${certSource} (${subjectOf(cert)}, public key sha256 ${shortFp(cert)}…): the partner will answer "signature failed verification"`,
            fix: 'sign with the private key the certificate was issued for, or upload a CSR made from this key to the partner portal',
          })
        }
        const v = validity(cert, now(), warnDays)
        add({ id: 'signing-certificate', status: v.status, message: `the signing certificate ${v.text}`, ...(v.status === 'pass' ? {} : { fix: 'renew it in the partner portal (a new CSR from the same or a new key)' }) })
      } else if (!checks.some((c) => c.id === 'key-certificate')) {
        add({ id: 'key-certificate', status: 'warn', message: 'no certificate on file to check the signing key against', fix: 'add auth.certificate (the certificate the partner portal issued) or pass --cert' })
      }
    }
  } else if (auth?.scheme === 'oauth2') {
    await oauth2Checks(spec.auth as unknown as OAuth2ProfileAuth, profile, { name, baseDir, env, online: options.online === true, now, thresholds: options.clockThresholds ?? { warn: 5, fail: 60 } }, add, permissionCheck)
  } else {
    // Other schemes' secret files: private, like key files (symlinks resolved and named).
    mapSecretReferences(spec.auth, 'auth', (ref, path) => {
      if ('file' in ref) add(permissionCheck(`secret-file-permissions:${path}`, resolve(baseDir, ref.file), `secret file (${path})`))
      return undefined
    })
  }
  if (auth?.scheme !== 'oauth1' && profile !== undefined) {
    // Other schemes: every secret reference must resolve now (values never shown).
    const providers = Object.entries(profile.auth).filter(([, v]) => typeof (v as { get?: unknown })?.get === 'function') as Array<[string, { get(): Promise<unknown> }]>
    for (const [field, provider] of providers) {
      try {
        await provider.get()
        add({ id: `credential-${field}`, status: 'pass', message: `auth.${field} resolves` })
      } catch (error) {
        add({ id: `credential-${field}`, status: 'fail', message: `auth.${field} does not resolve (${isApisignError(error) ? error.code : 'error'})`, fix: 'set the environment variable or create the file the profile names' })
      }
    }
  }

  // Field encryption.
  if (spec.encryption !== undefined) await encryptionChecks(spec.encryption as Record<string, unknown>, baseDir, environment, now(), warnDays, add, { profile: name, env })
  if (spec.tls !== undefined && spec.tls !== null && typeof spec.tls === 'object') tlsChecks(spec.tls, baseDir, env, now(), warnDays, add)
  for (const c of sandboxCredentialChecks(name, source.file, env, baseDir)) add(c)

  if (options.online === true && profile !== undefined) await onlineChecks(profile, options, now, add)
  // Sessions with an HSM end with the report (the profile's signer and the one the checks opened).
  for (const k of [hsmSigner, profile?.auth.scheme === 'oauth1' || profile?.auth.scheme === 'oauth2' ? profile.auth.key : undefined]) {
    const close = (k as { close?: () => Promise<void> } | undefined)?.close
    if (typeof close === 'function') await close.call(k)
  }
  return { ok: !checks.some((c) => c.status === 'fail'), profile: name, checks }
}

async function encryptionChecks(
  enc: Record<string, unknown>,
  baseDir: string,
  environment: string,
  now: number,
  warnDays: number,
  add: (c: DoctorCheck) => void,
  hsm: { readonly profile: string; readonly env: Readonly<Record<string, string | undefined>> },
): Promise<void> {
  const { decryptionCertificate, decryptionKey: hsmKey, ...rest } = enc
  let config: Record<string, unknown> = isPkcs11Reference(hsmKey) ? rest : { ...rest, ...(hsmKey === undefined ? {} : { decryptionKey: hsmKey }) }
  let dir = baseDir
  if (typeof enc['configFile'] === 'string') {
    const path = resolve(baseDir, enc['configFile'])
    try {
      config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
      dir = dirname(path)
    } catch {
      add({ id: 'encryption', status: 'fail', message: `encryption.configFile ${path} is missing or not JSON`, fix: 'point encryption.configFile at the encryption config' })
      return
    }
  }
  // A decryption key in an HSM: opened (and probed) here, then checked like any other through its public half.
  const opened = await pkcs11DecryptionChecks(config, hsmKey, { profile: hsm.profile, env: hsm.env, baseDir, configDir: dir }, add)
  if (opened === null) return
  if (opened !== undefined) config = opened.config
  let resolved
  try {
    resolved = resolveEncryptionConfig(config, { baseDir: dir, keyFilePermissions: 'ignore' })
  } catch (error) {
    add({ id: 'encryption', status: 'fail', message: isApisignError(error) ? `${error.code}: ${error.message}` : 'the encryption config is invalid', fix: 'fix the encryption config' })
    return
  }
  let cert: X509Certificate | undefined
  const certValue = config['encryptionCertificate']
  if (typeof certValue === 'string') {
    try {
      cert = loadCertificate(certValue.includes('-----BEGIN') || isAbsolute(certValue) ? certValue : resolve(dir, certValue))
    } catch (error) {
      add({ id: 'encryption-certificate', status: 'fail', message: `the encryption certificate cannot be read (${isApisignError(error) ? error.code : 'unreadable'})`, fix: 'download the partner\'s encryption certificate again' })
    }
  }
  if (cert !== undefined) {
    const v = validity(cert, now, warnDays)
    const kid = resolved.kid ?? fingerprint(cert)
    add({
      id: 'encryption-certificate',
      status: v.status,
      message: `the encryption certificate (${subjectOf(cert)}) ${v.text}; kid ${kid}`,
      ...(v.status === 'pass' ? {} : { fix: 'download the partner\'s current encryption certificate (the partner cannot decrypt with a key whose certificate expired)' }),
    })
  }
  const privateKeyPath = ['privateKey', 'decryptionKey'].map((k) => config[k]).find((v): v is string => typeof v === 'string' && !v.includes('-----BEGIN'))
  if (privateKeyPath !== undefined) {
    const c = permissionCheck('decryption-key-permissions', isAbsolute(privateKeyPath) ? privateKeyPath : resolve(dir, privateKeyPath), 'decryption key file')
    add(c)
  }
  // A key held in a token (a Decrypter) is checked through its public half.
  const decryptionKey = isDecrypter(resolved.decryptionKey) ? resolved.decryptionKey.publicKey : resolved.decryptionKey
  if (decryptionKey !== undefined) {
    const d = describeKey(decryptionKey)
    const tooSmall = d.algorithm === 'rsa' && (d.bits ?? 0) < 2048
    const ownPair = resolved.encryptionKey !== undefined && keyMatchesCertificate(decryptionKey, resolved.encryptionKey)
    if (tooSmall) add({ id: 'decryption-key', status: 'fail', message: `the decryption key is RSA ${d.bits}-bit`, fix: 'use an RSA key of at least 2048 bits' })
    else if (ownPair && environment === 'production') {
      add({
        id: 'decryption-key',
        status: 'warn',
        message: 'the decryption key is the private half of the encryption certificate: requests are encrypted to yourself, not to the partner',
        fix: 'encryptionCertificate must be the partner\'s certificate; decryptionKey is yours',
      })
    } else {
      add({ id: 'decryption-key', status: 'pass', message: `${String(d.algorithm).toUpperCase()} ${d.bits}-bit decryption key (public key sha256 ${shortFp(decryptionKey)}…)${ownPair ? '; the pair of the encryption certificate (a local mock set-up)' : ''}` })
    }
    if (typeof decryptionCertificate === 'string') {
      // The certificate the partner encrypts responses to: the decryption key must be its private half.
      try {
        const cert = loadCertificate(isAbsolute(decryptionCertificate) ? decryptionCertificate : resolve(baseDir, decryptionCertificate))
        const v = validity(cert, now, warnDays)
        if (!keyMatchesCertificate(decryptionKey, cert)) {
          add({
            id: 'decryption-certificate',
            status: 'fail',
            message: `the decryption key (public key sha256 ${shortFp(decryptionKey)}…) does not match the certificate the partner encrypts responses to (${subjectOf(cert)}, sha256 ${shortFp(cert)}…): responses fail with ERR_JWE_DECRYPTION_FAILED`,
            fix: 'configure the private key of the certificate you uploaded to the partner, or upload the certificate of this key',
          })
        } else {
          add({ id: 'decryption-certificate', status: v.status, message: `the decryption key matches the certificate the partner holds (${subjectOf(cert)}), which ${v.text}`, ...(v.status === 'pass' ? {} : { fix: 'renew the certificate with the partner before it expires' }) })
        }
      } catch (error) {
        add({ id: 'decryption-certificate', status: 'fail', message: `encryption.decryptionCertificate cannot be read (${isApisignError(error) ? error.code : 'unreadable'})`, fix: 'point it at the certificate you uploaded to the partner' })
      }
    }
  }
}

async function onlineChecks(profile: Profile, options: DoctorOptions, now: () => number, add: (c: DoctorCheck) => void): Promise<void> {
  const thresholds = options.clockThresholds ?? { warn: 5, fail: 60 }
  try {
    const started = now()
    const date = await headDate(profile)
    const serverNow = date === null ? Number.NaN : Date.parse(date)
    if (Number.isNaN(serverNow)) add({ id: 'clock', status: 'warn', message: 'the base URL sent no Date header to compare the clock with', fix: 'keep the clock in sync with NTP' })
    else {
      // Date has a resolution of one second; compare with the midpoint of the round trip.
      const offset = (serverNow - (started + now()) / 2) / 1000
      const abs = Math.abs(offset)
      const status = abs > thresholds.fail ? 'fail' : abs > thresholds.warn ? 'warn' : 'pass'
      add({
        id: 'clock',
        status,
        message: `this clock is ${abs.toFixed(1)} s ${offset > 0 ? 'behind' : 'ahead of'} the partner's Date header`,
        ...(status === 'pass' ? {} : { fix: 'sync the clock with NTP (timestamps outside the gateway window are rejected; OST rejects 100 s behind)' }),
      })
    }
  } catch {
    add({ id: 'clock', status: 'fail', message: `cannot reach ${new URL(profile.baseURL).origin}`, fix: 'check the network path, proxy and DNS to the partner' })
    return
  }
  const api = createClient({ ...profile, auth: resolveAuth(profile.auth), retry: false })
  const path = options.probePath ?? '/'
  try {
    const r = await api.get(options.probePath ?? '')
    add({ id: 'probe', status: 'pass', message: `a signed GET ${path} was accepted (HTTP ${r.status})` })
  } catch (error) {
    const code = isApisignError(error) ? error.code : 'ERR_INTERNAL'
    const details = (isApisignError(error) ? error.details : undefined) as { status?: number; reasonCode?: string } | undefined
    const authFailure = code === 'ERR_SIGNATURE_MISMATCH' || details?.status === 401 || details?.status === 403
    if (!authFailure && details?.status !== undefined) {
      add({ id: 'probe', status: 'warn', message: `a signed GET ${path} got HTTP ${details.status}, which says nothing about the signature`, fix: 'pass --probe-path with a GET operation of the API' })
      return
    }
    const said = `${details?.reasonCode ?? ''} ${(details as { description?: string } | undefined)?.description ?? ''}`.replace(/acceptable signature base string.*$/is, '')
    if (/timestamp|clock|time.?window|skew|request.?time|expired/i.test(said)) {
      // The partner says the time is wrong: that is the clock, whatever the Date comparison above found.
      add({
        id: 'clock',
        status: 'fail',
        message: `the partner rejected the signed probe because of its time (${details?.reasonCode ?? code}${details?.status === undefined ? '' : `, HTTP ${details.status}`})`,
        fix: 'sync this machine\'s clock with NTP (timedatectl set-ntp true, or chrony/ntpd); the gateway accepts timestamps within a few minutes of its own clock',
      })
      return
    }
    add({
      id: 'probe',
      status: 'fail',
      message: `the signed probe was rejected: ${code}${details?.reasonCode === undefined ? '' : ` (${details.reasonCode})`}${details?.status === undefined ? '' : `, HTTP ${details.status}`}`,
      fix: code === 'ERR_SIGNATURE_MISMATCH' ? 'the key does not match what the partner holds for this consumer key: check key-certificate' : 'check the consumer key, the key pair and the environment the credentials belong to',
    })
  }
}
