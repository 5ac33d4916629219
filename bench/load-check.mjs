// Load check (not a test): N concurrent signed requests against the mock gateway backed by the Redis nonce
// store; prints requests/s, p50/p99 latency, false accepts and false rejects (both must be 0); replays all
// of them (all must be rejected); then compares the time to reject an unknown consumer with the time to
// reject a known consumer's bad signature (medians over 1 000 each; the ratio should be close to 1).
// Needs redis-server on PATH (it starts its own on 127.0.0.1). `npm run bench:load`. TOTAL / CONCURRENCY tune it.
import { spawn } from 'node:child_process'
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createOAuth1Signer } from '../dist/oauth1/index.js'
import { startMockGateway } from '../dist/testing/index.js'
import { createOAuth1Verifier, createRedisNonceStore } from '../dist/verify/index.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const TOTAL = Number(process.env.TOTAL ?? 10_000)
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50)
const key = createPrivateKey(readFileSync(join(ROOT, '../shared/keys/oauth1/private-key.pem')))

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port: p } = s.address()
    s.close(() => resolve(p))
  })
})
const dir = mkdtempSync(join(tmpdir(), 'apisign-load-'))
const redisProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
redisProcess.on('error', () => {
  console.error('redis-server is not installed (apt-get install redis-server)')
  process.exit(1)
})
for (let i = 0; i < 100; i++) {
  const ok = await new Promise((r) => new Socket().once('error', () => r(false)).connect(port, '127.0.0.1', function () { this.destroy(); r(true) }))
  if (ok) break
  await new Promise((r) => setTimeout(r, 50))
}

const store = createRedisNonceStore({ redis: `redis://127.0.0.1:${port}`, trustEmptyOnStart: true })
const verifier = createOAuth1Verifier({ consumers: { 'ck!load': { key: createPublicKey(key) } }, nonceStore: store })
const gateway = await startMockGateway({ spec: join(ROOT, 'openapi/payments-mini.yaml'), verifier })
const signer = createOAuth1Signer({ consumerKey: 'ck!load', key })
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
const target = new URL(gateway.url)

function send(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const req = request({ host: target.hostname, port: target.port, method, path, headers, agent }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

// Every 10th request is tampered after signing (body changed): it must be rejected.
const prepared = []
for (let i = 0; i < TOTAL; i++) {
  const body = JSON.stringify({ amount: i, currency: 'EUR', card: { pan: '5123456789012345' } })
  const signed = await signer.signAsync({ method: 'POST', url: `${gateway.url}/payments`, body })
  const tampered = i % 10 === 9
  prepared.push({ path: `${target.pathname}/payments`, headers: { authorization: signed.authorizationHeader, 'content-type': 'application/json' }, body: tampered ? body.replace('EUR', 'USD') : body, tampered })
}

async function runAll(list) {
  const results = new Array(list.length)
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < list.length) {
      const i = next++
      const p = list[i]
      results[i] = { ...(await send('POST', p.path, p.headers, p.body)), tampered: p.tampered }
    }
  }))
  return { results, seconds: (performance.now() - started) / 1000 }
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]
const first = await runAll(prepared)
const falseAccepts = first.results.filter((r) => r.tampered && r.status < 400).length
const falseRejects = first.results.filter((r) => !r.tampered && r.status >= 400).length
console.log(`load: ${TOTAL} signed POSTs (${TOTAL / 10} tampered), ${CONCURRENCY} concurrent, mock gateway + Redis nonce store`)
console.log(`  ${(TOTAL / first.seconds).toFixed(0)} requests/s, p50 ${pct(first.results.map((r) => r.ms), 50).toFixed(1)} ms, p99 ${pct(first.results.map((r) => r.ms), 99).toFixed(1)} ms`)
console.log(`  false accepts: ${falseAccepts}, false rejects: ${falseRejects}`)
const replay = await runAll(prepared.map((p) => ({ ...p, tampered: true })))
const replayAccepted = replay.results.filter((r) => r.status < 400).length
console.log(`replay of all ${TOTAL}: ${TOTAL - replayAccepted} rejected, ${replayAccepted} accepted`)

// Timing: unknown consumer vs known consumer with a bad signature (verifier only, no HTTP).
const timingVerifier = createOAuth1Verifier({ consumers: { 'ck!load': { key: createPublicKey(key) } } })
const stranger = createOAuth1Signer({ consumerKey: 'ck!stranger', key })
const impostor = createOAuth1Signer({ consumerKey: 'ck!load', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey })
async function median(make) {
  const times = []
  for (let i = 0; i < 1000; i++) {
    const s = make()
    const t = process.hrtime.bigint()
    await timingVerifier.verify({ method: 'GET', url: s.url, headers: { authorization: s.authorizationHeader } })
    times.push(Number(process.hrtime.bigint() - t) / 1000)
  }
  return pct(times, 50)
}
const url = 'https://sandbox.api.example.com/mini/payments/pay_1'
const unknown = await median(() => stranger.sign({ method: 'GET', url }))
const badSig = await median(() => impostor.sign({ method: 'GET', url }))
console.log(`reject timing (median of 1000): unknown consumer ${unknown.toFixed(0)} µs, bad signature ${badSig.toFixed(0)} µs, ratio ${(unknown / badSig).toFixed(2)}`)

await gateway.close()
await store.close()
agent.destroy()
redisProcess.kill('SIGKILL')
rmSync(dir, { recursive: true, force: true })
const ok = falseAccepts === 0 && falseRejects === 0 && replayAccepted === 0
console.log(ok ? 'OK: zero false accepts, zero false rejects, every replay rejected' : 'FAILED')
process.exitCode = ok ? 0 : 1
