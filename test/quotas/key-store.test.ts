// The provider's key store and quotas in memory (issue 18, item 2): issue, roll with a grace period on an
// injected clock, revoke, list without secrets, options validated; the SigV4 and bearer-token rows read it too.
import { generateKeyPairSync } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/index.js'
import { createKeyStore, createProviderQuotas, createUsageRecorder, rateLimitHeaders } from '../../src/quotas/index.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'

const HOUR = 3_600_000

describe('key store', () => {
  it('options and inputs are validated', async () => {
    expect(() => createKeyStore({ graceMs: Number.NaN })).toThrow(TypeError)
    expect(() => createKeyStore({ graceMs: -1 })).toThrow(TypeError)
    expect(() => createKeyStore({ graceMs: 1.5 })).toThrow(TypeError)
    expect(() => createKeyStore({ keyPrefix: '' })).toThrow(TypeError)
    const store = createKeyStore()
    await expect(store.issue({ kind: 'password' as never })).rejects.toBeInstanceOf(TypeError)
    await expect(store.issue({ kind: 'secret', keyId: 'has space' })).rejects.toBeInstanceOf(TypeError)
    await expect(store.issue({ kind: 'secret', secret: 'short' })).rejects.toBeInstanceOf(TypeError)
    await expect(store.issue({ kind: 'public-key' })).rejects.toBeInstanceOf(TypeError)
    await expect(store.issue({ kind: 'public-key', publicKey: 'not a key' })).rejects.toMatchObject({ code: 'ERR_KEY_INVALID' })
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    await expect(store.issue({ kind: 'public-key', publicKey: pair.privateKey })).rejects.toBeInstanceOf(TypeError)
    await expect(store.issue({ kind: 'public-key', publicKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() })).rejects.toBeInstanceOf(TypeError)
    await store.issue({ kind: 'secret', keyId: 'k1' })
    await expect(store.issue({ kind: 'secret', keyId: 'k1' })).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' })
    await expect(store.roll('nobody')).rejects.toMatchObject({ code: 'ERR_CREDENTIALS_UNKNOWN' })
    await expect(store.roll('k1', { graceMs: Number.NaN })).rejects.toBeInstanceOf(TypeError)
    await expect(store.revoke('nobody')).rejects.toMatchObject({ code: 'ERR_CREDENTIALS_UNKNOWN' })
  })

  it('an API key rolled: both values work during the grace, only the new one after; listed without values', async () => {
    let t = 1_800_000_000_000
    const store = createKeyStore({ now: () => t, graceMs: 2 * HOUR })
    const first = await store.issue({ kind: 'api-key', keyId: 'partner-b', label: 'B' })
    expect(first.secret).toMatch(/^ak_/)
    expect(await store.keyIdOfValue(first.secret as string)).toBe('partner-b')
    const second = await store.roll('partner-b')
    expect(second.graceEndsAt).toBe(t + 2 * HOUR)
    t += 2 * HOUR - 1
    expect(await store.keyIdOfValue(first.secret as string)).toBe('partner-b')
    expect(await store.keyIdOfValue(second.secret as string)).toBe('partner-b')
    t += 1
    expect(await store.keyIdOfValue(first.secret as string)).toBeUndefined()
    expect(await store.keyIdOfValue(second.secret as string)).toBe('partner-b')
    expect(await store.keyIdOfValue('')).toBeUndefined()
    const listed = await store.list()
    expect(listed).toEqual([expect.objectContaining({ keyId: 'partner-b', kind: 'api-key', label: 'B', credentials: [expect.objectContaining({ fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) })] })])
    expect(JSON.stringify(listed)).not.toContain(second.secret)
    await store.revoke('partner-b')
    await store.revoke('partner-b') // twice is fine
    expect(await store.keyIdOfValue(second.secret as string)).toBeUndefined()
    await expect(store.roll('partner-b')).rejects.toMatchObject({ code: 'ERR_CREDENTIALS_UNKNOWN' })
  })

  it('a public key the caller brings; secrets and public keys are only given to the scheme that uses them', async () => {
    const store = createKeyStore()
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const issued = await store.issue({ kind: 'public-key', keyId: 'ck!own', publicKey })
    expect(issued.publicKey).toMatch(/BEGIN PUBLIC KEY/)
    expect(issued.privateKey).toBeUndefined()
    expect(await store.publicKeys('ck!own')).toHaveLength(1)
    expect(await store.secrets('ck!own')).toBeUndefined()
    await store.issue({ kind: 'secret', keyId: 's1' })
    expect(await store.publicKeys('s1')).toBeUndefined()
    expect(await store.secrets('nobody')).toBeUndefined()
  })
})

describe('provider quotas and usage', () => {
  it('options are validated', () => {
    expect(() => createProviderQuotas({})).toThrow(TypeError)
    expect(() => createProviderQuotas({ windows: [{ requests: Number.NaN, perMs: 1000 }] })).toThrow(TypeError)
    expect(() => createProviderQuotas({ windows: ['5/1s'], operations: { nonsense: ['1/1s'] } })).toThrow(TypeError)
    expect(() => createProviderQuotas({ windows: ['5/500ms'], redis: 'redis://127.0.0.1:1' })).toThrow(TypeError)
  })

  it('per-key windows replace the default; headers name the tightest window', async () => {
    const quotas = createProviderQuotas({ windows: ['1/1m'], keys: { vip: ['3/1m', '100/1d'] } })
    expect((await quotas.check('basic')).allowed).toBe(true)
    expect((await quotas.check('basic')).allowed).toBe(false)
    const vip = await quotas.check('vip')
    expect(vip.headers).toMatchObject({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '2' })
    expect(Number(vip.headers['x-ratelimit-reset'])).toBeGreaterThan(55)
    expect(rateLimitHeaders([])).toEqual({})
  })

  it('usage counts a key without operations too', () => {
    const usage = createUsageRecorder()
    usage.record({ at: 1, key: 'k', method: 'GET', path: '/x', status: 404, bytesIn: 0, bytesOut: 10, durationMs: 1 })
    expect(usage.snapshot()['k']).toMatchObject({ requests: 1, rejected: 1, rejectedByCode: { HTTP_404: 1 }, operations: {} })
  })
})

describe('the SigV4 and bearer-token rows read the key store', () => {
  let gateway: MockGateway | undefined
  afterEach(async () => {
    await gateway?.close()
    gateway = undefined
  })
  const spec = {
    openapi: '3.0.3',
    info: { title: 'rows', version: '1' },
    servers: [{ url: 'https://api.example.com/v1' }],
    paths: {
      '/aws': { get: { security: [{ aws: [] }], responses: { '200': { description: 'ok' } } } },
      '/token': { get: { security: [{ token: [] }], responses: { '200': { description: 'ok' } } } },
    },
    components: {
      securitySchemes: {
        aws: { type: 'apiKey', in: 'header', name: 'Authorization', 'x-amazon-apigateway-authtype': 'awsSigv4' },
        token: { type: 'http', scheme: 'bearer' },
      },
    },
  }
  it('SigV4 (region and service in security, secrets in the store) and an issued bearer token', async () => {
    const keyStore = createKeyStore()
    const aws = await keyStore.issue({ kind: 'secret', keyId: 'AKIDSTORE' })
    const token = await keyStore.issue({ kind: 'api-key', keyId: 'token-holder' })
    gateway = await startMockGateway({ spec, keyStore, security: { aws: { region: 'eu-west-1', service: 'execute-api' } } })
    const sig = createClient({ baseURL: gateway.url, auth: { scheme: 'sigv4', region: 'eu-west-1', service: 'execute-api', credentials: { accessKeyId: 'AKIDSTORE', secretAccessKey: aws.secret as string } }, retry: false })
    const bearer = createClient({ baseURL: gateway.url, auth: { scheme: 'bearer-token', fetch: async () => ({ token: token.secret as string, expiresAtMs: Date.now() + HOUR }) }, retry: false })
    expect((await sig.get('/aws')).status).toBe(200)
    expect((await bearer.get('/token')).status).toBe(200)
    expect(gateway.requests.map((r) => r.principal)).toEqual(['AKIDSTORE', 'token-holder'])
    await keyStore.revoke('AKIDSTORE')
    await expect(sig.get('/aws')).rejects.toMatchObject({ details: { status: 401 } })
  })
})
