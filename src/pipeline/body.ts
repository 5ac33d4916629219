import { Readable } from 'node:stream'
import { ApisignError, describeType } from '../errors.js'

/** The exact bytes a request will carry, and the Content-Type they need when it is implied by the data. */
export interface SerializedBody {
  readonly bytes: Buffer | undefined
  /** Set for bodies whose Content-Type follows from the data (FormData boundary, URLSearchParams). */
  readonly contentType?: string
}

/**
 * Turn whatever axios is about to send into the exact bytes, so the body hash covers what goes on the
 * wire: strings (UTF-8), Buffers and typed arrays, ArrayBuffers, URLSearchParams (form-encoded), FormData
 * and Blobs (serialised here, boundary included, via the WHATWG `Response`), Node streams (buffered up to
 * `limit` bytes). A plain object (axios-retry's identity `transformRequest`) is JSON as axios would send it.
 *
 * @example
 * ```ts
 * const { bytes, contentType } = await serializeBody(new URLSearchParams({ a: '1' }), 10 * 1024 * 1024)
 * ```
 */
export async function serializeBody(data: unknown, limit: number): Promise<SerializedBody> {
  if (data === undefined || data === null) return { bytes: undefined }
  const check = (n: number) => {
    if (n > limit) throw new ApisignError('ERR_INPUT_TOO_LARGE', `request body is ${n} bytes; maxBodyLength is ${limit}`)
  }
  if (typeof data === 'string') {
    const bytes = Buffer.from(data, 'utf8')
    check(bytes.length)
    return { bytes }
  }
  if (Buffer.isBuffer(data)) return check(data.length), { bytes: data }
  if (ArrayBuffer.isView(data)) return check(data.byteLength), { bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength) }
  if (data instanceof ArrayBuffer) return check(data.byteLength), { bytes: Buffer.from(data) }
  if (data instanceof URLSearchParams) {
    const bytes = Buffer.from(data.toString(), 'utf8')
    check(bytes.length)
    return { bytes, contentType: 'application/x-www-form-urlencoded;charset=utf-8' }
  }
  if (typeof FormData !== 'undefined' && data instanceof FormData) {
    const response = new Response(data)
    const bytes = Buffer.from(await response.arrayBuffer())
    check(bytes.length)
    return { bytes, contentType: response.headers.get('content-type') as string }
  }
  if (typeof Blob !== 'undefined' && data instanceof Blob) {
    check(data.size)
    return { bytes: Buffer.from(await data.arrayBuffer()), ...(data.type ? { contentType: data.type } : {}) }
  }
  if (data instanceof Readable) {
    const chunks: Buffer[] = []
    let total = 0
    for await (const chunk of data) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string)
      total += b.length
      if (total > limit) {
        data.destroy()
        check(total)
      }
      chunks.push(b)
    }
    return { bytes: Buffer.concat(chunks) }
  }
  if (typeof data === 'object') {
    const bytes = Buffer.from(JSON.stringify(data), 'utf8')
    check(bytes.length)
    return { bytes, contentType: 'application/json' }
  }
  throw new ApisignError('ERR_BODY_UNSUPPORTED', `request body of ${describeType(data)} cannot be signed; send a string, bytes, form or stream`)
}
