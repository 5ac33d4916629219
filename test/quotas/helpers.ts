// A small partner for the quota suites: OST-signed operations and one API-key operation, keys from the
// gateway's key store.
const op = (name: string, scheme: string) => ({
  get: { operationId: `get_${name}`, security: [{ [scheme]: [] }], responses: { '200': { description: 'ok', content: { 'application/json': { example: { op: name } } } } } },
})

export const QUOTA_SPEC = {
  openapi: '3.0.3',
  info: { title: 'quotas', version: '1' },
  servers: [{ url: 'https://api.example.com/v2' }],
  paths: {
    '/items': op('items', 'ost'),
    '/limited': op('limited', 'ost'),
    '/items/{id}': op('item', 'ost'),
    '/keyed': op('keyed', 'key'),
    '/basic': op('basic', 'basic'),
    '/jwt': op('jwt', 'jwt'),
    '/oauth1': op('oauth1', 'oauth1'),
  },
  components: {
    securitySchemes: {
      ost: { type: 'apiKey', in: 'query', name: 'api_signature', 'x-apisign-scheme': 'ost' },
      key: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      basic: { type: 'http', scheme: 'basic' },
      jwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', 'x-apisign-scheme': 'jwt-bearer' },
      oauth1: { type: 'apiKey', in: 'header', name: 'Authorization', 'x-apisign-scheme': 'oauth1' },
    },
  },
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
