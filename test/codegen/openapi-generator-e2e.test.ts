// Issue 19 item 2: every operation of openapi/payments.yaml and openapi/ost.yaml through the committed
// openapi-generator clients (typescript-axios and typescript-fetch, generated/openapi-generator-*), wired with
// wireTypescriptAxios / wireTypescriptFetch over createClient, against the mock gateway verifying every
// signature: OAuth 1.0a with JWE fields both ways for payments, the per-operation schemes of ost.
// These run without Java: the clients are committed (the drift test in openapi-generator.test.ts keeps them
// in step with the specs).
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { join } from 'node:path'
import axios from 'axios'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deriveEncryptionConfig, loadSpec, wireTypescriptAxios, wireTypescriptFetch } from '../../src/codegen/index.js'
import { type AuthApplier, createClient, createFetch } from '../../src/http/index.js'
import { authForSpec, oauth1Auth } from '../../src/schemes/index.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'
import { REPO_ROOT, readShared } from '../helpers/shared.js'

type Any = any // eslint-disable-line @typescript-eslint/no-explicit-any -- generated classes, loaded dynamically
const load = async (client: 'axios' | 'fetch', spec: 'payments' | 'ost'): Promise<Record<string, Any>> =>
  (await import(join(REPO_ROOT, `generated/openapi-generator-${client}/${spec}/client/index.ts`))) as Record<string, Any>

const PAYMENTS = join(REPO_ROOT, 'openapi/payments.yaml')
const OST = join(REPO_ROOT, 'openapi/ost.yaml')
const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const encryption = async () => ({
  ...deriveEncryptionConfig(await loadSpec(PAYMENTS)),
  encryptionCertificate: readShared('keys/encryption/certificate.pem'),
  privateKey: readShared('keys/encryption/private-key-pkcs8.pem'),
})

/** An applier that records the exact bytes it signed (what went on the wire) before delegating. */
function recording(inner: AuthApplier): AuthApplier & { bodies: string[] } {
  const bodies: string[] = []
  return {
    bodies,
    apply(request, context) {
      bodies.push(request.body === undefined ? '' : Buffer.from(request.body).toString('latin1'))
      return inner.apply(request, context)
    },
  }
}

describe('payments.yaml through openapi-generator clients: OAuth 1.0a signed, card encrypted, cardToken decrypted', () => {
  let gateway: MockGateway
  let spec: Awaited<ReturnType<typeof loadSpec>>
  const example = (path: string, method: string, code: string): unknown =>
    (spec.paths?.[path]?.[method] as Any).responses[code].content['application/json'].example
  beforeAll(async () => {
    spec = await loadSpec(PAYMENTS)
    gateway = await startMockGateway({ spec, consumers: { 'ck!oag': { key: createPublicKey(key) } }, encryption: await encryption() })
  })
  afterAll(() => gateway.close())

  it('the gateway answers cardToken encrypted on the wire (what the clients below decrypt)', async () => {
    const plain = createClient({ baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!oag', key } })
    const { data } = await plain.get('/payments/pay_1001')
    expect(typeof (data as { cardToken: { encryptedData: unknown } }).cardToken.encryptedData).toBe('string')
  })

  it('typescript-axios: every operation round-trips', async () => {
    const { PaymentsApi, RefundsApi, DocumentsApi } = await load('axios', 'payments')
    const auth = recording(oauth1Auth({ scheme: 'oauth1', consumerKey: 'ck!oag', key }))
    const api = createClient({ baseURL: gateway.url, auth, encryption: await encryption() })
    const payments = wireTypescriptAxios<Any>(PaymentsApi, api)
    const refunds = wireTypescriptAxios<Any>(RefundsApi, api)
    const documents = wireTypescriptAxios<Any>(DocumentsApi, api)
    const before = gateway.requests.length

    expect((await payments.listPayments(['CAPTURED', 'AUTHORIZED'], 10)).data).toEqual(example('/payments', 'get', '200'))
    const created = await payments.createPayment({ amount: 2500, currency: 'EUR', card: { pan: '5123456789012345', expiry: '12/30' } })
    expect(created.status).toBe(201)
    expect(created.data).toEqual(example('/payments', 'post', '201'))
    // On the wire the card was a JWE; the gateway decrypted it back.
    expect(auth.bodies.at(-1)).toMatch(/^\{"amount":2500,"currency":"EUR","card":\{"encryptedData":"[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+"\}\}$/)
    expect(gateway.requests.at(-1)?.body).toMatchObject({ card: { pan: '5123456789012345', expiry: '12/30' } })
    expect((await payments.getPayment('pay_1001', ['card'])).data).toEqual(example('/payments/{paymentId}', 'get', '200'))
    expect((await refunds.createRefund('pay_1001', 500, 'customer request')).data).toEqual(example('/payments/{paymentId}/refunds', 'post', '201'))
    expect(auth.bodies.at(-1)).toBe('amount=500&reason=customer+request')
    expect((await documents.uploadDocument('RECEIPT', new Blob([Buffer.from([0, 1, 2, 255])]))).data).toEqual(example('/documents', 'post', '201'))
    expect(auth.bodies.at(-1)).toBe('\u0000\u0001\u0002\u00ff')

    const seen = gateway.requests.slice(before)
    expect(seen.map((r) => [r.method, r.path, r.status, r.principal])).toEqual([
      ['GET', '/payments', 200, 'ck!oag'],
      ['POST', '/payments', 201, 'ck!oag'],
      ['GET', '/payments/pay_1001', 200, 'ck!oag'],
      ['POST', '/payments/pay_1001/refunds', 201, 'ck!oag'],
      ['POST', '/documents', 201, 'ck!oag'],
    ])
  })

  it('typescript-fetch over createFetch: every operation round-trips, typed models included', async () => {
    const { Configuration, PaymentsApi, RefundsApi, DocumentsApi } = await load('fetch', 'payments')
    const auth = recording(oauth1Auth({ scheme: 'oauth1', consumerKey: 'ck!oag', key }))
    const fetchApi = createFetch({ baseURL: gateway.url, auth, encryption: await encryption() })
    const payments = wireTypescriptFetch<Any, Any>(PaymentsApi, Configuration, fetchApi)
    const refunds = wireTypescriptFetch<Any, Any>(RefundsApi, Configuration, fetchApi)
    const documents = wireTypescriptFetch<Any, Any>(DocumentsApi, Configuration, fetchApi)
    const before = gateway.requests.length

    const raw = async (call: Promise<Any>) => (await call).raw.json()
    expect(await raw(payments.listPaymentsRaw({ status: ['CAPTURED', 'AUTHORIZED'], limit: 10 }))).toEqual(example('/payments', 'get', '200'))
    const created = await payments.createPaymentRaw({ paymentRequest: { amount: 2500, currency: 'EUR', card: { pan: '5123456789012345', expiry: '12/30' } } })
    expect(created.raw.status).toBe(201)
    expect(await created.raw.json()).toEqual(example('/payments', 'post', '201'))
    expect(auth.bodies.at(-1)).toMatch(/^\{"amount":2500,"currency":"EUR","card":\{"encryptedData":"[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+"\}\}$/)
    expect(gateway.requests.at(-1)?.body).toMatchObject({ card: { pan: '5123456789012345', expiry: '12/30' } })
    // The typed method: the decrypted cardToken arrives in the model.
    const payment = await payments.getPayment({ paymentId: 'pay_1001', expand: ['card'] })
    expect(payment).toMatchObject({ id: (example('/payments/{paymentId}', 'get', '200') as { id: string }).id })
    expect(payment.cardToken).toEqual((example('/payments/{paymentId}', 'get', '200') as { cardToken: unknown }).cardToken)
    expect(await raw(refunds.createRefundRaw({ paymentId: 'pay_1001', amount: 500, reason: 'customer request' }))).toEqual(example('/payments/{paymentId}/refunds', 'post', '201'))
    expect(auth.bodies.at(-1)).toBe('amount=500&reason=customer+request')
    expect(await raw(documents.uploadDocumentRaw({ kind: 'RECEIPT', body: new Blob([Buffer.from([0, 1, 2, 255])]) }))).toEqual(example('/documents', 'post', '201'))
    expect(auth.bodies.at(-1)).toBe('\u0000\u0001\u0002\u00ff')

    expect(gateway.requests.slice(before).map((r) => [r.method, r.path, r.status, r.principal])).toEqual([
      ['GET', '/payments', 200, 'ck!oag'],
      ['POST', '/payments', 201, 'ck!oag'],
      ['GET', '/payments/pay_1001', 200, 'ck!oag'],
      ['POST', '/payments/pay_1001/refunds', 201, 'ck!oag'],
      ['POST', '/documents', 201, 'ck!oag'],
    ])
  })

  it('typescript-fetch: a rejected signature is the generated ResponseError carrying the gateway answer', async () => {
    const { Configuration, PaymentsApi } = await load('fetch', 'payments')
    const other = createFetch({ baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!unknown', key }, retry: false })
    const payments = wireTypescriptFetch<Any, Any>(PaymentsApi, Configuration, other)
    const error = (await payments.getPayment({ paymentId: 'pay_1001' }).catch((e: unknown) => e)) as { name: string; response: Response }
    expect(error.name).toBe('ResponseError')
    expect(error.response.status).toBe(401)
    expect(JSON.stringify(await error.response.json())).toMatch(/ReasonCode/)
  })

  it('wireTypescriptFetch: the base path is the signed fetch\'s unless given; misuse is a TypeError', async () => {
    const { Configuration, PaymentsApi } = await load('fetch', 'payments')
    const fetchApi = createFetch({ baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!oag', key } })
    expect(wireTypescriptFetch<Any, Any>(PaymentsApi, Configuration, fetchApi).configuration.basePath).toBe(gateway.url)
    expect(wireTypescriptFetch<Any, Any>(PaymentsApi, Configuration, fetchApi, 'http://127.0.0.1:1/v2').configuration.basePath).toBe('http://127.0.0.1:1/v2')
    expect(() => wireTypescriptFetch(PaymentsApi, Configuration, undefined as Any)).toThrow(TypeError)
    expect(() => wireTypescriptFetch(undefined as Any, Configuration, fetchApi)).toThrow(TypeError)
  })
})

describe('ost.yaml through openapi-generator clients: OST HMAC in query and form, JWT bearer + X-Api-Key, per operation', () => {
  const API_KEY = '65e20fcfce72f4c34546338a70518478'
  const OST_SECRET = 'f07f94340ab66045634d7505385a53e4ed12f7d9792a40798f60fa9a95adb3e0'
  const JWT_SECRET = 'original-hs256-secret-of-32-bytes!!'
  let gateway: MockGateway
  let spec: Awaited<ReturnType<typeof loadSpec>>
  beforeAll(async () => {
    spec = await loadSpec(OST)
    gateway = await startMockGateway({
      spec,
      security: { ostHmac: { keys: { [API_KEY]: OST_SECRET } }, jwtBearer: { keys: { [API_KEY]: JWT_SECRET } }, apiKey: { keys: [{ secret: API_KEY, label: 'ost-app' }] } },
    })
  })
  afterAll(() => gateway.close())
  const credentials = () => ({
    ostHmac: { apiKey: API_KEY, apiSecret: OST_SECRET },
    jwtBearer: { apiKey: API_KEY, secret: JWT_SECRET, iat: true, expiresIn: 60 },
    apiKey: { key: API_KEY },
  })
  const signed = () => createClient({ baseURL: gateway.url, auth: authForSpec(spec, credentials()) })
  const signedFetch = () => createFetch({ baseURL: gateway.url, auth: authForSpec(spec, credentials()) })
  const expected = [
    ['GET', '/users/u-1/balance', 200, API_KEY],
    ['GET', '/transactions', 200, API_KEY],
    ['POST', '/transactions', 200, API_KEY],
    ['GET', '/reports/daily', 200, `${API_KEY}+ost-app`],
  ]

  it('typescript-axios', async () => {
    const { UsersApi, TransactionsApi, ReportsApi } = await load('axios', 'ost')
    const api = signed()
    const before = gateway.requests.length
    expect((await wireTypescriptAxios<Any>(UsersApi, api).getUserBalance('u-1')).data).toEqual({ success: true, data: { result_type: 'balance', balance: { user_id: 'u-1', available_balance: '1000', unsettled_debit: '0' } } })
    const transactions = wireTypescriptAxios<Any>(TransactionsApi, api)
    expect((await transactions.listTransactions(['CREATED', 'SUCCESS'], 5)).status).toBe(200)
    expect((await transactions.executeTransaction('0xabc', '10', { name: 'gift', type: 'user_to_user' })).data).toMatchObject({ data: { transaction: { status: 'CREATED' } } })
    expect((await wireTypescriptAxios<Any>(ReportsApi, api).getDailyReport('2026-11-24')).data).toEqual({ date: '2026-11-24', total: 42 })
    expect(gateway.requests.slice(before).map((r) => [r.method, r.path, r.status, r.principal])).toEqual(expected)
  })

  it('typescript-fetch', async () => {
    const { Configuration, UsersApi, TransactionsApi, ReportsApi } = await load('fetch', 'ost')
    const fetchApi = signedFetch()
    const before = gateway.requests.length
    const users = wireTypescriptFetch<Any, Any>(UsersApi, Configuration, fetchApi)
    expect(await users.getUserBalance({ userId: 'u-1' })).toEqual({ success: true, data: { result_type: 'balance', balance: { user_id: 'u-1', available_balance: '1000', unsettled_debit: '0' } } })
    const transactions = wireTypescriptFetch<Any, Any>(TransactionsApi, Configuration, fetchApi)
    expect(await transactions.listTransactions({ statuses: ['CREATED', 'SUCCESS'], limit: 5 })).toBeTypeOf('object')
    expect(await transactions.executeTransaction({ to: '0xabc', amount: '10', metaProperty: { name: 'gift', type: 'user_to_user' } })).toMatchObject({ data: { transaction: { status: 'CREATED' } } })
    expect(await wireTypescriptFetch<Any, Any>(ReportsApi, Configuration, fetchApi).getDailyReport({ date: new Date('2026-11-24T00:00:00Z') })).toEqual({ date: '2026-11-24', total: 42 })
    expect(gateway.requests.slice(before).map((r) => [r.method, r.path, r.status, r.principal])).toEqual(expected)
  })
})

// Not from the generated code: a plain axios default without apisign would send unsigned (sanity of the setup).
describe('sanity', () => {
  it('an unsigned call through the same generated class is refused by the gateway', async () => {
    const spec = await loadSpec(PAYMENTS)
    const gateway = await startMockGateway({ spec, consumers: { 'ck!oag': { key: createPublicKey(key) } } })
    try {
      const { PaymentsApi } = await load('axios', 'payments')
      const status = await wireTypescriptAxios<Any>(PaymentsApi, axios.create({ baseURL: gateway.url }) as Any).getPayment('pay_1001').catch((e: Any) => e.response.status)
      expect(status).toBe(401)
    } finally {
      await gateway.close()
    }
  })
})
