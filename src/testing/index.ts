// apisign/testing: contract-test helpers (nock) and a local mock gateway. Curated named exports.
export { interceptSigned, gatewayErrorBody, nockBodyBytes } from './nock.js'
export type { InterceptSignedOptions, VerifiedRequest } from './nock.js'
export { startMockGateway, exampleResponse, sampleFromSchema, partnerView } from './mock-gateway.js'
export type { MockGateway, MockGatewayOptions } from './mock-gateway.js'
export { startAdminServer } from './admin-server.js'
export type { AdminServer, AdminServerOptions } from './admin-server.js'
export { storeCredentials } from './gateway-quotas.js'
export type { GatewayProviderOptions } from './gateway-quotas.js'
