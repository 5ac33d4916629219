// OAuth 2.0 client credentials under FAPI 2.0 with the client authentication key in SoftHSM: the
// private_key_jwt client assertion is signed in the token (PS256 and ES256), through createClient and the
// mock gateway's authorization server, and the DPoP-bound token calls the resource.
import { generateKeyPairSync } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/index.js'
import { type Pkcs11Signer, importPkcs11Key, openPkcs11Signer } from '../../src/signers/index.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'
import { REPO_ROOT } from '../helpers/shared.js'
import { type SoftHsm, createSoftHsm } from '../helpers/softhsm.js'

const TOKEN = 'oauth2-clients'
const esKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
const psKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
let hsm: SoftHsm
let gateway: MockGateway
let es: Pkcs11Signer
let ps: Pkcs11Signer

beforeAll(async () => {
  hsm = createSoftHsm()
  hsm.initToken(TOKEN)
  const common = { module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv }
  await importPkcs11Key({ ...common, label: 'client-es', id: '01', privateKey: esKey })
  await importPkcs11Key({ ...common, label: 'client-ps', id: '02', privateKey: psKey, usage: ['sign'] })
  es = await openPkcs11Signer({ ...common, label: 'client-es' })
  ps = await openPkcs11Signer({ ...common, label: 'client-ps', algorithm: 'PS256' })
  gateway = await startMockGateway({
    spec: join(REPO_ROOT, 'openapi/payments-oauth2.yaml'),
    security: { oauth2: {} },
    authorizationServer: {
      // The server holds the clients' public keys (here: the keys the token holds, registered by kid).
      clients: { 'hsm-es': { keys: { 'es-1': esKey }, scopes: ['payments:read'] }, 'hsm-ps': { keys: { 'ps-1': psKey }, scopes: ['payments:read'] } },
    },
  })
})

afterAll(async () => {
  await es?.close()
  await ps?.close()
  await gateway?.close()
  hsm.cleanup()
})

describe('FAPI 2.0 client assertions signed in SoftHSM', () => {
  for (const [clientId, kid, signer] of [['hsm-es', 'es-1', () => es], ['hsm-ps', 'ps-1', () => ps]] as const) {
    it(`${clientId}: the assertion is signed in the token, the token is DPoP-bound, the resource answers`, async () => {
      const issuer = new URL(gateway.url).origin
      // The token's signer, counted: the assertion must have been signed by it.
      let signed = 0
      const inToken = signer()
      const counted = { kind: 'signer' as const, algorithm: inToken.algorithm, ...(inToken.publicKey === undefined ? {} : { publicKey: inToken.publicKey }), sign: (d: Uint8Array) => (signed++, inToken.sign(d)) }
      const api = createClient({ baseURL: gateway.url, auth: { scheme: 'oauth2', clientId, issuer, tokenUrl: `${issuer}/oauth2/token`, key: counted, kid, scopes: ['payments:read'] } })
      const answers = await Promise.all([1, 2, 3].map(() => api.get('/payments/pay_123')))
      expect(answers.every((a) => a.status === 200)).toBe(true)
      // One token request (two client assertions when the server first asks for a DPoP nonce), then cached.
      expect(signed).toBeGreaterThanOrEqual(1)
      expect(signed).toBeLessThanOrEqual(2)
      expect(gateway.requests.filter((r) => r.path === '/oauth2/token' && r.status === 200).length).toBeGreaterThan(0)
    })
  }
})
