// Per-request cost of the signed transports (issue 15 item 5): a 1 KB JSON POST, signed (OAuth1 RSA-2048)
// through createClient (axios) and createFetch (fetch), against plain axios and plain fetch of the same
// request, sequential and at 50 in flight. The sink server runs in its own process, so its work is not
// charged to either side. The added cost per request is compared with the signing cost alone (the kept
// signer in a tight loop, same process).
// Goals: added cost <= 1.10x the signing cost, sequential and at 50 concurrent, both transports; and at
// 50 concurrent, the default (async: 'auto') >= 1.3x the throughput of async: false.
// BENCH_WINDOWS (default 5) and BENCH_WINDOW_MS (default 1000) tune it.
import { spawn } from 'node:child_process'
import { createPrivateKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Agent } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import axios from 'axios'
import { createClient, createFetch } from '../dist/http/index.js'
import { createOAuth1Signer } from '../dist/oauth1/index.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 5)
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 1000)
const CONCURRENCY = 50
const key = createPrivateKey(readFileSync(join(HERE, '../../shared/keys/oauth1/private-key.pem')))

const sink = spawn(process.execPath, ['-e', `
  const server = require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end('{"ok":true}') }) })
  server.keepAliveTimeout = 60000
  server.listen(0, '127.0.0.1', () => console.log(server.address().port))
`], { stdio: ['ignore', 'pipe', 'inherit'] })
const port = await new Promise((resolve) => sink.stdout.once('data', (d) => resolve(Number(String(d).trim()))))
const origin = `http://127.0.0.1:${port}`

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
const auth = (async) => ({ scheme: 'oauth1', consumerKey: 'ck!bench', key, ...(async === undefined ? {} : { async }) })
const plainAxios = axios.create({ baseURL: origin, httpAgent: agent })
const signedAxios = createClient({ baseURL: origin, auth: auth(undefined), axios: { httpAgent: agent } })
const signedAxiosInline = createClient({ baseURL: origin, auth: auth(false), axios: { httpAgent: agent } })
const signedFetch = createFetch({ baseURL: origin, auth: auth(undefined) })
const signedFetchInline = createFetch({ baseURL: origin, auth: auth(false) })
const signer = createOAuth1Signer({ consumerKey: 'ck!bench', key })
const body = { amount: 1000, currency: 'EUR', note: 'x'.repeat(970) }
const text = JSON.stringify(body)
const path = '/v1/payments?mode=sync'
const json = { 'content-type': 'application/json' }

const cases = {
  'plain axios': () => plainAxios.post(path, body),
  'apisign createClient (axios), async: auto': () => signedAxios.post(path, body),
  'apisign createClient (axios), async: false': () => signedAxiosInline.post(path, body),
  'plain fetch': async () => (await fetch(`${origin}${path}`, { method: 'POST', body: text, headers: json })).arrayBuffer(),
  // The floor for a signed fetch: the same signature made inline right before a plain fetch, no pipeline.
  'plain fetch, signed by hand': async () => {
    const signed = signer.sign({ method: 'POST', url: `${origin}${path}`, body: text, contentType: 'application/json' })
    return (await fetch(`${origin}${path}`, { method: 'POST', body: text, headers: { ...json, authorization: signed.authorizationHeader } })).arrayBuffer()
  },
  'apisign createFetch, async: auto': async () => (await signedFetch(path, { method: 'POST', body: text, headers: json })).arrayBuffer(),
  'apisign createFetch, async: false': async () => (await signedFetchInline(path, { method: 'POST', body: text, headers: json })).arrayBuffer(),
}

/** µs per request over one window, with `inFlight` requests kept in flight. */
async function window(fn, inFlight) {
  let done = 0
  const end = performance.now() + WINDOW_MS
  const started = performance.now()
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (performance.now() < end) {
      await fn()
      done++
    }
  }))
  return ((performance.now() - started) * 1000) / done
}
function signingAlone() {
  let n = 0
  const end = performance.now() + WINDOW_MS
  while (performance.now() < end) {
    signer.sign({ method: 'POST', url: `${origin}${path}`, body: text })
    n++
  }
  return (WINDOW_MS * 1000) / n
}

for (const fn of Object.values(cases)) for (let i = 0; i < 200; i++) await fn()
const samples = {}
const signing = []
for (let w = 0; w < WINDOWS; w++) {
  signing.push(signingAlone())
  for (const inFlight of [1, CONCURRENCY]) for (const [name, fn] of Object.entries(cases)) (samples[`${name}|${inFlight}`] ??= []).push(await window(fn, inFlight))
}
sink.kill()
agent.destroy()
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const sign = med(signing)
const m = (name, inFlight) => med(samples[`${name}|${inFlight}`])
console.log(`Signed request cost, 1 KB JSON POST over loopback keep-alive, sink in its own process, ${WINDOWS} interleaved windows of ${WINDOW_MS} ms; Node ${process.version}`)
console.log(`signing alone (kept signer, tight loop): ${sign.toFixed(1)} µs`)
console.log('| case | sequential µs/request | added vs plain | 50 in flight µs/request | added vs plain |')
console.log('| --- | ---: | ---: | ---: | ---: |')
const plainOf = (name) => (name.includes('fetch') ? 'plain fetch' : 'plain axios')
for (const name of Object.keys(cases)) {
  const seq = m(name, 1)
  const par = m(name, CONCURRENCY)
  const added = (v, plain) => (name.startsWith('plain') && !name.includes('by hand') ? '' : `${(v - plain).toFixed(1)} µs = ${((v - plain) / sign).toFixed(2)}x signing`)
  console.log(`| ${name} | ${seq.toFixed(1)} | ${added(seq, m(plainOf(name), 1))} | ${par.toFixed(1)} | ${added(par, m(plainOf(name), CONCURRENCY))} |`)
}
const byHand = m('plain fetch, signed by hand', 1) - m('plain fetch', 1)
console.log(`signing inline in the request flow (plain fetch, signed by hand), sequential: ${byHand.toFixed(1)} µs = ${(byHand / sign).toFixed(2)}x the tight-loop signing cost; createFetch adds ${(m('apisign createFetch, async: auto', 1) - m('plain fetch, signed by hand', 1)).toFixed(1)} µs over it`)
for (const name of ['apisign createClient (axios), async: auto', 'apisign createFetch, async: auto']) {
  for (const inFlight of [1, CONCURRENCY]) {
    const added = m(name, inFlight) - m(plainOf(name), inFlight)
    console.log(`${added <= sign * 1.1 ? 'MET ' : 'MISS'} ${name}, ${inFlight === 1 ? 'sequential' : `${CONCURRENCY} in flight`}: added ${(added / sign).toFixed(2)}x the signing cost (goal <= 1.10x)`)
  }
  const inline = name.replace('async: auto', 'async: false')
  const ratio = m(inline, CONCURRENCY) / m(name, CONCURRENCY)
  console.log(`${ratio >= 1.3 ? 'MET ' : 'MISS'} ${name}, ${CONCURRENCY} in flight: ${ratio.toFixed(2)}x the throughput of async: false (goal >= 1.3x)`)
}
