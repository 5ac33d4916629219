// Key + secret schemes, side by side in one run (interleaved windows, medians, ratios):
// - OST request signing and verifying: apisign vs the official SDK's algorithm (qs 6 stringify with
//   brackets and localeCompare, %20 -> +, HMAC-SHA256 hex) and the platform verifier's (qs.parse, re-stringify,
//   compare). The SDK itself is not on npm (404), so its algorithm is run here with the library it uses.
// - HS256 JWT sign and verify: apisign vs jose (the reference JOSE library).
// - OST webhook verify: apisign (constant time, list of secrets, freshness window) vs the SDK's indexOf check.
// `npm run bench:schemes`; BENCH_WINDOWS (default 5), BENCH_WINDOW_MS (default 400).
import { createHmac } from 'node:crypto'
import * as jose from 'jose'
import qs from 'qs'
import { createOstVerifier, signJwt, signOstRequest, signWebhook, verifyJwt, verifyWebhook } from '../dist/schemes/index.js'

const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 5)
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 400)
const NOW = 1_700_000_000_000
const KEY = '65e20fcfce72f4c34546338a70518478'
const SECRET = 'f07f94340ab66045634d7505385a53e4ed12f7d9792a40798f60fa9a95adb3e0'
const params = { limit: 10, statuses: ['CREATED', 'SUBMITTED', 'SUCCESS'], meta_property: { name: 'gift card', type: 'user_to_user', details: 'thank you' }, to: '0xabc', amount: '100', ids: ['a', 'b', 'c', 'd'] }

// The SDK's algorithm (ost-sdk-js 2.2.3 lib/request.js), with qs as it uses it.
function sdkSign(resource, input) {
  const p = { ...input, api_key: KEY, api_request_timestamp: Math.round(NOW / 1000), api_signature_kind: 'OST1-HMAC-SHA256' }
  const query = qs.stringify(p, { arrayFormat: 'brackets', sort: (a, b) => a.localeCompare(b) }).replace(/%20/g, '+')
  const signature = createHmac('sha256', SECRET).update(`${resource}?${query}`).digest('hex')
  return `${query}&api_signature=${signature}`
}
// The platform verifier's algorithm (platform-api lib/validateApiSignature), minus its database lookups.
const alphabetical = (a, b) => (/^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) - Number(b) : a.localeCompare(b))
function platformVerify(resource, query) {
  const p = qs.parse(query)
  const given = p.api_signature
  delete p.api_signature
  const canonical = qs.stringify(p, { arrayFormat: 'brackets', sort: alphabetical }).replace(/%20/g, '+')
  return createHmac('sha256', SECRET).update(`${resource}?${canonical}`).digest('hex') === given
}

const ours = signOstRequest({ method: 'GET', resource: '/transactions', params, apiKey: KEY, apiSecret: SECRET, nowMs: NOW, keyOrder: 'sdk' })
if (ours.signedQuery !== sdkSign('/transactions', params)) throw new Error('apisign and the SDK algorithm disagree')
const verifier = createOstVerifier({ keys: { [KEY]: SECRET }, now: () => NOW + 1000 })
const signedUrl = `https://api.example.com/transactions?${ours.signedQuery}`
if (!(await verifier.verify({ method: 'GET', url: signedUrl, headers: {} })).ok || !platformVerify('/transactions', ours.signedQuery)) throw new Error('verifiers disagree')

const JWT_SECRET = 'original-hs256-secret-of-32-bytes!!'
const joseKey = new TextEncoder().encode(JWT_SECRET)
const claims = { resource: '*', action: '*', user_id: '*', api_key: KEY }
const token = signJwt({ secret: JWT_SECRET, payload: claims, nowMs: NOW, onWarning: () => undefined })
const joseToken = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(joseKey)
if (token !== joseToken) throw new Error('apisign and jose tokens differ')

const rawBody = JSON.stringify({ id: 'evt_1', topic: 'transactions/success', data: { transaction: { id: 'tx-1', status: 'SUCCESS', amount: '100' } } })
const ts = String(Math.round(NOW / 1000))
const whSig = signWebhook({ secret: SECRET, timestamp: ts, version: 'v2', rawBody })
const sdkWebhook = () => `${whSig},${'0'.repeat(64)}`.indexOf(createHmac('sha256', SECRET).update(`${ts}.v2.${rawBody}`).digest('hex')) >= 0

const cases = {
  'OST sign': {
    reference: () => sdkSign('/transactions', params),
    apisign: () => signOstRequest({ method: 'GET', resource: '/transactions', params, apiKey: KEY, apiSecret: SECRET, nowMs: NOW }),
  },
  'OST verify': {
    reference: () => platformVerify('/transactions', ours.signedQuery),
    apisign: () => verifier.verify({ method: 'GET', url: signedUrl, headers: {} }),
  },
  'JWT HS256 sign': {
    reference: () => new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(joseKey),
    apisign: () => signJwt({ secret: JWT_SECRET, payload: claims, nowMs: NOW, onWarning: () => undefined }),
  },
  'JWT HS256 verify': {
    reference: () => jose.jwtVerify(token, joseKey, { algorithms: ['HS256'] }),
    apisign: () => verifyJwt(token, { secrets: [JWT_SECRET], nowMs: NOW }),
  },
  'webhook verify (2 signatures)': {
    reference: sdkWebhook,
    apisign: () => verifyWebhook({ secrets: [SECRET], timestamp: ts, version: 'v2', signature: `${whSig},${'0'.repeat(64)}`, rawBody, nowMs: NOW }),
  },
}

async function measure(fn) {
  let n = 0
  const start = performance.now()
  while (performance.now() - start < WINDOW_MS) {
    for (let i = 0; i < 50; i++) await fn()
    n += 50
  }
  return n / ((performance.now() - start) / 1000)
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

console.log(`key + secret schemes, ${WINDOWS} interleaved windows of ${WINDOW_MS} ms; Node ${process.version}`)
const rows = []
for (const [name, impls] of Object.entries(cases)) {
  const samples = { reference: [], apisign: [] }
  for (let w = 0; w < WINDOWS; w++) for (const k of ['reference', 'apisign']) samples[k].push(await measure(impls[k]))
  const ref = median(samples.reference)
  const ours = median(samples.apisign)
  rows.push({ case: name, 'reference ops/s': Math.round(ref), 'apisign ops/s': Math.round(ours), 'apisign vs reference': `${(ours / ref).toFixed(2)}x` })
}
console.table(rows)
