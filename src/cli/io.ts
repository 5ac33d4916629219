import { ApisignError, isApisignError } from '../errors.js'
import { readSourceFile } from '../keys/source.js'
import { durationOption, limitOption } from '../option-values.js'

/**
 * Where a CLI run reads and writes. Injected so that tests run the CLI in-process, and so that nothing
 * writes to `process.stdout` behind the caller's back.
 *
 * @example
 * ```ts
 * const out: string[] = []
 * await runCli(['keys', 'inspect', '--key', 'k.pem', '--json'], { stdout: (s) => out.push(s) })
 * ```
 */
export interface CliIo {
  /** Receives everything meant for standard output. */
  readonly stdout: (text: string) => void
  /** Receives warnings and errors. */
  readonly stderr: (text: string) => void
  /** Environment variables (secrets may be read from here by name, never from arguments). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Directory relative paths are resolved against. */
  readonly cwd: string
}

/** Default IO bound to the current process. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
  }
}

/**
 * Print a command's result: one JSON object on a line with `--json`, otherwise `key: value` lines.
 */
export function printResult(io: CliIo, json: boolean, result: Record<string, unknown>): void {
  if (json) {
    io.stdout(`${JSON.stringify(result)}\n`)
    return
  }
  for (const [key, value] of Object.entries(result)) {
    const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2)
    io.stdout(`${key}: ${text}\n`)
  }
}

/** Write an error as `{ "error": { "code", "message" } }` on stderr; the message never carries a secret. */
export function printError(io: CliIo, error: unknown): number {
  if (isApisignError(error)) {
    io.stderr(`${JSON.stringify({ error: error.toJSON() })}\n`)
    return error.code === 'ERR_CLI_USAGE' ? 2 : 1
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    // Programmer-misuse errors of the library are user input errors at the CLI. Their messages describe
    // types and option names only (see src/errors.ts), so they are safe to show.
    io.stderr(`${JSON.stringify({ error: { code: 'ERR_INVALID_INPUT', message: error.message } })}\n`)
    return 1
  }
  // Anything else came from a dependency and may quote input: show only its class.
  const name = error instanceof Error ? error.name : typeof error
  io.stderr(`${JSON.stringify({ error: { code: 'ERR_INTERNAL', message: `unexpected ${name}` } })}\n`)
  return 1
}

/** Read a file's raw bytes; a missing or unreadable file is a typed error naming the option and path. */
export function readInputFile(path: string, what: string): Buffer {
  return readSourceFile(path, what)
}

/**
 * Read a secret from a file or an environment variable (never from an argument: it would show in `ps`).
 * Trailing CR/LF of a file is dropped, since editors add them.
 */
export function readSecret(
  io: CliIo,
  source: { file?: string | undefined; env?: string | undefined },
  what: string,
): string | undefined {
  if (source.file !== undefined) return readInputFile(source.file, what).toString('utf8').replace(/\r?\n$/, '')
  if (source.env !== undefined) {
    const value = io.env[source.env]
    if (value === undefined) {
      throw new ApisignError('ERR_CLI_USAGE', `${what}: environment variable ${source.env} is not set`)
    }
    return value
  }
  return undefined
}

/**
 * Key-file permission handling for CLI commands: refuse group/world-readable private key files (the
 * library default) unless `--insecure-key-permissions` was given, in which case warn on stderr.
 */
export function keyPermissionPolicy(
  io: CliIo,
  insecure: boolean,
): { filePermissions: 'refuse' | 'warn'; onWarning: (message: string) => void } {
  return {
    filePermissions: insecure ? 'warn' : 'refuse',
    onWarning: (message) => io.stderr(`warning: ${message}\n`),
  }
}

/**
 * Ends a command with an exit code after it printed its result (a verification that failed, a doctor
 * report with a failing check): `runCli` returns the code instead of printing an error.
 *
 * @example
 * ```ts
 * if (!result.valid) throw new CliExit(1)
 * ```
 */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`)
    this.name = 'CliExit'
  }
}

/**
 * A duration flag (`--clock-skew 300`, `--clock-skew 5m`): bare digits are seconds, otherwise a strict
 * duration (`250ms`, `30s`, `5m`, `2h`, `1d`). Anything else is a usage error (exit 2), never NaN: a NaN
 * window once made `apisign verify` accept a request stamped in 2001 (issue 13 item 1). Returns ms.
 */
export function durationFlag(text: string, flag: string): number {
  try {
    return /^\d+(\.\d+)?$/.test(text) ? durationOption(Number(text), flag, 0) : durationOption(text, flag, 0)
  } catch {
    throw new ApisignError('ERR_CLI_USAGE', `${flag} must be seconds or a duration such as 300, 30s or 5m`)
  }
}

/** A numeric flag (`--now-ms`, `--port`, `--expires-in`): a finite number >= 0 (an integer when asked), else a usage error. */
export function numberFlag(text: string, flag: string, rule: { integer?: boolean } = {}): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN
  try {
    return limitOption(value, flag, 0, rule)
  } catch {
    throw new ApisignError('ERR_CLI_USAGE', `${flag} must be a number >= 0${rule.integer === true ? ' (an integer)' : ''}`)
  }
}
