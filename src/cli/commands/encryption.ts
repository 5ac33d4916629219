import { dirname, resolve } from 'node:path'
import type { Command } from 'commander'
import { ApisignError } from '../../errors.js'
import { compactDecrypt, createEncryption } from '../../encryption/index.js'
import { loadPrivateKey } from '../../keys/index.js'
import { withPkcs11Decrypter } from '../../profiles/pkcs11.js'
import { type CliIo, keyPermissionPolicy, printResult, readInputFile, readSecret } from '../io.js'

interface FieldFlags {
  config: string
  endpoint: string
  bodyFile: string
  headersFile?: string
  insecureKeyPermissions?: boolean
  json?: boolean
}

function readJson(path: string, what: string): unknown {
  const text = readInputFile(path, what).toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    throw new ApisignError('ERR_INVALID_INPUT', `${what} ${path} is not valid JSON`)
  }
}

function fieldCommand(io: CliIo, direction: 'encrypt' | 'decrypt') {
  return async (flags: FieldFlags) => {
    const configPath = resolve(io.cwd, flags.config)
    const given = readJson(configPath, '--config')
    if (given === null || typeof given !== 'object' || Array.isArray(given)) throw new ApisignError('ERR_ENCRYPTION_CONFIG', '--config must hold a JSON object')
    // A decryption key in an HSM (`"privateKey": { "pkcs11": { ... } }`), PIN from the environment or a file.
    const { config, decrypter } = await withPkcs11Decrypter(given as Record<string, unknown>, undefined, { configDir: dirname(configPath), baseDir: dirname(configPath), env: io.env })
    const encryption = createEncryption(config, {
      baseDir: dirname(configPath),
      keyFilePermissions: flags.insecureKeyPermissions === true ? 'warn' : 'refuse',
    })
    const body = readJson(resolve(io.cwd, flags.bodyFile), '--body-file')
    const headers = flags.headersFile === undefined ? {} : readJson(resolve(io.cwd, flags.headersFile), '--headers-file')
    if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
      throw new ApisignError('ERR_INVALID_INPUT', '--headers-file must hold a JSON object')
    }
    const message = { url: flags.endpoint, body, headers: headers as Record<string, string> }
    try {
      const result = direction === 'encrypt' ? encryption.encrypt(message) : await encryption.decryptAsync(message)
      printResult(io, flags.json === true, { headers: result.headers, body: result.body })
    } finally {
      await decrypter?.close()
    }
  }
}

/** `apisign encrypt`, `apisign decrypt` and `apisign jwe decrypt` (PRODUCT.md CLI contract). */
export function registerEncryption(program: Command, io: CliIo): void {
  for (const direction of ['encrypt', 'decrypt'] as const) {
    program
      .command(direction)
      .description(`${direction === 'encrypt' ? 'Encrypt' : 'Decrypt'} the configured fields of a JSON body (mastercard-client-encryption config)`)
      .requiredOption('--config <file>', 'mastercard-client-encryption config (JSON; key paths relative to it)')
      .requiredOption('--endpoint <path>', 'request path or URL, matched against the config paths')
      .requiredOption('--body-file <file>', 'JSON body')
      .option('--headers-file <file>', 'JSON object of HTTP headers (legacy header mode)')
      .option('--insecure-key-permissions', 'only warn about a private key file readable by group or others')
      .option('--json', 'print one JSON object')
      .action(fieldCommand(io, direction))
  }
  const jwe = program.command('jwe').description('Compact JWE tokens')
  jwe
    .command('decrypt')
    .description('Decrypt a compact JWE and print its protected header and plaintext')
    .requiredOption('--key <file>', 'private key (PEM, DER or PKCS#12)')
    .requiredOption('--token <token>', 'compact JWE')
    .option('--key-alias <alias>', 'PKCS#12 alias')
    .option('--key-password-file <file>', 'file holding the key or keystore password')
    .option('--key-password-env <var>', 'environment variable holding the key or keystore password')
    .option('--insecure-key-permissions', 'only warn about a private key file readable by group or others')
    .option('--json', 'print one JSON object')
    .action((flags: { key: string; token: string; keyAlias?: string; keyPasswordFile?: string; keyPasswordEnv?: string; insecureKeyPermissions?: boolean; json?: boolean }) => {
      const password = readSecret(io, { file: flags.keyPasswordFile, env: flags.keyPasswordEnv }, '--key-password')
      const key = loadPrivateKey(resolve(io.cwd, flags.key), {
        ...(password === undefined ? {} : { password }),
        ...(flags.keyAlias === undefined ? {} : { alias: flags.keyAlias }),
        ...keyPermissionPolicy(io, flags.insecureKeyPermissions === true),
      })
      const { protectedHeader, plaintext } = compactDecrypt(flags.token, key)
      const text = new TextDecoder('utf-8', { fatal: false }).decode(plaintext)
      let value: unknown = text
      try {
        value = JSON.parse(text)
      } catch {
        // not JSON: print the text as it is
      }
      printResult(io, flags.json === true, { header: protectedHeader, plaintext: value })
    })
}
