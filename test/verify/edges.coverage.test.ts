// The verifier's remaining rejection classes, the RFC 5849 dialect, consumer lookups, and the nonce stores'
// construction and failure paths (issue 9, item 7).
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApisignError } from '../../src/errors.js'
import type { SignRequestOptions } from '../../src/oauth1/index.js'
import {
  type ConsumerKey,
  type NonceStore,
  type OAuth1VerifierOptions,
  type ReceivedRequest,
  createMemoryNonceStore,
  createOAuth1Verifier,
  createRedisNonceStore,
} from '../../src/verify/index.js'
import { type RedisServer, freePort, redisAvailable, startRedis } from '../helpers/redis.js'
import { readShared } from '../helpers/shared.js'
import { receivedFactory } from '../helpers/oauth1-requests.js'

const pem = readShared('keys/oauth1/private-key.pem').toString()
const key = createPrivateKey(pem)
const publicKey = createPublicKey(key)
const publicPem = readShared('keys/oauth1/public-key.pem').toString()
const NOW = 1_800_000_000_000
const clock = () => NOW
const CK = 'ck!known'
const base: SignRequestOptions = {
  method: 'POST',
  url: 'https://sandbox.api.example.com/v1/payments?mode=sync',
  body: '{"amount":100}',
  consumerKey: CK,
  key,
  now: clock,
}

const received = receivedFactory(base)
const auth = (r: ReceivedRequest) => String(r.headers['authorization'])
const withAuth = (r: ReceivedRequest, authorization: string): ReceivedRequest => ({ ...r, headers: { authorization } })
const make = (extra: Partial<OAuth1VerifierOptions> = {}) => createOAuth1Verifier({ consumers: { [CK]: { key: publicKey } }, now: clock, ...extra })

async function rejection(request: ReceivedRequest, verifier = make()) {
  const r = await verifier.verify(request)
  if (r.ok) throw new Error('expected a rejection')
  expect(JSON.stringify(r)).not.toMatch(/PRIVATE KEY|oauth_signature=/)
  return r
}

describe('verifier: the remaining rejection classes, each with its message', () => {
  const cases: Array<[string, () => ReceivedRequest, string, string]> = [
    ['no Authorization header', () => ({ ...received(), headers: {} }), 'ERR_OAUTH1_HEADER_INVALID', 'OAuth Authorization header missing'],
    [
      'Authorization sent twice',
      () => {
        const r = received()
        return { ...r, headers: { authorization: [auth(r), auth(r)] } }
      },
      'ERR_OAUTH1_HEADER_INVALID',
      'authorization header sent 2 times',
    ],
    ['a URL over the limit', () => received({}, { url: `https://a.example.com/${'x'.repeat(9000)}` }), 'ERR_INPUT_TOO_LARGE', 'request URL exceeds 8192 bytes'],
    ['a missing oauth_nonce', () => withAuth(received(), auth(received()).replace(/,oauth_nonce="[^"]*"/, '')), 'ERR_OAUTH1_PARAM_MISSING', 'OAuth parameter oauth_nonce missing'],
    ['oauth_version 2.0', () => withAuth(received(), auth(received()).replace('oauth_version="1.0"', 'oauth_version="2.0"')), 'ERR_OAUTH1_HEADER_INVALID', 'oauth_version must be 1.0'],
    ['an HTTP method outside the list', () => received({}, { method: 'TRACE' }), 'ERR_INVALID_METHOD', 'HTTP method not allowed'],
    [
      'a timestamp that is not integer seconds',
      () => withAuth(received(), auth(received()).replace(/oauth_timestamp="\d+"/, 'oauth_timestamp="18e8"')),
      'ERR_OAUTH1_HEADER_INVALID',
      'oauth_timestamp must be integer seconds',
    ],
    ['a nonce outside the safe alphabet', () => received({ nonce: 'bad/nonce' }), 'ERR_OAUTH1_HEADER_INVALID', 'oauth_nonce is malformed'],
    [
      'a body hash that is not canonical base64',
      () => withAuth(received(), auth(received()).replace(/oauth_body_hash="[^"]*"/, 'oauth_body_hash="not base64!"')),
      'ERR_BODY_HASH_MISMATCH',
      'Body hash mismatch: oauth_body_hash does not match the request body',
    ],
    ['a URL that cannot be canonicalised', () => received({}, { url: 'not a url' }), 'ERR_INVALID_URL', 'request URL cannot be canonicalised'],
    [
      'a signature whose percent-encoding is malformed',
      () => withAuth(received(), auth(received()).replace(/oauth_signature="[^"]*"/, 'oauth_signature="%ZZ"')),
      'ERR_OAUTH1_SIGNATURE_INVALID',
      'OAuth signature failed verification',
    ],
  ]
  for (const [name, request, code, message] of cases) {
    it(name, async () => {
      const r = await rejection(request())
      expect({ code: r.code, message: r.message }).toEqual({ code, message })
    })
  }

  it('header names are case-insensitive; a single-element array is a header sent once', async () => {
    const r = received()
    expect((await make().verify({ ...r, headers: { AUTHORIZATION: [auth(r)] } })).ok).toBe(true)
  })

  it('debug adds the base string only to signature and body-hash failures', async () => {
    const stale = await rejection(received({ timestamp: NOW / 1000 - 3600 }), make({ debug: true }))
    expect(stale).toEqual({ ok: false, code: 'ERR_OAUTH1_TIMESTAMP_STALE', message: 'oauth_timestamp is too old' })
    const tampered = await rejection(received({}, { body: '{"amount":1}' }), make({ debug: true }))
    expect(tampered.acceptableSignatureBaseString).toMatch(/^POST&https%3A%2F%2Fsandbox\.api\.example\.com%2Fv1%2Fpayments&/)
  })

  it('a header value that is not a string is a typed verdict, not a thrown TypeError (issue 13 item 10)', async () => {
    await expect(make().verify({ ...received(), headers: { authorization: 42 as never } })).resolves.toMatchObject({ ok: false, code: 'ERR_INVALID_INPUT' })
  })
})

describe('verifier options', () => {
  it('only the mastercard and rfc5849 dialects verify', () => {
    for (const dialect of ['compat', 'toString', 'nope']) {
      expect(() => createOAuth1Verifier({ consumers: {}, dialect: dialect as never })).toThrow(new TypeError('dialect must be mastercard or rfc5849'))
    }
  })

  it('only RSA signature methods verify (the consumer table holds public keys, not shared secrets)', () => {
    expect(() => createOAuth1Verifier({ consumers: {}, dialect: 'rfc5849', signatureMethods: ['RSA-SHA256', 'HMAC-SHA1'] })).toThrow(TypeError)
    expect(() => createOAuth1Verifier({ consumers: {}, signatureMethods: ['RSA-SHA1' as never] })).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_ALGORITHM' }),
    )
  })

  it('consumer table entries: a KeyObject, PEM text, a key with a Date expiry, a list', async () => {
    const t = { now: NOW }
    const consumers = {
      'ck!object': publicKey,
      'ck!pem': publicPem,
      'ck!dated': { key: publicKey, notAfter: new Date(NOW + 1000) },
      'ck!list': [{ key: publicPem }, { key: publicKey, notAfter: NOW - 1 }] as readonly ConsumerKey[],
    }
    const v = createOAuth1Verifier({ consumers, now: () => t.now })
    for (const consumerKey of Object.keys(consumers)) {
      expect(await v.verify(received({ consumerKey }))).toEqual({ ok: true, consumerKey, principal: consumerKey })
    }
    t.now = NOW + 2000
    const expired = await rejection(received({ consumerKey: 'ck!dated', now: () => t.now }), v)
    expect({ code: expired.code, message: expired.message }).toEqual({ code: 'ERR_OAUTH1_UNKNOWN_CONSUMER', message: 'no valid key for this consumer (expired)' })
  })

  it('an unreadable key in the table fails at creation, naming the consumer', () => {
    expect(() => createOAuth1Verifier({ consumers: { 'ck!bad': 'not a key -----BEGIN PUBLIC KEY-----' } })).toThrow(
      new ApisignError('ERR_KEY_INVALID', 'verifier consumer ck!bad: key is not a readable public key or certificate'),
    )
  })

  it('a lookup function, sync or async; undefined is an unknown consumer', async () => {
    const asked: string[] = []
    const lookup = async (ck: string) => {
      asked.push(ck)
      return ck === CK ? [{ key: publicPem }] : undefined
    }
    const v = createOAuth1Verifier({ consumers: lookup, now: clock })
    expect((await v.verify(received())).ok).toBe(true)
    const unknown = await rejection(received({ consumerKey: 'ck!other' }), v)
    expect(unknown.code).toBe('ERR_OAUTH1_UNKNOWN_CONSUMER')
    expect(asked).toEqual([CK, 'ck!other'])
    const sync = createOAuth1Verifier({ consumers: () => [{ key: publicKey }], now: clock })
    expect((await sync.verify(received())).ok).toBe(true)
  })

  it('a lookup that fails: an ApisignError becomes the verdict, anything else propagates', async () => {
    const badKey = createOAuth1Verifier({ consumers: () => [{ key: 'junk -----BEGIN PUBLIC KEY-----' }], now: clock })
    expect((await rejection(received(), badKey)).code).toBe('ERR_KEY_INVALID')
    const down = createOAuth1Verifier({
      consumers: () => {
        throw new Error('database down')
      },
      now: clock,
    })
    await expect(down.verify(received())).rejects.toThrow('database down')
  })

  it('a nonce store that cannot answer: ERR_NONCE_STORE_UNAVAILABLE is a verdict, a crash propagates', async () => {
    const failing = (error: Error): NonceStore => ({
      checkAndRecord: async () => {
        throw error
      },
    })
    const unavailable = await rejection(received(), make({ nonceStore: failing(new ApisignError('ERR_NONCE_STORE_UNAVAILABLE', 'down')) }))
    expect({ code: unavailable.code, message: unavailable.message }).toEqual({ code: 'ERR_NONCE_STORE_UNAVAILABLE', message: 'down' })
    await expect(make({ nonceStore: failing(new RangeError('bug')) }).verify(received())).rejects.toThrow(RangeError)
  })

  it('the body limit is configurable', async () => {
    const r = await rejection(received(), make({ limits: { maxBodyBytes: 4 } }))
    expect(r.message).toBe('request body exceeds 4 bytes')
  })
})

describe('verifier: RFC 5849 dialect', () => {
  const rfc = (extra: Partial<SignRequestOptions> = {}, tamper: Partial<ReceivedRequest> = {}) => received({ dialect: 'rfc5849', ...extra }, tamper)
  const v = () => make({ dialect: 'rfc5849' })

  it('accepts a bodiless GET, a token and a realm', async () => {
    expect((await v().verify(rfc({ method: 'GET', body: null }))).ok).toBe(true)
    expect((await v().verify(rfc({ token: 'tok/1', realm: 'Example' }))).ok).toBe(true)
  })

  it('signs form bodies as parameters: accepted, and a changed form value is a bad signature', async () => {
    const form = { method: 'POST', body: 'amount=10&note=a+b%21', contentType: 'application/x-www-form-urlencoded; charset=utf-8' } as const
    const r = rfc(form)
    const headers = { ...r.headers, 'content-type': form.contentType }
    expect((await v().verify({ ...r, headers })).ok).toBe(true)
    const changed = await rejection({ ...r, headers, body: 'amount=99&note=a+b%21' }, v())
    expect(changed.code).toBe('ERR_OAUTH1_SIGNATURE_INVALID')
  })

  it('oauth_body_hash is optional, and checked when sent', async () => {
    expect((await v().verify(rfc())).ok).toBe(true)
    expect((await v().verify(rfc({ bodyHash: true }))).ok).toBe(true)
    expect((await rejection(rfc({ bodyHash: true }, { body: '{"amount":1}' }), v())).code).toBe('ERR_BODY_HASH_MISMATCH')
  })

  it('percent-decodes header values once: malformed encoding is refused, a double-encoded signature does not verify', async () => {
    const r = rfc({ nonce: 'abc' })
    const malformed = await rejection(withAuth(r, auth(r).replace('oauth_nonce="abc"', 'oauth_nonce="%E0%A4%A"')), v())
    expect({ code: malformed.code, message: malformed.message }).toEqual({
      code: 'ERR_OAUTH1_HEADER_INVALID',
      message: 'Authorization header has a malformed percent-encoding',
    })
    const twice = auth(r).replace(/oauth_signature="([^"]*)"/, (_m, s: string) => `oauth_signature="${s.replaceAll('%', '%25')}"`)
    expect(twice).not.toBe(auth(r))
    expect((await rejection(withAuth(r, twice), v())).code).toBe('ERR_OAUTH1_SIGNATURE_INVALID')
  })
})

describe('memory nonce store', () => {
  it('close() forgets every nonce', async () => {
    const store = createMemoryNonceStore()
    expect(await store.checkAndRecord('n1', 60_000)).toBe(true)
    expect(await store.checkAndRecord('n1', 60_000)).toBe(false)
    await store.close?.()
    expect(await store.checkAndRecord('n1', 60_000)).toBe(true)
  })
})

describe('Redis nonce store: no server', () => {
  it('fails closed (ERR_NONCE_STORE_UNAVAILABLE) when Redis never becomes ready', async () => {
    const port = await freePort() // nothing listens there
    const store = createRedisNonceStore({ redis: `redis://127.0.0.1:${port}` })
    try {
      await expect(store.checkAndRecord('n', 1000)).rejects.toMatchObject({
        code: 'ERR_NONCE_STORE_UNAVAILABLE',
        message: 'nonce store unavailable: Redis did not answer; request refused',
        cause: expect.objectContaining({ message: 'nonce store unavailable: not connected; request refused' }),
      })
    } finally {
      await store.close?.()
    }
  })
})

describe.skipIf(!redisAvailable())('Redis nonce store: client forms (real redis-server on 127.0.0.1)', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => redis.stop())

  it('connection options: a fresh first deployment records nonces', async () => {
    const store = createRedisNonceStore({ redis: { host: '127.0.0.1', port: redis.port }, trustEmptyOnStart: true, prefix: 'opts:' })
    try {
      expect(await store.checkAndRecord('n', 60_000)).toBe(true)
      expect(await store.checkAndRecord('n', 60_000)).toBe(false)
    } finally {
      await store.close?.()
    }
  })

  it("a caller's client is used as is and left open on close()", async () => {
    const client = new Redis(redis.url)
    try {
      const store = createRedisNonceStore({ redis: client, trustEmptyOnStart: true, prefix: 'own:' })
      await store.ready()
      expect(await store.checkAndRecord('n', 60_000)).toBe(true)
      expect(await client.exists('own:n')).toBe(1)
      await store.close?.()
      expect(await client.ping()).toBe('PONG')
    } finally {
      client.disconnect()
    }
  })

  it('without trustEmptyOnStart an empty Redis is treated as data loss (quarantine)', async () => {
    const store = createRedisNonceStore({ redis: redis.url, prefix: 'fresh:' })
    try {
      await expect(store.checkAndRecord('n', 60_000)).rejects.toMatchObject({ code: 'ERR_NONCE_STORE_UNAVAILABLE' })
    } finally {
      await store.close?.()
    }
  })
})
