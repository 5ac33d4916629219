// `npm run demo`: sign a sample request with a throwaway key, send it to a loopback server that rebuilds
// the base string from what it received and verifies the signature, and print what happened.
// No network beyond 127.0.0.1. (The OpenAPI + mock gateway demo replaces this once codegen lands.)
import { generateKeyPairSync } from 'node:crypto'
import { createServer } from 'node:http'
import {
  DIALECTS,
  computeBodyHash,
  createOAuth1Signer,
  parseAuthorizationHeader,
  resolveSignatureMethod,
  verifyBaseString,
} from '../dist/oauth1/index.js'

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const consumerKey = 'demo-consumer-key!throwaway'

// The "gateway": rebuild the base string from the raw request and verify it, as the real gateway does.
const server = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks)
    const { params } = parseAuthorizationHeader(req.headers.authorization ?? '')
    const oauth = new Map(params)
    const url = `http://${req.headers.host}${req.url}`
    const canonical = DIALECTS.mastercard.canonicalize(url, undefined)
    const withoutSignature = params.filter(([name]) => name !== 'oauth_signature')
    const sbs = DIALECTS.mastercard.baseString(req.method ?? 'GET', canonical.baseUri, canonical.parameterString(withoutSignature))
    const method = resolveSignatureMethod(oauth.get('oauth_signature_method') ?? '')
    const bodyOk = oauth.get('oauth_body_hash') === computeBodyHash(body)
    const sigOk = verifyBaseString(sbs, decodeURIComponent(oauth.get('oauth_signature') ?? ''), method, { key: publicKey })
    res.writeHead(bodyOk && sigOk ? 200 : 401, { 'content-type': 'application/json' })
    res.end(JSON.stringify(bodyOk && sigOk ? { status: 'ACCEPTED' } : { error: 'signature failed verification', acceptableSignatureBaseString: sbs }))
  })
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address()

const signer = createOAuth1Signer({ consumerKey, key: privateKey })
const url = `http://127.0.0.1:${port}/v1/payments?mode=sync&tags=a,b`
const body = JSON.stringify({ amount: 1000, currency: 'EUR', reference: 'café ☕' })
const signed = signer.sign({ method: 'POST', url, body })

console.log('apisign demo: OAuth 1.0a (Mastercard dialect, RSA-SHA256 + oauth_body_hash)\n')
console.log(`POST ${signed.url}`)
console.log(`\nsignature base string:\n  ${signed.signatureBaseString}`)
console.log(`\nAuthorization:\n  ${signed.authorizationHeader}\n`)

const send = async (headers, payload) => {
  const r = await fetch(signed.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload })
  return { status: r.status, body: await r.json() }
}
const ok = await send({ authorization: signed.authorizationHeader }, body)
console.log(`gateway answer: ${ok.status} ${JSON.stringify(ok.body)}`)
const tampered = await send({ authorization: signed.authorizationHeader }, body.replace('1000', '9000'))
console.log(`tampered body:  ${tampered.status} ${tampered.body.error}`)
server.close()
if (ok.status !== 200 || tampered.status !== 401) {
  console.error('demo failed: the signed request should pass and the tampered one should fail')
  process.exit(1)
}
