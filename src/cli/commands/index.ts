import type { Command } from 'commander'
import type { CliIo } from '../io.js'
import { registerDoctor } from './doctor.js'
import { registerEncryption } from './encryption.js'
import { registerEncryptionInit } from './encryption-init.js'
import { registerGenerate } from './generate.js'
import { registerKeys } from './keys.js'
import { registerOAuth1 } from './oauth1.js'
import { registerOAuth2 } from './oauth2.js'
import { registerSchemes } from './schemes.js'
import { registerVerify } from './verify.js'

/** A CLI command registers itself on the root program. One file per command group. */
export type RegisterCommand = (program: Command, io: CliIo) => void

/** Every command group of `apisign`, in help order. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerOAuth1,
  registerOAuth2,
  registerKeys,
  registerEncryption,
  registerEncryptionInit,
  registerVerify,
  registerGenerate,
  registerSchemes,
  registerDoctor,
]
