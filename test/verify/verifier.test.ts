import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SignRequestOptions } from '../../src/oauth1/index.js'
import { type ReceivedRequest, createMemoryNonceStore, createOAuth1Verifier, createRedisNonceStore } from '../../src/verify/index.js'
import { readShared } from '../helpers/shared.js'
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis.js'
import { receivedFactory } from '../helpers/oauth1-requests.js'

const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const publicKey = createPublicKey(key)
const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
const NOW = 1_800_000_000_000
const clock = () => NOW
const base: SignRequestOptions = {
  method: 'POST',
  url: 'https://sandbox.api.example.com/v1/payments?mode=sync&tags=a,b',
  body: '{"amount":100}',
  consumerKey: 'ck!known',
  key,
  now: clock,
}

const received = receivedFactory(base)
const make = (extra: Record<string, unknown> = {}) => createOAuth1Verifier({ consumers: { 'ck!known': { key: publicKey } }, now: clock, ...extra })

describe('OAuth1 verifier: accepts a good request', () => {
  it('accepts once', async () => {
    expect(await make().verify(received())).toEqual({ ok: true, consumerKey: 'ck!known', principal: 'ck!known' })
  })
  it('accepts RSA-PSS and bodiless GETs', async () => {
    const v = make()
    expect((await v.verify(received({ signatureMethod: 'RSA-PSS' }))).ok).toBe(true)
    expect((await v.verify(received({ method: 'GET', body: null }, { body: undefined }))).ok).toBe(true)
  })
})

describe('OAuth1 verifier: negative matrix (one test per rejection class)', () => {
  const expectCode = async (request: ReceivedRequest, code: string, verifier = make()) => {
    const r = await verifier.verify(request)
    expect(r.ok).toBe(false)
    expect(r.ok === false && r.code).toBe(code)
    expect(JSON.stringify(r)).not.toMatch(/PRIVATE KEY/)
  }
  it('bad signature', async () => {
    const r = received()
    const auth = String(r.headers['authorization']).replace(/oauth_signature="([^"]{10})/, 'oauth_signature="AAAAAAAAAA')
    await expectCode({ ...r, headers: { authorization: auth } }, 'ERR_OAUTH1_SIGNATURE_INVALID')
  })
  it('wrong key', async () => {
    await expectCode(received({ key: other.privateKey }), 'ERR_OAUTH1_SIGNATURE_INVALID')
  })
  it('tampered body', async () => {
    await expectCode(received({}, { body: '{"amount":900}' }), 'ERR_BODY_HASH_MISMATCH')
  })
  it('tampered query', async () => {
    const r = received()
    await expectCode({ ...r, url: r.url.replace('mode=sync', 'mode=async') }, 'ERR_OAUTH1_SIGNATURE_INVALID')
  })
  it('tampered method', async () => {
    await expectCode(received({}, { method: 'PUT' }), 'ERR_OAUTH1_SIGNATURE_INVALID')
  })
  it('stale timestamp', async () => {
    await expectCode(received({ timestamp: NOW / 1000 - 301 }), 'ERR_OAUTH1_TIMESTAMP_STALE')
  })
  it('future timestamp', async () => {
    await expectCode(received({ timestamp: NOW / 1000 + 301 }), 'ERR_OAUTH1_TIMESTAMP_FUTURE')
  })
  it('replayed nonce (same instance)', async () => {
    const v = make()
    const r = received()
    expect((await v.verify(r)).ok).toBe(true)
    await expectCode(r, 'ERR_OAUTH1_NONCE_REPLAY', v)
  })
  it('missing body hash', async () => {
    const r = received()
    await expectCode({ ...r, headers: { authorization: String(r.headers['authorization']).replace(/oauth_body_hash="[^"]*",/, '') } }, 'ERR_BODY_HASH_MISSING')
  })
  it('duplicate oauth param', async () => {
    const r = received()
    await expectCode({ ...r, headers: { authorization: `${String(r.headers['authorization'])},oauth_nonce="again"` } }, 'ERR_OAUTH1_PARAM_DUPLICATE')
  })
  it('oversized header', async () => {
    const r = received()
    await expectCode({ ...r, headers: { authorization: `${String(r.headers['authorization'])}${' '.repeat(9000)}` } }, 'ERR_INPUT_TOO_LARGE')
  })
  it('oversized body', async () => {
    await expectCode(received({}, { body: 'x'.repeat(2 * 1024 * 1024) }), 'ERR_INPUT_TOO_LARGE')
  })
  it('unknown consumer', async () => {
    await expectCode(received({ consumerKey: 'ck!unknown' }), 'ERR_OAUTH1_UNKNOWN_CONSUMER')
  })
  it('unknown oauth_* parameter and bad quoting', async () => {
    const r = received()
    await expectCode({ ...r, headers: { authorization: `${String(r.headers['authorization'])},oauth_extra="1"` } }, 'ERR_OAUTH1_HEADER_INVALID')
    await expectCode({ ...r, headers: { authorization: String(r.headers['authorization']).replace('oauth_nonce="', 'oauth_nonce=') } }, 'ERR_OAUTH1_HEADER_INVALID')
  })
  it('signature method outside the allowlist', async () => {
    const r = received()
    await expectCode({ ...r, headers: { authorization: String(r.headers['authorization']).replace('RSA-SHA256', 'HMAC-SHA1') } }, 'ERR_ALG_NOT_ALLOWED')
  })
  it('the nonce is recorded only after the signature verifies', async () => {
    const v = make()
    const good = received()
    const forged = { ...good, headers: { authorization: String(good.headers['authorization']).replace(/oauth_signature="([^"]{10})/, 'oauth_signature="AAAAAAAAAA') } }
    await expectCode(forged, 'ERR_OAUTH1_SIGNATURE_INVALID', v)
    expect((await v.verify(good)).ok).toBe(true)
  })
  it('debug: a gateway-style message with the acceptable base string, no secret', async () => {
    const r = await make({ debug: true }).verify(received({}, { method: 'PUT' }))
    expect(r.ok === false && r.acceptableSignatureBaseString).toMatch(/^PUT&https%3A%2F%2F/)
    expect(r.ok === false && r.message).toContain('Acceptable signature base string: PUT&')
  })
  it('key rotation: the old key verifies until its expiry and not after', async () => {
    const consumers = { 'ck!known': [{ key: createPublicKey(other.privateKey) }, { key: publicKey, notAfter: NOW + 1000 }] }
    let t = NOW
    const v = createOAuth1Verifier({ consumers, now: () => t })
    expect((await v.verify(received())).ok).toBe(true)
    t = NOW + 2000
    const late = await v.verify(received({ now: () => t }))
    expect(late.ok === false && late.code).toBe('ERR_OAUTH1_SIGNATURE_INVALID')
    expect((await v.verify(received({ key: other.privateKey, now: () => t }))).ok).toBe(true)
  })
})

describe('memory nonce store', () => {
  it('expires entries and fails closed when full of live nonces', async () => {
    let t = 0
    const store = createMemoryNonceStore({ maxEntries: 2, now: () => t })
    expect(await store.checkAndRecord('a', 100)).toBe(true)
    expect(await store.checkAndRecord('a', 100)).toBe(false)
    expect(await store.checkAndRecord('b', 100)).toBe(true)
    await expect(store.checkAndRecord('c', 100)).rejects.toMatchObject({ code: 'ERR_NONCE_STORE_UNAVAILABLE' })
    t = 2000
    expect(await store.checkAndRecord('a', 100)).toBe(true)
  })
})

describe.skipIf(!redisAvailable())('Redis nonce store (real redis-server on 127.0.0.1)', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => redis.stop())

  it('rejects a replay sent to another verifier instance sharing Redis', async () => {
    const storeA = createRedisNonceStore({ redis: redis.url, trustEmptyOnStart: true, now: clock })
    const storeB = createRedisNonceStore({ redis: redis.url, now: clock })
    try {
      const a = make({ nonceStore: storeA })
      const b = make({ nonceStore: storeB })
      const r = received()
      expect((await a.verify(r)).ok).toBe(true)
      const replay = await b.verify(r)
      expect(replay.ok === false && replay.code).toBe('ERR_OAUTH1_NONCE_REPLAY')
    } finally {
      await storeA.close?.()
      await storeB.close?.()
    }
  })

  it('fails closed after Redis is SIGKILLed and restarted empty: a replay inside its window is rejected', async () => {
    let t = NOW
    const store = createRedisNonceStore({ redis: redis.url, trustEmptyOnStart: true, now: () => t, restartQuarantineMs: 600_000 })
    const v = make({ nonceStore: store, now: () => t })
    const r = received({ nonce: 'beforeKill1' })
    expect((await v.verify(r)).ok).toBe(true)
    await redis.restart()
    const down = await v.verify(received({ nonce: 'whileRestarting' }))
    // Either Redis is still coming up or it is up but empty: both refuse.
    expect(down.ok).toBe(false)
    for (let i = 0; i < 20; i++) {
      const replay = await v.verify(r)
      expect(replay.ok === false && replay.code).toBe('ERR_NONCE_STORE_UNAVAILABLE')
      if (i === 0) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    // After one nonce lifetime, requests are accepted again (and the old one is stale anyway).
    t = NOW + 601_000
    expect((await v.verify(received({ now: () => t, nonce: 'afterQuarantine' }))).ok).toBe(true)
    await store.close?.()
  })

  it('fails closed while Redis is down', async () => {
    await redis.restart() // a fresh, empty Redis: a first deployment
    const store = createRedisNonceStore({ redis: redis.url, trustEmptyOnStart: true, now: clock })
    const v = make({ nonceStore: store })
    expect((await v.verify(received())).ok).toBe(true)
    await redis.kill()
    const r = await v.verify(received())
    expect(r.ok === false && r.code).toBe('ERR_NONCE_STORE_UNAVAILABLE')
    await store.close?.()
    await redis.restart()
  })
})

describe('OAuth1 verifier: the async path (crypto.verify with a callback)', () => {
  it('accepts a good request, refuses a tampered one and an unknown consumer, with the inline codes', async () => {
    const v = make({ async: true })
    expect(await v.verify(received())).toEqual({ ok: true, consumerKey: 'ck!known', principal: 'ck!known' })
    const tampered = received()
    expect(await v.verify({ ...tampered, url: `${tampered.url}&x=1` })).toMatchObject({ ok: false, code: 'ERR_OAUTH1_SIGNATURE_INVALID' })
    expect(await make({ async: true }).verify(received({ consumerKey: 'ck!nobody' }))).toMatchObject({ ok: false, code: 'ERR_OAUTH1_UNKNOWN_CONSUMER' })
  })
  it('checks every candidate key of a consumer in rotation', async () => {
    const v = createOAuth1Verifier({ consumers: { 'ck!known': [{ key: other.publicKey }, { key: publicKey }] }, now: clock, async: true })
    expect((await v.verify(received())).ok).toBe(true)
  })
  it('async must be a boolean', () => {
    expect(() => make({ async: 'yes' })).toThrow(TypeError)
  })
})
