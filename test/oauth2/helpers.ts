// Keys and a gateway for the OAuth 2.0 suites: one ES256 and one PS256 client, registered with the mock
// gateway's authorization server by kid.
import { type KeyObject, generateKeyPairSync } from 'node:crypto'
import { join } from 'node:path'
import { type MockGatewayOptions, startMockGateway } from '../../src/testing/index.js'
import { REPO_ROOT } from '../helpers/shared.js'

export const SPEC = join(REPO_ROOT, 'openapi/payments-oauth2.yaml')
export const ES_CLIENT = 'client-es256'
export const PS_CLIENT = 'client-ps256'
export const esKey: KeyObject = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
export const psKey: KeyObject = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
export const SCOPES = ['payments:read', 'payments:write', 'accounts:read']

export function gateway(extra: Partial<MockGatewayOptions> = {}, as: Partial<NonNullable<MockGatewayOptions['authorizationServer']>> = {}) {
  return startMockGateway({
    spec: SPEC,
    security: { oauth2: {} },
    authorizationServer: {
      clients: { [ES_CLIENT]: { keys: { 'es-1': esKey }, scopes: SCOPES }, [PS_CLIENT]: { keys: { 'ps-1': psKey }, scopes: ['payments:read'] } },
      ...as,
    },
    ...extra,
  })
}
