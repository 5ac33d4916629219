// Issue 13 item 4: the mock gateway never buffers what it will refuse. Raw sockets, so the test controls
// exactly what is sent and when; the 200 MB body runs against a gateway in its own process, whose RSS is
// its own, and is streamed from a generator (nothing of that size is allocated here).
import { type ChildProcess, fork } from 'node:child_process'
import { Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMockGateway } from '../../src/testing/index.js'

const MB = 1024 * 1024

interface RawResponse {
  readonly text: string
  readonly status: number | undefined
  /** Bytes of body this side managed to write before the server answered or closed. */
  readonly written: number
  readonly closed: boolean
}

/** Send `head`, then (optionally) body chunks from `body` with backpressure until the server answers or closes. */
function raw(port: number, head: string, body?: Iterable<Buffer>, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = new Socket()
    let text = ''
    let written = 0
    let closed = false
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ text, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]) || undefined, written, closed })
    }
    const timer = setTimeout(finish, timeoutMs)
    socket.on('data', (d) => {
      text += d.toString('latin1')
      // Enough of the answer to judge it: the status line and headers.
      if (text.includes('\r\n\r\n')) setTimeout(finish, 100)
    })
    socket.on('error', () => {
      closed = true
      finish()
    })
    socket.on('close', () => {
      closed = true
      finish()
    })
    socket.connect(port, '127.0.0.1', async () => {
      socket.write(head)
      if (body === undefined) return
      for (const chunk of body) {
        if (finished || socket.destroyed) return
        written += chunk.length
        if (!socket.write(chunk)) {
          await new Promise<void>((r) => {
            socket.once('drain', () => r())
            socket.once('close', () => r())
          })
        }
      }
    })
  })
}

/** A 200 MB body as chunked transfer coding, one reused 64 KiB chunk at a time. */
function* chunked(total: number): Generator<Buffer> {
  const data = Buffer.alloc(64 * 1024, 0x61)
  const frame = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')])
  for (let sent = 0; sent < total; sent += data.length) yield frame
  yield Buffer.from('0\r\n\r\n')
}
function* plain(total: number): Generator<Buffer> {
  const data = Buffer.alloc(64 * 1024, 0x61)
  for (let sent = 0; sent < total; sent += data.length) yield data
}

describe('issue 13 item 4: the mock gateway never buffers what it will refuse', () => {
  describe('a 200 MB unsigned body, gateway in its own process: RSS stays flat', () => {
    let child: ChildProcess
    let port: number
    const ask = <T>(message: string) =>
      new Promise<T>((resolve) => {
        child.once('message', (m) => resolve(m as T))
        child.send(message)
      })
    beforeAll(async () => {
      child = fork(fileURLToPath(new URL('./fixtures/gateway-child.mjs', import.meta.url)), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
      const { url } = await new Promise<{ url: string }>((resolve) => child.once('message', (m) => resolve(m as { url: string })))
      port = Number(new URL(url).port)
    })
    afterAll(async () => {
      child.kill()
    })

    it('Content-Length above the limit: 413 before a byte of the body is read; chunked: 413 once it passes the limit', async () => {
      const before = (await ask<{ rss: number }>('rss')).rss
      // First the body actually streamed (chunked), then the same size sent with a Content-Length.
      const streamed = await raw(port, `POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTransfer-Encoding: chunked\r\n\r\n`, chunked(200 * MB), 30_000)
      const sent = await raw(port, `POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${200 * MB}\r\n\r\n`, plain(200 * MB), 30_000)
      const after = (await ask<{ rss: number }>('rss')).rss
      expect((after - before) / MB).toBeLessThan(40)
      expect(streamed.status).toBe(413)
      expect(streamed.written).toBeLessThan(64 * MB)
      expect(sent.status).toBe(413)
      expect(sent.written).toBeLessThan(64 * MB)
      // Declared and not (yet) sent: answered from the header alone.
      const declared = await raw(port, `POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${200 * MB}\r\n\r\n`, undefined, 5000)
      expect(declared.status, JSON.stringify(declared)).toBe(413)
      expect(declared.text).toMatch(/connection: close/i)
    })
  })

  describe('limits on the head, the target, connections and the log (in process)', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const spec = { servers: [{ url: 'http://localhost/api' }], paths: { '/x': { get: { responses: { '200': { description: 'ok' } } } } } }
    const start = (limits: Record<string, number> = {}) => startMockGateway({ spec, consumers: { ck: { key: publicKey } }, limits })
    const portOf = (url: string) => Number(new URL(url).port)

    it('a malformed Host, an absolute-form target and * are 400, not 500', async () => {
      const gateway = await start()
      try {
        const port = portOf(gateway.url)
        for (const [target, host] of [
          ['/api/x', 'bad host'],
          ['/api/x', 'a..b'],
          ['/api/x', '127.0.0.1:99999999'],
          ['http://evil.example/api/x', `127.0.0.1:${port}`],
          ['*', `127.0.0.1:${port}`],
          ['//evil.example/api/x', `127.0.0.1:${port}`],
        ]) {
          const r = await raw(port, `OPTIONS ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
          expect(r.status, `${target} Host: ${host}`).toBe(400)
        }
        // A good request still gets its 401 (unsigned).
        expect((await raw(port, `GET /api/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)).status).toBe(401)
      } finally {
        await gateway.close()
      }
    })

    it('a head over the cap is 431; a slow head is cut at headersTimeout', async () => {
      const gateway = await start({ maxHeaderBytes: 4096, headersTimeoutMs: 300, requestTimeoutMs: 300 })
      try {
        const port = portOf(gateway.url)
        const big = await raw(port, `GET /api/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Pad: ${'a'.repeat(8192)}\r\n\r\n`)
        expect(big.status).toBe(431)
        const started = Date.now()
        const slow = await raw(port, `GET /api/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`, undefined, 5000)
        expect(slow.closed).toBe(true)
        // Node checks the timeouts on a timer (connectionsCheckingInterval); well under the 5 s fallback.
        expect(Date.now() - started).toBeLessThan(4000)
      } finally {
        await gateway.close()
      }
    })

    it('connections over the cap are closed at once', async () => {
      const gateway = await start({ maxConnections: 2 })
      const held: Socket[] = []
      try {
        const port = portOf(gateway.url)
        for (let i = 0; i < 2; i++) {
          const s = new Socket()
          await new Promise<void>((r) => s.connect(port, '127.0.0.1', () => r()))
          held.push(s)
        }
        await new Promise((r) => setTimeout(r, 50))
        const third = await raw(port, `GET /api/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, undefined, 3000)
        expect(third.status).toBeUndefined()
        expect(third.closed).toBe(true)
      } finally {
        for (const s of held) s.destroy()
        await gateway.close()
      }
    })

    it('the request log is a bounded ring (requestLogSize, default 1000)', async () => {
      const gateway = await start({ requestLogSize: 5 })
      try {
        const port = portOf(gateway.url)
        for (let i = 0; i < 12; i++) await raw(port, `GET /api/x?i=${i} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
        expect(gateway.requests).toHaveLength(5)
      } finally {
        await gateway.close()
      }
      await expect(start({ requestLogSize: Number.NaN })).rejects.toThrow(/requestLogSize/)
    })
  })
})
