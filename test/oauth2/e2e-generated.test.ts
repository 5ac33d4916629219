// Issue 16's "done when": the client generated from openapi/payments-oauth2.yaml (generated/payments-oauth2)
// calls the mock partner with FAPI 2.0 client credentials and DPoP through createClient, with field
// encryption and retries in the same pipeline, and each operation gets a token of its own scope.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generate, loadSpec, wireClient } from '../../src/codegen/index.js'
import { createClient, createFetch } from '../../src/http/index.js'
import { authForSpec } from '../../src/schemes/index.js'
import type { MockGateway } from '../../src/testing/index.js'
import { REPO_ROOT, readShared } from '../helpers/shared.js'
import { ES_CLIENT, PS_CLIENT, SPEC, esKey, gateway, psKey } from './helpers.js'

type Sdk = Record<string, (o?: object) => Promise<{ data: unknown; status?: number; response?: { status: number } }>>
let sdk: Sdk
let heyClient: { setConfig: (c: object) => void }
let gw: MockGateway | undefined
beforeAll(async () => {
  heyClient = ((await import(join(REPO_ROOT, 'generated/payments-oauth2/client/client.gen.ts'))) as { client: typeof heyClient }).client
  sdk = (await import(join(REPO_ROOT, 'generated/payments-oauth2/client/sdk.gen.ts'))) as Sdk
})
afterEach(async () => {
  await gw?.close()
  gw = undefined
})

const encryption = {
  mode: 'JWE',
  encryptedValueFieldName: 'encryptedData',
  paths: [{ path: '/payments', toEncrypt: [{ element: 'card', obj: 'encryptedCard' }], toDecrypt: [{ element: 'encryptedCard', obj: 'card' }] }],
  encryptionCertificate: readShared('keys/encryption/certificate.pem'),
  privateKey: readShared('keys/encryption/private-key-pkcs8.pem'),
}

describe('generated client (axios transport) over HTTP, FAPI 2.0 client credentials + DPoP', () => {
  it('ES256 assertion, discovery from the issuer, JWE field encryption both ways, one token per scope set', async () => {
    gw = await gateway({ encryption })
    const spec = await loadSpec(SPEC)
    const issuer = new URL(gw.url).origin
    wireClient(heyClient, createClient({ baseURL: gw.url, encryption, auth: authForSpec(spec, { oauth2: { clientId: ES_CLIENT, issuer, key: esKey, kid: 'es-1' } }) }))

    const created = await sdk['createPayment']?.({ body: { amount: 1000, currency: 'EUR', card: { pan: '5123456789012345', expiry: '12/30' } }, throwOnError: true })
    expect(created?.data).toMatchObject({ id: 'pay_123', card: { last4: '2345' } })
    const got = await sdk['getPayment']?.({ path: { paymentId: 'pay_123' }, throwOnError: true })
    expect(got?.data).toMatchObject({ id: 'pay_123', card: { token: 'tok_9f8e' } })
    await sdk['getBalance']?.({ path: { accountId: 'acc-1' }, throwOnError: true })
    await sdk['getPayment']?.({ path: { paymentId: 'pay_123' }, throwOnError: true })

    // The partner decrypted the card the client encrypted; the client decrypted what the partner encrypted.
    const post = gw.requests.find((r) => r.method === 'POST' && r.path === '/payments' && r.status === 201)
    expect(post?.body).toMatchObject({ card: { pan: '5123456789012345' } })
    const tokens = gw.requests.filter((r) => r.path === '/oauth2/token' && r.status === 200)
    expect(tokens).toHaveLength(3) // payments:write, payments:read, accounts:read
    expect(gw.authorizationServer?.issued).toBe(3)
    expect(gw.requests.filter((r) => !r.path.startsWith('/oauth2') && !r.path.startsWith('/.well-known') && r.status < 300).map((r) => r.principal)).toEqual([ES_CLIENT, ES_CLIENT, ES_CLIENT, ES_CLIENT])
  })

  it('PS256 assertion with tokenUrl + issuer given; a scope the client may not have is a typed token error', async () => {
    gw = await gateway()
    const spec = await loadSpec(SPEC)
    const issuer = new URL(gw.url).origin
    wireClient(heyClient, createClient({ baseURL: gw.url, retry: false, auth: authForSpec(spec, { oauth2: { clientId: PS_CLIENT, issuer, tokenUrl: `${issuer}/oauth2/token`, key: psKey, kid: 'ps-1' } }) }))
    const got = await sdk['getPayment']?.({ path: { paymentId: 'pay_123' }, throwOnError: true })
    expect(got?.data).toMatchObject({ id: 'pay_123' })
    await expect(sdk['createPayment']?.({ body: { amount: 1, currency: 'EUR', card: {} }, throwOnError: true })).rejects.toMatchObject({
      code: 'ERR_OAUTH2_TOKEN_REQUEST',
      details: { error: 'invalid_scope', status: 400 },
    })
    expect(gw.requests.some((r) => r.path === '/.well-known/oauth-authorization-server')).toBe(false)
  })

  it('a 429 on a GET is retried with a fresh DPoP proof (new jti), and the retry verifies', async () => {
    let failed = false
    gw = await gateway({ rateLimit: { requests: 1, perMs: 5000 } })
    const spec = await loadSpec(SPEC)
    const issuer = new URL(gw.url).origin
    const api = createClient({
      baseURL: gw.url,
      retry: { retries: 1, statuses: [429], baseDelayMs: 1, maxDelayMs: 1 },
      sleep: async () => {
        failed = true
      },
      auth: authForSpec(spec, { oauth2: { clientId: ES_CLIENT, issuer, key: esKey, kid: 'es-1' } }),
    })
    await api.get('/payments/pay_123')
    await expect(api.get('/payments/pay_123')).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' })
    expect(failed).toBe(true)
    // Both attempts of the second call passed DPoP verification (a replayed proof would be a 401): the
    // rate limit, not the proof, refused them.
    expect(gw.requests.filter((r) => r.path === '/payments/pay_123').map((r) => r.status)).toEqual([401, 200, 429, 429])
  })
})

describe('generated client (fetch transport, createFetch) over HTTP, FAPI 2.0 client credentials + DPoP', () => {
  // A hey-api fetch client for the same spec (apisign generate --client fetch), inside the repo so it
  // resolves its imports; git-ignored.
  const out = join(REPO_ROOT, 'test/oauth2/.generated', String(process.pid))
  afterAll(() => rmSync(out, { recursive: true, force: true }))

  it('the same flow through createFetch: nonce challenges, one token per scope set, field encryption, typed rejection', async () => {
    const result = await generate({ spec: SPEC, out, name: 'payments-oauth2-fetch', client: 'fetch' })
    const dir = join(result.directory, 'client')
    const { client } = (await import(join(dir, 'client.gen.ts'))) as { client: { setConfig: (c: object) => unknown } }
    const fetchSdk = (await import(join(dir, 'sdk.gen.ts'))) as Record<string, (o: object) => Promise<{ data: unknown; error?: unknown; response: Response }>>
    gw = await gateway({ encryption })
    const spec = await loadSpec(SPEC)
    const issuer = new URL(gw.url).origin
    const signedFetch = createFetch({ baseURL: gw.url, encryption, auth: authForSpec(spec, { oauth2: { clientId: ES_CLIENT, issuer, key: esKey, kid: 'es-1' } }) })
    wireClient(client, signedFetch)
    const created = await fetchSdk['createPayment']?.({ body: { amount: 1000, currency: 'EUR', card: { pan: '5123456789012345', expiry: '12/30' } } })
    expect(created?.data).toMatchObject({ id: 'pay_123', card: { last4: '2345' } })
    const got = await fetchSdk['getPayment']?.({ path: { paymentId: 'pay_123' } })
    expect(got?.data).toMatchObject({ id: 'pay_123', card: { token: 'tok_9f8e' } })
    expect(gw.requests.find((r) => r.method === 'POST' && r.path === '/payments' && r.status === 201)?.body).toMatchObject({ card: { pan: '5123456789012345' } })
    expect(gw.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/.well-known/oauth-authorization-server', 200],
      ['POST', '/oauth2/token', 400],
      ['POST', '/oauth2/token', 200],
      ['POST', '/payments', 401],
      ['POST', '/payments', 201],
      ['POST', '/oauth2/token', 200],
      ['GET', '/payments/pay_123', 200],
    ])
    // A scope the PS256 client may not have: the fetch transport reports the typed token error.
    const ps = createFetch({ baseURL: gw.url, auth: authForSpec(spec, { oauth2: { clientId: PS_CLIENT, issuer, key: psKey, kid: 'ps-1' } }) })
    await expect(ps('/payments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).rejects.toMatchObject({ code: 'ERR_OAUTH2_TOKEN_REQUEST', details: { error: 'invalid_scope' } })
  })
})
