// `apisign mock` as the partner (issue 14 item 4): the profile's encryption config applied partner-side,
// with the partner's own key pair; a clock offset; HTTPS/mTLS. Helpers kept out of the command file.
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { resolveEncryptionConfig } from '../encryption/config.js'
import { parseDuration } from '../option-values.js'
import { ApisignError } from '../errors.js'
import { keyMatchesCertificate } from '../keys/index.js'
import { readSourceFile } from '../keys/source.js'
import { readProfileSource } from '../profiles/load.js'
import type { MockGatewayTls, PartnerKeys } from '../testing/index.js'
import type { CliIo } from './io.js'
import { isDecrypter } from '../signers/types.js'

const KEY_FIELDS = ['encryptionCertificate', 'encryptionKey', 'privateKey', 'keyStore', 'decryptionKey']

/** Key paths in an encryption config are relative to the config file: make them absolute. */
export function absoluteKeyPaths(config: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const out = { ...config }
  for (const k of KEY_FIELDS) {
    const v = out[k]
    if (typeof v === 'string' && !v.includes('-----BEGIN') && !isAbsolute(v)) out[k] = resolve(baseDir, v)
  }
  return out
}

/** Read an encryption config file (JSON), its key paths made absolute. */
export function readEncryptionConfigFile(path: string, what: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(readSourceFile(path, what).toString('utf8'))
  } catch (error) {
    if (error instanceof ApisignError) throw error
    throw new ApisignError('ERR_CONFIG_INVALID', `${what} ${path} is not valid JSON`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ApisignError('ERR_CONFIG_INVALID', `${what} ${path} must hold a JSON object`)
  return absoluteKeyPaths(parsed as Record<string, unknown>, dirname(path))
}

/** The client encryption config a profile names (inline or `configFile`), key paths absolute; undefined when it has none. */
export async function profileEncryptionConfig(io: CliIo, profile: string): Promise<Record<string, unknown> | undefined> {
  const { spec, baseDir } = await readProfileSource(profile, { cwd: io.cwd, env: io.env })
  if (spec.encryption === undefined) return undefined
  const { decryptionCertificate: _forDoctor, ...enc } = spec.encryption as Record<string, unknown>
  if (typeof enc['configFile'] === 'string') return readEncryptionConfigFile(resolve(baseDir, enc['configFile']), `profile ${profile}: encryption.configFile`)
  return absoluteKeyPaths(enc, baseDir)
}

/**
 * The partner's keys from `--partner-key` and `--client-certificate`, or none. Without them the gateway
 * would decrypt with the client's own private key: refuse when that cannot work (the client encrypts to
 * a certificate that is not its own, as in any real set-up) and say which flags to pass.
 */
export function partnerKeysFor(config: Record<string, unknown>, partnerKey: string | undefined, clientCertificate: string | undefined, cwd: string): PartnerKeys | undefined {
  if ((partnerKey === undefined) !== (clientCertificate === undefined)) throw new ApisignError('ERR_CLI_USAGE', '--partner-key and --client-certificate go together')
  if (partnerKey !== undefined && clientCertificate !== undefined) {
    return { decryptionKey: readSourceFile(resolve(cwd, partnerKey), '--partner-key'), encryptionCertificate: readSourceFile(resolve(cwd, clientCertificate), '--client-certificate') }
  }
  const resolved = resolveEncryptionConfig(config, { keyFilePermissions: 'ignore' })
  // A decryption key in an HSM (a Decrypter) is compared through its public half.
  const decryptionKey = isDecrypter(resolved.decryptionKey) ? resolved.decryptionKey.publicKey : resolved.decryptionKey
  if (resolved.encryptionKey !== undefined && decryptionKey !== undefined && !keyMatchesCertificate(decryptionKey, resolved.encryptionKey)) {
    throw new ApisignError(
      'ERR_CLI_USAGE',
      'the client encrypts to a certificate that is not its own (as with a real partner), so the mock needs the partner\'s keys: --partner-key (the private key of encryptionCertificate) and --client-certificate (the certificate of privateKey, which responses are encrypted to)',
    )
  }
  return undefined
}

/**
 * A clock offset such as `600s`, `-90s`, `10m`, `1500ms` or `1h` (a bare number is seconds), in ms: apisign's
 * one duration grammar (`parseDuration`) with a sign, since a partner's clock may be behind as well as ahead.
 *
 * @example
 * ```ts
 * parseClockOffset('-90s', '--clock-offset') // -90000
 * ```
 */
export function parseClockOffset(text: string, flag: string): number {
  const m = /^([+-]?)(.*)$/.exec(text) as RegExpExecArray
  const body = m[2] as string
  try {
    const ms = /^\d+(?:\.\d+)?$/.test(body) ? parseDuration(`${body}s`, flag) : parseDuration(body, flag)
    return Math.round(m[1] === '-' ? -ms : ms)
  } catch {
    throw new ApisignError('ERR_CLI_USAGE', `${flag} must be a duration such as 600s, -90s, 10m or 1500ms`)
  }
}

/** `--tls-cert`, `--tls-key` and `--tls-client-ca` as the gateway's tls option. */
export function mockTls(cert: string | undefined, key: string | undefined, clientCa: string | undefined, cwd: string): MockGatewayTls | undefined {
  if (cert === undefined && key === undefined) {
    if (clientCa !== undefined) throw new ApisignError('ERR_CLI_USAGE', '--tls-client-ca needs --tls-cert and --tls-key')
    return undefined
  }
  if (cert === undefined || key === undefined) throw new ApisignError('ERR_CLI_USAGE', '--tls-cert and --tls-key go together')
  return {
    cert: readFileSync(readable(resolve(cwd, cert), '--tls-cert')),
    key: readFileSync(readable(resolve(cwd, key), '--tls-key')),
    ...(clientCa === undefined ? {} : { ca: readFileSync(readable(resolve(cwd, clientCa), '--tls-client-ca')), requireClientCertificate: true }),
  }
}

function readable(path: string, what: string): string {
  readSourceFile(path, what)
  return path
}
