// Quotas and keys on real redis-server instances (issue 18, item 3): counts and pauses shared by clients
// and by gateway instances; a key rolled keeps working until its grace ends and not after; a revoked key is
// refused at once by two gateways; Redis killed mid-run follows the documented choice.
import { createPrivateKey } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/index.js'
import { type ClientQuota, createKeyStore, createProviderQuotas, createQuota } from '../../src/quotas/index.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis.js'
import { QUOTA_SPEC, sleep } from './helpers.js'

const HOUR = 3_600_000
const req = { method: 'GET', url: new URL('https://api.example.com/v2/items') }

describe.skipIf(!redisAvailable())('quotas and keys on Redis (real redis-server on 127.0.0.1)', () => {
  let redis: RedisServer
  const closing: Array<() => Promise<unknown>> = []
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    for (const close of closing.reverse()) await close().catch(() => undefined)
    await redis.stop()
  })
  const quota = (options: Parameters<typeof createQuota>[0], key = 'fleet-key'): ClientQuota => {
    const q = createQuota({ redis: redis.url, ...options }, key)
    closing.push(() => q.close())
    return q
  }
  const gateway = async (options: Omit<Parameters<typeof startMockGateway>[0], 'spec'>): Promise<MockGateway> => {
    const g = await startMockGateway({ spec: QUOTA_SPEC, ...options })
    closing.push(() => g.close())
    return g
  }

  it('two clients sharing Redis share the windows', async () => {
    const a = quota({ windows: ['3/2s'], queue: { maxWaitMs: 0 } }, 'shared-1')
    const b = quota({ windows: ['3/2s'], queue: { maxWaitMs: 0 } }, 'shared-1')
    await a.acquire(req)
    await b.acquire(req)
    await a.acquire(req)
    await expect(b.acquire(req)).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED', details: { window: '3/2s' } })
    expect((await a.state())[0]).toMatchObject({ remaining: 0 })
  })

  it('a 429 seen by one client pauses the other', async () => {
    const a = quota({ windows: ['100/1s'] }, 'shared-2')
    const b = quota({ windows: ['100/1s'] }, 'shared-2')
    await a.rateLimited(1500)
    const t0 = Date.now()
    await b.acquire(req)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400)
  })

  it('a client you pass your own ioredis to leaves it open', async () => {
    const own = new Redis(redis.url)
    const q = createQuota({ windows: ['5/1s'], redis: own }, 'shared-3')
    await q.acquire(req)
    await q.close()
    expect(await own.ping()).toBe('PONG')
    own.disconnect()
  })

  it('two gateway instances share the per-key counts', async () => {
    const keyStore = createKeyStore({ redis: redis.url, keyPrefix: 'test:keys:counts' })
    closing.push(() => keyStore.close())
    const { keyId, secret } = await keyStore.issue({ kind: 'secret' })
    const quotas = { windows: ['3/5s'], redis: redis.url, keyPrefix: 'test:pq:counts' }
    const g1 = await gateway({ keyStore, quotas })
    const g2 = await gateway({ keyStore, quotas })
    const auth = { scheme: 'ost', apiKey: keyId, apiSecret: secret as string } as const
    const c1 = createClient({ baseURL: g1.url, auth, retry: false })
    const c2 = createClient({ baseURL: g2.url, auth, retry: false })
    await c1.get('/items')
    await c2.get('/items')
    const third = await c1.get('/items')
    expect(third.headers['x-ratelimit-remaining']).toBe('0')
    await expect(c2.get('/items')).rejects.toMatchObject({ details: { status: 429 } })
    expect((await g1.usage())[keyId]?.windows?.[0]).toMatchObject({ used: 4, remaining: 0 })
  })

  it('a revoked key is refused at once by both gateway instances (revoked through the admin API)', async () => {
    const keyStore = createKeyStore({ redis: redis.url, keyPrefix: 'test:keys:revoke' })
    const otherView = createKeyStore({ redis: redis.url, keyPrefix: 'test:keys:revoke' })
    closing.push(() => keyStore.close(), () => otherView.close())
    const g1 = await gateway({ keyStore, admin: true })
    const g2 = await gateway({ keyStore: otherView })
    const admin = g1.admin as { url: string; token: string }
    const issue = await fetch(`${admin.url}/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin.token}` }, body: JSON.stringify({ kind: 'api-key', keyId: 'partner-a', label: 'Partner A' }) })
    expect(issue.status).toBe(201)
    const issued = (await issue.json()) as { keyId: string; secret: string }
    const c1 = createClient({ baseURL: g1.url, auth: { scheme: 'api-key', key: issued.secret }, retry: false })
    const c2 = createClient({ baseURL: g2.url, auth: { scheme: 'api-key', key: issued.secret }, retry: false })
    expect((await c1.get('/keyed')).status).toBe(200)
    expect((await c2.get('/keyed')).status).toBe(200)
    expect(g2.requests.at(-1)?.principal).toBe('partner-a')
    const revoked = await fetch(`${admin.url}/keys/partner-a/revoke`, { method: 'POST', headers: { authorization: `Bearer ${admin.token}` } })
    expect(revoked.status).toBe(204)
    await expect(c1.get('/keyed')).rejects.toMatchObject({ details: { status: 401 } })
    await expect(c2.get('/keyed')).rejects.toMatchObject({ details: { status: 401 } })
    expect(g2.requests.at(-1)?.code).toBe('ERR_CREDENTIALS_UNKNOWN')
    const listed = (await (await fetch(`${admin.url}/keys`, { headers: { authorization: `Bearer ${admin.token}` } })).json()) as Array<Record<string, unknown>>
    expect(listed).toEqual([expect.objectContaining({ keyId: 'partner-a', kind: 'api-key', label: 'Partner A', credentials: [], revokedAt: expect.any(Number), lastUsedAt: expect.any(Number) })])
    expect(JSON.stringify(listed)).not.toContain(issued.secret)
    expect((await fetch(`${admin.url}/keys`)).status).toBe(401)
    expect((await fetch(`${admin.url}/keys`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401)
  })

  it('a rolled secret keeps working on both instances until its grace ends, and not after (injected clock)', async () => {
    let t = Date.parse('2026-12-01T00:00:00Z')
    const now = () => t
    const keyStore = createKeyStore({ redis: redis.url, keyPrefix: 'test:keys:roll', now })
    closing.push(() => keyStore.close())
    const g1 = await gateway({ keyStore, now })
    const g2 = await gateway({ keyStore, now })
    const { keyId, secret: oldSecret } = await keyStore.issue({ kind: 'secret', keyId: 'ost-partner' })
    const client = (baseURL: string, apiSecret: string) => createClient({ baseURL, auth: { scheme: 'ost', apiKey: keyId, apiSecret }, now, retry: false })
    const rolled = await keyStore.roll(keyId) // the default grace: 24 h
    expect(rolled.graceEndsAt).toBe(t + 24 * HOUR)
    t += 24 * HOUR - 60_000
    for (const g of [g1, g2]) {
      expect((await client(g.url, oldSecret as string).get('/items')).status).toBe(200)
      expect((await client(g.url, rolled.secret as string).get('/items')).status).toBe(200)
    }
    t += 60_001
    for (const g of [g1, g2]) {
      await expect(client(g.url, oldSecret as string).get('/items')).rejects.toMatchObject({ details: { status: 401 } })
      expect((await client(g.url, rolled.secret as string).get('/items')).status).toBe(200)
    }
    const info = await keyStore.get(keyId)
    expect(info?.credentials).toHaveLength(1)
  })

  it('an OAuth 1.0a key pair rolled with a 2 h grace (the store issues the key pair; the old private key signs until the grace ends)', async () => {
    let t = Date.parse('2026-12-01T00:00:00Z')
    const now = () => t
    const keyStore = createKeyStore({ redis: redis.url, keyPrefix: 'test:keys:oauth1', now })
    closing.push(() => keyStore.close())
    const g = await gateway({ keyStore, now })
    const first = await keyStore.issue({ kind: 'key-pair', keyId: 'ck!partner' })
    const second = await keyStore.roll('ck!partner', { graceMs: 2 * HOUR })
    const client = (pem: string) => createClient({ baseURL: g.url, auth: { scheme: 'oauth1', consumerKey: 'ck!partner', key: createPrivateKey(pem) }, now, retry: false })
    expect((await client(first.privateKey as string).get('/oauth1')).status).toBe(200)
    t += 2 * HOUR + 1
    await expect(client(first.privateKey as string).get('/oauth1')).rejects.toMatchObject({ details: { status: 401 } })
    expect((await client(second.privateKey as string).get('/oauth1')).status).toBe(200)
  })

  it('Basic and JWT bearer rows read the same store', async () => {
    const keyStore = createKeyStore({ redis: redis.url, keyPrefix: 'test:keys:rows' })
    closing.push(() => keyStore.close())
    const g = await gateway({ keyStore })
    const user = await keyStore.issue({ kind: 'secret', keyId: 'basic-user' })
    const app = await keyStore.issue({ kind: 'secret', keyId: 'jwt-app' })
    const basic = createClient({ baseURL: g.url, auth: { scheme: 'basic', username: 'basic-user', password: user.secret as string }, retry: false })
    const jwt = createClient({ baseURL: g.url, auth: { scheme: 'jwt-bearer', apiKey: 'jwt-app', secret: app.secret as string }, retry: false })
    expect((await basic.get('/basic')).status).toBe(200)
    expect((await jwt.get('/jwt')).status).toBe(200)
    await keyStore.revoke('basic-user')
    await expect(basic.get('/basic')).rejects.toMatchObject({ details: { status: 401 } })
  })

  it('Redis killed mid-run, fail-closed (the default): the fleet never exceeds the quota plus the calls in flight', async () => {
    await redis.restart()
    const keyStore = createKeyStore()
    const { keyId, secret } = await keyStore.issue({ kind: 'secret' })
    const g = await gateway({ keyStore, quotas: { windows: ['5/1s'] } })
    const clients = [1, 2, 3].map(() => {
      const q = quota({ windows: ['5/1s'], queue: { maxWaitMs: 5000 } }, 'kill-closed')
      return createClient({ baseURL: g.url, auth: { scheme: 'ost', apiKey: keyId, apiSecret: secret as string }, rateLimit: q, retry: false })
    })
    const inFlightBound = clients.length // one call in flight per client loop
    const errors: string[] = []
    let killedAt = 0
    let sentAfterKill = 0
    const stopAt = Date.now() + 3000
    const loop = async (api: (typeof clients)[number]) => {
      while (Date.now() < stopAt) {
        try {
          await api.get('/items')
          if (killedAt > 0) sentAfterKill++
        } catch (error) {
          errors.push((error as { code?: string }).code ?? 'unknown')
          await sleep(20)
        }
      }
    }
    const running = Promise.all(clients.map(loop))
    await sleep(1500)
    killedAt = Date.now()
    await redis.kill()
    await running
    expect(g.requests.filter((r) => r.status === 429)).toHaveLength(0)
    expect(g.requests.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(5)
    expect(sentAfterKill).toBeLessThanOrEqual(inFlightBound)
    expect(errors.length).toBeGreaterThan(0)
    expect(new Set(errors)).toEqual(new Set(['ERR_QUOTA_STORE_UNAVAILABLE']))
    await redis.restart()
  })

  it('Redis killed mid-run, onRedisDown "local": each of the fleet keeps 1/fleetSize of every window in memory', async () => {
    await redis.restart()
    const a = quota({ windows: ['6/2s'], onRedisDown: 'local', fleetSize: 3, queue: { maxWaitMs: 0 } }, 'kill-local')
    const b = quota({ windows: ['6/2s'], onRedisDown: 'local', fleetSize: 3, queue: { maxWaitMs: 0 } }, 'kill-local')
    await a.acquire(req)
    await redis.kill()
    let allowed = 0
    for (const q of [a, b]) {
      for (let i = 0; i < 5; i++) {
        try {
          await q.acquire(req)
          allowed++
        } catch (error) {
          expect(error).toMatchObject({ code: 'ERR_RATE_LIMITED' })
        }
      }
    }
    expect(allowed).toBe(4) // 2 each (6 / 3), whatever Redis had counted
    await redis.restart()
  })

  it('provider quotas on a Redis that is down refuse with 503 (fail closed)', async () => {
    await redis.restart()
    const quotas = createProviderQuotas({ windows: ['5/1s'], redis: redis.url, keyPrefix: 'test:pq:down' })
    closing.push(() => quotas.close())
    await sleep(100)
    expect((await quotas.check('p')).allowed).toBe(true)
    await redis.kill()
    await expect(quotas.check('p')).rejects.toBeDefined()
    await redis.restart()
  })
})
