// JWE benchmark: encrypt, decrypt and round trip at 1 KB, 100 KB and 1 MB of JSON, side by side in one
// run: raw node:crypto with cached KeyObjects (the ceiling), jose, mastercard-client-encryption, apisign.
// Every case starts from a JS object and ends with one (JSON stringify/parse included), whole-payload
// mapping ($ -> $), a fresh CEK per message. Interleaved windows, medians, ratios. mastercard-client-
// encryption rewrites the object it is given, so each call gets a fresh copy: every library is handed the
// same copy (timed), so none is charged work the others skip.
// `npm run bench:encryption`; BENCH_WINDOWS (default 5), BENCH_WINDOW_MS (default 600).
import { createCipheriv, createDecipheriv, createPrivateKey, privateDecrypt, publicEncrypt, randomBytes, constants, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as jose from 'jose'
import { createEncryption } from '../dist/encryption/index.js'

const require = createRequire(import.meta.url)
const { JweEncryption } = require('mastercard-client-encryption')
const KEYS = join(dirname(fileURLToPath(import.meta.url)), '../../shared/keys/encryption')
const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 5)
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 600)

const cert = new X509Certificate(readFileSync(join(KEYS, 'certificate.pem')))
const publicKey = cert.publicKey
const privateKey = createPrivateKey(readFileSync(join(KEYS, 'private-key-pkcs8.pem')))
const config = {
  mode: 'JWE',
  paths: [{ path: '/resource', toEncrypt: [{ element: '$', obj: '$' }], toDecrypt: [{ element: '$', obj: '$' }] }],
  encryptedValueFieldName: 'encryptedData',
  encryptionCertificate: join(KEYS, 'certificate.pem'),
  privateKey: join(KEYS, 'private-key-pkcs8.pem'),
}
const ours = createEncryption(config, { keyFilePermissions: 'ignore' })
const ref = new JweEncryption(config)

function payload(bytes) {
  const items = []
  let size = 2
  while (size < bytes - 80) {
    const item = { id: items.length, pan: '5123456789012345', name: 'Zoë Example', amount: 1234.5, tags: ['a', 'b'] }
    size += JSON.stringify(item).length + 1
    items.push(item)
  }
  return { items }
}

// The ceiling: what a hand-written node:crypto JWE with cached KeyObjects costs.
const header = Buffer.from(JSON.stringify({ kid: 'k', cty: 'application/json', alg: 'RSA-OAEP-256', enc: 'A256GCM' })).toString('base64url')
function rawEncrypt(obj) {
  const cek = randomBytes(32)
  const iv = randomBytes(12)
  const ek = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek)
  const c = createCipheriv('aes-256-gcm', cek, iv)
  c.setAAD(Buffer.from(header))
  const ct = Buffer.concat([c.update(JSON.stringify(obj)), c.final()])
  return { encryptedData: `${header}.${ek.toString('base64url')}.${iv.toString('base64url')}.${ct.toString('base64url')}.${c.getAuthTag().toString('base64url')}` }
}
function rawDecrypt(body) {
  const [h, ek, iv, ct, tag] = body.encryptedData.split('.')
  const cek = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(ek, 'base64url'))
  const d = createDecipheriv('aes-256-gcm', cek, Buffer.from(iv, 'base64url'))
  d.setAAD(Buffer.from(h))
  d.setAuthTag(Buffer.from(tag, 'base64url'))
  return JSON.parse(Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString())
}

const impls = {
  'node:crypto (ceiling)': { enc: rawEncrypt, dec: rawDecrypt },
  apisign: {
    enc: (obj) => ours.encrypt({ url: '/resource', body: obj }).body,
    dec: (body) => ours.decrypt({ url: '/resource', body }).body,
  },
  jose: {
    enc: async (obj) => ({ encryptedData: await new jose.CompactEncrypt(new TextEncoder().encode(JSON.stringify(obj))).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'application/json' }).encrypt(publicKey) }),
    dec: async (body) => JSON.parse(new TextDecoder().decode((await jose.compactDecrypt(body.encryptedData, privateKey)).plaintext)),
  },
  'mastercard-client-encryption': {
    enc: (obj) => ref.encrypt('/resource', {}, obj).body,
    dec: (body) => ref.decrypt({ request: { url: '/resource' }, body }),
  },
}

async function measure(fn) {
  let n = 0
  const start = performance.now()
  while (performance.now() - start < WINDOW_MS) {
    await fn()
    n++
  }
  return n / ((performance.now() - start) / 1000)
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const results = []
for (const [label, bytes] of [['1 KB', 1024], ['100 KB', 100 * 1024], ['1 MB', 1024 * 1024]]) {
  const obj = payload(bytes)
  const samples = {}
  for (const [name, impl] of Object.entries(impls)) {
    const token = await impl.enc(structuredClone(obj))
    const back = await impl.dec(structuredClone(token))
    if (JSON.stringify(back) !== JSON.stringify(obj)) throw new Error(`${name} does not round-trip`)
    samples[name] = { encrypt: [], decrypt: [], 'round trip': [], token }
  }
  for (let w = 0; w < WINDOWS; w++) {
    for (const [name, impl] of Object.entries(impls)) {
      const s = samples[name]
      s.encrypt.push(await measure(() => impl.enc(structuredClone(obj))))
      s.decrypt.push(await measure(() => impl.dec(structuredClone(s.token))))
      s['round trip'].push(await measure(async () => impl.dec(await impl.enc(structuredClone(obj)))))
    }
  }
  for (const op of ['encrypt', 'decrypt', 'round trip']) {
    const row = { size: label, op }
    for (const name of Object.keys(impls)) row[name] = median(samples[name][op])
    results.push(row)
  }
}

console.log(`JWE RSA-OAEP-256 + A256GCM, whole payload, ${WINDOWS} interleaved windows of ${WINDOW_MS} ms; Node ${process.version}`)
console.log('| size | operation | node:crypto ops/s | apisign ops/s | apisign vs ceiling | jose vs ceiling | reference vs ceiling | apisign vs reference |')
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const r of results) {
  const c = r['node:crypto (ceiling)']
  console.log(`| ${r.size} | ${r.op} | ${c.toFixed(0)} | ${r.apisign.toFixed(0)} | ${(r.apisign / c).toFixed(2)}x | ${(r.jose / c).toFixed(2)}x | ${(r['mastercard-client-encryption'] / c).toFixed(2)}x | ${(r.apisign / r['mastercard-client-encryption']).toFixed(2)}x |`)
}
const rt = results.filter((r) => r.op === 'round trip')
for (const r of rt) {
  const vsCeiling = r.apisign / r['node:crypto (ceiling)']
  console.log(`${vsCeiling >= 0.9 ? 'MET ' : 'MISS'} ${r.size} round trip >= 0.9x the ceiling: ${vsCeiling.toFixed(2)}x`)
}
const oneKb = rt[0]
console.log(`${oneKb.apisign / oneKb['mastercard-client-encryption'] >= 3 ? 'MET ' : 'MISS'} 1 KB round trip >= 3x mastercard-client-encryption: ${(oneKb.apisign / oneKb['mastercard-client-encryption']).toFixed(2)}x`)
