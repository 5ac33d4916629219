// OAuth 2.0 (FAPI 2.0 + DPoP), side by side in one run (interleaved windows, medians, ratios):
// - per-request overhead with the token cached: apisign's oauth2 applier (token from the cache, one DPoP
//   proof: htm, htu, iat, jti, ath, nonce) vs the cost of that proof's signature alone (node:crypto, the
//   ceiling) vs oauth4webapi's own resource-request proof (DPoP handle, WebCrypto), for ES256 and PS256.
//   Goal: apisign <= 1.1x the signature alone.
// - token fetches per 1,000 requests at 50 concurrent on a cold cache (goal: one per token lifetime).
// `npm run bench:oauth2`; BENCH_WINDOWS x BENCH_WINDOW_MS (default 5 x 400 ms) sets the rounds.
import { constants, createPublicKey, generateKeyPairSync, sign, webcrypto } from 'node:crypto'
import * as oauth from 'oauth4webapi'
import { oauth2Auth } from '../dist/schemes/index.js'
import { createAuthorizationServer } from '../dist/testing/index.js'

const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 5)
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 400)
const ORIGIN = 'https://as.example.com'
const RS = 'https://api.example.com/mini'
const clientKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey

// An authorization server answering in-process: the benchmark measures the client, not sockets.
function inProcessFetch(as, counter) {
  return async (input, init) => {
    counter.n++
    const url = String(input)
    const headers = new Headers(init?.headers)
    const answer = await as.handle({ method: init?.method ?? 'GET', url, headers: Object.fromEntries(headers), body: Buffer.from(String(init?.body ?? '')) })
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json', ...answer.headers } })
  }
}
const server = () => createAuthorizationServer({ clients: { bench: { keys: { k1: clientKey } } }, dpopNonce: false, tokenLifetimeSec: 3600 }, ORIGIN, RS)

async function toCryptoPair(privateKey, alg) {
  const algorithm = alg === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'RSA-PSS', hash: 'SHA-256' }
  return {
    privateKey: await webcrypto.subtle.importKey('pkcs8', privateKey.export({ format: 'der', type: 'pkcs8' }), algorithm, false, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', createPublicKey(privateKey).export({ format: 'der', type: 'spki' }), algorithm, true, ['verify']),
  }
}

const request = { method: 'POST', url: new URL(`${RS}/payments?mode=sync`), headers: {}, body: Buffer.from('{"amount":1000}') }
const context = { now: Date.now, baseURL: new URL(RS) }

async function casesFor(alg) {
  const dpopKey = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  const as = server()
  const auth = oauth2Auth({ clientId: 'bench', issuer: ORIGIN, tokenUrl: as.tokenEndpoint, key: clientKey, kid: 'k1', dpop: { key: dpopKey }, fetch: inProcessFetch(as, { n: 0 }) })
  const warm = await auth.apply(request, context)
  const proofLength = String(warm.headers.DPoP).length
  const accessToken = String(warm.headers.Authorization).slice(5)
  // The same signing input size as a real proof (header.payload of the warm proof).
  const input = Buffer.from(String(warm.headers.DPoP).split('.').slice(0, 2).join('.'))
  const options = alg === 'ES256' ? { key: dpopKey, dsaEncoding: 'ieee-p1363' } : { key: dpopKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
  const handle = oauth.DPoP({}, await toCryptoPair(dpopKey, alg))
  const capture = async () => new Response(null, { status: 204 })
  return {
    name: alg,
    proofLength,
    impls: {
      'signature alone (node:crypto)': () => sign('sha256', input, options),
      'apisign apply (cached token + proof)': () => auth.apply(request, context),
      'oauth4webapi proof (protectedResourceRequest)': () => oauth.protectedResourceRequest(accessToken, 'POST', request.url, new Headers(), null, { DPoP: handle, [oauth.customFetch]: capture }),
    },
  }
}

// Interleaved at a fine grain (a batch of each case in turn, many rounds) so that load from other
// processes hits every case alike; per case, the median of its per-round µs/op.
const BATCH = 20
const ROUNDS = Math.max(1, Math.round((WINDOWS * WINDOW_MS) / 15))
async function batch(fn) {
  const start = performance.now()
  for (let i = 0; i < BATCH; i++) await fn()
  return ((performance.now() - start) * 1000) / BATCH
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

console.log(`OAuth 2.0 + DPoP, ${ROUNDS} interleaved rounds of ${BATCH} operations per case; Node ${process.version}`)
const rows = []
for (const alg of ['ES256', 'PS256']) {
  const { impls } = await casesFor(alg)
  const samples = Object.fromEntries(Object.keys(impls).map((k) => [k, []]))
  const rounds = alg === 'PS256' ? Math.max(1, Math.round(ROUNDS / 8)) : ROUNDS
  for (let r = 0; r < rounds; r++) for (const [k, fn] of Object.entries(impls)) samples[k].push(await batch(fn))
  const alone = median(samples['signature alone (node:crypto)'])
  for (const k of Object.keys(impls)) {
    const us = median(samples[k])
    rows.push({ alg, case: k, 'µs/op': us.toFixed(1), 'ops/s': Math.round(1e6 / us), 'cost vs signature alone': `${(us / alone).toFixed(2)}x` })
  }
}
console.table(rows)

// Token fetches per 1,000 requests at 50 concurrent, starting from a cold cache.
{
  const counter = { n: 0 }
  const as = server()
  const auth = oauth2Auth({ clientId: 'bench', issuer: ORIGIN, tokenUrl: as.tokenEndpoint, key: clientKey, kid: 'k1', fetch: inProcessFetch(as, counter) })
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < 1000) {
        next++
        await auth.apply(request, context)
      }
    }),
  )
  const ms = performance.now() - started
  console.log(`token fetches for 1,000 requests at 50 concurrent (cold cache, token lifetime 3600 s): ${counter.n} (goal 1); ${ms.toFixed(0)} ms in all`)
}
