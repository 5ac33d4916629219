// apisign/schemes: the other key + secret schemes. Curated named exports. (OST for now; issue 8 adds the
// rest and the descriptor table.)
export {
  OST_SIGNATURE_KIND,
  ostEncode,
  ostCanonicalQuery,
  ostStringToSign,
  ostSignature,
  signOstRequest,
  webhookStringToSign,
  signWebhook,
  verifyWebhook,
} from './ost.js'
export type { OstRequest, OstSignedRequest, VerifyWebhookOptions, WebhookSecret } from './ost.js'
export { signJwt, verifyJws, verifyJwt } from './jwt.js'
export type { SignJwtOptions, VerifyJwtOptions } from './jwt.js'
export { apiKeyAuth, basicAuth, composeAuth, fromEnv, fromFile, fromValue, headerTokenAuth, jwtBearerAuth } from './appliers.js'
export type { CredentialProvider } from './appliers.js'
export { sigv4Auth } from './sigv4.js'
export type { SigV4Credentials, SigV4Options } from './sigv4.js'
