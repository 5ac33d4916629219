import { existsSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { ApisignError } from '../../errors.js'
import { loadSpec, scaffoldEncryptionConfig } from '../../codegen/index.js'
import { type CliIo, printResult } from '../io.js'

/**
 * `apisign encryption init --spec S`: scaffold a `mastercard-client-encryption` config from a spec's
 * encrypted-looking fields (real Mastercard specs carry no `x-apisign-encrypt`), for the user to confirm.
 */
export function registerEncryptionInit(program: Command, io: CliIo): void {
  const group = program.commands.find((c) => c.name() === 'encryption') ?? program.command('encryption').description('Encryption configs')
  group
    .command('init')
    .description('Scaffold a mastercard-client-encryption config from the encrypted-looking fields of a spec (encryptedData, encryptedValue, encryptedPayload)')
    .requiredOption('--spec <fileOrUrl>', 'OpenAPI spec, YAML or JSON')
    .option('--mode <mode>', 'legacy (field-level: iv, encryptedKey, ...) | jwe (default: what the fields look like)')
    .option('--encoding <encoding>', 'legacy: hex (MDES) | base64', 'hex')
    .option('--oaep-digest <digest>', 'legacy: SHA-256 | SHA-512 (MDES)', 'SHA-256')
    .option('--fingerprint-type <type>', 'what publicKeyFingerprint holds: certificate | publicKey', 'certificate')
    .option('--out <file>', 'write the config there (refuses to overwrite without --force)')
    .option('--force', 'overwrite --out')
    .option('--json', 'print { config, fields, notes } as one JSON object')
    .action(async (flags: { spec: string; mode?: string; encoding: string; oaepDigest: string; fingerprintType: string; out?: string; force?: boolean; json?: boolean }) => {
      const choice = <T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined => {
        if (value === undefined) return undefined
        const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase().replace(/^sha(\d)/, 'sha-$1'))
        if (found === undefined) throw new ApisignError('ERR_CLI_USAGE', `${flag} must be one of ${allowed.join(', ')}`)
        return found
      }
      const mode = choice(flags.mode, ['legacy', 'jwe'] as const, '--mode')
      const options = {
        ...(mode === undefined ? {} : { mode }),
        dataEncoding: choice(flags.encoding, ['hex', 'base64'] as const, '--encoding') as 'hex' | 'base64',
        oaepDigest: choice(flags.oaepDigest, ['SHA-256', 'SHA-512'] as const, '--oaep-digest') as 'SHA-256' | 'SHA-512',
        fingerprintType: choice(flags.fingerprintType, ['certificate', 'publicKey'] as const, '--fingerprint-type') as 'certificate' | 'publicKey',
      }
      const spec = await loadSpec(/^https?:\/\//i.test(flags.spec) ? flags.spec : resolve(io.cwd, flags.spec))
      const { config, containers, notes } = scaffoldEncryptionConfig(spec, options)
      if (containers.length === 0) {
        throw new ApisignError('ERR_SPEC_INVALID', 'the spec has no encrypted-looking fields (encryptedData, encryptedValue, encryptedPayload); nothing to scaffold')
      }
      const fields = containers.map((c) => `${c.method.toUpperCase()} ${c.path} ${c.direction}: ${c.container} (${c.valueField})`)
      if (flags.out !== undefined) {
        const out = resolve(io.cwd, flags.out)
        if (existsSync(out) && flags.force !== true) throw new ApisignError('ERR_CLI_USAGE', `${out} exists; pass --force to overwrite it`)
        writeFileSync(out, `${JSON.stringify(config, null, 2)}\n`)
      }
      if (flags.json === true) {
        printResult(io, true, { config, fields, notes, ...(flags.out === undefined ? {} : { written: resolve(io.cwd, flags.out) }) })
        return
      }
      io.stderr(`found ${containers.length} encrypted field(s):\n${fields.map((f) => `  ${f}\n`).join('')}`)
      for (const note of notes) io.stderr(`note: ${note}\n`)
      io.stderr('confirm the mode, encoding and OAEP digest with the partner\'s documentation, then set encryptionCertificate (the partner\'s) and privateKey (yours)\n')
      if (flags.out === undefined) io.stdout(`${JSON.stringify(config, null, 2)}\n`)
      else io.stderr(`wrote ${resolve(io.cwd, flags.out)}\n`)
    })
}
