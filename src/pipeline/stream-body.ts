// Bodies that never sit whole in memory (issue 15 item 3): a file, a large Blob or a re-openable stream is
// hashed by streaming, then sent by streaming, re-read for every attempt; a one-shot stream past the
// threshold is spooled to a private temp file (when allowed) or refused with what to pass instead.
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import { ApisignError, describeType } from '../errors.js'
import type { StreamedBody } from './types.js'

const STREAM_BODY = Symbol.for('apisign.streamBody')

/**
 * A body the pipeline streams: opened afresh for the digest and for every attempt.
 *
 * @example
 * ```ts
 * const body: StreamBody = fileBody('./statement.csv')
 * ```
 */
export interface StreamBody {
  readonly [STREAM_BODY]: true
  /** Size in bytes, when known before reading (sent as Content-Length). */
  readonly size: number | undefined
  /** A fresh stream of the same bytes, each call. */
  open(): Readable
}

type Source = Readable | NodeReadableStream<Uint8Array> | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>

const toReadable = (source: Source): Readable => {
  if (source instanceof Readable) return source
  if (typeof (source as ReadableStream).getReader === 'function') return Readable.fromWeb(source as NodeReadableStream<Uint8Array>)
  if (source !== null && typeof source === 'object' && Symbol.asyncIterator in source) return Readable.from(source as AsyncIterable<Uint8Array>, { objectMode: false })
  throw new TypeError(`a stream body factory must return a Readable, a ReadableStream or an async iterable. Received ${describeType(source)}`)
}

/**
 * A re-openable stream as a request body: `open` is called once to hash the bytes and once per attempt to
 * send them, and must give the same bytes each time. The body is never held in memory.
 *
 * @example
 * ```ts
 * await api.put('/v1/uploads/1', streamBody(() => createReadStream(path), { size: statSync(path).size }))
 * ```
 */
export function streamBody(open: () => Source, options: { readonly size?: number } = {}): StreamBody {
  if (typeof open !== 'function') throw new TypeError(`streamBody takes a function returning a fresh stream. Received ${describeType(open)}`)
  const size = options.size
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) throw new TypeError('size must be a non-negative integer of bytes')
  return { [STREAM_BODY]: true, size, open: () => toReadable(open()) }
}

/**
 * A file as a request body, streamed from disk for the digest and for every attempt (a 1 GB upload signs
 * and sends with flat memory).
 *
 * @example
 * ```ts
 * await api.post('/v1/files', fileBody('./batch.zip'), { headers: { 'content-type': 'application/zip' } })
 * ```
 */
export function fileBody(path: string): StreamBody {
  if (typeof path !== 'string' || path === '') throw new TypeError(`fileBody takes a file path. Received ${describeType(path)}`)
  let size: number
  try {
    const st = statSync(path)
    if (!st.isFile()) throw new Error('not a file')
    size = st.size
  } catch (cause) {
    throw new ApisignError('ERR_FILE_NOT_FOUND', `request body file ${path} cannot be read`, { cause })
  }
  // Large reads: hashing and sending a big file are bound by per-chunk overhead at the 64 KiB default.
  return { [STREAM_BODY]: true, size, open: () => createReadStream(path, { highWaterMark: 4 * 1024 * 1024 }) }
}

/**
 * Is this a {@link streamBody} / {@link fileBody} value?
 *
 * @example
 * ```ts
 * isStreamBody(fileBody('./a.bin')) // true
 * ```
 */
export function isStreamBody(value: unknown): value is StreamBody {
  return value !== null && typeof value === 'object' && (value as Partial<StreamBody>)[STREAM_BODY] === true
}

/** A streamed body's digests, computed by streaming once per algorithm and cached for the retries. */
export function streamedDigests(body: StreamBody): StreamedBody {
  const digests = new Map<string, Promise<Buffer>>()
  let length = body.size
  return {
    get length() {
      return length
    },
    digest(algorithm) {
      let pending = digests.get(algorithm)
      if (pending === undefined) {
        pending = (async () => {
          const hash = createHash(algorithm)
          let counted = 0
          for await (const chunk of body.open()) {
            const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Uint8Array)
            counted += bytes.byteLength
            hash.update(bytes)
          }
          if (length !== undefined && counted !== length) throw new ApisignError('ERR_BODY_UNSUPPORTED', `the streamed body gave ${counted} bytes, not the ${length} it declared (did the file change?)`)
          length = counted
          return hash.digest()
        })()
        digests.set(algorithm, pending)
      }
      return pending
    },
  }
}

/** What a one-shot stream turned into: its bytes (it was small), or a spooled file to stream. */
export type OneShot = { readonly bytes: Buffer; readonly spooled?: undefined } | { readonly bytes?: undefined; readonly spooled: StreamBody; readonly cleanup: () => void }

/**
 * Read a one-shot stream: up to `threshold` bytes stay in memory; past that it is spooled to a private
 * temp file (mode 0600, in a fresh directory) when `spool` allows, else refused (`ERR_BODY_UNSUPPORTED`,
 * saying what to pass instead). Past `maxBodyLength` (when it is below the threshold) it is too large.
 */
export async function readOneShot(stream: Readable, threshold: number, maxBodyLength: number, spool: string | undefined): Promise<OneShot> {
  const limit = Math.min(threshold, maxBodyLength)
  const chunks: Buffer[] = []
  let total = 0
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>
  for (;;) {
    const { value, done } = await iterator.next()
    if (done === true) return { bytes: Buffer.concat(chunks) }
    const chunk = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
    chunks.push(chunk)
    total += chunk.length
    if (total > limit) break
  }
  if (maxBodyLength <= threshold || spool === undefined) {
    stream.destroy()
    if (maxBodyLength <= threshold) throw new ApisignError('ERR_INPUT_TOO_LARGE', `request body is over ${maxBodyLength} bytes; maxBodyLength is ${maxBodyLength}`)
    throw new ApisignError(
      'ERR_BODY_UNSUPPORTED',
      `a one-shot stream over ${threshold} bytes cannot be re-sent on a retry without holding it in memory: pass fileBody(path), streamBody(() => freshStream) or a Blob (fs.openAsBlob), or set limits.spool to spool it to a temp file`,
    )
  }
  const directory = mkdtempSync(join(spool, 'apisign-'))
  const cleanup = () => rmSync(directory, { recursive: true, force: true })
  const path = join(directory, randomBytes(8).toString('hex'))
  try {
    const out = createWriteStream(path, { mode: 0o600, flags: 'wx' })
    const write = async (chunk: Buffer) => {
      if (!out.write(chunk)) await once(out, 'drain')
    }
    for (const chunk of chunks) await write(chunk)
    chunks.length = 0
    for (;;) {
      const { value, done } = await iterator.next()
      if (done === true) break
      await write(typeof value === 'string' ? Buffer.from(value, 'utf8') : value)
    }
    out.end()
    await once(out, 'close')
    return { spooled: fileBody(path), cleanup }
  } catch (error) {
    cleanup()
    throw error
  }
}

/** Where a one-shot stream may be spooled: `true` is the OS temp directory. */
export const spoolDirectory = (spool: boolean | string | undefined): string | undefined => (spool === true ? tmpdir() : typeof spool === 'string' ? spool : undefined)
