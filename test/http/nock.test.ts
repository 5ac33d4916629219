// Contract tests with nock: the expected Authorization is recomputed independently of apisign, from what
// nock received, with the reference library's own base-string functions and node:crypto verify.
import { createPrivateKey, createPublicKey, verify } from 'node:crypto'
import { createRequire } from 'node:module'
import nock from 'nock'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isApisignError } from '../../src/errors.js'
import { createClient } from '../../src/http/index.js'
import { readShared } from '../helpers/shared.js'

const require = createRequire(import.meta.url)
const OAuth = require('mastercard-oauth1-signer') as {
  extractQueryParams: (u: string) => Map<string, Set<string>>
  toOAuthParamString: (q: Map<string, Set<string>>, o: Map<string, string>) => string
  getBaseUriString: (u: string) => string
  getSignatureBaseString: (m: string, b: string, p: string) => string
  getBodyHash: (p: unknown) => string
}
const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const publicKey = createPublicKey(key)
const ORIGIN = 'https://sandbox.api.example.com'
const api = createClient({ baseURL: ORIGIN, auth: { scheme: 'oauth1', consumerKey: 'ck!nock', key }, sleep: async () => undefined })

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())
afterAll(() => nock.enableNetConnect())

/** Independent check of one intercepted request; `body` as nock hands it over (hex when not UTF-8). */
function independentlyValid(method: string, path: string, authorization: string, body: Buffer | null) {
  const params = new Map([...authorization.replace(/^OAuth /, '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]))
  const signature = decodeURIComponent(params.get('oauth_signature') ?? '')
  params.delete('oauth_signature')
  const url = `${ORIGIN}${path}`
  const sbs = OAuth.getSignatureBaseString(method, OAuth.getBaseUriString(url), OAuth.toOAuthParamString(OAuth.extractQueryParams(url), params))
  const bodyOk = params.get('oauth_body_hash') === OAuth.getBodyHash(body && body.length > 0 ? body : '')
  return { bodyOk, sigOk: verify('sha256', Buffer.from(sbs), publicKey, Buffer.from(signature, 'base64')), nonce: params.get('oauth_nonce') }
}

function record(scope: nock.Interceptor, status: number, binary = false, headers: Record<string, string> = {}) {
  const seen: Array<ReturnType<typeof independentlyValid>> = []
  scope.reply(function (uri, requestBody) {
    const raw = typeof requestBody === 'string' ? requestBody : JSON.stringify(requestBody)
    // nock passes a body that is not valid UTF-8 as a hex string.
    const bytes = raw === '' ? null : binary ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'utf8')
    seen.push(independentlyValid(this.req.method ?? '', uri, String(this.req.headers['authorization']), bytes))
    return [status, { ok: status < 300 }, headers]
  })
  return seen
}

describe('nock contract tests', () => {
  it('GET with array params', async () => {
    const scope = nock(ORIGIN).get('/v1/items').query(true)
    const seen = record(scope, 200)
    await api.get('/v1/items', { params: { ids: [1, 2], q: 'a b' } })
    expect(seen).toEqual([{ bodyOk: true, sigOk: true, nonce: expect.any(String) }])
    expect(nock.isDone()).toBe(true)
  })

  it('POST JSON, form and binary bodies', async () => {
    const s1 = record(nock(ORIGIN).post('/v1/payments'), 200)
    const s2 = record(nock(ORIGIN).post('/v1/form'), 200)
    const s3 = record(nock(ORIGIN).post('/v1/files'), 200, true)
    await api.post('/v1/payments', { amount: 1, name: 'Zoë' })
    await api.post('/v1/form', new URLSearchParams({ a: '1', b: 'x y' }))
    await api.post('/v1/files', Buffer.from([0xff, 0xfe, 0x00, 0x80]), { headers: { 'content-type': 'application/octet-stream' } })
    for (const s of [s1, s2, s3]) expect(s).toEqual([{ bodyOk: true, sigOk: true, nonce: expect.any(String) }])
    expect(nock.isDone()).toBe(true)
  })

  it('a retried GET is re-signed with a fresh nonce', async () => {
    const first = record(nock(ORIGIN).get('/v1/items'), 503, false, { 'retry-after': '0' })
    const second = record(nock(ORIGIN).get('/v1/items'), 200)
    await api.get('/v1/items')
    expect(first[0]?.sigOk && second[0]?.sigOk).toBe(true)
    expect(first[0]?.nonce).not.toBe(second[0]?.nonce)
    expect(nock.isDone()).toBe(true)
  })

  it('a redirect is refused and its target never called', async () => {
    const scope = nock(ORIGIN).get('/v1/old').reply(301, '', { location: `${ORIGIN}/v1/new` })
    const target = nock(ORIGIN).get('/v1/new').reply(200, {})
    const error = await api.get('/v1/old').catch((e: unknown) => e)
    expect(isApisignError(error, 'ERR_REDIRECT_REFUSED')).toBe(true)
    scope.done()
    expect(target.isDone()).toBe(false)
  })
})
