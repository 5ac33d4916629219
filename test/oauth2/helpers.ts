// Keys and a gateway for the OAuth 2.0 suites: one ES256 and one PS256 client, registered with the mock
// gateway's authorization server by kid.
import { type KeyObject, generateKeyPairSync } from 'node:crypto'
import { join } from 'node:path'
import { type AuthorizationServer, type AuthorizationServerOptions, createAuthorizationServer } from '../../src/testing/authorization-server.js'
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

/** A fetch that answers from an in-process authorization server (no sockets), recording each request. */
export function inProcessFetch(as: AuthorizationServer, seen: Array<{ url: string; headers: Headers; body: string }> = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input)
    const headers = new Headers(init?.headers)
    const body = init?.body === undefined || init.body === null ? '' : String(init.body)
    seen.push({ url, headers, body })
    const answer = await as.handle({ method: init?.method ?? 'GET', url, headers: Object.fromEntries(headers), body: Buffer.from(body) })
    if (answer === undefined) return new Response('not found', { status: 404 })
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json', date: new Date().toUTCString(), ...answer.headers } })
  }) as typeof fetch
}

export const AS_ORIGIN = 'https://as.example.com'
export const RS_URL = 'https://api.example.com/mini'

/** An authorization server at AS_ORIGIN issuing tokens for RS_URL. */
export function authorizationServer(options: Partial<AuthorizationServerOptions> = {}): AuthorizationServer {
  return createAuthorizationServer(
    { clients: { [ES_CLIENT]: { keys: { 'es-1': esKey }, scopes: SCOPES }, [PS_CLIENT]: { keys: { 'ps-1': psKey }, scopes: ['payments:read'] } }, ...options },
    AS_ORIGIN,
    RS_URL,
  )
}
