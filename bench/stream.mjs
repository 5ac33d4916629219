// Streamed uploads (issue 15 item 3): a large file signed (OAuth1, body hash by streaming) and sent by
// streaming through createClient and createFetch, against a plain node:http pipeline of the same bytes.
// Each case runs in its own process (peak RSS growth is that process's, sampled every 10 ms); the sink
// server runs in another process and discards what it reads.
// Goals: < 100 MB RSS growth at 1 GB, and >= 0.8x the plain pipeline's throughput.
// BENCH_STREAM_MB (default 1024) sets the size; BENCH_RUNS (default 3) the runs per case (median).
import { spawn } from 'node:child_process'
import { createPrivateKey } from 'node:crypto'
import { closeSync, createReadStream, existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const MB = Number(process.env.BENCH_STREAM_MB ?? 1024)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
let FILE = join(tmpdir(), `apisign-bench-stream-${MB}mb.bin`)

async function sink() {
  const child = spawn(process.execPath, ['-e', `
    const http = require('node:http')
    const server = http.createServer((req, res) => {
      let n = 0
      req.on('data', (c) => { n += c.length })
      req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ bytes: n })) })
    })
    server.listen(0, '127.0.0.1', () => console.log(server.address().port))
  `], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))))
  return { origin: `http://127.0.0.1:${port}`, close: () => child.kill() }
}

async function runCase(name, origin) {
  const { createClient, createFetch, fileBody } = await import('../dist/http/index.js')
  const key = createPrivateKey(readFileSync(join(HERE, '../../shared/keys/oauth1/private-key.pem')))
  const auth = { scheme: 'oauth1', consumerKey: 'ck!bench', key }
  const size = () => statSync(FILE).size
  const cases = {
    'plain node:http pipeline': () =>
      new Promise((resolve, reject) => {
        const req = request(`${origin}/upload`, { method: 'PUT', headers: { 'content-length': size(), 'content-type': 'application/octet-stream' } }, (res) => {
          let text = ''
          res.on('data', (c) => (text += c))
          res.on('end', () => resolve(JSON.parse(text).bytes))
        })
        req.on('error', reject)
        // The same 4 MiB reads apisign's fileBody makes, so both sides do the same work.
        pipeline(createReadStream(FILE, { highWaterMark: 4 * 1024 * 1024 }), req).catch(reject)
      }),
    'plain fetch, streamed body': async () => {
      const r = await fetch(`${origin}/upload`, { method: 'PUT', body: Readable.toWeb(createReadStream(FILE, { highWaterMark: 4 * 1024 * 1024 })), duplex: 'half', headers: { 'content-length': String(size()), 'content-type': 'application/octet-stream' } })
      return (await r.json()).bytes
    },
    'apisign createClient, fileBody (axios)': async () => {
      const api = createClient({ baseURL: origin, auth, timeout: 600_000 })
      return (await api.put('/upload', fileBody(FILE), { headers: { 'content-type': 'application/octet-stream' } })).data.bytes
    },
    'apisign createFetch, fileBody (fetch)': async () => {
      const signedFetch = createFetch({ baseURL: origin, auth, timeout: 600_000, rejections: 'throw' })
      return (await (await signedFetch('/upload', { method: 'PUT', body: fileBody(FILE), headers: { 'content-type': 'application/octet-stream' } })).json()).bytes
    },
  }
  // One small request first, through the same stack (a service has made requests before its upload):
  // the first fetch of a process loads and warms undici, which is not what this measures.
  const small = join(tmpdir(), `apisign-bench-stream-warm-${process.pid}.bin`)
  writeFileSync(small, 'warm')
  const realFile = FILE
  FILE = small
  await cases[name]()
  FILE = realFile
  rmSync(small)
  global.gc?.()
  const base = process.memoryUsage.rss()
  let peak = base
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10)
  const started = performance.now()
  const bytes = await cases[name]()
  const seconds = (performance.now() - started) / 1000
  clearInterval(timer)
  peak = Math.max(peak, process.memoryUsage.rss())
  if (bytes !== size()) throw new Error(`${name}: the sink got ${bytes} bytes, not ${size()}`)
  console.log(JSON.stringify({ seconds, growthMB: (peak - base) / 1048576 }))
}

if (process.argv[2] === '--case') {
  await runCase(process.argv[3], process.argv[4])
  process.exit(0)
}

if (!existsSync(FILE) || statSync(FILE).size !== MB * 1048576) {
  const fd = openSync(FILE, 'w')
  const chunk = Buffer.alloc(1048576)
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 131) & 0xff
  for (let i = 0; i < MB; i++) writeSync(fd, chunk)
  closeSync(fd)
}
const server = await sink()
const names = ['plain node:http pipeline', 'plain fetch, streamed body', 'apisign createClient, fileBody (axios)', 'apisign createFetch, fileBody (fetch)']
const results = Object.fromEntries(names.map((n) => [n, []]))
for (let r = 0; r < RUNS; r++) {
  for (const name of names) {
    const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--case', name, server.origin], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    const code = await new Promise((resolve) => child.on('close', resolve))
    if (code !== 0) throw new Error(`${name} failed`)
    results[name].push(JSON.parse(out))
  }
}
server.close()
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const m = Object.fromEntries(names.map((n) => [n, { mbps: MB / med(results[n].map((x) => x.seconds)), growth: Math.max(...results[n].map((x) => x.growthMB)) }]))
const plain = m['plain node:http pipeline'].mbps
console.log(`Streamed upload of ${MB} MB over loopback (sink in its own process), each case in its own process, median of ${RUNS}; Node ${process.version}`)
console.log('| case | MB/s | vs plain pipeline | peak RSS growth |')
console.log('| --- | ---: | ---: | ---: |')
for (const n of names) console.log(`| ${n} | ${m[n].mbps.toFixed(0)} | ${(m[n].mbps / plain).toFixed(2)}x | ${m[n].growth.toFixed(1)} MB |`)
// The fetch transport is also compared with plain fetch of the same stream: what undici itself costs.
const plainFetch = m['plain fetch, streamed body']
console.log(`apisign createFetch vs plain fetch: ${(m['apisign createFetch, fileBody (fetch)'].mbps / plainFetch.mbps).toFixed(2)}x the throughput, RSS growth ${m['apisign createFetch, fileBody (fetch)'].growth.toFixed(1)} MB vs ${plainFetch.growth.toFixed(1)} MB`)
for (const n of names.slice(2)) {
  console.log(`${m[n].growth < 100 ? 'MET ' : 'MISS'} ${n}: peak RSS growth ${m[n].growth.toFixed(1)} MB (goal < 100 MB)`)
  console.log(`${m[n].mbps / plain >= 0.8 ? 'MET ' : 'MISS'} ${n}: ${(m[n].mbps / plain).toFixed(2)}x the plain pipeline's throughput (goal >= 0.8x; the body is read twice, once to hash and once to send)`)
}
