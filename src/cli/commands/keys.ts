import type { X509Certificate } from 'node:crypto'
import type { Command } from 'commander'
import { ApisignError } from '../../errors.js'
import {
  describeKey,
  fingerprint,
  keyMatchesCertificate,
  loadCertificate,
  loadKeyStore,
  loadPublicKey,
  loadSigningKey,
} from '../../keys/index.js'
import { looksLikePkcs12 } from '../../keys/pkcs12.js'
import { pemLabel } from '../../keys/source.js'
import { type CliIo, keyPermissionPolicy, printResult, readInputFile, readSecret } from '../io.js'
import { type TokenFlags, inspectPkcs11, registerImportP12 } from '../pkcs11.js'

interface InspectFlags extends TokenFlags {
  key?: string
  keyAlias?: string
  keyPasswordFile?: string
  keyPasswordEnv?: string
  cert?: string
  insecureKeyPermissions?: boolean
  json?: boolean
}

function certificateSummary(cert: X509Certificate, matchesKey: boolean | undefined) {
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    fingerprintSha256: fingerprint(cert, { kind: 'certificate' }),
    ...(matchesKey === undefined ? {} : { matchesKey }),
  }
}

/** `apisign keys inspect`: what a key or certificate is, its fingerprints, whether a certificate matches. */
export function registerKeys(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('Inspect keys, keystores and certificates (never prints key material)')
  keys
    .command('inspect')
    .description('Print type, size, fingerprints and certificate facts for a key, keystore or certificate, or list a PKCS#11 token\'s keys and certificates')
    .option('--key <file>', 'private key, public key, certificate or PKCS#12 file')
    .option('--pkcs11 <module>', 'list the keys and certificates of a token of this PKCS#11 module instead')
    .option('--token <label>', 'with --pkcs11: the token label')
    .option('--pin-env <var>', 'with --pkcs11: environment variable holding the token user PIN')
    .option('--pin-file <file>', 'with --pkcs11: file holding the token user PIN')
    .option('--key-alias <alias>', 'PKCS#12 alias')
    .option('--key-password-file <file>', 'file holding the key or keystore password')
    .option('--key-password-env <var>', 'environment variable holding the key or keystore password')
    .option('--cert <file>', 'certificate to check against the key')
    .option('--insecure-key-permissions', 'only warn about a private key file readable by group or others')
    .option('--json', 'print one JSON object')
    .action(async (flags: InspectFlags) => {
      if (flags.pkcs11 !== undefined) {
        if (flags.key !== undefined) throw new ApisignError('ERR_CLI_USAGE', 'give --key or --pkcs11, not both')
        return inspectPkcs11(io, flags)
      }
      if (flags.key === undefined) throw new ApisignError('ERR_CLI_USAGE', 'give --key FILE, or --pkcs11 MODULE --token LABEL for a token')
      const keyFile = flags.key
      const password = readSecret(io, { file: flags.keyPasswordFile, env: flags.keyPasswordEnv }, '--key-password')
      const bytes = readInputFile(keyFile, '--key')
      const label = pemLabel(bytes)
      const policy = keyPermissionPolicy(io, flags.insecureKeyPermissions === true)
      let source: 'pem' | 'der' | 'pkcs12' = label === undefined ? 'der' : 'pem'
      let certificate: X509Certificate | undefined
      let key
      if (label === undefined && looksLikePkcs12(bytes)) {
        source = 'pkcs12'
        if (password === undefined) {
          throw new ApisignError('ERR_KEY_PASSWORD', `${keyFile} is a PKCS#12 keystore; give --key-password-file or --key-password-env`)
        }
        const entry = loadKeyStore(
          { p12: keyFile, password, ...(flags.keyAlias === undefined ? {} : { alias: flags.keyAlias }) },
          policy,
        )
        key = entry.privateKey
        certificate = entry.certificate
      } else if (label === 'CERTIFICATE') {
        certificate = loadCertificate(bytes)
        key = certificate.publicKey
      } else if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY') {
        key = loadPublicKey(bytes)
      } else {
        try {
          key = loadSigningKey(keyFile, { ...policy, minRsaBits: 0, ...(password === undefined ? {} : { password }) })
        } catch (error) {
          if (!(error instanceof ApisignError) || error.code !== 'ERR_KEY_WRONG_TYPE') throw error
          // DER public key or certificate.
          key = loadPublicKey(bytes)
        }
      }
      const other = flags.cert === undefined ? undefined : loadCertificate(flags.cert)
      const description = describeKey(key)
      const cert = other ?? certificate
      const matches =
        cert === undefined || description.type !== 'private' ? undefined : keyMatchesCertificate(key, cert)
      printResult(io, flags.json === true, {
        type: description.type,
        algorithm: description.algorithm,
        bits: description.bits,
        source,
        publicKeyFingerprint: {
          hex: fingerprint(key),
          base64: fingerprint(key, { encoding: 'base64' }),
        },
        ...(cert === undefined ? {} : { certificate: certificateSummary(cert, matches) }),
        ...(description.bits !== undefined && description.bits < 2048 && description.algorithm === 'rsa'
          ? { warning: `RSA-${description.bits} is below the 2048-bit minimum apisign signs with` }
          : {}),
      })
      return undefined
    })
  registerImportP12(keys, io)
}
