// The mock gateway's resource limits (issue 13 item 4): a server never buffers what it is about to refuse.
// Kept apart from mock-gateway.ts, which calls these as small hooks: server options and limits, the
// request target check, the bounded body read, the bounded request log.
import type { IncomingMessage, Server, ServerOptions } from 'node:http'
import { limitOption } from '../option-values.js'

/** Limits of the mock gateway (every value validated when the gateway starts). */
export interface GatewayLimits {
  /** Largest request body, bytes: above it, 413 (from `Content-Length` before reading, or as soon as a chunked body passes it). Default 1 MiB. */
  readonly maxBodyBytes?: number
  /** Largest request head (request line + headers), bytes: above it Node answers 431. Default 16 KiB. */
  readonly maxHeaderBytes?: number
  /** Time allowed to receive the request head, ms (slowloris). Default 10 s. */
  readonly headersTimeoutMs?: number
  /** Time allowed to receive the whole request, ms. Default 30 s. */
  readonly requestTimeoutMs?: number
  /** Concurrent connections; more are closed at once. Default 256. */
  readonly maxConnections?: number
  /** Entries kept in `gateway.requests` (a ring: the oldest go first). Default 1000. */
  readonly requestLogSize?: number
}

/** {@link GatewayLimits} with every default filled in. */
export type ResolvedGatewayLimits = Required<GatewayLimits>

/**
 * Validate and fill in the limits (a NaN or negative limit is a TypeError, never "no limit").
 *
 * @example
 * ```ts
 * resolveGatewayLimits({ maxBodyBytes: 64 * 1024 }).requestLogSize // 1000
 * ```
 */
export function resolveGatewayLimits(limits: GatewayLimits = {}): ResolvedGatewayLimits {
  const integer = { integer: true, positive: true }
  return {
    maxBodyBytes: limitOption(limits.maxBodyBytes, 'limits.maxBodyBytes', 1024 * 1024, { integer: true }),
    maxHeaderBytes: limitOption(limits.maxHeaderBytes, 'limits.maxHeaderBytes', 16 * 1024, integer),
    headersTimeoutMs: limitOption(limits.headersTimeoutMs, 'limits.headersTimeoutMs', 10_000, integer),
    requestTimeoutMs: limitOption(limits.requestTimeoutMs, 'limits.requestTimeoutMs', 30_000, integer),
    maxConnections: limitOption(limits.maxConnections, 'limits.maxConnections', 256, integer),
    requestLogSize: limitOption(limits.requestLogSize, 'limits.requestLogSize', 1000, integer),
  }
}

/**
 * Options for `http.createServer` / `https.createServer`: the head size cap and both timeouts.
 *
 * @example
 * ```ts
 * const server = createServer(serverOptions(limits), handler)
 * ```
 */
export function serverOptions(limits: ResolvedGatewayLimits): ServerOptions {
  // requestTimeout must not be below headersTimeout (Node refuses otherwise).
  // Node only checks both timeouts every connectionsCheckingInterval (default 30 s): check often enough
  // for the timeouts to mean what they say.
  return {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
  }
}

/**
 * Settings only a created server takes: the connection cap.
 *
 * @example
 * ```ts
 * applyServerLimits(server, limits)
 * ```
 */
export function applyServerLimits(server: Server, limits: ResolvedGatewayLimits): void {
  server.maxConnections = limits.maxConnections
}

// RFC 9110 §7.2 Host: a reg-name or IPv4 address, or an IP literal in brackets, with an optional port
// (of at most 65535). `_` is allowed in labels: container and compose service names use it.
const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?'
const HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9A-Fa-f:.]{2,45}\\])(?::(\\d{1,5}))?$`)

/**
 * The full URL of a request, or undefined (answer 400) when its target is not origin-form (`/path?query`:
 * no absolute-form `http://other/...`, no `*`) or its `Host` is malformed.
 *
 * @example
 * ```ts
 * const target = requestTarget(req)
 * if (target === undefined) return res.writeHead(400).end()
 * ```
 */
export function requestTarget(req: IncomingMessage): { url: string; pathname: string } | undefined {
  const host = req.headers.host
  const target = req.url
  const hostMatch = typeof host === 'string' ? HOST.exec(host) : null
  if (hostMatch === null || Number(hostMatch[1] ?? 0) > 65535 || typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//')) return undefined
  try {
    const url = `http://${host}${target}`
    return { url, pathname: new URL(url).pathname }
  } catch {
    return undefined
  }
}

// How long a refused connection stays open, not read, so the client sees the 413 before the connection is
// reset (a lingering close, as nginx's lingering_timeout: closing at once with unread data sends a TCP RST,
// which makes the client's kernel drop the answer it has not read yet).
const LINGER_MS = 1000

/**
 * Answer 413 and stop reading: the socket is paused (nothing more is read from it), the answer is written
 * straight to it with `Connection: close`, its write side is closed, and it is destroyed after a short
 * linger. Written on the socket rather than through `res`, because Node would otherwise either drain the
 * rest of the body or destroy the socket the moment the answer is flushed.
 */
function refuseTooLarge(req: IncomingMessage, body: string): void {
  const socket = req.socket
  socket.pause()
  const payload = Buffer.from(body, 'utf8')
  socket.write(`HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n`)
  socket.end(payload)
  setTimeout(() => socket.destroy(), LINGER_MS).unref()
}

/**
 * Read a request body up to `max` bytes. Above it, answer 413 with `refusal` (a JSON text) and stop
 * reading: at once when `Content-Length` says so (nothing is read), or as soon as a chunked body passes
 * the limit; the rest is never read, let alone buffered. Resolves undefined when it refused.
 *
 * @example
 * ```ts
 * const raw = await readBodyWithin(req, limits.maxBodyBytes, JSON.stringify({ error: 'too large' }))
 * if (raw === undefined) return
 * ```
 */
export function readBodyWithin(req: IncomingMessage, max: number, refusal: string): Promise<Buffer | undefined> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > max) {
    refuseTooLarge(req, refusal)
    return Promise.resolve(undefined)
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    req.on('data', (chunk: Buffer) => {
      if (done) return
      size += chunk.length
      if (size > max) {
        done = true
        chunks.length = 0
        refuseTooLarge(req, refusal)
        resolve(undefined)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (done) return
      done = true
      resolve(Buffer.concat(chunks))
    })
    req.on('error', () => {
      if (done) return
      done = true
      resolve(undefined)
    })
  })
}

/**
 * Append to a bounded request log in place: the array stays the same object (callers may hold it), the
 * oldest entries go once it holds `size`.
 *
 * @example
 * ```ts
 * pushBounded(requests, entry, limits.requestLogSize)
 * ```
 */
export function pushBounded<T>(log: T[], entry: T, size: number): void {
  log.push(entry)
  if (log.length > size) log.splice(0, log.length - size)
}
