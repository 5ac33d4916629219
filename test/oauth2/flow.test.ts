import { afterEach, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/index.js'
import { authForSpec } from '../../src/schemes/index.js'
import type { MockGateway } from '../../src/testing/index.js'
import { loadSpec } from '../../src/codegen/index.js'
import { ES_CLIENT, SPEC, esKey, gateway } from './helpers.js'

let gw: MockGateway | undefined
afterEach(async () => {
  await gw?.close()
  gw = undefined
})

describe('oauth2 through createClient against the mock gateway (HTTP)', () => {
  it('client credentials + private_key_jwt (ES256) + DPoP with server nonces, scopes per operation', async () => {
    gw = await gateway()
    const spec = await loadSpec(SPEC)
    const origin = new URL(gw.url).origin
    const api = createClient({ baseURL: gw.url, auth: authForSpec(spec, { oauth2: { clientId: ES_CLIENT, issuer: origin, key: esKey, kid: 'es-1' } }) })
    const { data } = await api.get('/payments/pay_123')
    expect(data).toMatchObject({ id: 'pay_123' })
    await api.post('/payments', { amount: 1, currency: 'EUR', card: { pan: '5123456789012345', expiry: '12/30' } })
    await api.get('/payments/pay_123')
    // Discovery, the token endpoint's nonce challenge (RFC 9449 §8) answered once, the resource server's
    // own nonce challenge answered once, then one token per scope set, reused.
    expect(gw.requests.map((r) => [r.method, r.path, r.status, r.code])).toEqual([
      ['GET', '/.well-known/oauth-authorization-server', 200, undefined],
      ['POST', '/oauth2/token', 400, 'ERR_DPOP_NONCE_REQUIRED'],
      ['POST', '/oauth2/token', 200, undefined],
      ['GET', '/payments/pay_123', 401, 'ERR_DPOP_NONCE_REQUIRED'],
      ['GET', '/payments/pay_123', 200, undefined],
      ['POST', '/oauth2/token', 200, undefined],
      ['POST', '/payments', 201, undefined],
      ['GET', '/payments/pay_123', 200, undefined],
    ])
    expect(gw.requests.filter((r) => r.path.startsWith('/payments') && r.status < 300).every((r) => r.principal === ES_CLIENT)).toBe(true)
  })
})

describe('mock gateway defaults for oauth2', () => {
  it('with an authorization server, the spec oauth2 schemes need no security entry', async () => {
    const { startMockGateway } = await import('../../src/testing/index.js')
    const { createPublicKey } = await import('node:crypto')
    gw = await startMockGateway({ spec: SPEC, authorizationServer: { clients: { [ES_CLIENT]: { keys: { 'es-1': createPublicKey(esKey) } } } } })
    const issuer = new URL(gw.url).origin
    const spec = await loadSpec(SPEC)
    const api = createClient({ baseURL: gw.url, auth: authForSpec(spec, { oauth2: { clientId: ES_CLIENT, issuer, key: esKey, kid: 'es-1' } }) })
    expect((await api.get('/accounts/acc-1/balance')).status).toBe(200)
    // Without credentials, the gateway answers as a FAPI 2.0 resource server does.
    const anonymous = await fetch(`${gw.url}/accounts/acc-1/balance`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toBe('DPoP algs="PS256 ES256"')
    expect(await anonymous.json()).toEqual({ error: 'invalid_request', error_description: 'the request carries no access token' })
  })
})

describe('a resource server of its own, on the gateway authorization server', () => {
  it('createOAuth2Verifier with the JWKS URL (remote key set) verifies what the client sends', async () => {
    const { createOAuth2Verifier } = await import('../../src/schemes/index.js')
    const { oauth2Auth } = await import('../../src/schemes/index.js')
    gw = await gateway({}, { dpopNonce: false })
    const issuer = new URL(gw.url).origin
    const verifier = createOAuth2Verifier({ issuer, audience: gw.url, keys: `${issuer}/oauth2/jwks`, scopes: ['payments:read'] })
    const auth = oauth2Auth({ clientId: ES_CLIENT, issuer, key: esKey, kid: 'es-1', scopes: ['payments:read'] })
    const url = new URL('https://rs.example.com/payments/1')
    const { headers } = await auth.apply({ method: 'GET', url, headers: {}, body: undefined }, { now: Date.now, baseURL: url })
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
    expect(await verifier.verify({ method: 'GET', url: url.href, headers: lower })).toEqual({ ok: true, principal: ES_CLIENT })
    expect(() => createOAuth2Verifier({ issuer, audience: gw?.url ?? '', keys: 'not-a-url' })).toThrow(TypeError)
  })
})

describe('rejections through createClient', () => {
  it('a token without the operation scope: 403 insufficient_scope, typed with the OAuth 2.0 error', async () => {
    gw = await gateway({}, { dpopNonce: false })
    const issuer = new URL(gw.url).origin
    const api = createClient({ baseURL: gw.url, retry: false, auth: { scheme: 'oauth2', clientId: ES_CLIENT, issuer, key: esKey, kid: 'es-1', scopes: ['payments:read'] } })
    await expect(api.post('/payments', { amount: 1, currency: 'EUR', card: {} })).rejects.toMatchObject({
      code: 'ERR_GATEWAY_REJECTED',
      details: { status: 403, source: 'OAuth2', reasonCode: 'insufficient_scope', description: 'the access token lacks scope payments:write' },
    })
    expect(gw.requests.at(-1)).toMatchObject({ method: 'POST', path: '/payments', status: 403, code: 'ERR_OAUTH2_INSUFFICIENT_SCOPE' })
  })
})
