// One instance of the fleet (test/quotas/fleet.test.ts): a separate process sending as fast as its
// concurrency allows through createClient({ rateLimit }) on the shared Redis, from the built package.
import { createClient } from '../../dist/http/index.js'

const cfg = JSON.parse(process.env.APISIGN_FLEET_WORKER ?? '{}')
const api = createClient({
  baseURL: cfg.baseURL,
  auth: { scheme: 'ost', apiKey: cfg.apiKey, apiSecret: cfg.apiSecret },
  retry: false,
  rateLimit: { windows: cfg.windows, redis: cfg.redis, key: cfg.quotaKey, queue: { maxWaiting: 100, maxWaitMs: 60_000 } },
})
const results = []
await new Promise((resolve) => setTimeout(resolve, Math.max(0, cfg.startAt - Date.now())))
const stopAt = cfg.startAt + cfg.durationMs
async function loop() {
  while (Date.now() < stopAt) {
    const sent = Date.now()
    try {
      const r = await api.get(cfg.path)
      results.push({ sent, status: r.status })
    } catch (error) {
      results.push({ sent, status: error?.details?.status ?? 0, code: error?.code, retryAfter: error?.response?.headers?.['retry-after'] })
    }
  }
}
await Promise.all(Array.from({ length: cfg.concurrency }, loop))
process.stdout.write(`${JSON.stringify({ results })}\n`)
process.exit(0)
