// apisign/schemes: the key + secret schemes besides OAuth1 (OST, JWT bearer + X-Api-Key, API key, Basic,
// bearer tokens, SigV4), their verifiers, and the one table createClient, the verifiers and the mock
// gateway share. Curated named exports.
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
export type { OstKeyOrder, OstRequest, OstSignedRequest, VerifyWebhookOptions, WebhookSecret } from './ost.js'
export { ostAuth, ostResource, createOstVerifier } from './ost-auth.js'
export type { OstAuthOptions, OstVerifierOptions } from './ost-auth.js'
export { signJwt, verifyJws, verifyJwt } from './jwt.js'
export type { SignJwtOptions, VerifyJwtOptions } from './jwt.js'
export { apiKeyAuth, basicAuth, composeAuth, fromEnv, fromFile, fromValue, headerTokenAuth, jwtBearerAuth } from './appliers.js'
export type { CredentialProvider } from './appliers.js'
export { oauth1Auth } from './oauth1-auth.js'
export type { OAuth1AuthOptions } from './oauth1-auth.js'
export { oauth2Auth } from './oauth2-client.js'
export type { AssertionSigner, OAuth2Applier, OAuth2AuthOptions, OAuth2Token } from './oauth2-client.js'
export { agentFetch } from './oauth2-fetch.js'
export { accessTokenHash, createDpopProver, dpopHtu, jwkThumbprint, keyObjectJwsKey, publicJwk, signCompactJws } from './oauth2-jose.js'
export type { DpopProofInput, DpopProver, JwsAlgorithm, JwsKey, PublicJwk } from './oauth2-jose.js'
export { createDpopNonces, createOAuth2Verifier, oauth2ErrorBody, verifyDpopProof } from './oauth2-verifier.js'
export type { DpopExpectation, DpopNonces, OAuth2Failure, OAuth2VerifierOptions, VerificationKeys } from './oauth2-verifier.js'
export { sigv4Auth } from './sigv4.js'
export type { SigV4CredentialSources, SigV4Credentials, SigV4Options } from './sigv4.js'
export { createApiKeyVerifier, createBasicVerifier, createBearerTokenVerifier, createJwtBearerVerifier, createSigV4Verifier } from './verifiers.js'
export type { ApiKeyVerifierOptions, BasicVerifierOptions, BearerTokenVerifierOptions, JwtBearerVerifierOptions, SigV4VerifierOptions } from './verifiers.js'
export type { ExpiringSecret, SchemeVerdict, SchemeVerifier, SecretsByKeyId, VerifyContext } from './verifier-types.js'
export { SCHEMES, authForSpec, chooseRequirement, createSchemeVerifier, mastercardErrorBody, resolveAuth, schemeOf } from './table.js'
export type {
  CredentialsBySchemeName,
  SchemeAuthOptions,
  SchemeClientOptions,
  SchemeContext,
  SchemeDescriptor,
  SchemeId,
  SchemeServerOptions,
  SchemeVerifierConfig,
} from './table.js'
export { indexOperations, pathBelow } from './openapi.js'
export type { OpenApiSecurityScheme, OperationIndex, SecurityRequirement } from './openapi.js'
