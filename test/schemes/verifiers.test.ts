import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  apiKeyAuth,
  basicAuth,
  createApiKeyVerifier,
  createBasicVerifier,
  createBearerTokenVerifier,
  createJwtBearerVerifier,
  createSigV4Verifier,
  signJwt,
  sigv4Auth,
} from '../../src/schemes/index.js'

const NOW = Date.parse('2015-08-30T12:36:00Z')
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const ctx = (url: string) => ({ now: () => NOW, baseURL: new URL(url) })

describe('createSigV4Verifier (re-signs with @smithy/signature-v4)', () => {
  const verifier = (now = NOW) => createSigV4Verifier({ credentials: { AKIDEXAMPLE: CREDENTIALS.secretAccessKey }, region: 'us-east-1', service: 'service', now: () => now })
  it('accepts the official get-vanilla request', async () => {
    const headers = {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    }
    expect(await verifier().verify({ method: 'GET', url: 'https://example.amazonaws.com/', headers })).toEqual({ ok: true, principal: 'AKIDEXAMPLE' })
    expect(await verifier().verify({ method: 'POST', url: 'https://example.amazonaws.com/', headers })).toMatchObject({ code: 'ERR_SIGNATURE_INVALID' })
    expect(await verifier(NOW + 301_000).verify({ method: 'GET', url: 'https://example.amazonaws.com/', headers })).toMatchObject({ code: 'ERR_TIMESTAMP_OUT_OF_WINDOW' })
    expect(await verifier().verify({ method: 'GET', url: 'https://example.amazonaws.com/', headers: { ...headers, authorization: headers.authorization.replace('AKIDEXAMPLE', 'AKIDOTHER') } })).toMatchObject({ code: 'ERR_CREDENTIALS_UNKNOWN' })
    expect(await verifier().verify({ method: 'GET', url: 'https://example.amazonaws.com/', headers: { ...headers, authorization: headers.authorization.replace('us-east-1', 'eu-west-1') } })).toMatchObject({ code: 'ERR_SIGNATURE_INVALID' })
    expect(await verifier().verify({ method: 'GET', url: 'https://example.amazonaws.com/', headers: { host: headers.host } })).toMatchObject({ code: 'ERR_CREDENTIALS_MISSING' })
  })
  it('a body is covered by the payload hash: with x-amz-content-sha256 and without', async () => {
    for (const contentSha256Header of [true, false]) {
      const url = new URL('https://example.amazonaws.com/items?b=2&a=1')
      const body = Buffer.from('{"amount":10}')
      const out = await sigv4Auth({ region: 'us-east-1', service: 'service', credentials: CREDENTIALS, contentSha256Header }).apply(
        { method: 'POST', url, headers: { 'content-type': 'application/json' }, body },
        ctx(url.href),
      )
      const headers = { host: url.host, 'content-type': 'application/json', ...out.headers }
      expect((await verifier().verify({ method: 'POST', url: url.href, headers, body })).ok).toBe(true)
      const tampered = await verifier().verify({ method: 'POST', url: url.href, headers, body: Buffer.from('{"amount":99}') })
      expect(tampered).toMatchObject({ ok: false, code: contentSha256Header ? 'ERR_BODY_HASH_MISMATCH' : 'ERR_SIGNATURE_INVALID' })
    }
  })
})

describe('createJwtBearerVerifier', () => {
  const secret = 'jwt-secret-jwt-secret-jwt-secret!'
  const token = (over: Partial<Parameters<typeof signJwt>[0]> = {}) => signJwt({ secret, payload: { resource: '*', action: '*', user_id: '*', api_key: 'k1' }, nowMs: NOW, onWarning: () => undefined, ...over })
  const v = createJwtBearerVerifier({ keys: { k1: [secret, { secret: 'old-secret-old-secret-old-secret!!', notAfter: NOW + 1000 }] }, now: () => NOW })
  const req = (t: string, key = 'k1') => ({ method: 'GET', url: 'https://x.test/', headers: { authorization: `Bearer ${t}`, 'x-api-key': key } })
  it('accepts the SDK token, and the previous secret during its grace', async () => {
    expect(await v.verify(req(token()))).toEqual({ ok: true, principal: 'k1' })
    expect((await v.verify(req(token({ secret: 'old-secret-old-secret-old-secret!!' })))).ok).toBe(true)
  })
  it('refuses alg none, a foreign api_key claim, an expired token, an unknown key, a missing header', async () => {
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${token().split('.')[1]}.`
    expect(await v.verify(req(none))).toMatchObject({ code: 'ERR_ALG_NOT_ALLOWED' })
    const rs = `${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url')}.${token().split('.')[1]}.${token().split('.')[2]}`
    expect(await v.verify(req(rs))).toMatchObject({ code: 'ERR_ALG_NOT_ALLOWED' })
    expect(await v.verify(req(token({ payload: { api_key: 'k2' } })))).toMatchObject({ code: 'ERR_JWT_INVALID' })
    expect(await v.verify(req(token({ expiresIn: 10, nowMs: NOW - 3_600_000 })))).toMatchObject({ code: 'ERR_JWT_EXPIRED' })
    expect(await v.verify(req(token(), 'k9'))).toMatchObject({ code: 'ERR_CREDENTIALS_UNKNOWN' })
    expect(await v.verify({ method: 'GET', url: 'https://x.test/', headers: { 'x-api-key': 'k1' } })).toMatchObject({ code: 'ERR_CREDENTIALS_MISSING' })
  })
})

describe('API key, Basic and bearer-token verifiers', () => {
  it('an API key in a JSON or form body, set by apiKeyAuth and read by the verifier', async () => {
    const url = new URL('https://x.test/v1/pay')
    const verifier = createApiKeyVerifier({ keys: ['k1'], in: 'body' })
    for (const [type, body] of [['application/json', '{"amount":1}'], ['application/x-www-form-urlencoded', 'amount=1']] as const) {
      const out = await apiKeyAuth({ key: 'k1', in: 'body' }).apply({ method: 'POST', url, headers: { 'content-type': type }, body: Buffer.from(body) }, ctx(url.href))
      expect((await verifier.verify({ method: 'POST', url: url.href, headers: { 'content-type': type }, body: out.body })).ok).toBe(true)
    }
    await expect(apiKeyAuth({ key: 'k1', in: 'body' }).apply({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body: Buffer.from('[1]') }, ctx(url.href))).rejects.toMatchObject({ code: 'ERR_BODY_UNSUPPORTED' })
    expect(await verifier.verify({ method: 'POST', url: url.href, headers: { 'content-type': 'text/plain' }, body: 'api_key=k1' })).toMatchObject({ code: 'ERR_CREDENTIALS_MISSING' })
  })
  it('expired API keys and repeated query keys are refused', async () => {
    const v = createApiKeyVerifier({ keys: [{ secret: 'old', notAfter: NOW }, 'new'], in: 'query', now: () => NOW + 1 })
    expect(await v.verify({ method: 'GET', url: 'https://x.test/?api_key=old', headers: {} })).toMatchObject({ code: 'ERR_CREDENTIALS_UNKNOWN' })
    expect(await v.verify({ method: 'GET', url: 'https://x.test/?api_key=new', headers: {} })).toEqual({ ok: true, principal: 'key#1' })
    expect(await v.verify({ method: 'GET', url: 'https://x.test/?api_key=new&api_key=new', headers: {} })).toMatchObject({ code: 'ERR_INVALID_INPUT' })
  })
  it('Basic: UTF-8 credentials round-trip; wrong password and unknown user look the same', async () => {
    const url = new URL('https://x.test/')
    const out = await basicAuth({ username: 'partnér', password: 'pässword' }).apply({ method: 'GET', url, headers: {}, body: undefined }, ctx(url.href))
    const v = createBasicVerifier({ users: { partnér: 'pässword' } })
    expect(await v.verify({ method: 'GET', url: url.href, headers: { authorization: out.headers['Authorization'] as string } })).toEqual({ ok: true, principal: 'partnér' })
    const basic = (s: string) => ({ method: 'GET', url: url.href, headers: { authorization: `Basic ${Buffer.from(s).toString('base64')}` } })
    expect(await v.verify(basic('partnér:nope'))).toMatchObject({ code: 'ERR_CREDENTIALS_UNKNOWN' })
    expect(await v.verify(basic('nobody:nope'))).toMatchObject({ code: 'ERR_CREDENTIALS_UNKNOWN' })
    expect(await v.verify(basic('nocolon'))).toMatchObject({ code: 'ERR_INVALID_INPUT' })
  })
  it('bearer tokens: issued list with expiry, a custom header, a validation function', async () => {
    const list = createBearerTokenVerifier({ tokens: [{ secret: 't1', notAfter: NOW }], now: () => NOW - 1 })
    expect((await list.verify({ method: 'GET', url: 'https://x.test/', headers: { authorization: 'Bearer t1' } })).ok).toBe(true)
    const later = createBearerTokenVerifier({ tokens: [{ secret: 't1', notAfter: NOW }], now: () => NOW })
    expect(await later.verify({ method: 'GET', url: 'https://x.test/', headers: { authorization: 'Bearer t1' } })).toMatchObject({ code: 'ERR_CREDENTIALS_UNKNOWN' })
    const custom = createBearerTokenVerifier({ tokens: async (t) => (t === 'abc' ? 'svc' : undefined), header: 'X-Auth-Token' })
    expect(await custom.verify({ method: 'GET', url: 'https://x.test/', headers: { 'x-auth-token': 'abc' } })).toEqual({ ok: true, principal: 'svc' })
    expect(await custom.verify({ method: 'GET', url: 'https://x.test/', headers: {} })).toMatchObject({ code: 'ERR_CREDENTIALS_MISSING' })
  })
})

describe('sigv4Auth -> createSigV4Verifier, property-based', () => {
  const segment = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', '~', ' ', 'é', '%', '+', '=', '&', '!'), minLength: 1, maxLength: 8 })
  const query = fc.array(fc.tuple(segment, fc.string({ maxLength: 8 })), { maxLength: 4 })
  it('any path, query and body the client sends verifies, and a changed body does not', async () => {
    const verifier = createSigV4Verifier({ credentials: { AKIDEXAMPLE: CREDENTIALS.secretAccessKey }, region: 'eu-west-1', service: 'execute-api', now: () => NOW })
    const auth = sigv4Auth({ region: 'eu-west-1', service: 'execute-api', credentials: CREDENTIALS })
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 3 }), query, fc.string({ maxLength: 64 }), async (segments, pairs, text) => {
        const url = new URL(`https://api.example.com/${segments.map(encodeURIComponent).join('/')}`)
        for (const [k, v] of pairs) url.searchParams.append(k, v)
        const body = Buffer.from(text)
        const out = await auth.apply({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body }, { now: () => NOW, baseURL: new URL('https://api.example.com/') })
        const headers = { host: url.host, 'content-type': 'application/json', ...out.headers }
        expect(await verifier.verify({ method: 'POST', url: url.href, headers, body })).toEqual({ ok: true, principal: 'AKIDEXAMPLE' })
        expect((await verifier.verify({ method: 'POST', url: url.href, headers, body: Buffer.concat([body, Buffer.from('x')]) })).ok).toBe(false)
      }),
      { numRuns: 60 },
    )
  })
})
