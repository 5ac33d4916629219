import { execFileSync } from 'node:child_process'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { AxiosInstance } from 'axios'
import { parse, stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deriveEncryptionConfig, generate, loadSpec, wireClient, wireTypescriptAxios } from '../../src/codegen/index.js'
import { createClient } from '../../src/http/index.js'
import { startMockGateway } from '../../src/testing/index.js'
import { REPO_ROOT, readShared } from '../helpers/shared.js'

// Inside the repo so generated code resolves axios; git-ignored.
const scratch = join(REPO_ROOT, 'test/codegen/.generated', String(process.pid))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
const list = (dir: string): string[] =>
  readdirSync(dir).sort().flatMap((f) => (statSync(join(dir, f)).isDirectory() ? list(join(dir, f)) : [join(dir, f)]))

describe('drift check: generated/ matches the specs', () => {
  for (const name of ['payments', 'payments-mini', 'ost', 'payments-oauth2']) {
    it(`${name}: regenerating gives the committed bytes`, async () => {
      const out = join(scratch, 'drift')
      await generate({ spec: join(REPO_ROOT, 'openapi', `${name}.yaml`), out })
      const fresh = list(join(out, name))
      const committed = list(join(REPO_ROOT, 'generated', name))
      expect(fresh.map((f) => relative(join(out, name), f))).toEqual(committed.map((f) => relative(join(REPO_ROOT, 'generated', name), f)))
      for (let i = 0; i < fresh.length; i++) {
        expect(readFileSync(fresh[i] as string, 'utf8'), `${name}: ${relative(join(out, name), fresh[i] as string)} differs: run npm run generate`).toBe(readFileSync(committed[i] as string, 'utf8'))
      }
    })
  }
})

describe('deriveEncryptionConfig', () => {
  it('maps x-apisign-encrypt request and response fields per path, arrays with [*]', async () => {
    const spec = await loadSpec(join(REPO_ROOT, 'openapi/payments.yaml'))
    expect(deriveEncryptionConfig(spec)).toEqual({
      mode: 'JWE',
      encryptedValueFieldName: 'encryptedData',
      paths: [
        { path: '/payments$', toEncrypt: [{ element: 'card', obj: 'card' }], toDecrypt: [{ element: 'cardToken', obj: 'cardToken' }, { element: 'items[*].cardToken', obj: 'items[*].cardToken' }] },
        { path: '/payments/[^/]+$', toEncrypt: [], toDecrypt: [{ element: 'cardToken', obj: 'cardToken' }] },
      ],
    })
  })
})

describe('the generated payments client against the mock gateway', () => {
  const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
  let gateway: Awaited<ReturnType<typeof startMockGateway>>
  let spec: Awaited<ReturnType<typeof loadSpec>>
  const encryption = async () => ({
    ...deriveEncryptionConfig(await loadSpec(join(REPO_ROOT, 'openapi/payments.yaml'))),
    encryptionCertificate: readShared('keys/encryption/certificate.pem'),
    privateKey: readShared('keys/encryption/private-key-pkcs8.pem'),
  })
  beforeAll(async () => {
    spec = await loadSpec(join(REPO_ROOT, 'openapi/payments.yaml'))
    gateway = await startMockGateway({ spec, consumers: { 'ck!gen': { key: createPublicKey(key) } }, encryption: await encryption() })
  })
  afterAll(() => gateway.close())

  it('round-trips every example operation, signed and (where declared) encrypted', async () => {
    const { client } = (await import(join(REPO_ROOT, 'generated/payments/client/client.gen.ts'))) as { client: { setConfig: (c: object) => void } }
    const sdk = (await import(join(REPO_ROOT, 'generated/payments/client/sdk.gen.ts'))) as Record<string, (o: object) => Promise<{ data: unknown; response: { status: number } }>>
    wireClient(client, createClient({ baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!gen', key }, encryption: await encryption() }))
    const example = (path: string, method: string, code: string) =>
      ((spec.paths?.[path]?.[method] as Record<string, any>).responses[code].content['application/json'].example)
    expect((await sdk['listPayments']?.({ query: { status: ['CAPTURED', 'AUTHORIZED'], limit: 10 } }))?.data).toEqual(example('/payments', 'get', '200'))
    expect((await sdk['createPayment']?.({ body: { amount: 2500, currency: 'EUR', card: { pan: '5123456789012345', expiry: '12/30' } } }))?.data).toEqual(example('/payments', 'post', '201'))
    // The gateway received the card encrypted and decrypted it.
    const received = gateway.requests.at(-1)?.body as { card: unknown }
    expect(received.card).toEqual({ pan: '5123456789012345', expiry: '12/30' })
    expect((await sdk['getPayment']?.({ path: { paymentId: 'pay_1001' }, query: { expand: ['card'] } }))?.data).toEqual(example('/payments/{paymentId}', 'get', '200'))
    expect((await sdk['createRefund']?.({ path: { paymentId: 'pay_1001' }, body: { amount: 500, reason: 'customer request' } }))?.data).toEqual(example('/payments/{paymentId}/refunds', 'post', '201'))
    expect((await sdk['uploadDocument']?.({ query: { kind: 'RECEIPT' }, body: new Blob([Buffer.from([0, 1, 2, 255])]) }))?.data).toEqual(example('/documents', 'post', '201'))
    expect(gateway.requests.every((r) => r.status < 300)).toBe(true)
    expect(gateway.requests).toHaveLength(5)
  })

  it('regenerating from a changed spec (operation added, field renamed) still round-trips, the new operation included', async () => {
    const doc = parse(readFileSync(join(REPO_ROOT, 'openapi/payments.yaml'), 'utf8')) as Record<string, any>
    doc.paths['/payments/{paymentId}/capture'] = { post: { tags: ['payments'], operationId: 'capturePayment', parameters: [{ name: 'paymentId', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'captured', content: { 'application/json': { schema: { $ref: '#/components/schemas/Payment' }, example: { id: 'pay_1001', status: 'CAPTURED' } } } } } } }
    doc.components.schemas.PaymentRequest.properties.merchantReference = doc.components.schemas.PaymentRequest.properties.reference
    delete doc.components.schemas.PaymentRequest.properties.reference
    const specFile = join(scratch, 'changed.yaml')
    mkdirSync(scratch, { recursive: true })
    writeFileSync(specFile, stringify(doc))
    const result = await generate({ spec: specFile, out: scratch, name: 'changed' })
    expect(result.operations).toBe(6)
    const changedGateway = await startMockGateway({ spec: specFile, consumers: { 'ck!gen': { key: createPublicKey(key) } } })
    try {
      const { client } = (await import(join(scratch, 'changed/client/client.gen.ts'))) as { client: { setConfig: (c: object) => void } }
      const sdk = (await import(join(scratch, 'changed/client/sdk.gen.ts'))) as Record<string, (o: object) => Promise<{ data: unknown }>>
      wireClient(client, createClient({ baseURL: changedGateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!gen', key } }))
      expect((await sdk['capturePayment']?.({ path: { paymentId: 'pay_1001' } }))?.data).toEqual({ id: 'pay_1001', status: 'CAPTURED' })
      expect(readFileSync(join(scratch, 'changed/client/types.gen.ts'), 'utf8')).toContain('merchantReference')
    } finally {
      await changedGateway.close()
    }
  })

  it('generates a large spec (160 operations, ~2 MB) in seconds', async () => {
    const big = parse(readFileSync(join(REPO_ROOT, 'openapi/payments.yaml'), 'utf8')) as Record<string, any>
    const filler = 'x'.repeat(11_000)
    for (let i = 0; i < 160; i++) {
      big.paths[`/resources${i}/{id}`] = { get: { operationId: `getResource${i}`, description: filler, parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok', content: { 'application/json': { schema: { type: 'object', properties: { id: { type: 'string' }, n: { type: 'integer' } } } } } } } } }
    }
    const text = JSON.stringify(big)
    expect(text.length).toBeGreaterThan(1_800_000)
    const result = await generate({ spec: big, out: scratch, name: 'big' })
    expect(result.operations).toBe(165)
    expect(result.seconds).toBeLessThan(30)
    // And the output type-checks under strict.
    writeFileSync(join(scratch, 'big/tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', lib: ['ES2023', 'DOM'], module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], strict: true, noEmit: true, skipLibCheck: true }, include: ['.'] }))
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(scratch, 'big/tsconfig.json')], { stdio: 'pipe' })
  })
})

describe('wireTypescriptAxios (the generator itself: openapi-generator.test.ts)', () => {
  it('a class of the typescript-axios constructor shape sends through the signed client', async () => {
    class PaymentsApi {
      constructor(readonly configuration: unknown, readonly basePath: string | undefined, readonly axios: AxiosInstance) {}
      getPayment(id: string) {
        return this.axios.get(`${this.basePath}/payments/${id}`)
      }
    }
    const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
    const gateway = await startMockGateway({ spec: join(REPO_ROOT, 'openapi/payments.yaml'), consumers: { 'ck!oag': { key: createPublicKey(key) } } })
    try {
      const api = wireTypescriptAxios(PaymentsApi, createClient({ baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!oag', key } }))
      expect(api.basePath).toBe(gateway.url)
      expect((await api.getPayment('pay_1001')).data).toMatchObject({ id: 'pay_1001' })
    } finally {
      await gateway.close()
    }
  })
})
