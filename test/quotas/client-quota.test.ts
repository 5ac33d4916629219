// Client quotas in memory (issue 18, item 1): several windows, per operation, the bounded queue with its
// deadline, ERR_RATE_LIMITED naming the full window, the pause on 429, and every option validated.
import { afterEach, describe, expect, it } from 'vitest'
import { createClient, createFetch } from '../../src/http/index.js'
import { parseDuration } from '../../src/index.js'
import { createKeyStore, createQuota, defaultQuotaKey, parseWindows } from '../../src/quotas/index.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'
import { QUOTA_SPEC, sleep } from './helpers.js'

const url = new URL('https://api.example.com/v2/items')
const req = { method: 'GET', url }

describe('options are validated when the quota is built', () => {
  const bad: Array<[string, unknown]> = [
    ['NaN requests', { windows: [{ requests: Number.NaN, perMs: 1000 }] }],
    ['negative requests', { windows: [{ requests: -1, perMs: 1000 }] }],
    ['fractional requests', { windows: [{ requests: 1.5, perMs: 1000 }] }],
    ['NaN window', { windows: [{ requests: 5, perMs: Number.NaN }] }],
    ['Infinity window', { windows: [{ requests: 5, perMs: Number.POSITIVE_INFINITY }] }],
    ['zero window', { windows: [{ requests: 5, perMs: 0 }] }],
    ['string requests', { windows: [{ requests: '5', perMs: 1000 }] }],
    ['no windows', { windows: [] }],
    ['bad window text', { windows: ['5 per second'] }],
    ['bad duration unit', { windows: [{ requests: 5, per: '1w' }] }],
    ['two windows of one length', { windows: ['5/1s', '10/1000ms'] }],
    ['NaN marginMs', { windows: ['5/1s'], marginMs: Number.NaN }],
    ['negative maxWaitMs', { windows: ['5/1s'], queue: { maxWaitMs: -1 } }],
    ['zero maxWaiting', { windows: ['5/1s'], queue: { maxWaiting: 0 } }],
    ['NaN maxPauseMs', { windows: ['5/1s'], maxPauseMs: Number.NaN }],
    ['unknown onRedisDown', { windows: ['5/1s'], onRedisDown: 'open' }],
    ['local without fleetSize', { windows: ['5/1s'], redis: 'redis://127.0.0.1:1', onRedisDown: 'local' }],
    ['fractional fleetSize', { windows: ['5/1s'], fleetSize: 2.5 }],
    ['sub-second window on Redis', { windows: ['5/500ms'], redis: 'redis://127.0.0.1:1' }],
    ['bad operation', { windows: ['5/1s'], operations: { payments: ['1/1s'] } }],
    ['not a redis URL', { windows: ['5/1s'], redis: 'not a url' }],
  ]
  it.each(bad)('%s: TypeError', (_name, options) => {
    expect(() => createQuota(options as never, 'k')).toThrow(TypeError)
  })
  it('no key: TypeError', () => {
    expect(() => createQuota({ windows: ['5/1s'] })).toThrow(TypeError)
  })
  it('windows read as partners write them, shortest first', () => {
    expect(parseWindows(['5000/1d', { requests: 180, per: '15m' }, { requests: 5, perMs: 1000 }]).map((w) => w.label)).toEqual(['5/1s', '180/15m', '5000/1d'])
    expect(parseWindows('5/1s,5000/1d').map((w) => w.perMs)).toEqual([1000, 86_400_000])
    expect(parseDuration('24h')).toBe(86_400_000)
  })
  it('the default key names the consumer key or API key id, never a secret', () => {
    const base = new URL('https://api.example.com/v2')
    expect(defaultQuotaKey({ scheme: 'ost', apiKey: 'ak1', apiSecret: 's3cret' }, base)).toBe('ak1@api.example.com')
    expect(defaultQuotaKey({ scheme: 'api-key', key: 'the-key-itself' }, base)).toBe('api.example.com')
  })
})

describe('several windows in memory', () => {
  it('allows a window full at once, then waits for it to free', async () => {
    const quota = createQuota({ windows: ['3/1s'], marginMs: 0 }, 'k1')
    const t0 = Date.now()
    await Promise.all([1, 2, 3].map(() => quota.acquire(req)))
    expect(Date.now() - t0).toBeLessThan(200)
    await quota.acquire(req)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950)
  })

  it('past the deadline: ERR_RATE_LIMITED naming the full window and when it frees', async () => {
    const quota = createQuota({ windows: ['2/1s', '3/1d'], queue: { maxWaitMs: 0 } }, 'k2')
    await quota.acquire(req)
    await quota.acquire(req)
    const error = await quota.acquire(req).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_RATE_LIMITED', details: { window: '2/1s', requests: 2, perMs: 1000 } })
    expect((error as Error).message).toMatch(/2\/1s .* is full .* frees in \d+ ms/)
    const { freesAt, freesInMs } = (error as { details: { freesAt: number; freesInMs: number } }).details
    expect(freesInMs).toBeGreaterThan(0)
    expect(freesInMs).toBeLessThanOrEqual(1025)
    expect(freesAt).toBeGreaterThan(Date.now())
  })

  it('a call refused by the second window is given back to the first (the day is not eaten by refusals)', async () => {
    const quota = createQuota({ windows: ['10/1s', '2/1d'], queue: { maxWaitMs: 0 } }, 'k3')
    await quota.acquire(req)
    await quota.acquire(req)
    await expect(quota.acquire(req)).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED', details: { window: '2/1d' } })
    await expect(quota.acquire(req)).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED', details: { window: '2/1d' } })
    const [second, day] = await quota.state()
    expect(second?.used).toBe(2)
    expect(day?.used).toBeGreaterThanOrEqual(3)
    expect(day?.remaining).toBe(0)
  })

  it('per-operation windows count on top of the key (paths below the base URL, {param} templates)', async () => {
    const quota = createQuota({ windows: ['100/1s'], operations: { 'GET /items/{id}': ['1/1s'] }, queue: { maxWaitMs: 0 } }, 'k4')
    const base = new URL('https://api.example.com/v2')
    await quota.acquire({ method: 'GET', url: new URL('https://api.example.com/v2/items/1') }, base)
    await expect(quota.acquire({ method: 'GET', url: new URL('https://api.example.com/v2/items/2') }, base)).rejects.toMatchObject({ details: { window: '1/1s' } })
    await quota.acquire({ method: 'GET', url: new URL('https://api.example.com/v2/items') }, base)
    await quota.acquire({ method: 'POST', url: new URL('https://api.example.com/v2/items/3') }, base)
    expect((await quota.state())[0]?.used).toBe(3) // the refused call was given back to the key's window
  })

  it('the queue is bounded: past maxWaiting a call fails at once', async () => {
    const quota = createQuota({ windows: ['1/1s'], queue: { maxWaiting: 2, maxWaitMs: 5000 } }, 'k5')
    await quota.acquire(req)
    const waiting = [quota.acquire(req), quota.acquire(req)]
    const t0 = Date.now()
    await expect(quota.acquire(req)).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' })
    expect(Date.now() - t0).toBeLessThan(100)
    await Promise.all(waiting)
  })

  it('a call queued behind others gives up at its own deadline', async () => {
    const quota = createQuota({ windows: ['1/1s'], queue: { maxWaitMs: 300 } }, 'k6')
    await quota.acquire(req)
    const t0 = Date.now()
    const results = await Promise.allSettled([quota.acquire(req), quota.acquire(req)])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(Date.now() - t0).toBeLessThan(700)
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_RATE_LIMITED', details: { window: '1/1s' } })
  })

  it('a 429 with Retry-After pauses the key', async () => {
    const quota = createQuota({ windows: ['100/1s'] }, 'k7')
    await quota.rateLimited(1000)
    const t0 = Date.now()
    await quota.acquire(req)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900)
    await quota.rateLimited(undefined) // no Retry-After: nothing to share
    await quota.rateLimited(Number.NaN)
    const t1 = Date.now()
    await quota.acquire(req)
    expect(Date.now() - t1).toBeLessThan(100)
  })

  it('a pause past the deadline fails at once', async () => {
    const quota = createQuota({ windows: ['100/1s'], queue: { maxWaitMs: 100 } }, 'k8')
    await quota.rateLimited(5000)
    await expect(quota.acquire(req)).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' })
  })
})

describe('createClient({ rateLimit }) against the mock gateway as a provider', () => {
  let gateway: MockGateway | undefined
  afterEach(async () => {
    await gateway?.close()
    gateway = undefined
  })

  it('the client keeps under the gateway per-key quota: no 429, every call served, headers present', async () => {
    const keyStore = createKeyStore()
    const { keyId, secret } = await keyStore.issue({ kind: 'secret' })
    const events: Array<{ at: number; status: number }> = []
    gateway = await startMockGateway({ spec: QUOTA_SPEC, keyStore, quotas: { windows: ['4/1s'] }, usageLog: (e) => void events.push(e) })
    const api = createClient({ baseURL: gateway.url, auth: { scheme: 'ost', apiKey: keyId, apiSecret: secret as string }, rateLimit: { windows: ['4/1s'] } })
    const t0 = Date.now()
    const responses = await Promise.all(Array.from({ length: 10 }, () => api.get('/items')))
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000)
    expect(responses.every((r) => r.status === 200)).toBe(true)
    expect(gateway.requests.map((r) => r.status)).not.toContain(429)
    expect(responses[0]?.headers['x-ratelimit-limit']).toBe('4')
    expect(Number(responses[0]?.headers['x-ratelimit-remaining'])).toBeLessThanOrEqual(3)
    expect(Number(responses[0]?.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(1)
    const usage = await gateway.usage()
    expect(usage[keyId]).toMatchObject({ requests: 10, accepted: 10, rejected: 0, operations: { 'GET /items': { requests: 10 } } })
    expect(usage[keyId]?.bytesOut).toBeGreaterThan(0)
    expect(usage[keyId]?.windows?.[0]).toMatchObject({ window: { label: '4/1s' } })
    expect(events).toHaveLength(10)
    expect((await keyStore.get(keyId))?.lastUsedAt).toBeGreaterThanOrEqual(t0)
  })

  it('without a client quota the gateway answers 429 with Retry-After and X-RateLimit-*, counted by code', async () => {
    const keyStore = createKeyStore()
    const { keyId, secret } = await keyStore.issue({ kind: 'secret' })
    gateway = await startMockGateway({ spec: QUOTA_SPEC, keyStore, quotas: { windows: ['2/1s', '100/1d'], operations: { 'GET /limited': ['1/10s'] } } })
    const api = createClient({ baseURL: gateway.url, auth: { scheme: 'ost', apiKey: keyId, apiSecret: secret as string }, retry: false })
    await api.get('/limited')
    const refused = await api.get('/limited').catch((e: { response?: { status: number; headers: Record<string, string> } }) => e.response)
    expect(refused?.status).toBe(429)
    expect(refused?.headers['retry-after']).toMatch(/^(9|10)$/)
    expect(refused?.headers['x-ratelimit-limit']).toBe('1')
    expect(refused?.headers['x-ratelimit-remaining']).toBe('0')
    await api.get('/items') // the refused operation call was given back to the key's 2/1s window
    const third = await api.get('/items').catch((e: { response?: { status: number } }) => e.response)
    expect(third?.status).toBe(429)
    const usage = await gateway.usage()
    expect(usage[keyId]).toMatchObject({ requests: 4, accepted: 2, rejected: 2, rejectedByCode: { ERR_RATE_LIMITED: 2 } })
    expect(usage[keyId]?.operations['GET /limited']).toMatchObject({ requests: 2, rejected: 1 })
  })

  it('a 429 received pauses the client: the next call waits for Retry-After before it is signed', async () => {
    const keyStore = createKeyStore()
    const { keyId, secret } = await keyStore.issue({ kind: 'secret' })
    gateway = await startMockGateway({ spec: QUOTA_SPEC, keyStore, quotas: { operations: { 'GET /limited': ['1/1s'] } } })
    const api = createClient({ baseURL: gateway.url, auth: { scheme: 'ost', apiKey: keyId, apiSecret: secret as string }, retry: false, rateLimit: { windows: ['100/1s'] } })
    await api.get('/limited')
    await expect(api.get('/limited')).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' })
    const t0 = Date.now()
    await api.get('/items')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900)
  })

  it('createFetch({ rateLimit }) waits for the same quota (the quota sits on the pipeline, under both transports)', async () => {
    const keyStore = createKeyStore()
    const { keyId, secret } = await keyStore.issue({ kind: 'secret' })
    gateway = await startMockGateway({ spec: QUOTA_SPEC, keyStore, quotas: { windows: ['2/1s'] } })
    const signedFetch = createFetch({ baseURL: gateway.url, auth: { scheme: 'ost', apiKey: keyId, apiSecret: secret as string }, rateLimit: { windows: ['2/1s'] } })
    const t0 = Date.now()
    const responses = await Promise.all([1, 2, 3].map(() => signedFetch(`${(gateway as MockGateway).url}/items`)))
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200])
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000)
    expect(gateway.requests.map((r) => r.status)).not.toContain(429)
  })

  it('an unauthenticated call is counted as such, and no quota is taken for it', async () => {
    const keyStore = createKeyStore()
    gateway = await startMockGateway({ spec: QUOTA_SPEC, keyStore, quotas: { windows: ['1/1s'] } })
    const api = createClient({ baseURL: gateway.url, auth: { scheme: 'ost', apiKey: 'nobody', apiSecret: 'x'.repeat(32) }, retry: false })
    await expect(api.get('/items')).rejects.toMatchObject({ details: { status: 401 } })
    const usage = await gateway.usage()
    expect(usage['unauthenticated']).toMatchObject({ requests: 1, rejected: 1, rejectedByCode: { ERR_CREDENTIALS_UNKNOWN: 1 } })
    await sleep(0)
  })
})
