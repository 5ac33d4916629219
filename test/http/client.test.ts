import { createPrivateKey } from 'node:crypto'
import { Readable } from 'node:stream'
import { inspect } from 'node:util'
import axios from 'axios'
import axiosRetry from 'axios-retry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isApisignError } from '../../src/errors.js'
import { createEncryption } from '../../src/encryption/index.js'
import { createClient } from '../../src/http/index.js'
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
const noSleep = { sleep: async () => undefined }


describe('the signed URL and body are exactly the ones sent', () => {
  it('baseURL + relative path + params with arrays, JSON body', async () => {
    reset()
    const api = createClient({ baseURL: `${server.origin}/api`, auth })
    const r = await api.post('/v1/payments', { amount: 1, note: "it's (ok)!" }, { params: { tags: ['a', 'b c'], q: "x'y", n: 1 } })
    expect(r.data).toEqual({ ok: true })
    expect(server.received[0]?.valid).toBe(true)
    expect(server.received[0]?.url).toMatch(/^\/api\/v1\/payments\?/)
  })

  for (const legacy of [true, false]) {
    it(`user interceptors before and after ours (legacyInterceptorReqResOrdering: ${legacy})`, async () => {
      reset()
      const api = createClient({ baseURL: server.origin, auth, axios: { transitional: { legacyInterceptorReqResOrdering: legacy } } })
      api.interceptors.request.use((c) => {
        c.params = { ...c.params, trace: '1' }
        return c
      })
      api.interceptors.request.use((c) => {
        c.url = `${c.url}/extra`
        c.headers.set('X-Trace', 'yes')
        return c
      })
      await api.get('/v1/items', { params: { a: [1, 2] } })
      const got = server.received[0]
      expect(got?.valid).toBe(true)
      expect(got?.url).toContain('/v1/items/extra?')
      expect(got?.url).toContain('trace=1')
    })
  }

  it('raw URL strings with characters WHATWG normalises (sent exactly as signed)', async () => {
    reset()
    const api = createClient({ baseURL: server.origin, auth })
    await api.get("/v1/café/./x/../items(1)?q=it's&sp=a b")
    expect(server.received[0]?.valid).toBe(true)
    expect(server.received[0]?.url).toBe("/v1/caf%C3%A9/items(1)?q=it%27s&sp=a%20b")
  })

  it('Buffer, URLSearchParams, FormData and stream bodies: the hash covers the bytes sent', async () => {
    reset()
    const api = createClient({ baseURL: server.origin, auth })
    await api.post('/v1/bin', Buffer.from([0, 255, 1, 2]), { headers: { 'content-type': 'application/octet-stream' } })
    await api.post('/v1/form', new URLSearchParams({ a: '1', b: 'two words' }))
    const fd = new FormData()
    fd.append('name', 'zoë')
    fd.append('file', new Blob([Buffer.from('hello')]), 'h.txt')
    await api.post('/v1/upload', fd)
    await api.post('/v1/stream', Readable.from([Buffer.from('chunk1'), Buffer.from('chunk2')]), { headers: { 'content-type': 'text/plain' } })
    expect(server.received.map((r) => r.valid)).toEqual([true, true, true, true])
    expect(server.received[1]?.body.toString()).toBe('a=1&b=two+words')
    expect(String(server.received[2]?.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/)
    expect(server.received[3]?.body.toString()).toBe('chunk1chunk2')
  })

  it('concurrent requests (threadpool signing under async: auto) all verify with distinct nonces', async () => {
    reset()
    const api = createClient({ baseURL: server.origin, auth })
    await Promise.all(Array.from({ length: 6 }, (_, i) => api.get(`/v1/items/${i}`)))
    expect(server.received.every((r) => r.valid)).toBe(true)
    expect(new Set(server.received.map((r) => r.nonce)).size).toBe(6)
  })

  it('refuses a stream over maxBodyLength with a clear error, before sending', async () => {
    reset()
    const api = createClient({ baseURL: server.origin, auth, limits: { maxBodyLength: 8 } })
    const e = await rejection(api.post('/v1/stream', Readable.from([Buffer.alloc(16)])))
    expect(isApisignError(e, 'ERR_INPUT_TOO_LARGE')).toBe(true)
    expect(server.received).toHaveLength(0)
  })
})

describe('retries re-sign every attempt', () => {
  const failFirst = (status: number, headers: Record<string, string> = {}): Responder => (req, res, i) => {
    if (i === 0) {
      res.writeHead(status, headers)
      res.end()
    } else verifyingResponder(req, res, i)
  }

  it('built in: 503 then 200, fresh nonce and timestamp, Retry-After seconds honoured', async () => {
    reset(failFirst(503, { 'retry-after': '2' }))
    const waits: number[] = []
    let now = 1_700_000_000_000
    const api = createClient({ baseURL: server.origin, auth, now: () => now, sleep: async (ms) => {
      waits.push(ms)
      now += ms
    } })
    await api.get('/v1/items')
    expect(server.received).toHaveLength(2)
    expect(server.received.every((r) => r.valid)).toBe(true)
    expect(server.received[0]?.nonce).not.toBe(server.received[1]?.nonce)
    expect(server.received[0]?.timestamp).not.toBe(server.received[1]?.timestamp)
    expect(waits).toEqual([2000])
  })

  it('built in: Retry-After as an HTTP-date, and a Retry-After above the cap ends the retries', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    reset(failFirst(429, { 'retry-after': new Date(now + 3000).toUTCString() }))
    const waits: number[] = []
    const api = createClient({ baseURL: server.origin, auth, now: () => now, sleep: async (ms) => void waits.push(ms) })
    await api.get('/v1/items')
    expect(waits).toEqual([3000])
    reset(failFirst(429, { 'retry-after': '600' }))
    const e = await rejection(createClient({ baseURL: server.origin, auth, ...noSleep }).get('/v1/items'))
    expect(isApisignError(e, 'ERR_RATE_LIMITED')).toBe(true)
    expect(server.received).toHaveLength(1)
  })

  it('built in: POST is not retried by default; an overall deadline bounds the retries', async () => {
    reset(failFirst(503))
    const e = await rejection(createClient({ baseURL: server.origin, auth, ...noSleep }).post('/v1/payments', { a: 1 }))
    expect(isApisignError(e, 'ERR_SERVICE_REJECTED')).toBe(true)
    expect(server.received).toHaveLength(1)
    reset((_req, res) => {
      res.writeHead(503)
      res.end()
    })
    let now = 0
    const api = createClient({ baseURL: server.origin, auth, retry: { retries: 10, deadlineMs: 1000, baseDelayMs: 400 }, now: () => now, sleep: async (ms) => void (now += ms) })
    await rejection(api.get('/v1/items'))
    expect(server.received.length).toBeLessThan(4)
  })

  it('through axios-retry (built-in retries off): a fresh nonce on every attempt', async () => {
    reset(failFirst(503))
    const api = createClient({ baseURL: server.origin, auth, retry: false })
    axiosRetry(api, { retries: 2, retryDelay: () => 0 })
    const r = await api.put('/v1/items/1', { name: 'x' })
    expect(r.status).toBe(200)
    expect(server.received).toHaveLength(2)
    expect(server.received.every((x) => x.valid)).toBe(true)
    expect(new Set(server.received.map((x) => x.nonce)).size).toBe(2)
    expect(server.received[1]?.body.toString()).toBe('{"name":"x"}')
  })

  it('a 401 is not retried, except once for clock skew learned from the Date header', async () => {
    const serverTime = Date.parse('2030-06-01T12:00:00Z')
    reset((req, res) => {
      const skew = Math.abs(Number(req.timestamp) * 1000 - serverTime)
      if (skew > 300_000) {
        res.writeHead(401, { date: new Date(serverTime).toUTCString(), 'content-type': 'application/json' })
        res.end(JSON.stringify({ Errors: { Error: [{ ReasonCode: 'INVALID_TIMESTAMP', Description: 'oauth_timestamp expired', Source: 'Gateway' }] } }))
      } else verifyingResponder(req, res, 0)
    })
    // 10 minutes off: past the verifier's 5-minute window, within the client's 15-minute cap on what it learns.
    const api = createClient({ baseURL: server.origin, auth, now: () => serverTime - 600_000 })
    const r = await api.get('/v1/items')
    expect(r.status).toBe(200)
    expect(server.received).toHaveLength(2)
    reset((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ Errors: { Error: [{ ReasonCode: 'AUTHENTICATION_FAILED', Source: 'Gateway' }] } }))
    })
    const e = await rejection(api.get('/v1/items'))
    expect(isApisignError(e, 'ERR_GATEWAY_REJECTED')).toBe(true)
    expect(server.received).toHaveLength(1)
  })
})

describe('safety', () => {
  it('never follows a redirect with a signature', async () => {
    reset((req, res, i) => {
      if (i === 0) {
        res.writeHead(302, { location: '/elsewhere' })
        res.end()
      } else verifyingResponder(req, res, i)
    })
    const e = await rejection(createClient({ baseURL: server.origin, auth }).get('/v1/items'))
    expect(isApisignError(e, 'ERR_REDIRECT_REFUSED')).toBe(true)
    expect(server.received).toHaveLength(1)
  })

  it('refuses any origin but the profile’s (the generated client passes absolute URLs)', async () => {
    reset()
    const api = createClient({ baseURL: server.origin, auth })
    const e = await rejection(api.get('http://127.0.0.2:9/steal', { baseURL: '' }))
    expect(isApisignError(e, 'ERR_ORIGIN_NOT_ALLOWED')).toBe(true)
    expect(server.received).toHaveLength(0)
  })

  it('errors carry no credentials', async () => {
    reset((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end('{"Errors":{"Error":[{"ReasonCode":"SYSTEM_ERROR","Source":"Payments","Recoverable":true}]}}')
    })
    const e = (await rejection(createClient({ baseURL: server.origin, auth, ...noSleep }).get('/v1/items'))) as Error & { config: unknown; response: unknown }
    expect(isApisignError(e, 'ERR_SERVICE_REJECTED')).toBe(true)
    for (const text of [inspect(e, { depth: 8, showHidden: true }), JSON.stringify(e), inspect(e.config, { depth: 6 }), inspect(e.cause, { depth: 6 })]) {
      expect(text).not.toContain('oauth_signature=')
      expect(text).not.toContain('PRIVATE KEY')
    }
    expect((e as unknown as { details: { reasonCode: string; recoverable: boolean } }).details).toMatchObject({ reasonCode: 'SYSTEM_ERROR', recoverable: true, status: 500 })
  })

  it('explains a signature mismatch from the gateway’s acceptable base string', async () => {
    reset((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' })
      const gateway = req.baseString.replace('%2Fv1%2Fitems', '%2Fv1%2FITEMS')
      res.end(JSON.stringify({ Errors: { Error: [{ ReasonCode: 'AUTHENTICATION_FAILED', Description: `OAuth signature failed verification. Acceptable signature base string: ${gateway}` }] } }))
    })
    const e = await rejection(createClient({ baseURL: server.origin, auth }).get('/v1/items'))
    expect(isApisignError(e, 'ERR_SIGNATURE_MISMATCH')).toBe(true)
    const details = (e as { details: { offset: number } }).details
    expect(details.offset).toBeGreaterThan(10)
    expect((e as Error).message).toContain('first difference at offset')
  })

  it('a business rejection is a service rejection with the envelope parsed', async () => {
    reset((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ Errors: { Error: [{ Source: 'Payments', ReasonCode: 'INSUFFICIENT_FUNDS', Description: 'declined', Recoverable: false }] } }))
    })
    const e = await rejection(createClient({ baseURL: server.origin, auth }).post('/v1/payments', {}))
    expect(isApisignError(e, 'ERR_SERVICE_REJECTED')).toBe(true)
    expect((e as { details: object }).details).toMatchObject({ status: 400, reasonCode: 'INSUFFICIENT_FUNDS', source: 'Payments', recoverable: false })
  })

  it('times out per attempt', async () => {
    reset((req, res) => setTimeout(() => verifyingResponder(req, res, 0), 300))
    const e = await rejection(createClient({ baseURL: server.origin, auth, timeout: 50, retry: false }).get('/v1/slow'))
    expect(axios.isAxiosError(e) && e.code).toBe('ECONNABORTED')
  })
})

describe('encryption in the pipeline', () => {
  const encKeys = {
    encryptionCertificate: readShared('keys/encryption/certificate.pem'),
    privateKey: readShared('keys/encryption/private-key-pkcs8.pem'),
  }
  const config = {
    mode: 'JWE',
    encryptedValueFieldName: 'encryptedData',
    paths: [{ path: '/v1/cards$', toEncrypt: [{ element: 'card', obj: 'encryptedCard' }], toDecrypt: [{ element: 'encryptedCard', obj: 'card' }] }],
    ...encKeys,
  }
  it('encrypts request fields before hashing, decrypts response fields, signs what is sent', async () => {
    const partner = createEncryption(config)
    reset((req, res) => {
      const body = JSON.parse(req.body.toString()) as Record<string, unknown>
      const plain = partner.decrypt({ url: '/v1/cards', body }).body as { card: { pan: string } }
      res.writeHead(req.valid ? 200 : 401, { 'content-type': 'application/json' })
      res.end(JSON.stringify(partner.encrypt({ url: '/v1/cards', body: { card: { pan: plain.card.pan, token: 'tok_1' }, status: 'OK' } }).body))
    })
    const api = createClient({ baseURL: server.origin, auth, encryption: config })
    const request = { card: { pan: '5123456789012345678' }, amount: 0 }
    const r = await api.post('/v1/cards', request)
    expect(server.received[0]?.valid).toBe(true)
    expect(server.received[0]?.body.toString()).not.toContain('5123456789012345678')
    expect(r.data).toEqual({ card: { pan: '5123456789012345678', token: 'tok_1' }, status: 'OK' })
    expect(request).toEqual({ card: { pan: '5123456789012345678' }, amount: 0 })
  })
  it('passes a response without the encrypted field through untouched', async () => {
    reset((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"status":"PENDING"}')
    })
    const r = await createClient({ baseURL: server.origin, auth, encryption: config }).get('/v1/cards')
    expect(r.data).toEqual({ status: 'PENDING' })
  })
})
