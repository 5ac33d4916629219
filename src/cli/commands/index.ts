import type { Command } from 'commander'
import type { CliIo } from '../io.js'

/** A CLI command registers itself on the root program. One file per command group. */
export type RegisterCommand = (program: Command, io: CliIo) => void

/** A command group: the top-level command names it registers, and how to load it. */
export interface CommandGroup {
  readonly names: readonly string[]
  readonly load: () => Promise<RegisterCommand>
}

// Each group is imported only when its command runs (issue 15 item 6): `apisign oauth1 sign` loads the
// OAuth1 signer and the key loader, not axios, the codegen, the mock gateway or every scheme. Help, and a
// command no group claims, load them all (commander then lists or suggests every command).
/** Every command group of `apisign`, in help order. */
export const COMMANDS: readonly CommandGroup[] = [
  { names: ['oauth1'], load: async () => (await import('./oauth1.js')).registerOAuth1 },
  { names: ['oauth2'], load: async () => (await import('./oauth2.js')).registerOAuth2 },
  { names: ['keys'], load: async () => (await import('./keys.js')).registerKeys },
  { names: ['encrypt', 'decrypt', 'jwe'], load: async () => (await import('./encryption.js')).registerEncryption },
  { names: ['encryption'], load: async () => (await import('./encryption-init.js')).registerEncryptionInit },
  { names: ['verify', 'mock'], load: async () => (await import('./verify.js')).registerVerify },
  { names: ['generate'], load: async () => (await import('./generate.js')).registerGenerate },
  { names: ['ost', 'jwt'], load: async () => (await import('./schemes.js')).registerSchemes },
  { names: ['doctor', 'call'], load: async () => (await import('./doctor.js')).registerDoctor },
]

/** The groups to register for `argv`: the one that owns its command, else all of them. */
export function groupsFor(argv: readonly string[]): readonly CommandGroup[] {
  const command = argv.find((a) => !a.startsWith('-'))
  const owner = command === undefined ? undefined : COMMANDS.find((g) => g.names.includes(command))
  return owner === undefined ? COMMANDS : [owner]
}
