// One contract-test matrix over both transports (issue 15 item 2): the axios client and the signed fetch run
// the same cases against nock (which intercepts fetch too, nock 14) with interceptSigned verifying every
// request as the gateway would, and against a real loopback server.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import nock from 'nock'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createEncryption } from '../../src/encryption/index.js'
import { isApisignError } from '../../src/errors.js'
import { type ClientOptions, createClient, createFetch } from '../../src/http/index.js'
import { createSchemeVerifier } from '../../src/schemes/index.js'
import { interceptSigned } from '../../src/testing/index.js'
import { createOAuth1Verifier } from '../../src/verify/index.js'
import { readShared } from '../helpers/shared.js'
import { startVerifyingServer, verifyingResponder } from '../helpers/verifying-server.js'
import { rejection } from '../helpers/failure.js'

const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const ORIGIN = 'https://sandbox.api.example.com'
const oauth1 = { scheme: 'oauth1', consumerKey: 'ck!matrix', key } as const
// A key pair the partner does not hold for ck!matrix.
const other = generateKeyPairSync('rsa', { modulusLength: 2048 })

interface Call {
  readonly params?: Record<string, string | string[]>
  readonly body?: string | Buffer | URLSearchParams | FormData
  readonly headers?: Record<string, string>
}
interface Outcome {
  readonly status: number
  readonly data: unknown
}
/** One way of sending a request; the matrix runs every case through each. */
interface Transport {
  readonly name: string
  make(options: ClientOptions): (method: string, path: string, call?: Call) => Promise<Outcome>
}

const query = (params: Call['params']) => {
  if (params === undefined) return ''
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) q.append(k, x)
  return `?${q.toString()}`
}

const TRANSPORTS: Transport[] = [
  {
    name: 'axios (createClient)',
    make(options) {
      const api = createClient(options)
      return async (method, path, call = {}) => {
        const r = await api.request({ method, url: `${path}${query(call.params)}`, ...(call.body === undefined ? {} : { data: call.body }), headers: call.headers ?? {} })
        return { status: r.status, data: r.data }
      }
    },
  },
  {
    name: 'fetch (createFetch)',
    make(options) {
      const signedFetch = createFetch({ ...options, rejections: 'throw' })
      return async (method, path, call = {}) => {
        const r = await signedFetch(`${path}${query(call.params)}`, { method, ...(call.body === undefined ? {} : { body: call.body }), headers: call.headers ?? {} })
        const text = await r.text()
        let data: unknown = text
        try {
          data = JSON.parse(text)
        } catch {
          // not JSON
        }
        return { status: r.status, data }
      }
    },
  },
]


beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())
afterAll(() => nock.enableNetConnect())

for (const transport of TRANSPORTS) {
  describe(`contract matrix: ${transport.name}`, () => {
    const verifier = createOAuth1Verifier({ consumers: { 'ck!matrix': { key: createPublicKey(key) } } })
    const call = transport.make({ baseURL: ORIGIN, auth: oauth1, sleep: async () => undefined })

    it('GET with an array query, verified by interceptSigned', async () => {
      const seen: string[] = []
      const scope = interceptSigned(nock(ORIGIN).get('/v1/items').query(true), { verifier, origin: ORIGIN, reply: (r) => (seen.push(r.url), [200, { ok: true }]) })
      expect(await call('GET', '/v1/items', { params: { ids: ['1', '2'], q: "a b'c" } })).toEqual({ status: 200, data: { ok: true } })
      scope.done()
      expect(seen[0]).toBe(`${ORIGIN}/v1/items?ids=1&ids=2&q=a+b%27c`)
    })

    it('POST JSON, form, binary and multipart bodies: the body hash covers the bytes sent', async () => {
      const bodies: Buffer[] = []
      const scope = interceptSigned(nock(ORIGIN).post(/\/v1\/.*/).times(4), { verifier, origin: ORIGIN, reply: (r) => (bodies.push(r.body), [201, { id: 'p1' }]) })
      const form = new FormData()
      form.append('name', 'zoë')
      form.append('file', new Blob([Buffer.from([0, 255, 1])]), 'f.bin')
      expect((await call('POST', '/v1/payments', { body: '{"amount":1,"name":"Zoë"}', headers: { 'content-type': 'application/json' } })).status).toBe(201)
      await call('POST', '/v1/form', { body: new URLSearchParams({ a: '1', b: 'x y' }) })
      await call('POST', '/v1/files', { body: Buffer.from([0xff, 0xfe, 0x00, 0x80]), headers: { 'content-type': 'application/octet-stream' } })
      await call('POST', '/v1/upload', { body: form })
      scope.done()
      expect(bodies[0]?.toString()).toBe('{"amount":1,"name":"Zoë"}')
      expect(bodies[1]?.toString()).toBe('a=1&b=x+y')
      expect(bodies[2]).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0x80]))
      expect(bodies[3]?.toString('latin1')).toContain('filename="f.bin"')
    })

    it('a retried GET is re-signed with a fresh nonce (Retry-After honoured)', async () => {
      const nonces: string[] = []
      const auth = (r: { headers: Record<string, unknown> }) => nonces.push(/oauth_nonce="([^"]+)"/.exec(String(r.headers['authorization']))?.[1] ?? '')
      interceptSigned(nock(ORIGIN).get('/v1/retry'), { verifier, origin: ORIGIN, reply: (r) => (auth(r), [503, '', { 'retry-after': '0' }]) })
      interceptSigned(nock(ORIGIN).get('/v1/retry'), { verifier, origin: ORIGIN, reply: (r) => (auth(r), [200, { ok: 1 }]) })
      expect((await call('GET', '/v1/retry')).data).toEqual({ ok: 1 })
      expect(nonces).toHaveLength(2)
      expect(nonces[0]).not.toBe(nonces[1])
    })

    it('a redirect is refused and its target never called', async () => {
      nock(ORIGIN).get('/v1/old').reply(302, '', { location: `${ORIGIN}/v1/new` })
      const target = nock(ORIGIN).get('/v1/new').reply(200, {})
      expect(isApisignError(await rejection(call('GET', '/v1/old')), 'ERR_REDIRECT_REFUSED')).toBe(true)
      expect(target.isDone()).toBe(false)
    })

    it('another origin is refused before anything is sent', async () => {
      const elsewhere = nock('https://evil.example.com').get('/steal').reply(200, {})
      expect(isApisignError(await rejection(call('GET', 'https://evil.example.com/steal')), 'ERR_ORIGIN_NOT_ALLOWED')).toBe(true)
      expect(elsewhere.isDone()).toBe(false)
    })

    it('a wrong key is the gateway’s 401, typed, with the mismatch explained from the acceptable base string', async () => {
      const debugVerifier = createOAuth1Verifier({ consumers: { 'ck!matrix': { key: other.publicKey } }, debug: true })
      interceptSigned(nock(ORIGIN).get('/v1/items'), { verifier: debugVerifier, origin: ORIGIN })
      const e = await rejection(call('GET', '/v1/items'))
      expect((e as { code?: string }).code, String(e)).toBe('ERR_SIGNATURE_MISMATCH')
      expect((e as { details: { status: number } }).details.status).toBe(401)
    })

    it('other schemes of the table: API key in the query, Basic, OST form signing', async () => {
      const cases = [
        { auth: { scheme: 'api-key', key: 'k-1', in: 'query', name: 'key' }, server: { scheme: 'api-key', keys: ['k-1'], in: 'query', name: 'key' } },
        { auth: { scheme: 'basic', username: 'partner', password: 'pw' }, server: { scheme: 'basic', users: { partner: 'pw' } } },
        { auth: { scheme: 'ost', apiKey: 'ost-key', apiSecret: 'ost-secret' }, server: { scheme: 'ost', keys: { 'ost-key': 'ost-secret' } } },
      ] as const
      for (const c of cases) {
        const scope = interceptSigned(nock(ORIGIN).get('/v1/things').query(true), { verifier: createSchemeVerifier(c.server as never), origin: ORIGIN, reply: (r) => [200, { principal: r.principal }] })
        const send = transport.make({ baseURL: ORIGIN, auth: c.auth as never })
        const r = await send('GET', '/v1/things', { params: { a: '1', b: 'x y' } })
        expect(r.status, c.auth.scheme).toBe(200)
        scope.done()
      }
    })

    it('encrypts request fields and decrypts response fields', async () => {
      const config = {
        mode: 'JWE',
        encryptedValueFieldName: 'encryptedData',
        paths: [{ path: '/v1/cards$', toEncrypt: [{ element: 'card', obj: 'encryptedCard' }], toDecrypt: [{ element: 'encryptedCard', obj: 'card' }] }],
        encryptionCertificate: readShared('keys/encryption/certificate.pem'),
        privateKey: readShared('keys/encryption/private-key-pkcs8.pem'),
      }
      const partner = createEncryption(config)
      const sent: string[] = []
      interceptSigned(nock(ORIGIN).post('/v1/cards'), {
        verifier,
        origin: ORIGIN,
        reply: (r) => {
          sent.push(r.body.toString())
          const plain = partner.decrypt({ url: '/v1/cards', body: JSON.parse(r.body.toString()) }).body as { card: { pan: string } }
          return [200, partner.encrypt({ url: '/v1/cards', body: { card: { pan: plain.card.pan, token: 't' } } }).body as object, { 'content-type': 'application/json' }]
        },
      })
      const send = transport.make({ baseURL: ORIGIN, auth: oauth1, encryption: config })
      const r = await send('POST', '/v1/cards', { body: JSON.stringify({ card: { pan: '5123456789012345678' } }), headers: { 'content-type': 'application/json' } })
      expect(sent[0]).not.toContain('5123456789012345678')
      expect(r.data).toEqual({ card: { pan: '5123456789012345678', token: 't' } })
    })
  })
}

describe('the signed fetch as fetch', () => {
  let server: Awaited<ReturnType<typeof startVerifyingServer>>
  beforeAll(async () => {
    nock.enableNetConnect('127.0.0.1')
    server = await startVerifyingServer(verifyingResponder)
  })
  afterAll(() => server.close())

  it('takes a Request (as hey-api’s fetch client passes it), resolves a relative URL, and carries baseURL', async () => {
    server.received.length = 0
    const signedFetch = createFetch({ baseURL: server.origin, auth: oauth1 })
    expect(signedFetch.baseURL).toBe(server.origin)
    const r1 = await signedFetch(new Request(`${server.origin}/v1/items?q=a%20b`, { method: 'POST', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json' } }))
    const r2 = await signedFetch('/v1/items/2')
    expect(await r1.json()).toEqual({ ok: true })
    expect(r2.ok).toBe(true)
    expect(server.received.map((r) => r.valid)).toEqual([true, true])
    expect(server.received[0]?.body.toString()).toBe('{"a":1}')
  })

  it('resolves with the partner’s rejection by default (fetch semantics), its body readable', async () => {
    server.received.length = 0
    const wrong = createFetch({ baseURL: server.origin, auth: { ...oauth1, key: other.privateKey } })
    const r = await wrong('/v1/items')
    expect(r.status).toBe(401)
    expect(((await r.json()) as { error: string }).error).toBe('signature failed verification')
  })

  it('a response over maxContentLength is refused, typed, and not retried', async () => {
    server.received.length = 0
    const signedFetch = createFetch({ baseURL: server.origin, auth: { apply: async () => ({ headers: {} }) }, limits: { maxContentLength: 4 }, sleep: async () => undefined })
    expect(isApisignError(await rejection(signedFetch('/v1/items')), 'ERR_INPUT_TOO_LARGE')).toBe(true)
    expect(server.received).toHaveLength(1)
  })

  it('each attempt has its own timeout, aborting as AbortSignal.timeout does (TimeoutError), and is retried', async () => {
    const signals: AbortSignal[] = []
    const hanging = (_url: string, init: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        const signal = init.signal as AbortSignal
        signals.push(signal)
        signal.addEventListener('abort', () => reject(signal.reason))
      })
    const signedFetch = createFetch({ baseURL: server.origin, auth: { apply: async () => ({ headers: {} }) }, fetch: hanging, timeout: 20, sleep: async () => undefined })
    const error = await rejection(signedFetch('/v1/items'))
    expect(error).toBeInstanceOf(DOMException)
    expect((error as DOMException).name).toBe('TimeoutError')
    expect(signals).toHaveLength(3)
    expect(new Set(signals).size).toBe(3)
  })

  it("the caller's abort reaches the attempt with its reason and is final", async () => {
    const signals: AbortSignal[] = []
    const hanging = (_url: string, init: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        const signal = init.signal as AbortSignal
        signals.push(signal)
        if (signal.aborted) reject(signal.reason) // as fetch does
        else signal.addEventListener('abort', () => reject(signal.reason))
      })
    const signedFetch = createFetch({ baseURL: server.origin, auth: { apply: async () => ({ headers: {} }) }, fetch: hanging, sleep: async () => undefined })
    const caller = new AbortController()
    const pending = rejection(signedFetch('/v1/items', { signal: caller.signal }))
    await new Promise((resolve) => setTimeout(resolve, 5))
    const reason = new Error('the caller gave up')
    caller.abort(reason)
    expect(await pending).toBe(reason)
    expect(signals).toHaveLength(1)
    // Already aborted: the attempt starts aborted.
    const again = await rejection(signedFetch('/v1/items', { signal: caller.signal }))
    expect(again).toBe(reason)
    expect(signals).toHaveLength(2)
  })

  it('the attempt timer is cleared once the response is done with, and covers a body left to the caller', async () => {
    const seen: AbortSignal[] = []
    const answer = (status: number, body: string | null) => async (_url: string, init: RequestInit) => {
      seen.push(init.signal as AbortSignal)
      return new Response(body, { status, headers: { 'content-type': 'application/json' } })
    }
    const auth = { apply: async () => ({ headers: {} }) }
    const rejected = await createFetch({ baseURL: server.origin, auth, fetch: answer(400, '{"error":"no"}'), timeout: 20, retry: false })('/v1/items')
    expect(await rejected.json()).toEqual({ error: 'no' })
    const empty = await createFetch({ baseURL: server.origin, auth, fetch: answer(204, null), timeout: 20 })('/v1/items')
    expect(empty.status).toBe(204)
    const unread = await createFetch({ baseURL: server.origin, auth, fetch: answer(200, '{"ok":true}'), timeout: 20 })('/v1/items')
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(seen.map((s) => s.aborted)).toEqual([false, false, true])
    expect((seen[2]?.reason as DOMException).name).toBe('TimeoutError')
    expect(unread.status).toBe(200)
  })

  it('validates its options when built', () => {
    for (const bad of [{ timeout: Number.NaN }, { rejections: 'maybe' }]) {
      let error: unknown
      try {
        createFetch({ baseURL: server.origin, auth: oauth1, ...(bad as object) })
      } catch (e) {
        error = e
      }
      expect(isApisignError(error, 'ERR_CONFIG_INVALID')).toBe(true)
    }
  })
})
