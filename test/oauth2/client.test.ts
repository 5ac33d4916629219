// The oauth2 applier on its own: the single-flight token cache (issue 16: 50 concurrent requests on a cold
// cache make exactly one token request), refresh before expiry, the token dropped on invalid_token,
// DPoP nonces per origin with one retry on use_dpop_nonce, and option validation.
import { createPrivateKey, generateKeyPairSync } from 'node:crypto'
import { decodeJwt } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/index.js'
import { oauth2Auth } from '../../src/schemes/oauth2-client.js'
import { resolveAuth } from '../../src/schemes/index.js'
import type { MockGateway } from '../../src/testing/index.js'
import { AS_ORIGIN, ES_CLIENT, RS_URL, authorizationServer, esKey, gateway, inProcessFetch } from './helpers.js'

const context = (now = Date.now, scopes?: string[]) => ({ now, baseURL: new URL(RS_URL), ...(scopes === undefined ? {} : { scopes }) })
const get = (path = '/payments/pay_1') => ({ method: 'GET', url: new URL(`${RS_URL}${path}`), headers: {}, body: undefined })
const base = { clientId: ES_CLIENT, issuer: AS_ORIGIN, key: esKey, kid: 'es-1' }

let gw: MockGateway | undefined
afterEach(async () => {
  await gw?.close()
  gw = undefined
})

describe('token cache', () => {
  it('50 concurrent requests on a cold cache make exactly one token request (through the mock gateway)', async () => {
    gw = await gateway({}, { dpopNonce: false })
    const issuer = new URL(gw.url).origin
    const auth = oauth2Auth({ ...base, issuer, tokenUrl: `${issuer}/oauth2/token`, scopes: ['payments:read'] })
    const api = createClient({ baseURL: gw.url, auth })
    const answers = await Promise.all(Array.from({ length: 50 }, () => api.get('/payments/pay_123')))
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(auth.tokenRequests).toBe(1)
    expect(gw.requests.filter((r) => r.path === '/oauth2/token')).toHaveLength(1)
  })

  it('one token per scope set (order and duplicates do not matter), reused until shortly before expiry', async () => {
    let t = Date.now()
    // The server shares the moved clock: the client's assertions follow its own (skew-corrected) clock.
    const as = authorizationServer({ dpopNonce: false, tokenLifetimeSec: 300, now: () => t })
    const auth = oauth2Auth({ ...base, tokenUrl: as.tokenEndpoint, fetch: inProcessFetch(as), refreshBeforeMs: 30_000 })
    const clock = () => t
    const a = await auth.apply(get(), context(clock, ['payments:read', 'accounts:read']))
    const b = await auth.apply(get(), context(clock, ['accounts:read', 'payments:read', 'accounts:read']))
    expect(a.headers['Authorization']).toBe(b.headers['Authorization'])
    expect(auth.tokenRequests).toBe(1)
    await auth.apply(get(), context(clock, ['payments:read']))
    expect(auth.tokenRequests).toBe(2)
    t += 260_000 // 40 s left: still good
    await auth.apply(get(), context(clock, ['payments:read']))
    expect(auth.tokenRequests).toBe(2)
    t += 15_000 // 25 s left: inside the 30 s margin, refreshed
    const c = await auth.apply(get(), context(clock, ['payments:read']))
    expect(auth.tokenRequests).toBe(3)
    expect(decodeJwt(String(c.headers['Authorization']).slice(5))).toMatchObject({ scope: 'payments:read' })
  })

  it('a failed token request is not cached: the next call asks again', async () => {
    const as = authorizationServer({ dpopNonce: false })
    const auth = oauth2Auth({ ...base, tokenUrl: as.tokenEndpoint, fetch: inProcessFetch(as), kid: 'not-registered' })
    await expect(auth.apply(get(), context())).rejects.toMatchObject({ code: 'ERR_OAUTH2_TOKEN_REQUEST', details: { error: 'invalid_client', status: 401 } })
    await expect(auth.apply(get(), context())).rejects.toMatchObject({ code: 'ERR_OAUTH2_TOKEN_REQUEST' })
    expect(auth.tokenRequests).toBe(2)
  })
})

describe('onResponse', () => {
  it('invalid_token drops the token and asks for one retry, which carries a new token and a fresh proof', async () => {
    const as = authorizationServer({ dpopNonce: false })
    const auth = oauth2Auth({ ...base, tokenUrl: as.tokenEndpoint, fetch: inProcessFetch(as) })
    const request = get()
    const first = await auth.apply(request, context())
    const verdict = await auth.onResponse?.({ request, status: 401, headers: { 'www-authenticate': 'DPoP error="invalid_token", error_description="the access token expired", algs="ES256 PS256"' } }, context())
    expect(verdict).toBe('retry')
    const second = await auth.apply(get(), context())
    expect(auth.tokenRequests).toBe(2)
    expect(second.headers['Authorization']).not.toBe(first.headers['Authorization'])
    expect(decodeJwt(String(second.headers['DPoP'])).jti).not.toBe(decodeJwt(String(first.headers['DPoP'])).jti)
  })

  it('use_dpop_nonce with a DPoP-Nonce: retry, and the next proof for that origin carries the nonce', async () => {
    const as = authorizationServer({ dpopNonce: false })
    const auth = oauth2Auth({ ...base, tokenUrl: as.tokenEndpoint, fetch: inProcessFetch(as) })
    const request = get()
    await auth.apply(request, context())
    expect(await auth.onResponse?.({ request, status: 401, headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"', 'dpop-nonce': 'eyJ7S_zG.eyJH0-Z.HX4w-7v' } }, context())).toBe('retry')
    const next = await auth.apply(get(), context())
    expect(decodeJwt(String(next.headers['DPoP']))).toMatchObject({ nonce: 'eyJ7S_zG.eyJH0-Z.HX4w-7v', htm: 'GET', htu: `${RS_URL}/payments/pay_1` })
    const elsewhere = await auth.apply({ ...get(), url: new URL('https://other.example.com/x') }, context())
    expect(decodeJwt(String(elsewhere.headers['DPoP'])).nonce).toBeUndefined()
    // A nonce on a success is remembered too (RFC 9449 §8.2); other statuses ask for nothing.
    expect(await auth.onResponse?.({ request, status: 200, headers: { 'dpop-nonce': 'n-2' } }, context())).toBeUndefined()
    expect(decodeJwt(String((await auth.apply(get(), context())).headers['DPoP'])).nonce).toBe('n-2')
    expect(await auth.onResponse?.({ request, status: 403, headers: { 'www-authenticate': 'DPoP error="insufficient_scope"' } }, context())).toBeUndefined()
  })

  it('through createClient, a resource server nonce challenge is answered once, not looped', async () => {
    gw = await gateway({}, { dpopNonce: false })
    const issuer = new URL(gw.url).origin
    const api = createClient({ baseURL: gw.url, retry: false, auth: oauth2Auth({ ...base, issuer, tokenUrl: `${issuer}/oauth2/token`, scopes: ['payments:read'] }) })
    await api.get('/payments/pay_123')
    expect(gw.requests.filter((r) => r.path === '/payments/pay_123').map((r) => r.status)).toEqual([401, 200])
  })
})

describe('options are checked when the applier is built', () => {
  it.each([
    ['no clientId', { clientId: '' }, 'ERR_SCHEME_CONFIG'],
    ['no kid', { kid: '' }, 'ERR_SCHEME_CONFIG'],
    ['neither tokenUrl nor issuer', { issuer: undefined }, 'ERR_SCHEME_CONFIG'],
    ['a plain-http token endpoint off loopback', { tokenUrl: 'http://auth.example.com/token' }, 'ERR_CONFIG_INVALID'],
    ['a scope with a space', { scopes: ['a b'] }, 'ERR_SCHEME_CONFIG'],
    ['RS256 (FAPI 2.0 allows PS256 and ES256)', { algorithm: 'RS256' }, 'ERR_ALG_NOT_ALLOWED'],
    ['an EC P-384 key', { key: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey }, 'ERR_KEY_WRONG_TYPE'],
    ['an RSA key asked to sign ES256', { algorithm: 'ES256', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey }, 'ERR_KEY_WRONG_TYPE'],
  ])('%s', (_name, change, code) => {
    const options = { ...base, ...change } as Parameters<typeof oauth2Auth>[0]
    expect(() => oauth2Auth(options)).toThrow(expect.objectContaining({ code }))
  })

  it('numeric options are read strictly (a NaN margin never switches the refresh off)', () => {
    expect(() => oauth2Auth({ ...base, refreshBeforeMs: Number.NaN })).toThrow(TypeError)
    expect(() => oauth2Auth({ ...base, assertionLifetimeSec: 0 })).toThrow(TypeError)
    expect(() => oauth2Auth({ ...base, timeoutMs: '5s' as never })).toThrow(TypeError)
  })

  it('is a row of the scheme table: resolveAuth({ scheme: "oauth2", ... })', () => {
    const auth = resolveAuth({ scheme: 'oauth2', ...base, scopes: ['payments:read'] })
    expect(typeof auth.apply).toBe('function')
    expect(typeof auth.onResponse).toBe('function')
  })

  it('dpop: false sends a Bearer token, without a proof', async () => {
    const as = authorizationServer({ dpopNonce: false })
    const fetchAs: typeof fetch = async (input, init) => {
      // This server insists on DPoP; a bearer-only client gets invalid_dpop_proof at the token endpoint.
      return inProcessFetch(as)(input, init)
    }
    const auth = oauth2Auth({ ...base, tokenUrl: as.tokenEndpoint, fetch: fetchAs, dpop: false })
    expect(auth.jkt).toBeUndefined()
    await expect(auth.token()).rejects.toMatchObject({ code: 'ERR_OAUTH2_TOKEN_REQUEST', details: { error: 'invalid_dpop_proof' } })
  })
})

describe('an external signer for the client assertion (the Signer seam of apisign/signers)', () => {
  it.each([['ES256', esKey, 'es-1', ES_CLIENT]] as const)('%s signer: the assertion goes through its one sign call and the server accepts it', async (algorithm, key, kid, clientId) => {
    const as = authorizationServer({ dpopNonce: false })
    const calls: number[] = []
    const { keyObjectJwsKey } = await import('../../src/schemes/oauth2-jose.js')
    const local = keyObjectJwsKey(key)
    const signer = { kind: 'signer' as const, algorithm, sign: async (data: Uint8Array) => (calls.push(data.length), local.sign(data) as Uint8Array) }
    const auth = oauth2Auth({ clientId, issuer: AS_ORIGIN, tokenUrl: as.tokenEndpoint, key: signer, kid, fetch: inProcessFetch(as) })
    expect(await auth.token()).toMatchObject({ tokenType: 'DPoP' })
    expect(calls).toHaveLength(1)
  })

  it('a signer of RS256 is refused (FAPI 2.0)', () => {
    expect(() => oauth2Auth({ ...base, key: { kind: 'signer', algorithm: 'RS256', sign: async () => new Uint8Array() } })).toThrow(expect.objectContaining({ code: 'ERR_ALG_NOT_ALLOWED' }))
  })
})

describe('key sources and registrations', () => {
  it('a PKCS#12 keystore (the portal download shape) signs PS256 assertions; the server holds that client as a JWKS', async () => {
    const { createPublicKey } = await import('node:crypto')
    const { readShared } = await import('../helpers/shared.js')
    const { publicJwk } = await import('../../src/schemes/oauth2-jose.js')
    const jwk = { ...publicJwk(createPublicKey(readShared('keys/oauth1/public-key.pem'))), kid: 'p12-key', use: 'sig' }
    const as = authorizationServer({ dpopNonce: false, clients: { 'p12-client': { keys: { keys: [jwk] } } } })
    const auth = oauth2Auth({ clientId: 'p12-client', issuer: AS_ORIGIN, tokenUrl: as.tokenEndpoint, key: { p12: readShared('keys/oauth1/keystore.p12'), alias: 'keyalias', password: 'keystorepassword' }, kid: 'p12-key', fetch: inProcessFetch(as) })
    expect(await auth.token()).toMatchObject({ tokenType: 'DPoP' })
    const der = oauth2Auth({ clientId: 'p12-client', issuer: AS_ORIGIN, tokenUrl: as.tokenEndpoint, key: createPrivateKeyDer(readShared('keys/oauth1/private-key.pem')), kid: 'p12-key', fetch: inProcessFetch(as) })
    expect(await der.token()).toMatchObject({ tokenType: 'DPoP' })
  })
})

const createPrivateKeyDer = (pem: Buffer): Buffer => createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' })

describe('the token endpoint through a node:http(s) agent', () => {
  it('agent: the token requests (discovery, nonce challenge, grant) go through it, keep-alive', async () => {
    const { Agent } = await import('node:http')
    gw = await gateway()
    const issuer = new URL(gw.url).origin
    const agent = new Agent({ keepAlive: true })
    let sockets = 0
    const created = agent.createConnection.bind(agent)
    agent.createConnection = ((...args: Parameters<typeof created>) => (sockets++, created(...args))) as typeof created
    const auth = oauth2Auth({ ...base, issuer, agent, scopes: ['payments:read'] })
    const token = await auth.token()
    expect(token).toMatchObject({ tokenType: 'DPoP', scopes: ['payments:read'] })
    expect(token.serverDateMs).toBeTypeOf('number')
    expect(gw.requests.map((r) => [r.path, r.status])).toEqual([['/.well-known/oauth-authorization-server', 200], ['/oauth2/token', 400], ['/oauth2/token', 200]])
    expect(sockets).toBe(1)
    agent.destroy()
  })
})

describe('WWW-Authenticate parsing (RFC 9110 §11.6.1)', () => {
  it('finds the DPoP challenge among several, with quoted and token parameters', async () => {
    const { challengeParams } = await import('../../src/schemes/oauth2-client.js')
    const header = 'Bearer realm="api, v2", error="invalid_token", DPoP algs="ES256 PS256", error=use_dpop_nonce, error_description="say \\"nonce\\""'
    expect(challengeParams(header, 'dpop')).toEqual({ algs: 'ES256 PS256', error: 'use_dpop_nonce', error_description: 'say "nonce"' })
    expect(challengeParams(header, 'Bearer')).toEqual({ realm: 'api, v2', error: 'invalid_token' })
    expect(challengeParams(header, 'basic')).toBeUndefined()
    expect(challengeParams(undefined, 'dpop')).toBeUndefined()
    expect(challengeParams('DPoP', 'dpop')).toEqual({})
  })
})
