// The fleet of issue 18, item 3: three client processes sharing one key and a 5/s quota on Redis, against
// one mock gateway enforcing 5/s for that key, send as fast as they can for 10 s: no 429, and together at
// least 90 % of the quota. Then a 429 seen by one of them pauses all three. (Runs the built package: npm
// test builds first.)
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKeyStore } from '../../src/quotas/index.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis.js'
import { REPO_ROOT } from '../helpers/shared.js'
import { QUOTA_SPEC } from './helpers.js'

interface WorkerResult {
  results: Array<{ sent: number; status: number; code?: string; retryAfter?: string }>
}

function worker(config: Record<string, unknown>): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'test/quotas/fleet-worker.mjs')], { env: { ...process.env, APISIGN_FLEET_WORKER: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => void (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => void (err += c.toString()))
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as WorkerResult) : reject(new Error(`worker exited ${code}: ${err.slice(0, 2000)}`))))
  })
}

// The workers import dist/: npm test builds first (pretest); a missing build is a failure, never a skip.
if (!existsSync(join(REPO_ROOT, 'dist/http/index.js'))) throw new Error('dist/ is missing: run npm run build (npm test does it first)')

describe.skipIf(!redisAvailable())('a fleet of three processes sharing one key on Redis', () => {
  let redis: RedisServer
  let gateway: MockGateway | undefined
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await gateway?.close()
    await redis.stop()
  })

  it('together they hold the 5/s quota for 10 s: no 429, at least 90 % of it used', async () => {
    const keyStore = createKeyStore()
    const { keyId, secret } = await keyStore.issue({ kind: 'secret' })
    const arrivals: Array<{ at: number; status: number }> = []
    gateway = await startMockGateway({ spec: QUOTA_SPEC, keyStore, quotas: { windows: ['5/1s'] }, usageLog: (e) => void arrivals.push(e) })
    const durationMs = 10_000
    const startAt = Date.now() + 1500 // every process started and connected
    const config = { baseURL: gateway.url, apiKey: keyId, apiSecret: secret, windows: ['5/1s'], redis: redis.url, quotaKey: 'fleet', startAt, durationMs, concurrency: 4, path: '/items' }
    const results = await Promise.all([worker(config), worker(config), worker(config)])
    const statuses = arrivals.map((a) => a.status)
    expect(statuses.filter((s) => s === 429)).toEqual([])
    expect(results.flatMap((r) => r.results).filter((r) => r.status !== 200)).toEqual([])
    const first = Math.min(...arrivals.map((a) => a.at))
    const inRun = arrivals.filter((a) => a.at < first + durationMs && a.status === 200).length
    // 5 per second for 10 s is 50; each process got a share.
    expect(inRun).toBeGreaterThanOrEqual(45)
    expect(inRun).toBeLessThanOrEqual(50)
    for (const r of results) expect(r.results.length).toBeGreaterThan(5)
    await gateway.close()
    gateway = undefined
  })

  it('a 429 seen by one of them pauses all three for its Retry-After', async () => {
    const keyStore = createKeyStore()
    const { keyId, secret } = await keyStore.issue({ kind: 'secret' })
    const arrivals: Array<{ at: number; status: number; path: string }> = []
    // Only /limited is limited at the gateway, and only one process calls it: the others learn of the 429
    // through the shared pause alone.
    gateway = await startMockGateway({ spec: QUOTA_SPEC, keyStore, quotas: { operations: { 'GET /limited': ['1/5s'] } }, usageLog: (e) => void arrivals.push(e) })
    const durationMs = 7000
    const startAt = Date.now() + 1500
    const base = { baseURL: gateway.url, apiKey: keyId, apiSecret: secret, windows: ['40/1s'], redis: redis.url, quotaKey: 'fleet-pause', startAt, durationMs }
    const [limited] = await Promise.all([
      worker({ ...base, startAt: startAt + 1000, durationMs: durationMs - 1000, concurrency: 1, path: '/limited' }),
      worker({ ...base, concurrency: 2, path: '/items' }),
      worker({ ...base, concurrency: 2, path: '/items' }),
    ])
    const first429 = arrivals.find((a) => a.status === 429)
    expect(first429).toBeDefined()
    const t = (first429 as { at: number }).at
    // The pause is the Retry-After the gateway sent (up to 5 s: the /limited call waits its turn in the
    // shared 40/s quota, so the gateway's 5 s window may be partly over).
    const retryAfterMs = Number(limited.results.find((r) => r.status === 429)?.retryAfter) * 1000
    expect(retryAfterMs).toBeGreaterThanOrEqual(2000)
    const items = arrivals.filter((a) => a.path.endsWith('/items'))
    expect(items.filter((a) => a.at < t).length).toBeGreaterThan(5)
    // Nothing from the other two from shortly after the 429 (calls already past their quota check, and the
    // notice's delay on a busy machine) to just before the pause ends; unpaused they send about 40 a second.
    expect(items.filter((a) => a.at > t + 400 && a.at < t + retryAfterMs - 150)).toEqual([])
    expect(items.filter((a) => a.at >= t + retryAfterMs - 150).length).toBeGreaterThan(5)
    await gateway.close()
    gateway = undefined
  })
})
