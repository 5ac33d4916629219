// The CLI's HSM commands: `apisign keys inspect --pkcs11 MODULE --token T` lists a token's keys and
// certificates; `apisign keys import-p12` puts a sandbox PKCS#12 into a token. The PIN comes from
// --pin-env or --pin-file only (an argument would show in `ps`), and no output ever carries it.
import type { Command } from 'commander'
import { resolve } from 'node:path'
import { ApisignError } from '../errors.js'
import { fingerprint, loadKeyStore } from '../keys/index.js'
import { importPkcs11Key } from '../signers/pkcs11-import.js'
import { type Pkcs11Signer, listPkcs11Objects, openPkcs11Signer } from '../signers/pkcs11.js'
import { type CliIo, keyPermissionPolicy, printResult, readSecret } from './io.js'

/** The token flags of both commands. */
export interface TokenFlags {
  pkcs11?: string
  token?: string
  pinEnv?: string
  pinFile?: string
}

function tokenOptions(io: CliIo, flags: TokenFlags) {
  if (flags.pkcs11 === undefined) throw new ApisignError('ERR_CLI_USAGE', '--pkcs11 takes the path of the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so)')
  if (flags.token === undefined) throw new ApisignError('ERR_CLI_USAGE', 'the token label (--token, or --hsm-token for oauth1 sign) is required with --pkcs11')
  if ((flags.pinEnv === undefined) === (flags.pinFile === undefined)) throw new ApisignError('ERR_CLI_USAGE', 'give the token PIN with exactly one of --pin-env VAR or --pin-file FILE')
  if (flags.pinEnv !== undefined && (io.env[flags.pinEnv] ?? '') === '') throw new ApisignError('ERR_CLI_USAGE', `--pin-env: environment variable ${flags.pinEnv} is not set`)
  return {
    module: flags.pkcs11,
    token: flags.token,
    ...(flags.pinEnv === undefined ? {} : { pinEnv: flags.pinEnv, env: io.env }),
    ...(flags.pinFile === undefined ? {} : { pinFile: resolve(io.cwd, flags.pinFile) }),
  }
}

/**
 * `apisign keys inspect --pkcs11 MODULE --token LABEL --pin-env VAR`: the token and its objects.
 *
 * @example
 * ```ts
 * await inspectPkcs11(io, { pkcs11: '/usr/lib/softhsm/libsofthsm2.so', token: 'payments', pinEnv: 'HSM_PIN', json: true })
 * ```
 */
export async function inspectPkcs11(io: CliIo, flags: TokenFlags & { json?: boolean }): Promise<void> {
  const listing = await listPkcs11Objects(tokenOptions(io, flags))
  printResult(io, flags.json === true, { source: 'pkcs11', token: listing.token, objects: listing.objects })
}

interface ImportFlags extends TokenFlags {
  p12: string
  alias?: string
  p12PasswordFile?: string
  p12PasswordEnv?: string
  label: string
  id: string
  usage?: string
  replace?: boolean
  insecureKeyPermissions?: boolean
  json?: boolean
}

/**
 * Register `apisign keys import-p12` on the `keys` command group.
 *
 * @example
 * ```ts
 * registerImportP12(program.command('keys'), io)
 * ```
 */
export function registerImportP12(keys: Command, io: CliIo): void {
  keys
    .command('import-p12')
    .description('Put the key and certificate of a PKCS#12 into a PKCS#11 token (sandbox and test set-ups; production keys are generated in the HSM)')
    .requiredOption('--p12 <file>', 'PKCS#12 keystore')
    .option('--alias <alias>', 'PKCS#12 alias')
    .option('--p12-password-file <file>', 'file holding the keystore password')
    .option('--p12-password-env <var>', 'environment variable holding the keystore password')
    .requiredOption('--pkcs11 <module>', 'path of the PKCS#11 module')
    .requiredOption('--token <label>', 'token label')
    .option('--pin-env <var>', 'environment variable holding the token user PIN')
    .option('--pin-file <file>', 'file holding the token user PIN')
    .requiredOption('--label <label>', 'CKA_LABEL of the imported objects')
    .requiredOption('--id <hex>', 'CKA_ID of the imported objects, hex (e.g. 01)')
    .option('--usage <list>', 'sign, decrypt or sign,decrypt (default: both for RSA)')
    .option('--replace', 'replace objects that already have this label or id')
    .option('--insecure-key-permissions', 'only warn about a keystore file readable by group or others')
    .option('--json', 'print one JSON object')
    .action(async (flags: ImportFlags) => {
      const password = readSecret(io, { file: flags.p12PasswordFile, env: flags.p12PasswordEnv }, '--p12-password')
      if (password === undefined) throw new ApisignError('ERR_CLI_USAGE', 'give the keystore password with --p12-password-file or --p12-password-env')
      const usage = flags.usage?.split(',').map((u) => u.trim())
      if (usage !== undefined && (usage.length === 0 || usage.some((u) => u !== 'sign' && u !== 'decrypt'))) throw new ApisignError('ERR_CLI_USAGE', '--usage takes sign, decrypt or sign,decrypt')
      const entry = loadKeyStore(
        { p12: resolve(io.cwd, flags.p12), password, ...(flags.alias === undefined ? {} : { alias: flags.alias }) },
        keyPermissionPolicy(io, flags.insecureKeyPermissions === true),
      )
      const imported = await importPkcs11Key({
        ...tokenOptions(io, flags),
        label: flags.label,
        id: flags.id,
        privateKey: entry.privateKey,
        ...(entry.certificate === undefined ? {} : { certificate: entry.certificate }),
        ...(usage === undefined ? {} : { usage: usage as Array<'sign' | 'decrypt'> }),
        ...(flags.replace === true ? { replace: true } : {}),
      })
      printResult(io, flags.json === true, { ...imported, publicKeyFingerprint: fingerprint(entry.privateKey) })
    })
}

/** The HSM flags of `apisign oauth1 sign` (`--hsm-token`, since `--token` is RFC 5849's oauth_token there). */
export interface SignerFlags {
  pkcs11?: string
  hsmToken?: string
  keyLabel?: string
  keyId?: string
  pinEnv?: string
  pinFile?: string
}

/**
 * Open the signing key `apisign oauth1 sign --pkcs11 MODULE --hsm-token T --key-label L` names, or
 * undefined without `--pkcs11`.
 *
 * @example
 * ```ts
 * const signer = await openCliSigner(io, flags, 'RS256')
 * ```
 */
export async function openCliSigner(io: CliIo, flags: SignerFlags, algorithm: 'RS256' | 'PS256'): Promise<Pkcs11Signer | undefined> {
  if (flags.pkcs11 === undefined) return undefined
  if (flags.keyLabel === undefined && flags.keyId === undefined) throw new ApisignError('ERR_CLI_USAGE', '--pkcs11 needs --key-label or --key-id')
  return openPkcs11Signer({
    ...tokenOptions(io, { pkcs11: flags.pkcs11, ...(flags.hsmToken === undefined ? {} : { token: flags.hsmToken }), ...(flags.pinEnv === undefined ? {} : { pinEnv: flags.pinEnv }), ...(flags.pinFile === undefined ? {} : { pinFile: flags.pinFile }) }),
    ...(flags.keyLabel === undefined ? {} : { label: flags.keyLabel }),
    ...(flags.keyId === undefined ? {} : { id: flags.keyId }),
    algorithm,
  })
}
