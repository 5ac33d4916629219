import { createPrivateKey, createPublicKey } from 'node:crypto'
import { Ajv } from 'ajv'
import nock from 'nock'
import { parse } from 'yaml'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isApisignError } from '../../src/errors.js'
import { createClient } from '../../src/http/index.js'
import { interceptSigned, startMockGateway } from '../../src/testing/index.js'
import { createOAuth1Verifier } from '../../src/verify/index.js'
import { REPO_ROOT, readShared } from '../helpers/shared.js'

const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const publicKey = createPublicKey(key)
const specPath = `${REPO_ROOT}/openapi/payments-mini.yaml`
const spec = parse(readFileSync(specPath, 'utf8')) as Record<string, any>
const encryption = {
  mode: 'JWE',
  encryptedValueFieldName: 'encryptedData',
  paths: [{ path: '/payments', toEncrypt: [{ element: 'card', obj: 'encryptedCard' }], toDecrypt: [{ element: 'encryptedCard', obj: 'card' }] }],
  encryptionCertificate: readShared('keys/encryption/certificate.pem'),
  privateKey: readShared('keys/encryption/private-key-pkcs8.pem'),
}

describe('mock gateway', () => {
  let gateway: Awaited<ReturnType<typeof startMockGateway>>
  const lines: string[] = []
  beforeAll(async () => {
    gateway = await startMockGateway({ spec: specPath, consumers: { 'ck!mock': { key: publicKey } }, encryption, log: (l) => lines.push(l) })
  })
  afterAll(() => gateway.close())
  const api = () => createClient({ baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!mock', key }, encryption })

  it('answers with the spec examples, encrypted fields decrypted on both sides', async () => {
    const created = await api().post('/payments', { amount: 1000, currency: 'EUR', card: { pan: '5123456789012345', expiry: '12/30' } })
    expect(created.status).toBe(201)
    expect(created.data).toEqual(spec['paths']['/payments'].post.responses['201'].content['application/json'].example)
    // The gateway decrypted the request's card field.
    expect(gateway.requests.at(-1)?.body).toEqual({ amount: 1000, currency: 'EUR', card: { pan: '5123456789012345', expiry: '12/30' } })
    const got = await api().get('/payments/pay_123', { params: { expand: ['card', 'history'] } })
    expect(got.data).toEqual(spec['paths']['/payments/{paymentId}'].get.responses['200'].content['application/json'].examples.authorized.value)
  })

  it('without an example, answers a sample valid against the response schema (ajv)', async () => {
    const r = await api().get('/accounts/acc-1/balance')
    const schema = spec['paths']['/accounts/{accountId}/balance'].get.responses['200'].content['application/json'].schema
    const validate = new Ajv().compile(schema)
    expect(validate(r.data)).toBe(true)
  })

  it('rejects a tampered request with the gateway-style body; 404 and 405 for unknown routes', async () => {
    const wrong = createClient({ baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!other', key }, retry: false })
    const e = await wrong.get('/payments/pay_1').catch((x: unknown) => x)
    expect(isApisignError(e, 'ERR_GATEWAY_REJECTED')).toBe(true)
    expect((e as { details: { reasonCode: string } }).details.reasonCode).toBe('ERR_OAUTH1_UNKNOWN_CONSUMER')
    const nf = await api().get('/nope').catch((x: unknown) => x)
    expect((nf as { details: { status: number } }).details.status).toBe(404)
    const na = await api().delete('/payments').catch((x: unknown) => x)
    expect((na as { details: { status: number } }).details.status).toBe(405)
    // Authenticated before routed, as a real gateway: a bad signature on an unknown path is a 401.
    const unknownAndUnsigned = await wrong.get('/nope').catch((x: unknown) => x)
    expect((unknownAndUnsigned as { details: { status: number; reasonCode: string } }).details).toMatchObject({ status: 401, reasonCode: 'ERR_OAUTH1_UNKNOWN_CONSUMER' })
  })

  it('logs one line per request, never a secret', () => {
    expect(lines.length).toBe(gateway.requests.length)
    expect(lines.join('\n')).not.toMatch(/oauth_signature|5123456789012345|PRIVATE/)
  })
})

describe('interceptSigned (nock)', () => {
  const origin = 'https://sandbox.api.example.com'
  beforeAll(() => nock.disableNetConnect())
  afterAll(() => {
    nock.cleanAll()
    nock.enableNetConnect()
  })
  it('verifies every intercepted request and answers 401 gateway-style on failure', async () => {
    const verifier = createOAuth1Verifier({ consumers: { 'ck!nock': { key: publicKey } }, debug: true })
    const ok = interceptSigned(nock(origin).post('/v1/payments'), { verifier, origin, reply: (r) => [201, { consumer: r.consumerKey, bytes: r.body.length }] })
    const api = createClient({ baseURL: origin, auth: { scheme: 'oauth1', consumerKey: 'ck!nock', key } })
    const r = await api.post('/v1/payments', { amount: 1 })
    expect(r.data).toEqual({ consumer: 'ck!nock', bytes: 12 })
    ok.done()
    const bad = interceptSigned(nock(origin).get('/v1/items'), { verifier, origin })
    const e = await api.get('/v1/items', { headers: { 'x-ignored': '1' } }).then(() => undefined, (x: unknown) => x)
    expect(e).toBeUndefined() // a valid request passes
    bad.done()
    const forged = interceptSigned(nock(origin).get('/v1/items'), { verifier, origin })
    const other = createClient({ baseURL: origin, auth: { scheme: 'oauth1', consumerKey: 'ck!nock', key: createPrivateKey(readShared('keys/encryption/private-key-pkcs8.pem')) } })
    const rejected = await other.get('/v1/items').catch((x: unknown) => x)
    // The verifier (debug) returns the acceptable base string; it equals ours, so the client says the key is wrong.
    expect(isApisignError(rejected, 'ERR_SIGNATURE_MISMATCH')).toBe(true)
    expect((rejected as Error).message).toContain('signing key is not the one the partner holds')
    forged.done()
  })
})
