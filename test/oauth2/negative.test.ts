// Issue 16's negative matrix, one named test each: the resource verifier (oauth2 row, on jose) and the
// mock authorization server's token endpoint. Each asserts the apisign code, the OAuth 2.0 error, the
// status and the WWW-Authenticate / DPoP-Nonce shape RFC 6750 §3 and RFC 9449 §7.1, §8 give.
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { SignJWT, decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { oauth2Auth } from '../../src/schemes/oauth2-client.js'
import { accessTokenHash, createDpopProver, keyObjectJwsKey, publicJwk, signCompactJws } from '../../src/schemes/oauth2-jose.js'
import { type OAuth2VerifierOptions, createDpopNonces, createOAuth2Verifier } from '../../src/schemes/oauth2-verifier.js'
import type { AuthorizationServer } from '../../src/testing/authorization-server.js'
import { createMemoryNonceStore, createRedisNonceStore } from '../../src/verify/index.js'
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis.js'
import { AS_ORIGIN, ES_CLIENT, RS_URL, authorizationServer, esKey, inProcessFetch, psKey } from './helpers.js'

const URL_ = `${RS_URL}/payments/pay_1`
const dpopKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
const prover = createDpopProver(keyObjectJwsKey(dpopKey))
const nowSec = () => Math.floor(Date.now() / 1000)

let as: AuthorizationServer
let token: string
beforeAll(async () => {
  as = authorizationServer({ dpopNonce: false })
  const auth = oauth2Auth({ clientId: ES_CLIENT, issuer: AS_ORIGIN, tokenUrl: as.tokenEndpoint, key: esKey, kid: 'es-1', scopes: ['payments:read'], dpop: { key: dpopKey }, fetch: inProcessFetch(as) })
  token = (await auth.token()).accessToken
})

const verifier = (o: Partial<OAuth2VerifierOptions> = {}) => createOAuth2Verifier({ ...as.verifierOptions(), ...o })
async function request(o: { method?: string; proof?: { method?: string; url?: string; iat?: number; accessToken?: string; nonce?: string }; token?: string; scheme?: string; proofJwt?: string } = {}) {
  const accessToken = o.token ?? token
  const proof = o.proofJwt ?? (await prover.proof({ method: o.proof?.method ?? o.method ?? 'GET', url: new URL(o.proof?.url ?? URL_), iat: o.proof?.iat ?? nowSec(), accessToken: o.proof?.accessToken ?? accessToken, ...(o.proof?.nonce === undefined ? {} : { nonce: o.proof.nonce }) }))
  return { method: o.method ?? 'GET', url: `${URL_}?expand=card`, headers: { authorization: `${o.scheme ?? 'DPoP'} ${accessToken}`, dpop: proof } }
}
const rejected = (code: string, error: string, status = 401) => expect.objectContaining({ ok: false, code, error, status, headers: expect.objectContaining({ 'WWW-Authenticate': expect.stringContaining(`DPoP error="${error}"`) }) })

describe('resource verifier: negative matrix', () => {
  it('accepts the well-formed request (the baseline every case below breaks one thing of)', async () => {
    expect(await verifier().verify(await request(), { scopes: ['payments:read'] })).toEqual({ ok: true, principal: ES_CLIENT })
  })

  it('wrong htm', async () => {
    expect(await verifier().verify(await request({ proof: { method: 'POST' } }))).toEqual(rejected('ERR_DPOP_HTM_MISMATCH', 'invalid_dpop_proof'))
  })

  it('wrong htu', async () => {
    expect(await verifier().verify(await request({ proof: { url: `${RS_URL}/payments/pay_2` } }))).toEqual(rejected('ERR_DPOP_HTU_MISMATCH', 'invalid_dpop_proof'))
  })

  it('stale iat', async () => {
    expect(await verifier().verify(await request({ proof: { iat: nowSec() - 120 } }))).toEqual(rejected('ERR_DPOP_IAT_OUT_OF_WINDOW', 'invalid_dpop_proof'))
  })

  it('future iat', async () => {
    expect(await verifier().verify(await request({ proof: { iat: nowSec() + 60 } }))).toEqual(rejected('ERR_DPOP_IAT_OUT_OF_WINDOW', 'invalid_dpop_proof'))
  })

  it('replayed jti', async () => {
    const v = verifier()
    const same = await request()
    expect(await v.verify(same)).toMatchObject({ ok: true })
    expect(await v.verify(same)).toEqual(rejected('ERR_DPOP_REPLAY', 'invalid_dpop_proof'))
  })

  it('wrong ath', async () => {
    expect(await verifier().verify(await request({ proof: { accessToken: 'another-token' } }))).toEqual(rejected('ERR_DPOP_ATH_MISMATCH', 'invalid_dpop_proof'))
  })

  it('token bound to another key', async () => {
    const other = createDpopProver(keyObjectJwsKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey))
    const proofJwt = await other.proof({ method: 'GET', url: new URL(URL_), iat: nowSec(), accessToken: token })
    expect(await verifier().verify(await request({ proofJwt }))).toEqual(rejected('ERR_DPOP_KEY_MISMATCH', 'invalid_token'))
  })

  it('missing nonce: use_dpop_nonce with a fresh DPoP-Nonce; the proof with it passes; a stale one is refused', async () => {
    let t = Date.now()
    const nonces = createDpopNonces({ rotateMs: 60_000, now: () => t })
    const v = verifier({ nonces, now: () => t })
    const verdict = await v.verify(await request())
    expect(verdict).toEqual(rejected('ERR_DPOP_NONCE_REQUIRED', 'use_dpop_nonce'))
    const nonce = (verdict as { headers: Record<string, string> }).headers['DPoP-Nonce'] as string
    expect(nonce).toBe(nonces.current())
    expect(await v.verify(await request({ proof: { nonce } }))).toMatchObject({ ok: true, headers: { 'DPoP-Nonce': nonce } })
    // Rotated twice: the old nonce is gone (the previous window's is still taken).
    t += 120_000
    const late = await request({ proof: { nonce, iat: Math.floor(t / 1000) } })
    expect(await v.verify(late)).toEqual(rejected('ERR_DPOP_NONCE_REQUIRED', 'use_dpop_nonce'))
  })

  it('expired token', async () => {
    const later = Date.now() + 3600_000
    const req = await request({ proof: { iat: Math.floor(later / 1000) } })
    expect(await verifier({ now: () => later }).verify(req)).toEqual(rejected('ERR_OAUTH2_TOKEN_EXPIRED', 'invalid_token'))
  })

  it('wrong audience', async () => {
    expect(await verifier({ audience: 'https://other-api.example.com' }).verify(await request())).toEqual(rejected('ERR_OAUTH2_AUDIENCE_INVALID', 'invalid_token'))
  })

  it('insufficient scope: 403 with the scope the operation needs', async () => {
    const verdict = await verifier().verify(await request(), { scopes: ['payments:write'] })
    expect(verdict).toEqual(rejected('ERR_OAUTH2_INSUFFICIENT_SCOPE', 'insufficient_scope', 403))
    expect((verdict as { headers: Record<string, string> }).headers['WWW-Authenticate']).toContain('scope="payments:write"')
  })

  it('alg none access token', async () => {
    const claims = decodeJwt(token)
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`
    expect(await verifier().verify(await request({ token: none }))).toEqual(rejected('ERR_ALG_NOT_ALLOWED', 'invalid_token'))
  })

  it('HS256 access token', async () => {
    const hs = await new SignJWT(decodeJwt(token)).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(randomBytes(32))
    expect(await verifier().verify(await request({ token: hs }))).toEqual(rejected('ERR_ALG_NOT_ALLOWED', 'invalid_token'))
  })

  it('key confusion: HS256 keyed with the authorization server public key', async () => {
    const pem = createPublicKey({ key: as.jwks.keys[0] as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
    const input = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: as.jwks.keys[0]?.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(decodeJwt(token))).toString('base64url')}`
    const forged = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`
    expect(await verifier().verify(await request({ token: forged }))).toEqual(rejected('ERR_ALG_NOT_ALLOWED', 'invalid_token'))
  })

  it('alg none DPoP proof', async () => {
    const claims = { jti: 'abcdefghijkl', htm: 'GET', htu: URL_, iat: nowSec(), ath: accessTokenHash(token) }
    const proofJwt = `${Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'none', jwk: publicJwk(dpopKey) })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`
    expect(await verifier().verify(await request({ proofJwt }))).toEqual(rejected('ERR_ALG_NOT_ALLOWED', 'invalid_dpop_proof'))
  })

  it('DPoP proof with typ JWT', async () => {
    const proofJwt = await signCompactJws({ typ: 'JWT', alg: 'ES256', jwk: publicJwk(dpopKey) }, { jti: 'abcdefghijkl', htm: 'GET', htu: URL_, iat: nowSec(), ath: accessTokenHash(token) }, keyObjectJwsKey(dpopKey))
    expect(await verifier().verify(await request({ proofJwt }))).toEqual(rejected('ERR_DPOP_PROOF_INVALID', 'invalid_dpop_proof'))
  })

  it('DPoP proof carrying a private key in its jwk', async () => {
    const jwk = { ...publicJwk(dpopKey), d: dpopKey.export({ format: 'jwk' }).d }
    const proofJwt = await signCompactJws({ typ: 'dpop+jwt', alg: 'ES256', jwk }, { jti: 'abcdefghijkl', htm: 'GET', htu: URL_, iat: nowSec(), ath: accessTokenHash(token) }, keyObjectJwsKey(dpopKey))
    expect(await verifier().verify(await request({ proofJwt }))).toEqual(rejected('ERR_DPOP_PROOF_INVALID', 'invalid_dpop_proof'))
  })

  it('no DPoP proof', async () => {
    const req = await request()
    const { dpop: _dropped, ...headers } = req.headers
    expect(await verifier().verify({ ...req, headers })).toEqual(rejected('ERR_DPOP_PROOF_INVALID', 'invalid_dpop_proof'))
  })

  it('DPoP-bound token sent as Bearer (RFC 9449 §7.2)', async () => {
    expect(await verifier().verify(await request({ scheme: 'Bearer' }))).toEqual(rejected('ERR_OAUTH2_TOKEN_INVALID', 'invalid_token'))
  })

  it('no credentials: 401 with a bare DPoP challenge (RFC 6750 §3.1)', async () => {
    expect(await verifier().verify({ method: 'GET', url: URL_, headers: {} })).toMatchObject({ ok: false, code: 'ERR_CREDENTIALS_MISSING', status: 401, headers: { 'WWW-Authenticate': 'DPoP algs="PS256 ES256"' } })
  })

  it('options are checked when the verifier is built (a NaN window never disables a check)', () => {
    expect(() => verifier({ proofMaxAgeSec: Number.NaN })).toThrow(TypeError)
    expect(() => verifier({ algorithms: ['HS256' as never] })).toThrow(TypeError)
  })
})

// A token request built by hand, to break one thing at a time.
async function tokenRequest(o: { assertion?: string; claims?: Record<string, unknown>; header?: Record<string, unknown>; key?: typeof esKey; proof?: string | null; nonce?: string; form?: Record<string, string> } = {}) {
  const t = nowSec()
  const assertion =
    o.assertion ??
    (await new SignJWT({ jti: randomBytes(12).toString('base64url'), ...o.claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'es-1', ...o.header })
      .setIssuer(ES_CLIENT)
      .setSubject(ES_CLIENT)
      .setAudience((o.claims?.['aud'] as string | undefined) ?? AS_ORIGIN)
      .setIssuedAt(t)
      .setExpirationTime((o.claims?.['exp'] as number | undefined) ?? t + 60)
      .sign(o.key ?? esKey))
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: ES_CLIENT, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, scope: 'payments:read', ...o.form })
  const proof = o.proof === null ? undefined : (o.proof ?? (await prover.proof({ method: 'POST', url: new URL(as.tokenEndpoint), iat: t, ...(o.nonce === undefined ? {} : { nonce: o.nonce }) })))
  return { method: 'POST', url: as.tokenEndpoint, headers: { 'content-type': 'application/x-www-form-urlencoded', ...(proof === undefined ? {} : { dpop: proof }) }, body: Buffer.from(body.toString()), assertion }
}
const refusal = (code: string, error: string, status: number) => expect.objectContaining({ status, code, body: expect.objectContaining({ error }) })

describe('token endpoint: negative matrix', () => {
  it('issues a DPoP-bound token for the well-formed request', async () => {
    const answer = await as.handle(await tokenRequest())
    expect(answer).toMatchObject({ status: 200, body: { token_type: 'DPoP', expires_in: 300, scope: 'payments:read' }, headers: { 'cache-control': 'no-store' } })
    expect(decodeJwt((answer?.body as { access_token: string }).access_token)).toMatchObject({ cnf: { jkt: prover.jkt }, client_id: ES_CLIENT, aud: RS_URL, iss: AS_ORIGIN })
  })

  it('replayed client assertion', async () => {
    const first = await tokenRequest()
    expect(await as.handle(first)).toMatchObject({ status: 200 })
    const replay = await tokenRequest({ assertion: first.assertion })
    expect(await as.handle(replay)).toEqual(refusal('ERR_OAUTH2_ASSERTION_REPLAY', 'invalid_client', 401))
  })

  it('client assertion with the wrong audience', async () => {
    expect(await as.handle(await tokenRequest({ claims: { aud: 'https://elsewhere.example.com' } }))).toEqual(refusal('ERR_OAUTH2_AUDIENCE_INVALID', 'invalid_client', 401))
  })

  it('client assertion signed by a key the client did not register', async () => {
    expect(await as.handle(await tokenRequest({ key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }))).toEqual(refusal('ERR_OAUTH2_CLIENT_INVALID', 'invalid_client', 401))
  })

  it('client assertion with alg RS256 (not FAPI 2.0)', async () => {
    expect(await as.handle(await tokenRequest({ key: psKey, header: { alg: 'RS256' } }))).toEqual(refusal('ERR_ALG_NOT_ALLOWED', 'invalid_client', 401))
  })

  it('client assertion with HS256 keyed by the client public key (key confusion)', async () => {
    const secret = createPublicKey(esKey).export({ type: 'spki', format: 'pem' })
    const assertion = await new SignJWT({ jti: 'j-hs256-confusion' }).setProtectedHeader({ alg: 'HS256', kid: 'es-1' }).setIssuer(ES_CLIENT).setSubject(ES_CLIENT).setAudience(AS_ORIGIN).setIssuedAt().setExpirationTime('1m').sign(Buffer.from(secret))
    expect(await as.handle(await tokenRequest({ assertion }))).toEqual(refusal('ERR_ALG_NOT_ALLOWED', 'invalid_client', 401))
  })

  it('expired client assertion', async () => {
    expect(await as.handle(await tokenRequest({ claims: { exp: nowSec() - 60 } }))).toEqual(refusal('ERR_OAUTH2_CLIENT_INVALID', 'invalid_client', 401))
  })

  it('client assertion living longer than the server allows', async () => {
    expect(await as.handle(await tokenRequest({ claims: { exp: nowSec() + 3600 } }))).toEqual(refusal('ERR_OAUTH2_CLIENT_INVALID', 'invalid_client', 401))
  })

  it('token request without a DPoP proof', async () => {
    expect(await as.handle(await tokenRequest({ proof: null }))).toEqual(refusal('ERR_DPOP_PROOF_INVALID', 'invalid_dpop_proof', 400))
  })

  it('token request proof without the server nonce: 400 use_dpop_nonce + DPoP-Nonce', async () => {
    const strict = authorizationServer()
    const req = await tokenRequest()
    const answer = await strict.handle({ ...req, url: strict.tokenEndpoint })
    expect(answer).toEqual(refusal('ERR_DPOP_NONCE_REQUIRED', 'use_dpop_nonce', 400))
    expect(answer?.headers['dpop-nonce']).toMatch(/^[\w-]{43}$/)
  })

  it('a scope the client may not have', async () => {
    expect(await as.handle(await tokenRequest({ form: { scope: 'payments:read admin' } }))).toEqual(refusal('ERR_OAUTH2_SCOPE_INVALID', 'invalid_scope', 400))
  })

  it('another grant type', async () => {
    expect(await as.handle(await tokenRequest({ form: { grant_type: 'password' } }))).toEqual(refusal('ERR_OAUTH2_REQUEST_INVALID', 'unsupported_grant_type', 400))
  })

  it('client_secret instead of a client assertion', async () => {
    const req = await tokenRequest()
    const body = Buffer.from(new URLSearchParams({ grant_type: 'client_credentials', client_id: ES_CLIENT, client_secret: 's3cret' }).toString())
    expect(await as.handle({ ...req, body })).toEqual(refusal('ERR_OAUTH2_CLIENT_INVALID', 'invalid_client', 401))
  })
})

describe.runIf(redisAvailable())('client assertion jti replay through the Redis nonce store', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis.stop()
  })

  it('two authorization servers sharing one Redis store refuse the same assertion twice', async () => {
    const first = createRedisNonceStore({ redis: redis.url, trustEmptyOnStart: true })
    await first.ready()
    const stores = [first, createRedisNonceStore({ redis: redis.url })]
    try {
      const [a, b] = stores.map((nonceStore) => authorizationServer({ dpopNonce: false, nonceStore }))
      const once = await tokenRequest()
      expect(await a?.handle(once)).toMatchObject({ status: 200 })
      expect(await b?.handle(await tokenRequest({ assertion: once.assertion }))).toEqual(refusal('ERR_OAUTH2_ASSERTION_REPLAY', 'invalid_client', 401))
    } finally {
      for (const s of stores) await s.close?.()
    }
  })
})

it('a memory store given to the server records assertion jtis there', async () => {
  const nonceStore = createMemoryNonceStore()
  const a = authorizationServer({ dpopNonce: false, nonceStore })
  const req = await tokenRequest()
  expect(await a.handle(req)).toMatchObject({ status: 200 })
  expect(await nonceStore.checkAndRecord(`client-assertion:${ES_CLIENT}:${String(decodeJwt(req.assertion).jti)}`, 1000)).toBe(false)
})
