// The transport-neutral pipeline over plain data (issue 15 item 1), and issue 13 item 9: one response must
// not poison the client (a capped clock offset, learned only from a response that blames the time; a
// response over maxContentLength is not retried).
import { createPrivateKey } from 'node:crypto'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { redactError } from '../../src/pipeline/redact.js'
import { ApisignError, isApisignError } from '../../src/errors.js'
import { createClient } from '../../src/http/index.js'
import { type Transport, type TransportResponse, type WireRequest, blamesTime, createPipeline } from '../../src/pipeline/pipeline.js'
import type { AuthApplier, AuthResponse } from '../../src/pipeline/types.js'
import { readShared } from '../helpers/shared.js'
import { type Responder, startVerifyingServer, verifyingResponder } from '../helpers/verifying-server.js'
import { rejection } from '../helpers/failure.js'

const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const auth = { scheme: 'oauth1', consumerKey: 'ck!test', key } as const

let responder: Responder = verifyingResponder
let server: Awaited<ReturnType<typeof startVerifyingServer>>
beforeAll(async () => {
  server = await startVerifyingServer((req, res, i) => responder(req, res, i))
})
afterAll(() => server.close())
const reset = (r: Responder = verifyingResponder) => {
  responder = r
  server.received.length = 0
}


/** A fake wire: answers from a script and records what each attempt carried. */
function scripted(answers: Array<Partial<TransportResponse<string>> & { status: number }>) {
  const sent: WireRequest[] = []
  const transport: Transport<string> = {
    async send(request) {
      sent.push(request)
      const answer = answers[Math.min(sent.length - 1, answers.length - 1)] as { status: number; headers?: Record<string, string>; body?: () => Promise<unknown> }
      return { status: answer.status, headers: answer.headers ?? {}, body: answer.body ?? (async () => ''), raw: `response ${sent.length}` }
    },
    retryable: () => true,
  }
  return { sent, transport }
}

const counter = (): AuthApplier & { calls: number } => {
  const applier = {
    calls: 0,
    async apply() {
      applier.calls++
      return { headers: { Authorization: `Token ${applier.calls}` } }
    },
  }
  return applier
}

describe('the pipeline over plain data', () => {
  it('hands the transport the wire URL, lower-cased headers without the caller’s Authorization, and the exact bytes', async () => {
    const { sent, transport } = scripted([{ status: 200 }])
    const pipeline = createPipeline({ baseURL: 'https://api.example.com/v1', auth: counter() })
    const { response } = await pipeline.execute({ method: 'post', url: 'https://API.example.com:443/v1/items/./a#frag', headers: { 'X-Trace': '1', Authorization: 'mine' }, body: { a: 'é' } }, transport)
    expect(response.raw).toBe('response 1')
    expect(sent).toHaveLength(1)
    expect(sent[0]?.url.href).toBe('https://api.example.com/v1/items/a')
    expect(sent[0]?.method).toBe('POST')
    expect(sent[0]?.headers).toEqual({ 'x-trace': '1', 'content-type': 'application/json', authorization: 'Token 1' })
    expect(sent[0]?.body?.toString('utf8')).toBe('{"a":"é"}')
  })

  it('pins the origin before anything is sent', async () => {
    const { sent, transport } = scripted([{ status: 200 }])
    const pipeline = createPipeline({ baseURL: 'https://api.example.com', auth: counter() })
    const e = await rejection(pipeline.execute({ method: 'GET', url: 'https://evil.example.com/x', headers: {} }, transport))
    expect(isApisignError(e, 'ERR_ORIGIN_NOT_ALLOWED')).toBe(true)
    expect(sent).toHaveLength(0)
  })

  it('returns a final rejection instead of throwing when the transport asks (fetch semantics), after the retries', async () => {
    const { sent, transport } = scripted([{ status: 503 }, { status: 404, body: async () => '{"error":{"code":"NOT_FOUND"}}' }])
    const pipeline = createPipeline({ baseURL: 'https://api.example.com', auth: counter(), sleep: async () => undefined })
    const { response } = await pipeline.execute({ method: 'GET', url: 'https://api.example.com/x', headers: {} }, transport, { rejections: 'return' })
    expect(response.status).toBe(404)
    expect(sent.map((s) => s.headers['authorization'])).toEqual(['Token 1', 'Token 2'])
  })

  it('counts requests in flight from entry to response and tells the applier', async () => {
    const seen: Array<number | undefined> = []
    const release: Array<() => void> = []
    const transport: Transport<null> = {
      send: () => new Promise((resolve) => release.push(() => resolve({ status: 200, headers: {}, body: async () => '', raw: null }))),
      retryable: () => false,
    }
    const pipeline = createPipeline({ baseURL: 'https://api.example.com', auth: { apply: async (_r, c) => (seen.push(c.inFlight), { headers: {} }) } })
    const runs = [1, 2, 3].map(() => pipeline.execute({ method: 'GET', url: 'https://api.example.com/x', headers: {} }, transport))
    await new Promise((resolve) => setImmediate(resolve))
    expect(pipeline.inFlight).toBe(3)
    for (const r of release) r()
    await Promise.all(runs)
    expect(seen).toEqual([3, 3, 3])
    expect(pipeline.inFlight).toBe(0)
  })

  it('validates limits and the retry policy when it is built (a NaN never disables a check)', () => {
    const base = { baseURL: 'https://api.example.com', auth: counter() }
    for (const bad of [{ limits: { maxBodyLength: Number.NaN } }, { limits: { maxContentLength: -1 } }, { retry: { retries: Number.NaN } }, { retry: { deadlineMs: Infinity } }, { retry: { clockSkewCapMs: Number.NaN } }, { retry: { statuses: [99] } }, { retry: { clockSkew: 'yes' } }]) {
      let error: unknown
      try {
        createPipeline({ ...base, ...(bad as object) })
      } catch (e) {
        error = e
      }
      expect(isApisignError(error, 'ERR_CONFIG_INVALID'), JSON.stringify(bad)).toBe(true)
    }
  })
})

describe('the onResponse hook of an applier', () => {
  it('is called per attempt before decryption; "retry" re-applies and resends once, whatever the method', async () => {
    const seen: AuthResponse[] = []
    const applier: AuthApplier & { calls: number } = {
      ...counter(),
      calls: 0,
      async apply() {
        applier.calls++
        return { headers: { Authorization: `Token ${applier.calls}` } }
      },
      onResponse(response) {
        seen.push(response)
        return response.status === 401 ? 'retry' : undefined
      },
    }
    const { sent, transport } = scripted([{ status: 401, headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"' }, body: async () => '{"error":"use_dpop_nonce"}' }, { status: 200 }])
    const pipeline = createPipeline({ baseURL: 'https://api.example.com', auth: applier })
    await pipeline.execute({ method: 'POST', url: 'https://api.example.com/pay', headers: {}, body: 'x' }, transport)
    expect(sent.map((s) => s.headers['authorization'])).toEqual(['Token 1', 'Token 2'])
    expect(seen.map((r) => r.status)).toEqual([401, 200])
    expect(seen[0]?.body).toEqual({ error: 'use_dpop_nonce' })
    expect(seen[0]?.headers['www-authenticate']).toContain('use_dpop_nonce')
    expect(seen[0]?.request.method).toBe('POST')
  })

  it('gives one extra attempt only: a second "retry" is the rejection', async () => {
    const applier: AuthApplier = { apply: async () => ({ headers: {} }), onResponse: async () => 'retry' as const }
    const { sent, transport } = scripted([{ status: 401, body: async () => '{"error":{"code":"invalid_token"}}' }])
    const pipeline = createPipeline({ baseURL: 'https://api.example.com', auth: applier })
    const e = await rejection(pipeline.execute({ method: 'POST', url: 'https://api.example.com/pay', headers: {} }, transport))
    expect(isApisignError(e, 'ERR_GATEWAY_REJECTED')).toBe(true)
    expect(sent).toHaveLength(2)
  })
})

describe('issue 13 item 9: one response cannot poison the client', () => {
  const serverTime = Date.parse('2030-06-01T12:00:00Z')
  const timestampRejection = (body: unknown): Responder => (req, res) => {
    if (Math.abs(Number(req.timestamp) * 1000 - serverTime) > 300_000) {
      res.writeHead(401, { date: new Date(serverTime).toUTCString(), 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    } else verifyingResponder(req, res, 0)
  }
  const invalidTimestamp = { Errors: { Error: [{ ReasonCode: 'INVALID_TIMESTAMP', Description: 'oauth_timestamp expired', Source: 'Gateway' }] } }

  it('the clock offset learned from a Date header is capped at 15 minutes by default', async () => {
    reset(timestampRejection(invalidTimestamp))
    const api = createClient({ baseURL: server.origin, auth, now: () => serverTime - 3_600_000 })
    const e = await rejection(api.get('/v1/items'))
    expect(isApisignError(e, 'ERR_GATEWAY_REJECTED')).toBe(true)
    expect(server.received).toHaveLength(1)
  })

  it('the cap is configurable (retry.clockSkewCapMs) and validated', async () => {
    reset(timestampRejection(invalidTimestamp))
    const api = createClient({ baseURL: server.origin, auth, now: () => serverTime - 3_600_000, retry: { clockSkewCapMs: 2 * 3_600_000 } })
    expect((await api.get('/v1/items')).status).toBe(200)
    expect(server.received).toHaveLength(2)
    let error: unknown
    try {
      createClient({ baseURL: server.origin, auth, retry: { clockSkewCapMs: Number.NaN } })
    } catch (e) {
      error = e
    }
    expect(isApisignError(error, 'ERR_CONFIG_INVALID')).toBe(true)
  })

  it('the offset is only learned from a response that blames the time', async () => {
    // Time words outside the envelope's reason and description (a field a proxy adds, an echoed base
    // string) do not count.
    reset(timestampRejection({ Errors: { Error: [{ ReasonCode: 'AUTHENTICATION_FAILED', Description: 'signature failed verification (oauth_timestamp=1717243200 checked)', Source: 'Gateway', Details: 'clock skew' }] }, note: 'timestamp' }))
    const api = createClient({ baseURL: server.origin, auth, now: () => serverTime - 600_000 })
    const e = await rejection(api.get('/v1/items'))
    expect(isApisignError(e, 'ERR_GATEWAY_REJECTED')).toBe(true)
    expect(server.received).toHaveLength(1)
    expect(blamesTime({ trace: 'timestamp=1' })).toBe(false)
    expect(blamesTime({ message: 'Request timestamp is outside the window' })).toBe(true)
    expect(blamesTime('clock skew too large')).toBe(true)
    expect(blamesTime({ error: { code: 'ERR_TIMESTAMP_OUT_OF_WINDOW', message: 'x' } })).toBe(true)
  })

  it('a response over maxContentLength is not retried', async () => {
    reset((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' })
      res.end('x'.repeat(4096))
    })
    const api = createClient({ baseURL: server.origin, auth, limits: { maxContentLength: 100 }, sleep: async () => undefined })
    const e = await rejection(api.get('/v1/items'))
    expect((e as { code?: string }).code).toBe('ERR_BAD_RESPONSE')
    expect(server.received).toHaveLength(1)
  })
})

describe('redaction', () => {
  it('strips credentials from every error of the cause chain (axios wraps stream errors with their own request)', () => {
    const inner = { request: { _header: 'PUT / HTTP/1.1\r\nauthorization: OAuth oauth_signature="x"\r\n' }, config: { headers: { Authorization: 'OAuth oauth_signature="x"' } } }
    const outer = Object.assign(new Error('outer'), { cause: Object.assign(new Error('middle'), { cause: inner, request: {} }), config: { headers: { authorization: 'Bearer t' } } })
    redactError(outer)
    const text = inspect(outer, { depth: 10, showHidden: true })
    expect(text).not.toContain('oauth_signature')
    expect(text).not.toContain('Bearer t')
    const loop: { cause?: unknown; request?: unknown } = { request: 'secret' }
    loop.cause = loop
    expect(redactError(loop).request).toBeUndefined()
  })
})

describe('isApisignError across module copies', () => {
  it('recognises an ApisignError made by another copy of the module (the brand), and nothing else', async () => {
    vi.resetModules()
    const copy = (await import('../../src/errors.js')) as typeof import('../../src/errors.js')
    const foreign = new copy.ApisignError('ERR_CLI_USAGE', 'x')
    expect(foreign instanceof ApisignError).toBe(false)
    expect(isApisignError(foreign, 'ERR_CLI_USAGE')).toBe(true)
    expect(isApisignError(foreign, 'ERR_INTERNAL')).toBe(false)
    expect(isApisignError(Object.assign(new Error('x'), { name: 'ApisignError', code: 'ERR_CLI_USAGE' }))).toBe(false)
  })
})
