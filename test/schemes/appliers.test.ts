import { createPrivateKey } from 'node:crypto'
import { type IncomingMessage, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, oauth1Auth } from '../../src/http/index.js'
import { apiKeyAuth, basicAuth, composeAuth, fromEnv, fromFile, headerTokenAuth, jwtBearerAuth, verifyJwt } from '../../src/schemes/index.js'
import { readShared } from '../helpers/shared.js'
import { verify } from '../helpers/verifying-server.js'

const seen: IncomingMessage[] = []
let origin = ''
const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    seen.push(req)
    if (req.url?.startsWith('/limited') && seen.filter((r) => r.url?.startsWith('/limited')).length === 1) {
      res.writeHead(429, { 'retry-after': '0' }).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
  })
})
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => server.close())
const dir = mkdtempSync(join(tmpdir(), 'apisign-appliers-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const last = () => seen[seen.length - 1] as IncomingMessage

describe('auth appliers through createClient', () => {
  it('API key in a header and in the query', async () => {
    await createClient({ baseURL: origin, auth: apiKeyAuth({ key: 'k-123' }) }).get('/a')
    expect(last().headers['x-api-key']).toBe('k-123')
    await createClient({ baseURL: origin, auth: apiKeyAuth({ key: 'k-456', in: 'query' }) }).get('/a', { params: { x: 1 } })
    expect(last().url).toBe('/a?x=1&api_key=k-456')
  })

  it('HTTP Basic', async () => {
    await createClient({ baseURL: origin, auth: basicAuth({ username: 'user', password: 'pässword' }) }).get('/b')
    expect(last().headers.authorization).toBe(`Basic ${Buffer.from('user:pässword').toString('base64')}`)
    expect(() => basicAuth({ username: 'a:b', password: 'x' })).toThrow(TypeError)
  })

  it('JWT bearer + X-Api-Key: a fresh, verifiable token per request', async () => {
    const secret = 'jwt-secret-0123456789abcdef0123456789'
    let t = 1_700_000_000_000
    const api = createClient({ baseURL: origin, now: () => t, auth: jwtBearerAuth({ apiKey: 'ak', secret, iat: true, expiresIn: 60 }) })
    await api.get('/c')
    const first = String(last().headers.authorization).replace('Bearer ', '')
    t += 5000
    await api.get('/c')
    const second = String(last().headers.authorization).replace('Bearer ', '')
    expect(first).not.toBe(second)
    expect(last().headers['x-api-key']).toBe('ak')
    expect(verifyJwt(second, { secrets: [secret], nowMs: t })).toMatchObject({ resource: '*', action: '*', user_id: '*', api_key: 'ak', iat: 1_700_000_005 })
  })

  it('rotation: a secret swapped in its file is used by the next request, no restart', async () => {
    const file = join(dir, 'secret')
    writeFileSync(file, 'first-secret-0123456789abcdef0123456')
    const api = createClient({ baseURL: origin, auth: jwtBearerAuth({ apiKey: 'ak', secret: fromFile(file) }) })
    await api.get('/r')
    const a = String(last().headers.authorization).replace('Bearer ', '')
    writeFileSync(file, 'second-secret-0123456789abcdef012345')
    await api.get('/r')
    const b = String(last().headers.authorization).replace('Bearer ', '')
    expect(() => verifyJwt(a, { secrets: ['first-secret-0123456789abcdef0123456'] })).not.toThrow()
    expect(() => verifyJwt(b, { secrets: ['second-secret-0123456789abcdef012345'] })).not.toThrow()
    // During the grace period the verifier accepts both; after it, only the new one.
    expect(() => verifyJwt(a, { secrets: ['second-secret-0123456789abcdef012345', 'first-secret-0123456789abcdef0123456'] })).not.toThrow()
    expect(() => verifyJwt(a, { secrets: ['second-secret-0123456789abcdef012345'] })).toThrow()
  })

  it('a missing credential is a typed error', async () => {
    const error = await createClient({ baseURL: origin, auth: apiKeyAuth({ key: fromEnv('APISIGN_TEST_UNSET_VAR', {}) }) }).get('/x').catch((e: unknown) => e)
    expect((error as { code: string }).code).toBe('ERR_CREDENTIALS_UNAVAILABLE')
  })

  it('composition: OAuth1 signature plus a provider-issued bearer token refreshed before expiry', async () => {
    let fetches = 0
    let now = 1_700_000_000_000
    const auth = composeAuth(
      oauth1Auth({ scheme: 'oauth1', consumerKey: 'ck', key: createPrivateKey(readShared('keys/oauth1/private-key.pem')) }),
      headerTokenAuth({ header: 'X-Provider-Token', fetch: async () => ({ token: `tok-${++fetches}`, expiresAtMs: now + 120_000 }) }),
    )
    const api = createClient({ baseURL: origin, auth, now: () => now })
    await api.get('/d?q=1')
    expect(last().headers['x-provider-token']).toBe('tok-1')
    expect(verify('GET', `${origin}${last().url}`, String(last().headers.authorization), Buffer.alloc(0)).valid).toBe(true)
    now += 30_000
    await api.get('/d')
    expect(last().headers['x-provider-token']).toBe('tok-1')
    now += 60_000 // within the 60 s refresh margin of expiry
    await api.get('/d')
    expect(last().headers['x-provider-token']).toBe('tok-2')
  })

  it('rate limits: 429 + Retry-After is retried for an API-key client too', async () => {
    const before = seen.length
    await createClient({ baseURL: origin, auth: apiKeyAuth({ key: 'k' }), sleep: async () => undefined }).get('/limited')
    expect(seen.length - before).toBe(2)
  })
})
