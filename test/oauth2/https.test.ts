// Issue 16's "done when" over HTTPS: the mock partner serves TLS with a certificate from the local test CA
// (`npm run certs`' script) and requires a client certificate (mTLS, as open-banking partners do); the
// generated clients call it through both transports with FAPI 2.0 client credentials and DPoP, the token
// endpoint reached over the same TLS; and a profile with `tls` wires the token endpoint by itself.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeCerts } from '../../certs-example/make-certs.mjs'
import { generate, loadSpec, wireClient } from '../../src/codegen/index.js'
import { createClient, createFetch, createHttpsAgent, createTlsFetch } from '../../src/http/index.js'
import { loadProfile } from '../../src/profiles/index.js'
import { authForSpec } from '../../src/schemes/index.js'
import type { MockGateway } from '../../src/testing/index.js'
import { REPO_ROOT } from '../helpers/shared.js'
import { ES_CLIENT, SPEC, esKey, gateway } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-oauth2-tls-'))
const out = join(REPO_ROOT, 'test/oauth2/.generated', `tls-${process.pid}`)
const certs = makeCerts({ outDir: dir })
const clientTls = { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey }
let gw: MockGateway
beforeAll(async () => {
  gw = await gateway({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert, requireClientCertificate: true } })
})
afterAll(async () => {
  await gw.close()
  rmSync(dir, { recursive: true, force: true })
  rmSync(out, { recursive: true, force: true })
})

describe('FAPI 2.0 client credentials + DPoP over HTTPS with mTLS', () => {
  it('generated axios client (createClient): token endpoint via createTlsFetch, API via the tls agent', async () => {
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mini$/)
    const issuer = new URL(gw.url).origin
    const spec = await loadSpec(SPEC)
    const heyClient = ((await import(join(REPO_ROOT, 'generated/payments-oauth2/client/client.gen.ts'))) as { client: { setConfig: (c: object) => void } }).client
    const sdk = (await import(join(REPO_ROOT, 'generated/payments-oauth2/client/sdk.gen.ts'))) as Record<string, (o?: object) => Promise<{ data: unknown }>>
    const auth = authForSpec(spec, { oauth2: { clientId: ES_CLIENT, issuer, key: esKey, kid: 'es-1', fetch: createTlsFetch(clientTls) as typeof fetch } })
    wireClient(heyClient, createClient({ baseURL: gw.url, tls: clientTls, auth }))
    const got = await sdk['getPayment']?.({ path: { paymentId: 'pay_123' }, throwOnError: true })
    expect(got?.data).toMatchObject({ id: 'pay_123' })
    const created = await sdk['createPayment']?.({ body: { amount: 1, currency: 'EUR', card: {} }, throwOnError: true })
    expect(created?.data).toMatchObject({ id: 'pay_123' })
    expect(gw.requests.filter((r) => r.status < 300).map((r) => [r.method, r.path])).toEqual(
      expect.arrayContaining([['GET', '/.well-known/oauth-authorization-server'], ['POST', '/oauth2/token'], ['GET', '/payments/pay_123'], ['POST', '/payments']]),
    )
    expect(gw.requests.filter((r) => r.path.startsWith('/payments') && r.status < 300).every((r) => r.principal === ES_CLIENT)).toBe(true)
  })

  it('generated fetch client (createFetch): token endpoint through the https agent (agentFetch)', async () => {
    const issuer = new URL(gw.url).origin
    const spec = await loadSpec(SPEC)
    const result = await generate({ spec: SPEC, out, name: 'payments-oauth2-fetch', client: 'fetch' })
    const { client } = (await import(join(result.directory, 'client/client.gen.ts'))) as { client: { setConfig: (c: object) => unknown } }
    const sdk = (await import(join(result.directory, 'client/sdk.gen.ts'))) as Record<string, (o: object) => Promise<{ data: unknown; response: Response }>>
    const signedFetch = createFetch({ baseURL: gw.url, tls: clientTls, rejections: 'throw', auth: authForSpec(spec, { oauth2: { clientId: ES_CLIENT, issuer, key: esKey, kid: 'es-1', agent: createHttpsAgent(clientTls) } }) })
    wireClient(client, signedFetch)
    const balance = await sdk['getBalance']?.({ path: { accountId: 'acc-1' } })
    expect(balance?.response.status).toBe(200)
    expect(gw.requests.at(-1)).toMatchObject({ path: '/accounts/acc-1/balance', status: 200, principal: ES_CLIENT })
  })

  it("a profile with tls: the token endpoint is reached over the profile's TLS without further options", async () => {
    const issuer = new URL(gw.url).origin
    for (const [name, content] of [['client-es256.pem', esKey.export({ type: 'pkcs8', format: 'pem' })]] as const) {
      writeFileSync(join(dir, name), content)
      chmodSync(join(dir, name), 0o600)
    }
    writeFileSync(
      join(dir, 'apisign.config.json'),
      JSON.stringify({ profiles: { mock: { environment: 'sandbox', baseURL: gw.url, auth: { scheme: 'oauth2', issuer, clientId: ES_CLIENT, kid: 'es-1', key: { path: './client-es256.pem' }, scopes: ['payments:read'] }, tls: { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey } } } }),
    )
    const profile = await loadProfile('mock', { cwd: dir, env: {} })
    const { status } = await createClient(profile).get('/payments/pay_123')
    expect(status).toBe(200)
  })

  it('without the client certificate the token request fails at the TLS handshake, typed', async () => {
    const issuer = new URL(gw.url).origin
    const api = createClient({ baseURL: gw.url, tls: clientTls, retry: false, auth: { scheme: 'oauth2', clientId: ES_CLIENT, issuer, key: esKey, kid: 'es-1', fetch: createTlsFetch({ ca: certs.caCert }) as typeof fetch } })
    await expect(api.get('/payments/pay_123')).rejects.toMatchObject({ code: 'ERR_OAUTH2_TOKEN_REQUEST' })
  })
})
