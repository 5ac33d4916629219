// Issue 8's "done when": every scheme of the example OST spec end to end through the client generated
// from it (generated/ost), signed by createClient, against the mock gateway verifying as the platform does.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadSpec, wireClient } from '../../src/codegen/index.js'
import { createClient } from '../../src/http/index.js'
import { authForSpec, fromFile } from '../../src/schemes/index.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'
import { REPO_ROOT } from '../helpers/shared.js'

type Sdk = Record<string, (o?: object) => Promise<{ data: unknown; status: number }>>
const SPEC = join(REPO_ROOT, 'openapi/ost.yaml')
const API_KEY = '65e20fcfce72f4c34546338a70518478'
const OST_SECRET = 'f07f94340ab66045634d7505385a53e4ed12f7d9792a40798f60fa9a95adb3e0'
const JWT_SECRET = 'original-hs256-secret-of-32-bytes!!'

let sdk: Sdk
let heyClient: { setConfig: (c: object) => void }
let gateway: MockGateway | undefined
beforeAll(async () => {
  heyClient = ((await import(join(REPO_ROOT, 'generated/ost/client/client.gen.ts'))) as { client: typeof heyClient }).client
  sdk = (await import(join(REPO_ROOT, 'generated/ost/client/sdk.gen.ts'))) as Sdk
})
afterEach(async () => {
  await gateway?.close()
  gateway = undefined
})

const serverSecurity = (ostKeys: object = { [API_KEY]: OST_SECRET }) => ({
  ostHmac: { keys: ostKeys },
  jwtBearer: { keys: { [API_KEY]: JWT_SECRET } },
  apiKey: { keys: [{ secret: API_KEY, label: 'ost-app' }] },
})
const clientCredentials = (apiSecret: string | ReturnType<typeof fromFile> = OST_SECRET) => ({
  ostHmac: { apiKey: API_KEY, apiSecret },
  jwtBearer: { apiKey: API_KEY, secret: JWT_SECRET, iat: true, expiresIn: 60 },
  apiKey: { key: API_KEY },
})

describe('the generated OST client, every scheme, against the mock gateway', () => {
  it('OST HMAC (GET path + array query, POST form with a nested object) and JWT bearer + X-Api-Key', async () => {
    const spec = await loadSpec(SPEC)
    gateway = await startMockGateway({ spec, security: serverSecurity() })
    wireClient(heyClient, createClient({ baseURL: gateway.url, auth: authForSpec(spec, clientCredentials()) }))

    const balance = await sdk['getUserBalance']?.({ path: { userId: 'u-1' }, throwOnError: true })
    expect(balance?.data).toEqual({ success: true, data: { result_type: 'balance', balance: { user_id: 'u-1', available_balance: '1000', unsettled_debit: '0' } } })
    const list = await sdk['listTransactions']?.({ query: { statuses: ['CREATED', 'SUCCESS'], limit: 5 }, throwOnError: true })
    expect((list as unknown as { status: number }).status).toBe(200)
    const executed = await sdk['executeTransaction']?.({ body: { to: '0xabc', amount: '10', meta_property: { name: 'gift', type: 'user_to_user' } }, throwOnError: true })
    expect(executed?.data).toMatchObject({ data: { transaction: { status: 'CREATED' } } })
    const report = await sdk['getDailyReport']?.({ query: { date: '2026-11-24' }, throwOnError: true })
    expect(report?.data).toEqual({ date: '2026-11-24', total: 42 })

    expect(gateway.requests.map((r) => [r.method, r.path, r.status, r.principal])).toEqual([
      ['GET', '/users/u-1/balance', 200, API_KEY],
      ['GET', '/transactions', 200, API_KEY],
      ['POST', '/transactions', 200, API_KEY],
      ['GET', '/reports/daily', 200, `${API_KEY}+ost-app`],
    ])
  })

  it('a wrong OST secret gets the platform envelope, a wrong JWT secret the JWT code', async () => {
    const spec = await loadSpec(SPEC)
    gateway = await startMockGateway({ spec, security: serverSecurity() })
    const api = createClient({
      baseURL: gateway.url,
      auth: authForSpec(spec, { ...clientCredentials('not-the-secret'), jwtBearer: { apiKey: API_KEY, secret: 'not-the-jwt-secret-either-32-bytes' } }),
      retry: false,
    })
    await expect(api.get('/users/u-1/balance')).rejects.toMatchObject({
      code: 'ERR_GATEWAY_REJECTED',
      details: { status: 401, source: 'OST', reasonCode: 'ERR_SIGNATURE_INVALID', description: expect.stringContaining('parameter: api_signature') },
    })
    await expect(api.get('/reports/daily', { params: { date: '2026-11-24' } })).rejects.toMatchObject({ code: 'ERR_GATEWAY_REJECTED', details: { status: 401, reasonCode: 'ERR_SIGNATURE_INVALID' } })
    expect(gateway.requests.map((r) => r.code)).toEqual(['ERR_SIGNATURE_INVALID', 'ERR_SIGNATURE_INVALID'])
  })

  it('a client clock 200 s behind is rejected as "Timestamp expired", learns the offset from Date and re-signs once', async () => {
    const spec = await loadSpec(SPEC)
    gateway = await startMockGateway({ spec, security: serverSecurity() })
    const api = createClient({ baseURL: gateway.url, auth: authForSpec(spec, clientCredentials()), now: () => Date.now() - 200_000 })
    const { status } = await api.get('/users/u-1/balance')
    expect(status).toBe(200)
    expect(gateway.requests.map((r) => [r.status, r.code])).toEqual([
      [401, 'ERR_TIMESTAMP_OUT_OF_WINDOW'],
      [200, undefined],
    ])
  })

  it('rotation: a secret swapped in the file is used by the next request; the old one verifies until its expiry and not after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apisign-rotate-'))
    try {
      const file = join(dir, 'ost-secret')
      writeFileSync(file, 'secret-old\n', { mode: 0o600 })
      let now = Date.now()
      const graceEnds = now + 86_400_000
      const spec = await loadSpec(SPEC)
      gateway = await startMockGateway({ spec, now: () => now, security: serverSecurity({ [API_KEY]: ['secret-new', { secret: 'secret-old', notAfter: graceEnds }] }) })
      const api = createClient({ baseURL: gateway.url, auth: authForSpec(spec, clientCredentials(fromFile(file))), now: () => now, retry: false })
      await api.get('/users/u-1/balance') // old secret, inside the grace period
      writeFileSync(file, 'secret-new\n')
      await api.get('/users/u-1/balance') // the next request uses the new secret: no restart
      writeFileSync(file, 'secret-old-')
      writeFileSync(file, 'secret-old\n')
      now = graceEnds - 1_000
      await api.get('/users/u-1/balance') // old secret, last second of its grace
      now = graceEnds + 1_000
      await expect(api.get('/users/u-1/balance')).rejects.toMatchObject({ code: 'ERR_GATEWAY_REJECTED', details: { status: 401, reasonCode: 'ERR_SIGNATURE_INVALID' } })
      expect(gateway.requests.map((r) => r.status)).toEqual([200, 200, 200, 401])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('an operation whose scheme has no credentials fails before sending, naming what it needs', async () => {
    const spec = await loadSpec(SPEC)
    gateway = await startMockGateway({ spec, security: serverSecurity() })
    const api = createClient({ baseURL: gateway.url, auth: authForSpec(spec, { ostHmac: { apiKey: API_KEY, apiSecret: OST_SECRET } }) })
    await expect(api.get('/reports/daily', { params: { date: '2026-11-24' } })).rejects.toMatchObject({ code: 'ERR_CREDENTIALS_MISSING' })
    expect(gateway.requests).toHaveLength(0)
  })

  it('the gateway refuses to start when an operation names a scheme it has no credentials for', async () => {
    await expect(startMockGateway({ spec: SPEC, security: { ostHmac: { keys: {} } } })).rejects.toMatchObject({ code: 'ERR_SCHEME_CONFIG' })
  })
})
