// HSM signing vs node:crypto, side by side in one run: the same RSA-2048 key (../shared/keys/oauth1) in a
// SoftHSM2 token initialised for this run (temp SOFTHSM2_CONF) and as a KeyObject. Measures raw signing
// throughput and signed requests through createClient against a loopback server, 1 and 16 in flight.
// Goal (issue 17): the session pool keeps both cores busy, >= 1.6x the 1-in-flight rate at 16 in flight.
// Needs softhsm2 (apt-get install softhsm2) and pkcs11js (a dev dependency).
import { execFileSync } from 'node:child_process'
import { createPrivateKey, sign } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, createServer } from 'node:http'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const KEY = join(dirname(fileURLToPath(import.meta.url)), '../../shared/keys/oauth1/private-key.pem')
const MODULE = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'].find((p) => existsSync(p))
if (MODULE === undefined) throw new Error('libsofthsm2.so not found: apt-get install softhsm2')
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 1000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 4)

// A token for this run, before the module is first loaded (SoftHSM reads SOFTHSM2_CONF on C_Initialize).
const dir = mkdtempSync(join(tmpdir(), 'apisign-bench-hsm-'))
mkdirSync(join(dir, 'tokens'))
writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`)
process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf')
process.env.BENCH_HSM_PIN = '246810'
const util = (...args) => execFileSync('softhsm2-util', args, { stdio: 'ignore' })
util('--init-token', '--free', '--label', 'bench', '--so-pin', '13579135', '--pin', process.env.BENCH_HSM_PIN)
util('--import', KEY, '--token', 'bench', '--label', 'signing', '--id', '01', '--pin', process.env.BENCH_HSM_PIN)

const { openPkcs11Signer, createKeySigner } = await import('../dist/signers/index.js')
const { createClient } = await import('../dist/http/index.js')
const key = createPrivateKey(readFileSync(KEY))
const hsm = await openPkcs11Signer({ module: MODULE, token: 'bench', label: 'signing', pinEnv: 'BENCH_HSM_PIN', maxSessions: SESSIONS })
const software = createKeySigner(key)
const data = Buffer.from('POST&https%3A%2F%2Fapi.example.com%2Fv1%2Fpayments&' + 'x'.repeat(400))
if (!Buffer.from(await hsm.sign(data)).equals(sign('sha256', data, key))) throw new Error('the token signature differs from node:crypto')

/**
 * Operations per second with `inFlight` callers each running `fn` back to back for the window, and how many
 * cores this process kept busy meanwhile (user + system CPU time over wall time, threadpool included).
 */
async function rate(fn, inFlight) {
  let n = 0
  const end = performance.now() + WINDOW_MS
  const worker = async () => {
    while (performance.now() < end) {
      await fn()
      n++
    }
  }
  const started = performance.now()
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: inFlight }, worker))
  const wall = performance.now() - started
  const used = process.cpuUsage(cpu)
  return { rate: (n * 1000) / wall, cores: (used.user + used.system) / 1000 / wall }
}

const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => res.end('{"ok":true}'))
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const origin = `http://127.0.0.1:${server.address().port}`
const agent = new Agent({ keepAlive: true, maxSockets: 16 })
const body = { amount: 1000, currency: 'EUR', note: 'x'.repeat(900) }
const viaKey = createClient({ baseURL: origin, auth: { scheme: 'oauth1', consumerKey: 'ck!bench', key, async: true }, axios: { httpAgent: agent } })
const viaHsm = createClient({ baseURL: origin, auth: { scheme: 'oauth1', consumerKey: 'ck!bench', key: hsm }, axios: { httpAgent: agent } })
const unsigned = createClient({ baseURL: origin, auth: { apply: async () => ({ headers: {} }) }, axios: { httpAgent: agent } })

const cases = {
  'node:crypto sign (threadpool)': () => new Promise((resolve, reject) => sign('sha256', data, key, (e, s) => (e ? reject(e) : resolve(s)))),
  'createKeySigner (software Signer)': () => software.sign(data),
  [`SoftHSM PKCS#11 signer (${SESSIONS} sessions)`]: () => hsm.sign(data),
  'client, unsigned (transport floor)': () => unsigned.post('/v1/payments', body),
  'client, OAuth1 with the KeyObject': () => viaKey.post('/v1/payments', body),
  'client, OAuth1 with the key in SoftHSM': () => viaHsm.post('/v1/payments', body),
}
for (const fn of Object.values(cases)) for (let i = 0; i < 100; i++) await fn() // warm-up

console.log(`signers: ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? 4}, window ${WINDOW_MS} ms x ${ROUNDS} rounds (medians); other processes on the machine add noise`)
// Rounds interleave the cases (each round runs every case once at 1 and at 16 in flight), and each figure
// is the median of its rounds, so a burst of load from other processes does not favour one side.
const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, { one: [], sixteen: [], coresOne: [], coresSixteen: [] }]))
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of Object.entries(cases)) {
    const a = await rate(fn, 1)
    const b = await rate(fn, 16)
    samples[name].one.push(a.rate)
    samples[name].sixteen.push(b.rate)
    samples[name].coresOne.push(a.cores)
    samples[name].coresSixteen.push(b.cores)
  }
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]
const results = {}
for (const [name, m] of Object.entries(samples)) {
  const one = median(m.one)
  const sixteen = median(m.sixteen)
  results[name] = { one, sixteen }
  console.log(
    `${name.padEnd(48)} 1 in flight ${one.toFixed(0).padStart(6)}/s (${median(m.coresOne).toFixed(2)} cores)   16 in flight ${sixteen.toFixed(0).padStart(6)}/s (${median(m.coresSixteen).toFixed(2)} cores)   x${(sixteen / one).toFixed(2)}`,
  )
}
const r = (n) => results[n]
const hsmName = `SoftHSM PKCS#11 signer (${SESSIONS} sessions)`
console.log('')
console.log(`SoftHSM / node:crypto signing rate: 1 in flight ${(r(hsmName).one / r('node:crypto sign (threadpool)').one).toFixed(2)}x, 16 in flight ${(r(hsmName).sixteen / r('node:crypto sign (threadpool)').sixteen).toFixed(2)}x`)
console.log(`SoftHSM 16-in-flight / 1-in-flight: ${(r(hsmName).sixteen / r(hsmName).one).toFixed(2)}x (goal >= 1.6x)`)
const perRequest = (n, k) => 1000 / r(n)[k]
for (const k of ['one', 'sixteen']) {
  const label = k === 'one' ? '1 in flight' : '16 in flight'
  console.log(
    `per-request cost, ${label}: unsigned ${perRequest('client, unsigned (transport floor)', k).toFixed(3)} ms, KeyObject +${(perRequest('client, OAuth1 with the KeyObject', k) - perRequest('client, unsigned (transport floor)', k)).toFixed(3)} ms, SoftHSM +${(perRequest('client, OAuth1 with the key in SoftHSM', k) - perRequest('client, unsigned (transport floor)', k)).toFixed(3)} ms`,
  )
}
await hsm.close()
server.close()
agent.destroy()
rmSync(dir, { recursive: true, force: true })
