// apisign/codegen: OpenAPI -> typed axios client wired to the signed client. Curated named exports.
export { generate } from './generate.js'
export type { GenerateOptions, GenerateResult } from './generate.js'
export { deriveEncryptionConfig, encryptedFields, ENCRYPT_EXTENSION } from './encryption.js'
export { loadSpec, operationsOf } from './spec.js'
export type { OpenApiDocument } from './spec.js'
export { wireClient, wireTypescriptAxios } from './wire.js'
export type { HeyApiClient, SignedFetchLike, TypescriptAxiosApi } from './wire.js'
