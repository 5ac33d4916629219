import { readFileSync } from 'node:fs'
import { Command, CommanderError, Help, type Option } from 'commander'
import { ApisignError } from '../errors.js'
import { CliExit, type CliIo, printError, processIo } from './io.js'
import { groupsFor } from './commands/index.js'

/** The package's version, read from its package.json (two folders up from src/cli or dist/cli). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

/**
 * Run the `apisign` command line in-process and return its exit code. The `apisign` binary is a thin
 * wrapper around this; tests call it directly.
 *
 * @example
 * ```ts
 * const code = await runCli(['oauth1', 'sign', '--method', 'GET', '--url', 'https://api.example.com/x',
 *   '--consumer-key', 'ck', '--key', 'key.pem', '--json'])
 * ```
 */
export async function runCli(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const fullIo: CliIo = { ...processIo(), ...io }
  const program = new Command('apisign')
    .description('Sign, verify, encrypt and decrypt requests to partner APIs.')
    .version(packageVersion(), '-V, --version', 'print the apisign version')
    // `apisign --version` only: `ost verify-webhook --version V` is that command's own option.
    .enablePositionalOptions()
    // Every command's help says which options it cannot run without (subcommands inherit this).
    .configureHelp({ optionDescription: (option: Option) => `${option.mandatory ? '(required) ' : ''}${new Help().optionDescription(option)}` })
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => fullIo.stdout(text),
      // Commander's own usage errors are re-reported below as JSON.
      writeErr: () => undefined,
    })
  // `apisign` alone: the help (what a newcomer types first), not a usage error.
  if (argv.length === 0) {
    for (const register of await Promise.all(groupsFor(argv).map((g) => g.load()))) register(program, fullIo)
    fullIo.stdout(program.helpInformation())
    return 0
  }
  try {
    for (const register of await Promise.all(groupsFor(argv).map((g) => g.load()))) register(program, fullIo)
    await program.parseAsync([...argv], { from: 'user' })
    return 0
  } catch (error) {
    if (error instanceof CliExit) return error.exitCode
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return 0
      }
      return printError(fullIo, new ApisignError('ERR_CLI_USAGE', error.message.replace(/^error: /, '')))
    }
    return printError(fullIo, error)
  }
}
