// apisign/testing: contract-test helpers (nock) and a local mock gateway. Curated named exports.
export { interceptSigned, gatewayErrorBody, nockBodyBytes } from './nock.js'
export type { InterceptSignedOptions, VerifiedRequest } from './nock.js'
export { startMockGateway, exampleResponse, sampleFromSchema, partnerView } from './mock-gateway.js'
export type { MockGateway, MockGatewayOptions } from './mock-gateway.js'
export { createAuthorizationServer, AUTHORIZATION_SERVER_PATHS } from './authorization-server.js'
export type { AuthorizationServer, AuthorizationServerOptions, AuthorizationServerResponse, RegisteredClient } from './authorization-server.js'
export type { GatewayLimits } from './gateway-limits.js'
