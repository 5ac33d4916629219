import { Command, CommanderError } from 'commander'
import { ApisignError } from '../errors.js'
import { CliExit, type CliIo, printError, processIo } from './io.js'
import { groupsFor } from './commands/index.js'

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
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => fullIo.stdout(text),
      // Commander's own usage errors are re-reported below as JSON.
      writeErr: () => undefined,
    })
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
