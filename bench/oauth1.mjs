// OAuth 1.0a signing benchmark: a 1 KB JSON POST, every case measured side by side in one run.
// Method (reference/oauth1.md §7): warm-up, then interleaved windows (each case in turn), median per case,
// ratios against the ceiling (raw crypto.sign with a cached KeyObject over the same base string) and
// against mastercard-oauth1-signer. Ratios, not absolute numbers, are comparable across machines.
// `npm run bench:oauth1`; BENCH_WINDOWS (default 7) and BENCH_WINDOW_MS (default 1000) tune it.
import { createPrivateKey, sign as cryptoSign } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import forge from 'node-forge'
import { execFileSync } from 'node:child_process'
import { createOAuth1Signer, signRequest } from '../dist/oauth1/index.js'

const require = createRequire(import.meta.url)
const OAuth = require('mastercard-oauth1-signer')
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const KEYS = join(ROOT, '../shared/keys/oauth1')
const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 7)
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 1000)

// The reference README's loader: PKCS#12 through node-forge, exported as a PEM string.
const p12 = forge.pkcs12.pkcs12FromAsn1(
  forge.asn1.fromDer(readFileSync(join(KEYS, 'keystore.p12'), 'binary')),
  false,
  'keystorepassword',
)
const bag = p12.getBags({ friendlyName: 'keyalias', bagType: forge.pki.oids.pkcs8ShroudedKeyBag }).friendlyName[0]
const readmePem = forge.pki.privateKeyToPem(bag.key)
const keyObject = createPrivateKey(readmePem)

const url = 'https://sandbox.api.mastercard.com/v1/payments?mode=sync'
const consumerKey = 'Xq3b-Lk9_Zr2Wm7Tn4Vp8Ys1Hd6Jf5Gc0Ba_Ue3Io9Py2Rt4!3f8a1c9e7b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d'
let body = JSON.stringify({ amount: 1000, currency: 'EUR', merchant: 'ACME', items: [] })
body = body.slice(0, -2) + `"${'x'.repeat(1024 - body.length - 2)}"]}`
if (Buffer.byteLength(body) !== 1024) throw new Error('body must be 1 KB')

const signer = createOAuth1Signer({ consumerKey, key: keyObject })
const sbs = signer.sign({ method: 'POST', url, body }).signatureBaseString
const sbsBytes = () => Buffer.from(sbs, 'utf8')

// Sanity: every case produces a verifiable header before anything is timed.
if (!OAuth.getAuthorizationHeader(url, 'POST', body, consumerKey, keyObject).startsWith('OAuth ')) throw new Error('reference failed')

const sync = {
  'ceiling: crypto.sign, KeyObject': () => cryptoSign('sha256', sbsBytes(), keyObject),
  'mastercard-oauth1-signer, README PEM': () => OAuth.getAuthorizationHeader(url, 'POST', body, consumerKey, readmePem),
  'mastercard-oauth1-signer, KeyObject': () => OAuth.getAuthorizationHeader(url, 'POST', body, consumerKey, keyObject),
  'apisign createOAuth1Signer (sync)': () => signer.sign({ method: 'POST', url, body }),
  'apisign signRequest, KeyObject (one-shot)': () => signRequest({ method: 'POST', url, body, consumerKey, key: keyObject }),
  'apisign signRequest, PEM string': () => signRequest({ method: 'POST', url, body, consumerKey, key: readmePem }),
}
const NON_RSA = process.env.APISIGN_BENCH_RSA_STUBBED === '1'

function runSync(fn) {
  let n = 0
  const end = performance.now() + WINDOW_MS
  while (performance.now() < end) {
    fn()
    n++
  }
  return n / (WINDOW_MS / 1000)
}

async function runAsync(inFlight) {
  let done = 0
  let stop = false
  const started = performance.now()
  await new Promise((resolve) => {
    let active = 0
    const launch = () => {
      active++
      signer.signAsync({ method: 'POST', url, body }).then(() => {
        active--
        done++
        if (!stop && performance.now() - started < WINDOW_MS) launch()
        else if (active === 0) resolve()
      })
    }
    for (let i = 0; i < inFlight; i++) launch()
  })
  stop = true
  return done / ((performance.now() - started) / 1000)
}

const cases = NON_RSA
  ? Object.entries(sync).map(([name, fn]) => [name, () => runSync(fn)])
  : [...Object.entries(sync).map(([name, fn]) => [name, () => runSync(fn)]), ...[1, 2, 4].map((k) => [`apisign signAsync, ${k} in flight`, () => runAsync(k)])]
const results = new Map(cases.map(([name]) => [name, []]))

// Warm-up: JIT and OpenSSL caches, each case briefly.
for (const fn of Object.values(sync)) for (let i = 0; i < 300; i++) fn()
for (let w = 0; w < WINDOWS; w++) {
  for (const [name, run] of cases) results.get(name).push(await run())
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}
const med = new Map([...results].map(([k, v]) => [k, median(v)]))
if (NON_RSA) {
  // This process runs with RSA replaced by the stand-in (bench/rsa-stub.mjs): what is left of each case,
  // minus the stand-in itself (the "ceiling" case here), is its non-RSA work. Printed as JSON for the parent.
  const stand = 1e6 / med.get('ceiling: crypto.sign, KeyObject')
  console.log(JSON.stringify(Object.fromEntries([...med].map(([k, ops]) => [k, 1e6 / ops - stand]))))
  process.exit(0)
}
const ceiling = med.get('ceiling: crypto.sign, KeyObject')
const readme = med.get('mastercard-oauth1-signer, README PEM')
const refKey = med.get('mastercard-oauth1-signer, KeyObject')
const ours = med.get('apisign createOAuth1Signer (sync)')
const oneShot = med.get('apisign signRequest, KeyObject (one-shot)')

// Each library's non-RSA work measured directly: the same cases in a separate process where crypto.sign
// and crypto.createSign are a SHA-256 stand-in (bench/rsa-stub.mjs), so no ratio hides it behind RSA.
const nonRsa = JSON.parse(execFileSync(process.execPath, ['--import', join(ROOT, 'bench/rsa-stub.mjs'), fileURLToPath(import.meta.url)], { env: { ...process.env, APISIGN_BENCH_RSA_STUBBED: '1' }, encoding: 'utf8' }))

console.log(`OAuth1 signing, 1 KB JSON POST, RSA-2048; ${WINDOWS} interleaved windows of ${WINDOW_MS} ms; Node ${process.version}`)
console.log('| case | ops/s (median) | µs/op | vs ceiling | vs reference README | vs reference KeyObject | non-RSA work (RSA stubbed) |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const [name, ops] of med) {
  const work = nonRsa[name]
  const shown = name.startsWith('ceiling') ? '0 (the stand-in)' : work === undefined ? '' : name.includes('README PEM') ? `${work.toFixed(1)} µs (its PEM parse is inside the stubbed sign)` : `${work.toFixed(1)} µs`
  console.log(
    `| ${name} | ${ops.toFixed(0)} | ${(1e6 / ops).toFixed(1)} | ${(ops / ceiling).toFixed(3)}x | ${(ops / readme).toFixed(2)}x | ${(ops / refKey).toFixed(3)}x | ${shown} |`,
  )
}
const refWork = nonRsa['mastercard-oauth1-signer, KeyObject']
const targets = [
  ['kept signer (createOAuth1Signer) >= 0.95x the ceiling', ours / ceiling >= 0.95, `${(ours / ceiling).toFixed(3)}x`],
  ['one-shot signRequest (KeyObject) >= 0.95x the ceiling', oneShot / ceiling >= 0.95, `${(oneShot / ceiling).toFixed(3)}x`],
  ['kept signer non-RSA work <= 0.6x the reference\'s (KeyObject)', nonRsa['apisign createOAuth1Signer (sync)'] <= 0.6 * refWork, `${(nonRsa['apisign createOAuth1Signer (sync)'] / refWork).toFixed(2)}x (${nonRsa['apisign createOAuth1Signer (sync)'].toFixed(1)} vs ${refWork.toFixed(1)} µs)`],
  ['one-shot signRequest non-RSA work <= 0.6x the reference\'s (KeyObject)', nonRsa['apisign signRequest, KeyObject (one-shot)'] <= 0.6 * refWork, `${(nonRsa['apisign signRequest, KeyObject (one-shot)'] / refWork).toFixed(2)}x (${nonRsa['apisign signRequest, KeyObject (one-shot)'].toFixed(1)} vs ${refWork.toFixed(1)} µs)`],
  ['ours ahead of mastercard-oauth1-signer with a KeyObject', ours > refKey, `${(ours / refKey).toFixed(3)}x`],
  ['ours >= 3x mastercard-oauth1-signer as its README shows', ours / readme >= 3, `${(ours / readme).toFixed(2)}x`],
]
for (const [what, ok, value] of targets) console.log(`${ok ? 'MET ' : 'MISS'} ${what}: ${value}`)
