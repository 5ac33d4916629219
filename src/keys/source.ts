import { readFileSync, statSync } from 'node:fs'
import { ApisignError, describeType } from '../errors.js'

/** How a private key file readable by group or others is treated. */
export type FilePermissionPolicy = 'refuse' | 'warn' | 'ignore'

/** Raw key material with where it came from (a path is named in errors; content never is). */
export interface RawSource {
  readonly bytes: Buffer
  /** The file path, when read from a file. */
  readonly path: string | undefined
}

/**
 * A string is PEM content when it holds a PEM boundary, otherwise a file path (a PEM text never looks like
 * a path, and a path never contains `-----BEGIN`).
 */
export function isPemText(value: string): boolean {
  return value.includes('-----BEGIN')
}

/** Read a key or certificate file, mapping I/O failures to typed errors that name the path. */
export function readSourceFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code
    throw new ApisignError(
      code === 'ENOENT' ? 'ERR_FILE_NOT_FOUND' : 'ERR_FILE_UNREADABLE',
      `${what} file ${path} cannot be read${code === undefined ? '' : ` (${code})`}`,
      { cause, details: { path } },
    )
  }
}

/**
 * Refuse (or warn about) a private key file that group or others may read: a key that leaks through a
 * shared host or a container image is the most common real-world key compromise. POSIX only.
 */
export function checkPrivateFilePermissions(
  path: string,
  policy: FilePermissionPolicy,
  onWarning: (message: string) => void,
): void {
  if (policy === 'ignore' || process.platform === 'win32') return
  const mode = statSync(path).mode & 0o777
  if ((mode & 0o077) === 0) return
  const message = `private key file ${path} is readable by group or others (mode ${mode.toString(8).padStart(3, '0')}); run: chmod 600 ${path}`
  if (policy === 'warn') onWarning(message)
  else throw new ApisignError('ERR_KEY_FILE_PERMISSIONS', message, { details: { path, mode } })
}

/** Resolve a string (PEM text or path) or bytes into raw bytes, without ever echoing content. */
export function toRawSource(source: unknown, what: string): RawSource {
  if (typeof source === 'string') {
    if (source === '') throw new ApisignError('ERR_KEY_INVALID', `${what} is an empty string`)
    return isPemText(source)
      ? { bytes: Buffer.from(source, 'utf8'), path: undefined }
      : { bytes: readSourceFile(source, what), path: source }
  }
  if (source instanceof Uint8Array) return { bytes: Buffer.from(source.buffer, source.byteOffset, source.byteLength), path: undefined }
  throw new TypeError(`${what} must be PEM text, a file path or bytes. Received ${describeType(source)}`)
}

/** The PEM label of the first block (`PRIVATE KEY`, `CERTIFICATE`...), or undefined for non-PEM bytes. */
export function pemLabel(bytes: Buffer): string | undefined {
  const head = bytes.subarray(0, 256).toString('latin1')
  return /-----BEGIN ([A-Z0-9 ]+)-----/.exec(head)?.[1]
}
