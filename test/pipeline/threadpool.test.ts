// Issue 15 item 4: `async: 'auto'` counts requests in flight over the whole attempt (transport entry to
// response), so overlapping traffic signs in the libuv threadpool. Threadpool signatures are counted by
// watching node:crypto's sign/verify jobs through async_hooks (observed, not patched).
import { createHook } from 'node:async_hooks'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, createFetch } from '../../src/http/index.js'
import { SIGNATURE_METHODS, signBaseString, verifyBaseStringAsync } from '../../src/oauth1/index.js'
import { startMockGateway } from '../../src/testing/index.js'
import { join } from 'node:path'
import { REPO_ROOT, readShared } from '../helpers/shared.js'
import { startVerifyingServer, verifyingResponder } from '../helpers/verifying-server.js'

const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const publicKey = createPublicKey(key)

/**
 * Count node:crypto sign/verify jobs that ran in the threadpool while `run` ran. Node creates a SIGNREQUEST
 * async resource for every sign or verify, inline ones included; only a threadpool job calls back, so its
 * `before` hook fires and an inline one's never does.
 */
async function counting<T>(run: () => Promise<T>): Promise<{ jobs: number; result: T }> {
  const pending = new Set<number>()
  let jobs = 0
  const hook = createHook({
    init(id, type) {
      if (type === 'SIGNREQUEST') pending.add(id)
    },
    before(id) {
      if (pending.delete(id)) jobs++
    },
  }).enable()
  try {
    const result = await run()
    return { jobs, result }
  } finally {
    hook.disable()
  }
}

let server: Awaited<ReturnType<typeof startVerifyingServer>>
beforeAll(async () => {
  // Answers after 20 ms, so 50 requests fired together are all in flight at once.
  server = await startVerifyingServer((req, res, i) => setTimeout(() => verifyingResponder(req, res, i), 20))
})
afterAll(() => server.close())

const transports = {
  axios: (async: boolean | 'auto' | undefined) => {
    const api = createClient({ baseURL: server.origin, auth: { scheme: 'oauth1', consumerKey: 'ck!pool', key, ...(async === undefined ? {} : { async }) } })
    return async (path: string) => (await api.get(path)).status
  },
  fetch: (async: boolean | 'auto' | undefined) => {
    const signedFetch = createFetch({ baseURL: server.origin, auth: { scheme: 'oauth1', consumerKey: 'ck!pool', key, ...(async === undefined ? {} : { async }) } })
    return async (path: string) => (await signedFetch(path)).status
  },
}

for (const [name, make] of Object.entries(transports)) {
  describe(`${name}: where RSA runs`, () => {
    it("50 requests in flight under the default async: 'auto' sign in the threadpool", async () => {
      server.received.length = 0
      const get = make(undefined)
      const { jobs, result } = await counting(() => Promise.all(Array.from({ length: 50 }, (_, i) => get(`/v1/items/${i}`))))
      expect(result.every((s) => s === 200)).toBe(true)
      expect(server.received.every((r) => r.valid)).toBe(true)
      // The first request may find itself alone and sign inline; every one that overlaps goes to the pool.
      expect(jobs).toBeGreaterThanOrEqual(49)
    })

    it('one request at a time signs inline (the lowest latency), and async: false never uses the pool', async () => {
      const get = make(undefined)
      const sequential = await counting(async () => {
        for (let i = 0; i < 5; i++) await get(`/v1/seq/${i}`)
      })
      expect(sequential.jobs).toBe(0)
      const inline = make(false)
      const concurrent = await counting(() => Promise.all(Array.from({ length: 20 }, (_, i) => inline(`/v1/inline/${i}`))))
      expect(concurrent.jobs).toBe(0)
    })

    it('async: true always uses the pool', async () => {
      const get = make(true)
      const { jobs } = await counting(async () => {
        for (let i = 0; i < 3; i++) await get(`/v1/pool/${i}`)
      })
      expect(jobs).toBe(3)
    })
  })
}

describe('the verifier’s async path', () => {
  const sbs = 'GET&https%3A%2F%2Fapi.example.com%2Fv1&oauth_nonce%3Dn'
  const method = SIGNATURE_METHODS['RSA-SHA256']
  it('verifyBaseStringAsync verifies in the threadpool and agrees with the inline path', async () => {
    const signature = signBaseString(sbs, method, { key })
    const { jobs, result } = await counting(async () => [
      await verifyBaseStringAsync(sbs, signature, method, { key: publicKey }),
      await verifyBaseStringAsync(`${sbs}x`, signature, method, { key: publicKey }),
      await verifyBaseStringAsync(sbs, Buffer.from(signature, 'base64'), method, { key: publicKey }),
    ])
    expect(result).toEqual([true, false, true])
    expect(jobs).toBe(3)
  })

  it('the mock gateway verifies OAuth1 in the threadpool', async () => {
    const gateway = await startMockGateway({ spec: join(REPO_ROOT, 'openapi/payments-mini.yaml'), consumers: { 'ck!pool': { key: publicKey } } })
    try {
      const api = createClient({ baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!pool', key, async: false } })
      const { jobs, result } = await counting(() => api.post('/payments', { amount: 1000, currency: 'EUR', card: { pan: '5123456789012345', expiry: '12/30' } }))
      expect(result.status).toBe(201)
      expect(jobs).toBe(1)
    } finally {
      await gateway.close()
    }
  })
})
