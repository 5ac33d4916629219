// Client quotas (issue 18, item 4), side by side in one run against one throwaway redis-server:
// - the overhead of one quota check per request (apisign's acquire: pause flag + every window, refunds)
//   in memory and on Redis, against one bare ioredis round trip (GET) and rate-limiter-flexible's own
//   consume on the same Redis (the library alone); goal <= 1.5x one round trip;
// - the fleet: three processes sharing one key and a 5/s quota on Redis against one mock gateway that
//   enforces 5/s, as fast as they can: achieved vs allowed rate, and 429s (should be none).
// `npm run bench:ratelimit`; BENCH_WINDOWS (default 5), BENCH_OPS (per window, default 2000),
// BENCH_FLEET_MS (default 10000).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { RateLimiterRedis } from 'rate-limiter-flexible'

const SELF = fileURLToPath(import.meta.url)

if (process.argv[2] === '--worker') {
  // One instance of the fleet.
  const { createClient } = await import('../dist/http/index.js')
  const cfg = JSON.parse(process.env.APISIGN_BENCH_WORKER)
  const api = createClient({
    baseURL: cfg.baseURL,
    auth: { scheme: 'ost', apiKey: cfg.apiKey, apiSecret: cfg.apiSecret },
    retry: false,
    rateLimit: { windows: ['5/1s'], redis: cfg.redis, key: 'bench-fleet', queue: { maxWaiting: 100, maxWaitMs: 60_000 } },
  })
  await new Promise((r) => setTimeout(r, Math.max(0, cfg.startAt - Date.now())))
  let ok = 0
  let refused = 0
  const loop = async () => {
    while (Date.now() < cfg.startAt + cfg.durationMs) {
      try {
        await api.get('/items')
        ok++
      } catch {
        refused++
      }
    }
  }
  await Promise.all([loop(), loop(), loop(), loop()])
  process.stdout.write(JSON.stringify({ ok, refused }))
  process.exit(0)
}

const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 5)
const OPS = Number(process.env.BENCH_OPS ?? 2000)
const FLEET_MS = Number(process.env.BENCH_FLEET_MS ?? 10_000)

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
const port = await freePort()
const dir = mkdtempSync(join(tmpdir(), 'apisign-bench-redis-'))
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
for (let i = 0; ; i++) {
  const up = await new Promise((resolve) => {
    const s = new Socket()
    s.once('error', () => resolve(false))
    s.connect(port, '127.0.0.1', () => {
      s.destroy()
      resolve(true)
    })
  })
  if (up) break
  if (i > 100) throw new Error('redis-server did not start (apt-get install redis-server)')
  await new Promise((r) => setTimeout(r, 50))
}
const url = `redis://127.0.0.1:${port}`

const { createQuota, createKeyStore } = await import('../dist/quotas/index.js')
const { startMockGateway } = await import('../dist/testing/index.js')

const bare = new Redis(url)
await bare.set('bench:k', '1')
const libLimiter = new RateLimiterRedis({ storeClient: new Redis(url), points: 1e9, duration: 3600, keyPrefix: 'bench:lib' })
const request = { method: 'GET', url: new URL('https://api.example.com/v2/items') }
const memory = createQuota({ windows: ['1000000000/1d'] }, 'bench-memory')
const redis1 = createQuota({ windows: ['1000000000/1h'], redis: url }, 'bench-redis-1')
const redis2 = createQuota({ windows: ['1000000000/1h', '1000000000/1d'], redis: url }, 'bench-redis-2')
await redis1.acquire(request)
await redis2.acquire(request)

const cases = {
  'ioredis GET round trip': () => bare.get('bench:k'),
  'rate-limiter-flexible consume (Redis)': () => libLimiter.consume('k'),
  'apisign acquire, memory': () => memory.acquire(request),
  'apisign acquire, Redis, 1 window': () => redis1.acquire(request),
  'apisign acquire, Redis, 2 windows': () => redis2.acquire(request),
}
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
for (let w = 0; w < WINDOWS; w++) {
  for (const [name, fn] of Object.entries(cases)) {
    for (let i = 0; i < 200; i++) await fn()
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < OPS; i++) await fn()
    samples[name].push(Number(process.hrtime.bigint() - t0) / 1000 / OPS)
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rtt = median(samples['ioredis GET round trip'])
console.log(`quota check per request, sequential, median of ${WINDOWS} windows x ${OPS} ops (Node ${process.version})`)
for (const [name, xs] of Object.entries(samples)) console.log(`  ${name.padEnd(40)} ${median(xs).toFixed(1).padStart(7)} us   ${(median(xs) / rtt).toFixed(2)}x one round trip`)

// The fleet.
const keyStore = createKeyStore()
const { keyId, secret } = await keyStore.issue({ kind: 'secret' })
const spec = {
  openapi: '3.0.3',
  info: { title: 'bench', version: '1' },
  servers: [{ url: 'https://api.example.com/v2' }],
  paths: { '/items': { get: { security: [{ ost: [] }], responses: { 200: { description: 'ok', content: { 'application/json': { example: { ok: true } } } } } } } },
  components: { securitySchemes: { ost: { type: 'apiKey', in: 'query', name: 'api_signature', 'x-apisign-scheme': 'ost' } } },
}
const arrivals = []
const gateway = await startMockGateway({ spec, keyStore, quotas: { windows: ['5/1s'] }, usageLog: (e) => arrivals.push(e) })
const startAt = Date.now() + 1500
const config = { baseURL: gateway.url, apiKey: keyId, apiSecret: secret, redis: url, startAt, durationMs: FLEET_MS }
const workers = await Promise.all(
  [1, 2, 3].map(
    () =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [SELF, '--worker'], { env: { ...process.env, APISIGN_BENCH_WORKER: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'inherit'] })
        let out = ''
        child.stdout.on('data', (d) => (out += d))
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}`))))
      }),
  ),
)
const first = Math.min(...arrivals.map((a) => a.at))
const inRun = arrivals.filter((a) => a.at < first + FLEET_MS)
const accepted = inRun.filter((a) => a.status === 200).length
const allowed = 5 * (FLEET_MS / 1000)
const okTimes = inRun.filter((a) => a.status === 200).map((a) => a.at)
// Sustained: calls after the first window's, over the time from the first call to the last one.
const sustained = (okTimes.length - 5) / ((Math.max(...okTimes) - first) / 1000)
console.log(`fleet: 3 processes x 4 concurrent calls, one key, 5/s on Redis, ${FLEET_MS / 1000} s`)
console.log(`  sustained ${sustained.toFixed(2)}/s of 5/s allowed (${((sustained / 5) * 100).toFixed(1)} %; each window lasts 1 s + the 25 ms margin + the time to the answer of its first call)`)
console.log(`  accepted ${accepted} of ${allowed} allowed (${((accepted / allowed) * 100).toFixed(1)} %), ${arrivals.filter((a) => a.status === 429).length} x 429, per process ${workers.map((w) => w.ok).join(' / ')}`)

await gateway.close()
for (const q of [memory, redis1, redis2]) await q.close()
bare.disconnect()
libLimiter.client.disconnect()
server.kill('SIGKILL')
rmSync(dir, { recursive: true, force: true })
process.exit(0)
