// The mock gateway's admin API (issue 18, item 2): usage and key management as JSON, on its own loopback
// port so that it is never reachable through the gateway's public one, behind a bearer token.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto'
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isApisignError } from '../errors.js'
import type { KeyStore } from '../quotas/index.js'

/** Options of {@link startAdminServer}. */
export interface AdminServerOptions {
  /** Keys to manage (absent: the /keys routes answer 404). */
  readonly keyStore?: KeyStore
  /** The usage figures `GET /usage` returns. */
  readonly usage: () => Promise<unknown>
  /** Bearer token every call must carry. Default a random one (read it from the result). */
  readonly token?: string
  /** Default 0 (a free port). Always 127.0.0.1. */
  readonly port?: number
}

/** A running admin API. */
export interface AdminServer {
  /** e.g. `http://127.0.0.1:40124`. */
  readonly url: string
  /** Send as `Authorization: Bearer <token>`. */
  readonly token: string
  close(): Promise<void>
}

const MAX_BODY = 64 * 1024
const HOUR = 3_600_000
const digest = (v: string) => createHash('sha256').update(v, 'utf8').digest()

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY) throw new HttpError(413, 'ERR_INPUT_TOO_LARGE', `body over ${MAX_BODY} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY) throw new HttpError(413, 'ERR_INPUT_TOO_LARGE', `body over ${MAX_BODY} bytes`)
    chunks.push(chunk)
  }
  if (size === 0) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new HttpError(400, 'ERR_INVALID_INPUT', 'body is not JSON')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'ERR_INVALID_INPUT', 'body must be a JSON object')
  return parsed as Record<string, unknown>
}

function graceOf(body: Record<string, unknown>): number | undefined {
  if (body['graceMs'] !== undefined) return body['graceMs'] as number
  if (body['graceHours'] !== undefined) {
    const h = body['graceHours']
    if (typeof h !== 'number' || !Number.isFinite(h) || h < 0) throw new HttpError(400, 'ERR_INVALID_INPUT', 'graceHours must be a non-negative number')
    return Math.round(h * HOUR)
  }
  return undefined
}

/**
 * The admin API of the mock gateway, on 127.0.0.1: `GET /usage`; `GET /keys`; `POST /keys`
 * `{ kind, keyId?, label?, publicKey? }` (issue; the secret or private key is in the answer, once);
 * `GET /keys/{id}`; `POST /keys/{id}/roll` `{ graceHours? | graceMs?, publicKey? }`; `POST /keys/{id}/revoke`
 * (or `DELETE /keys/{id}`). Every call needs `Authorization: Bearer <token>`.
 *
 * @example
 * ```ts
 * const admin = await startAdminServer({ keyStore, usage: async () => gateway.usage() })
 * await fetch(`${admin.url}/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin.token}` }, body: JSON.stringify({ kind: 'secret' }) })
 * ```
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const token = options.token ?? randomBytes(24).toString('base64url')
  if (typeof token !== 'string' || token.length < 16) throw new TypeError('admin token must be a string of at least 16 characters')
  const port = options.port ?? 0
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError('admin port must be an integer from 0 to 65535')
  const expected = digest(token)
  const store = options.keyStore

  const route = async (req: IncomingMessage): Promise<{ status: number; body?: unknown }> => {
    const given = /^Bearer (\S+)$/.exec(String(req.headers['authorization'] ?? ''))?.[1] ?? ''
    if (!timingSafeEqual(digest(given), expected)) throw new HttpError(401, 'ERR_CREDENTIALS_UNKNOWN', 'admin token missing or wrong')
    const { pathname } = new URL(req.url ?? '/', 'http://admin')
    const method = req.method ?? 'GET'
    if (pathname === '/usage' && method === 'GET') return { status: 200, body: await options.usage() }
    if (!pathname.startsWith('/keys')) throw new HttpError(404, 'NOT_FOUND', 'no such resource')
    if (store === undefined) throw new HttpError(404, 'NOT_FOUND', 'this gateway has no key store')
    if (pathname === '/keys' && method === 'GET') return { status: 200, body: await store.list() }
    if (pathname === '/keys' && method === 'POST') {
      const body = await readJson(req)
      return { status: 201, body: await store.issue(body as never) }
    }
    const m = /^\/keys\/([^/]+)(\/roll|\/revoke)?$/.exec(pathname)
    if (m === null) throw new HttpError(404, 'NOT_FOUND', 'no such resource')
    const keyId = decodeURIComponent(m[1] as string)
    if (m[2] === undefined && method === 'GET') {
      const found = await store.get(keyId)
      if (found === undefined) throw new HttpError(404, 'ERR_CREDENTIALS_UNKNOWN', 'no such key')
      return { status: 200, body: found }
    }
    if ((m[2] === '/revoke' && method === 'POST') || (m[2] === undefined && method === 'DELETE')) {
      await store.revoke(keyId)
      return { status: 204 }
    }
    if (m[2] === '/roll' && method === 'POST') {
      const body = await readJson(req)
      const graceMs = graceOf(body)
      return { status: 200, body: await store.roll(keyId, { ...(graceMs === undefined ? {} : { graceMs }), ...(typeof body['publicKey'] === 'string' ? { publicKey: body['publicKey'] } : {}) }) }
    }
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} not allowed here`)
  }

  const reply = (res: ServerResponse, status: number, body?: unknown) => {
    if (body === undefined) res.writeHead(status).end()
    else res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body))
  }
  const server = createServer((req, res) => {
    route(req)
      .then(({ status, body }) => reply(res, status, body))
      .catch((error: unknown) => {
        if (error instanceof HttpError) return reply(res, error.status, { code: error.code, message: error.message })
        if (isApisignError(error)) return reply(res, error.code === 'ERR_CREDENTIALS_UNKNOWN' ? 404 : 400, { code: error.code, message: error.message })
        if (error instanceof TypeError) return reply(res, 400, { code: 'ERR_INVALID_INPUT', message: error.message })
        return reply(res, 500, { code: 'ERR_INTERNAL', message: 'admin call failed' })
      })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  const bound = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${bound}`,
    token,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
