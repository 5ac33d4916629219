// Every scheme of the table through createClient against the mock gateway: the spec's securitySchemes pick
// the scheme per operation on both sides; a good credential passes, a bad one gets the scheme's code, and a
// 429 + Retry-After is retried by the client's policy with a fresh signature (issue 8, items 1-3).
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/index.js'
import { type CredentialsBySchemeName, SCHEMES, apiKeyAuth, authForSpec, createSchemeVerifier, resolveAuth, schemeOf } from '../../src/schemes/index.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'
import { readShared } from '../helpers/shared.js'

const privateKey = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const publicKey = createPublicKey(privateKey)
const T0 = Date.parse('2026-11-24T10:00:00Z')

const op = (name: string) => ({ get: { operationId: `get_${name}`, security: [{ [name]: [] }], responses: { '200': { description: 'ok', content: { 'application/json': { example: { scheme: name } } } } } } })
const SPEC = {
  openapi: '3.0.3',
  info: { title: 'schemes', version: '1' },
  servers: [{ url: 'https://api.example.com/v1' }],
  paths: {
    '/oauth1': op('oauth1'),
    '/ost': op('ost'),
    '/jwt': { get: { ...op('jwt').get, security: [{ jwt: [], key: [] }] } },
    '/token': op('token'),
    '/key': op('key'),
    '/keyquery': op('keyquery'),
    '/basic': op('basic'),
    '/sigv4': op('sigv4'),
    '/open': { get: { ...op('open').get, security: [{}] } },
    '/either': { get: { ...op('either').get, security: [{ basic: [] }, { key: [] }] } },
    '/anon': { get: { ...op('anon').get, security: [] } },
    '/both': { get: { ...op('both').get, security: [{ oauth1: [], mcToken: [] }] } },
    '/clash': { get: { ...op('clash').get, security: [{ oauth1: [], token: [] }] } },
  },
  components: {
    securitySchemes: {
      oauth1: { type: 'apiKey', in: 'header', name: 'Authorization', 'x-apisign-scheme': 'oauth1' },
      ost: { type: 'apiKey', in: 'query', name: 'api_signature', 'x-apisign-scheme': 'ost' },
      jwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', 'x-apisign-scheme': 'jwt-bearer' },
      token: { type: 'http', scheme: 'bearer' },
      key: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      keyquery: { type: 'apiKey', in: 'query', name: 'key' },
      basic: { type: 'http', scheme: 'basic' },
      sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', 'x-amazon-apigateway-authtype': 'awsSigv4' },
      mcToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', 'x-apisign-scheme': 'bearer-token' },
    },
  },
}

const AWS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const server = {
  ost: { keys: { 'ost-key': 'ost-secret' } },
  jwt: { keys: { 'app-key': 'jwt-secret-jwt-secret-jwt-secret!' } },
  token: { tokens: ['issued-token-1'] },
  key: { keys: [{ secret: 'app-key', label: 'app' }] },
  keyquery: { keys: ['query-key'] },
  basic: { users: { partner: 'basic-password' } },
  sigv4: { credentials: { [AWS.accessKeyId]: AWS.secretAccessKey }, region: 'eu-west-1', service: 'execute-api' },
  mcToken: { tokens: [{ secret: 'provider-issued-token', notAfter: T0 + 3_600_000 }] },
}
const good: CredentialsBySchemeName = {
  oauth1: { consumerKey: 'ck!schemes', key: privateKey },
  ost: { apiKey: 'ost-key', apiSecret: 'ost-secret' },
  jwt: { apiKey: 'app-key', secret: 'jwt-secret-jwt-secret-jwt-secret!' },
  token: { fetch: async () => ({ token: 'issued-token-1', expiresAtMs: T0 + 3_600_000 }) },
  key: { key: 'app-key' },
  keyquery: { key: 'query-key' },
  basic: { username: 'partner', password: 'basic-password' },
  sigv4: { region: 'eu-west-1', service: 'execute-api', credentials: AWS },
}
const bad: CredentialsBySchemeName = {
  oauth1: { consumerKey: 'ck!schemes', key: createPrivateKey(readShared('keys/encryption/private-key-pkcs8.pem')) },
  ost: { apiKey: 'ost-key', apiSecret: 'wrong' },
  jwt: { apiKey: 'app-key', secret: 'wrong-secret-wrong-secret-wrong!!' },
  token: { fetch: async () => ({ token: 'forged', expiresAtMs: T0 + 3_600_000 }) },
  key: { key: 'wrong' },
  keyquery: { key: 'wrong' },
  basic: { username: 'partner', password: 'wrong' },
  sigv4: { region: 'eu-west-1', service: 'execute-api', credentials: { ...AWS, secretAccessKey: 'wrong' } },
}
const expectedCode: Record<string, string> = {
  oauth1: 'ERR_OAUTH1_SIGNATURE_INVALID',
  ost: 'ERR_SIGNATURE_INVALID',
  jwt: 'ERR_SIGNATURE_INVALID',
  token: 'ERR_CREDENTIALS_UNKNOWN',
  key: 'ERR_CREDENTIALS_UNKNOWN',
  keyquery: 'ERR_CREDENTIALS_UNKNOWN',
  basic: 'ERR_CREDENTIALS_UNKNOWN',
  sigv4: 'ERR_SIGNATURE_INVALID',
}

let gateway: MockGateway | undefined
afterEach(async () => {
  await gateway?.close()
  gateway = undefined
})

async function setUp(credentials: CredentialsBySchemeName, rateLimit?: { requests: number; perMs: number }) {
  let now = T0
  const slept: number[] = []
  gateway = await startMockGateway({ spec: SPEC, consumers: { 'ck!schemes': publicKey }, security: server, now: () => now, ...(rateLimit === undefined ? {} : { rateLimit }) })
  const api = createClient({
    baseURL: gateway.url,
    auth: authForSpec(SPEC, credentials),
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms)
      now += ms
    },
  })
  return { api, slept, gateway }
}

const NAMES = ['oauth1', 'ost', 'jwt', 'token', 'key', 'keyquery', 'basic', 'sigv4']

describe('each scheme through createClient against the mock gateway', () => {
  it.each(NAMES)('%s: accepted with the right credential', async (name) => {
    const { api, gateway: gw } = await setUp(good)
    const { data } = await api.get(`/${name}`)
    expect(data).toEqual({ scheme: name })
    expect(gw.requests[0]?.principal).toBeTruthy()
  })

  it.each(NAMES)('%s: rejected with the scheme code for a wrong credential', async (name) => {
    const { api, gateway: gw } = await setUp({ ...good, [name]: bad[name] as never })
    await expect(api.get(`/${name}`)).rejects.toMatchObject({ details: { status: 401 } })
    expect(gw.requests.map((r) => r.code)).toEqual([expectedCode[name]])
  })

  it.each(NAMES)('%s: 429 + Retry-After is waited out and the retry is signed afresh', async (name) => {
    const { api, slept, gateway: gw } = await setUp(good, { requests: 1, perMs: 2_000 })
    await api.get(`/${name}`)
    const { data } = await api.get(`/${name}`)
    expect(data).toEqual({ scheme: name })
    expect(slept).toEqual([2_000])
    expect(gw.requests.map((r) => r.status)).toEqual([200, 429, 200])
  })

  it('an anonymous operation ({} or security: []) needs nothing; of two alternatives the one with credentials is used', async () => {
    const { api, gateway: gw } = await setUp({ key: { key: 'app-key' } })
    expect((await api.get('/open')).data).toEqual({ scheme: 'open' })
    expect((await api.get('/anon')).data).toEqual({ scheme: 'anon' })
    expect((await api.get('/either')).data).toEqual({ scheme: 'either' })
    expect(gw.requests.map((r) => r.principal)).toEqual(['anonymous', 'anonymous', 'app'])
  })
  it('a spec that declares no security: one scheme given is used, several are a configuration error', async () => {
    const bare = { openapi: '3.0.3', info: { title: 'bare', version: '1' }, paths: { '/x': { get: { responses: { '200': { description: 'ok' } } } } } }
    const context = { now: () => T0, baseURL: new URL('https://api.example.com/') }
    const request = { method: 'GET', url: new URL('https://api.example.com/x'), headers: {}, body: undefined }
    const one = await authForSpec(bare, { only: apiKeyAuth({ key: 'k1' }) }).apply(request, context)
    expect(one.headers).toEqual({ 'X-Api-Key': 'k1' })
    await expect(authForSpec(bare, { a: apiKeyAuth({ key: 'k1' }), b: apiKeyAuth({ key: 'k2' }) }).apply(request, context)).rejects.toMatchObject({ code: 'ERR_SCHEME_CONFIG' })
  })
})

describe('two schemes on one request', () => {
  it('OAuth1 + a provider-issued token in the header the spec names, refreshed before it expires', async () => {
    let fetched = 0
    const { api, gateway: gw } = await setUp({
      ...good,
      mcToken: {
        fetch: async () => {
          fetched++
          return { token: 'provider-issued-token', expiresAtMs: T0 + 3_600_000 }
        },
        refreshBeforeMs: 60_000,
      },
    })
    expect((await api.get('/both')).data).toEqual({ scheme: 'both' })
    expect((await api.get('/both')).data).toEqual({ scheme: 'both' })
    expect(fetched).toBe(1)
    expect(gw.requests.map((r) => r.principal)).toEqual(['ck!schemes+bearer', 'ck!schemes+bearer'])
  })
  it('two schemes writing the same header is a configuration error, before anything is sent', async () => {
    const { api, gateway: gw } = await setUp(good)
    await expect(api.get('/clash')).rejects.toMatchObject({ code: 'ERR_SCHEME_CONFIG' })
    expect(gw.requests).toHaveLength(0)
  })
})

describe('the table', () => {
  it('reads OpenAPI security schemes: x-apisign-scheme first, then the standard types', () => {
    const schemes = SPEC.components.securitySchemes
    expect(Object.fromEntries(Object.entries(schemes).map(([k, v]) => [k, schemeOf(v)]))).toEqual({
      oauth1: 'oauth1', ost: 'ost', jwt: 'jwt-bearer', token: 'bearer-token', key: 'api-key', keyquery: 'api-key', basic: 'basic', sigv4: 'sigv4', mcToken: 'bearer-token',
    })
    expect(schemeOf({ type: 'openIdConnect' })).toBeUndefined()
    expect(() => schemeOf({ type: 'apiKey', 'x-apisign-scheme': 'kerberos' })).toThrow(expect.objectContaining({ code: 'ERR_SCHEME_CONFIG' }))
  })
  it('has one row per scheme with an applier, a verifier and an error body', () => {
    expect(Object.keys(SCHEMES).sort()).toEqual(['api-key', 'basic', 'bearer-token', 'jwt-bearer', 'oauth1', 'oauth2', 'ost', 'sigv4'])
    for (const [id, row] of Object.entries(SCHEMES)) {
      expect(row.id).toBe(id)
      expect(row.rejectionBody({ ok: false, code: 'ERR_SIGNATURE_INVALID', message: 'm' })).toBeTypeOf('object')
    }
  })
  it('createClient takes { scheme } configs through the table; unknown schemes are a config error', async () => {
    expect(typeof resolveAuth({ scheme: 'basic', username: 'u', password: 'p' }).apply).toBe('function')
    expect(() => createClient({ baseURL: 'https://api.example.com', auth: { scheme: 'kerberos' } as never })).toThrow(expect.objectContaining({ code: 'ERR_SCHEME_CONFIG' }))
    expect(() => authForSpec(SPEC, { nope: { key: 'k' } })).toThrow(expect.objectContaining({ code: 'ERR_SCHEME_CONFIG' }))
    const verifier = createSchemeVerifier({ scheme: 'api-key', keys: ['k1'] })
    expect(await verifier.verify({ method: 'GET', url: 'https://x.test/', headers: { 'x-api-key': 'k1' } })).toEqual({ ok: true, principal: 'key#0' })
  })
})
