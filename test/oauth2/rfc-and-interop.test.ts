// The RFC example computations (RFC 7638 §3.1, RFC 9449 §4.2, §6.1, §7.1), jose verifying what we sign
// (resource proofs, and the token request oauth4webapi builds for us), and our verifier accepting
// oauth4webapi's own resource-request proofs.
import { createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto'
import { EmbeddedJWK, calculateJwkThumbprint, decodeProtectedHeader, jwtVerify } from 'jose'
import * as oauth from 'oauth4webapi'
import { describe, expect, it } from 'vitest'
import { oauth2Auth } from '../../src/schemes/oauth2-client.js'
import { accessTokenHash, createDpopProver, dpopHtu, jwkThumbprint, keyObjectJwsKey, publicJwk } from '../../src/schemes/oauth2-jose.js'
import { createOAuth2Verifier, verifyDpopProof } from '../../src/schemes/oauth2-verifier.js'
import { createMemoryNonceStore } from '../../src/verify/index.js'
import { AS_ORIGIN, ES_CLIENT, PS_CLIENT, RS_URL, authorizationServer, esKey, inProcessFetch, psKey } from './helpers.js'

const RFC7638_KEY = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
}
// RFC 9449 §4.2 (Figure 4): the example proof for the token request, and its key (whose thumbprint is §6.1's jkt).
const RFC9449_PROOF =
  'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg'
const RFC9449_JWK = { kty: 'EC', x: 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs', y: '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA', crv: 'P-256' }

describe('RFC example computations', () => {
  it('RFC 7638 §3.1: the thumbprint of the example RSA key (extra members ignored)', async () => {
    expect(jwkThumbprint(RFC7638_KEY)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
    expect(await calculateJwkThumbprint(RFC7638_KEY as never)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
  })

  it('RFC 9449 §6.1: the jkt of the example proof key', () => {
    expect(jwkThumbprint(RFC9449_JWK)).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I')
  })

  it('RFC 9449 §7.1: ath of the example access token', () => {
    expect(accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo')
  })

  it('RFC 9449 §4.2: our verifier accepts the example proof at its iat and returns §6.1 jkt', async () => {
    const checked = await verifyDpopProof(RFC9449_PROOF, {
      method: 'POST',
      url: 'https://server.example.com/token?ignored=1',
      algorithms: ['ES256'],
      maxAgeSec: 60,
      futureSec: 5,
      now: () => 1562262616_000,
      replay: createMemoryNonceStore(),
    })
    expect(checked).toEqual({ ok: true, jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I', jti: '-BwC3ESc6acc2lTc' })
  })

  it('htu drops query and fragment, default port and host case (RFC 9449 §4.2, §4.3 step 9)', () => {
    expect(dpopHtu(new URL('https://API.example.com:443/v1/p?x=1#frag'))).toBe('https://api.example.com/v1/p')
  })
})

describe('jose verifies what we sign', () => {
  for (const [alg, key] of [['ES256', esKey], ['PS256', psKey]] as const) {
    it(`${alg} resource proof: header typ/alg/jwk, claims jti/htm/htu/iat/ath/nonce`, async () => {
      const prover = createDpopProver(keyObjectJwsKey(key))
      const proof = await prover.proof({ method: 'post', url: new URL('https://api.example.com/v1/p?q=1#f'), iat: 1_700_000_000, accessToken: 'tok', nonce: 'n-1' })
      const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [alg], currentDate: new Date(1_700_000_000_000) })
      expect(protectedHeader).toEqual({ typ: 'dpop+jwt', alg, jwk: publicJwk(key) })
      expect(payload).toEqual({ jti: expect.stringMatching(/^[\w-]{22}$/), htm: 'POST', htu: 'https://api.example.com/v1/p', iat: 1_700_000_000, ath: accessTokenHash('tok'), nonce: 'n-1' })
      expect(await calculateJwkThumbprint(protectedHeader.jwk as never)).toBe(prover.jkt)
      const again = await prover.proof({ method: 'POST', url: new URL('https://api.example.com/v1/p'), iat: 1_700_000_000 })
      expect((await jwtVerify(again, EmbeddedJWK)).payload['jti']).not.toBe(payload['jti'])
    })
  }

  for (const [clientId, key, kid, alg] of [[ES_CLIENT, esKey, 'es-1', 'ES256'], [PS_CLIENT, psKey, 'ps-1', 'PS256']] as const) {
    it(`${alg} client assertion and token-request proof (built through oauth4webapi) verify with jose`, async () => {
      const as = authorizationServer({ dpopNonce: false })
      const seen: Array<{ url: string; headers: Headers; body: string }> = []
      const auth = oauth2Auth({ clientId, issuer: AS_ORIGIN, tokenUrl: as.tokenEndpoint, key, kid, scopes: ['payments:read'], fetch: inProcessFetch(as, seen) })
      const token = await auth.token()
      expect(token).toMatchObject({ tokenType: 'DPoP', scopes: ['payments:read'] })
      const request = seen[0]
      expect(request?.url).toBe(as.tokenEndpoint)
      const form = new URLSearchParams(request?.body)
      expect(form.get('grant_type')).toBe('client_credentials')
      expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      const assertion = form.get('client_assertion') as string
      expect(decodeProtectedHeader(assertion)).toMatchObject({ alg, kid })
      const { payload } = await jwtVerify(assertion, createPublicKey(key), { algorithms: [alg], issuer: clientId, subject: clientId, audience: AS_ORIGIN })
      expect((payload.exp as number) - (payload.iat as number)).toBe(60)
      expect(typeof payload.jti).toBe('string')
      const proof = await jwtVerify(request?.headers.get('dpop') as string, EmbeddedJWK, { typ: 'dpop+jwt' })
      expect(proof.payload).toMatchObject({ htm: 'POST', htu: as.tokenEndpoint })
      expect(proof.payload['ath']).toBeUndefined()
      expect(await calculateJwkThumbprint(proof.protectedHeader.jwk as never)).toBe(auth.jkt)
      // The issued token is bound to that key.
      const at = await jwtVerify(token.accessToken, async () => createPublicKey({ key: as.jwks.keys[0] as never, format: 'jwk' }), { typ: 'at+jwt', audience: RS_URL, issuer: AS_ORIGIN })
      expect(at.payload).toMatchObject({ client_id: clientId, scope: 'payments:read', cnf: { jkt: auth.jkt } })
    })
  }
})

describe("our verifier accepts oauth4webapi's resource-request proofs", () => {
  it('protectedResourceRequest: Authorization DPoP + proof with ath, verified by createOAuth2Verifier', async () => {
    const as = authorizationServer({ dpopNonce: false })
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const cryptoPair = {
      privateKey: await webcrypto.subtle.importKey('pkcs8', pair.privateKey.export({ format: 'der', type: 'pkcs8' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']),
      publicKey: await webcrypto.subtle.importKey('spki', pair.publicKey.export({ format: 'der', type: 'spki' }), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']),
    }
    // A token for oauth4webapi's key, from our client configured with that same key as its DPoP key.
    const auth = oauth2Auth({ clientId: ES_CLIENT, issuer: AS_ORIGIN, tokenUrl: as.tokenEndpoint, key: esKey, kid: 'es-1', scopes: ['payments:read'], dpop: { key: pair.privateKey }, fetch: inProcessFetch(as) })
    const { accessToken } = await auth.token()
    const verifier = createOAuth2Verifier({ ...as.verifierOptions(), scopes: ['payments:read'] })
    let captured: Record<string, string> | undefined
    const url = new URL(`${RS_URL}/payments/pay_1?expand=card`)
    await oauth.protectedResourceRequest(accessToken, 'GET', url, new Headers(), null, {
      DPoP: oauth.DPoP({}, cryptoPair as unknown as oauth.CryptoKeyPair),
      [oauth.customFetch]: (async (_url: string, init: { headers: ConstructorParameters<typeof Headers>[0] }) => {
        captured = Object.fromEntries(new Headers(init.headers))
        return new Response(null, { status: 204 })
      }) as never,
    })
    const headers = captured as Record<string, string>
    expect(headers['authorization']).toBe(`DPoP ${accessToken}`)
    expect(await verifier.verify({ method: 'GET', url: url.href, headers })).toEqual({ ok: true, principal: ES_CLIENT })
  })
})
