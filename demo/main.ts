// `npm run demo`: the main job, end to end on 127.0.0.1 only. A mock gateway for openapi/payments.yaml
// serves HTTPS with a certificate from the local test CA and requires a client certificate (mTLS), and
// verifies every request as the partner would; the generated client calls it through the signed client in
// the sandbox profile (keys from certs-example/, made on first run); one call carries encrypted fields; a
// tampered request is rejected with the gateway's explanation. Then the same for an OST-style API whose spec
// names two schemes: OST1-HMAC-SHA256 query/form signing and an HS256 JWT bearer + X-Api-Key.
import { createPublicKey } from 'node:crypto'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pathToFileURL } from 'node:url'
import { deriveEncryptionConfig, loadSpec, wireClient } from 'apisign/codegen'
import { createClient } from 'apisign/http'
import { createOAuth1Signer } from 'apisign/oauth1'
import { loadProfile } from 'apisign/profiles'
import { authForSpec } from 'apisign/schemes'
import { startMockGateway } from 'apisign/testing'
import { client as ostClient } from '../generated/ost/client/client.gen.js'
import { executeTransaction, getDailyReport, getUserBalance } from '../generated/ost/client/sdk.gen.js'
import { client } from '../generated/payments/client/client.gen.js'
import { createPayment, getPayment, listPayments } from '../generated/payments/client/sdk.gen.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = [here, resolve(here, '..'), resolve(here, '../..')].find((d) => existsSync(join(d, 'openapi/payments.yaml'))) as string
const out = (text = '') => process.stdout.write(`${text}\n`)

const { makeCerts } = (await import(pathToFileURL(join(root, 'certs-example/make-certs.mjs')).href)) as typeof import('../certs-example/make-certs.mjs')
const certs = makeCerts({ outDir: join(root, 'certs-example/out') })
out(`apisign demo: ${certs.created ? 'made' : 'using'} throwaway sandbox keys in certs-example/out/`)
const profile = await loadProfile('sandbox', { cwd: join(root, 'demo'), env: {} })
if (profile.auth.scheme !== 'oauth1') throw new Error('the demo profile signs with OAuth 1.0a')
const oauth1 = profile.auth
const spec = await loadSpec(join(root, 'openapi/payments.yaml'))
// As with a real partner, two key pairs: the client encrypts to the partner's certificate and decrypts
// answers with its own key; the partner decrypts with its key and encrypts to the client's certificate.
const encryption = { ...deriveEncryptionConfig(spec), encryptionCertificate: certs.partnerEncryptionCert, privateKey: certs.encryptionKey }

const gateway = await startMockGateway({
  spec,
  consumers: { [oauth1.consumerKey]: { key: createPublicKey(oauth1.key) } },
  encryption,
  partnerKeys: { decryptionKey: certs.partnerEncryptionKey, encryptionCertificate: certs.encryptionCert },
  // HTTPS with the local test CA's server certificate; only clients with a certificate from that CA get in.
  tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert, requireClientCertificate: true },
  log: (line) => out(`    [gateway] ${line}`),
})
out(`mock gateway for "${(spec['info'] as { title: string }).title}" on ${gateway.url} (mTLS; sandbox profile, base URL ${profile.baseURL}, its tls: the test CA and a client certificate)\n`)

// The profile's key signs; the applier also shows what was signed (the base string, never the key).
const signer = createOAuth1Signer({ consumerKey: oauth1.consumerKey, key: oauth1.key })
const api = createClient({
  ...profile,
  baseURL: gateway.url,
  encryption,
  auth: {
    async apply(request) {
      const signed = signer.sign({ method: request.method, url: request.url, ...(request.body === undefined ? {} : { body: request.body }), ...(request.headers['content-type'] ? { contentType: request.headers['content-type'] } : {}) })
      out(`  signed ${request.method} ${request.url.pathname}${request.url.search}`)
      out(`    base string: ${signed.signatureBaseString.slice(0, 160)}...`)
      if (request.body !== undefined) out(`    body on the wire: ${request.body.toString('utf8').slice(0, 150)}${request.body.length > 150 ? '...' : ''}`)
      return { headers: { Authorization: signed.authorizationHeader }, baseString: signed.signatureBaseString }
    },
  },
})
wireClient(client, api)

out('1. listPayments (GET with an array query)')
const list = await listPayments({ query: { status: ['CAPTURED', 'AUTHORIZED'], limit: 10 }, throwOnError: true })
out(`  -> ${JSON.stringify(list.data)}\n`)

out('2. createPayment (the card is encrypted as JWE; the card token in the answer is decrypted)')
const created = await createPayment({ body: { amount: 2500, currency: 'EUR', reference: 'order-77', card: { pan: '5123456789012345', expiry: '12/30', cvc: '123' } }, throwOnError: true })
out(`  -> decrypted answer: ${JSON.stringify(created.data)}\n`)

out('3. getPayment')
const got = await getPayment({ path: { paymentId: 'pay_1001' }, query: { expand: ['card'] }, throwOnError: true })
out(`  -> ${JSON.stringify(got.data)}\n`)

out('4. a tampered request: signed, then its body changed in transit')
const body = JSON.stringify({ amount: 10 })
const signed = signer.sign({ method: 'POST', url: `${gateway.url}/payments/pay_1001/refunds`, body, contentType: 'application/json' })
// The same profile (so the same mTLS client certificate), but an applier that hands over the signature
// made for the original body while a different body goes out.
const tamperer = createClient({ ...profile, baseURL: gateway.url, retry: false, auth: { apply: async () => ({ headers: { Authorization: signed.authorizationHeader } }) } })
const rejected = (await tamperer.post('/payments/pay_1001/refunds', body.replace('10', '9999'), { headers: { 'content-type': 'application/json' } }).then(
  () => undefined,
  (e: unknown) => e,
)) as { code?: string; details?: { status?: number; reasonCode?: string; description?: string } } | undefined
const tampered = { status: rejected?.details?.status }
out(`  -> HTTP ${tampered.status} ${rejected?.details?.reasonCode}: ${rejected?.details?.description} (${rejected?.code})`)

await gateway.close()

// An OST-style partner: the spec's securitySchemes pick the scheme per operation, on both sides. The demo
// credentials are throwaway values made here; a real service reads them with fromEnv / fromFile.
const ostSpec = await loadSpec(join(root, 'openapi/ost.yaml'))
const ostKey = 'demo-ost-api-key'
const ostSecret = `demo-ost-secret-${Math.random().toString(36).slice(2)}`
const jwtSecret = `demo-jwt-secret-${Math.random().toString(36).slice(2)}-0123456789`
const ostGateway = await startMockGateway({
  spec: ostSpec,
  security: { ostHmac: { keys: { [ostKey]: ostSecret } }, jwtBearer: { keys: { [ostKey]: jwtSecret } }, apiKey: { keys: [ostKey] } },
  log: (line) => out(`    [gateway] ${line}`),
})
out(`\nmock gateway for "${(ostSpec['info'] as { title: string }).title}" on ${ostGateway.url}\n`)
const byOperation = authForSpec(ostSpec, {
  ostHmac: { apiKey: ostKey, apiSecret: ostSecret },
  jwtBearer: { apiKey: ostKey, secret: jwtSecret, iat: true, expiresIn: 60 },
  apiKey: { key: ostKey },
})
wireClient(
  ostClient,
  createClient({
    baseURL: ostGateway.url,
    auth: {
      async apply(request, context) {
        const result = await byOperation.apply(request, context)
        out(`  ${request.method} ${request.url.pathname}: ${result.baseString === undefined ? `headers ${Object.keys(result.headers).join(', ')}` : `signed ${result.baseString.slice(0, 150)}...`}`)
        return result
      },
    },
  }),
)
out('5. getUserBalance (OST1-HMAC-SHA256 in the query)')
const balance = await getUserBalance({ path: { userId: 'u-1' }, throwOnError: true })
out(`  -> ${JSON.stringify(balance.data)}\n`)
out('6. executeTransaction (OST1-HMAC-SHA256 in the form body)')
const executed = await executeTransaction({ body: { to: '0xabc', amount: '10' }, throwOnError: true })
out(`  -> ${JSON.stringify(executed.data)}\n`)
out('7. getDailyReport (HS256 JWT bearer + X-Api-Key, a fresh token per request)')
const report = await getDailyReport({ query: { date: '2026-11-24' }, throwOnError: true })
out(`  -> ${JSON.stringify(report.data)}`)
await ostGateway.close()

const ok =
  list.data !== undefined && created.status === 201 && got.data !== undefined && tampered.status === 401 &&
  balance.data !== undefined && executed.data !== undefined && report.data !== undefined &&
  ostGateway.requests.every((r) => r.status === 200)
out(ok ? '\ndemo complete: every signed call verified, the tampered one was rejected.' : '\ndemo FAILED')
process.exitCode = ok ? 0 : 1
