// One descriptor per scheme, consumed by createClient (applier), the mock gateway and providers
// (verifier), and OpenAPI-driven selection (which securitySchemes entry is which scheme): adding a scheme
// is adding a row, not a case in three switches (anchors-style.md §9, the jose/smithy table pattern).
import { ApisignError } from '../errors.js'
import type { AuthApplier } from '../pipeline/types.js'
import { type OAuth1VerifierOptions, createOAuth1Verifier } from './oauth1-verifier.js'
import { type CredentialProvider, apiKeyAuth, basicAuth, composeAuth, headerTokenAuth, jwtBearerAuth } from './appliers.js'
import { type OAuth1AuthOptions, oauth1Auth } from './oauth1-auth.js'
import { type OAuth2AuthOptions, oauth2Auth } from './oauth2-client.js'
import { type OAuth2VerifierOptions, createOAuth2Verifier, oauth2ErrorBody } from './oauth2-verifier.js'
import { type OpenApiSecurityScheme, type SecurityRequirement, indexOperations, pathBelow } from './openapi.js'
import { type OstAuthOptions, type OstVerifierOptions, createOstVerifier, ostAuth } from './ost-auth.js'
import { type SigV4Options, sigv4Auth } from './sigv4.js'
import type { SchemeVerdict, SchemeVerifier } from './verifier-types.js'
import {
  type ApiKeyVerifierOptions,
  type BasicVerifierOptions,
  type BearerTokenVerifierOptions,
  type JwtBearerVerifierOptions,
  type SigV4VerifierOptions,
  createApiKeyVerifier,
  createBasicVerifier,
  createBearerTokenVerifier,
  createJwtBearerVerifier,
  createSigV4Verifier,
} from './verifiers.js'

/** Client-side options of each scheme (what `createClient({ auth })` takes), keyed by scheme id. */
export interface SchemeClientOptions {
  readonly oauth1: Omit<OAuth1AuthOptions, 'scheme'>
  readonly ost: OstAuthOptions
  readonly 'jwt-bearer': { readonly apiKey: string; readonly secret: string | CredentialProvider<string>; readonly payload?: Readonly<Record<string, unknown>>; readonly iat?: boolean; readonly expiresIn?: number }
  readonly 'bearer-token': { readonly fetch: () => Promise<{ token: string; expiresAtMs: number }>; readonly refreshBeforeMs?: number; readonly header?: string }
  readonly 'api-key': { readonly key: string | CredentialProvider<string>; readonly in?: 'header' | 'query' | 'body'; readonly name?: string }
  readonly basic: { readonly username: string; readonly password: string | CredentialProvider<string> }
  readonly sigv4: SigV4Options
  readonly oauth2: OAuth2AuthOptions
}

/** Server-side options of each scheme (verifiers, the mock gateway), keyed by scheme id. */
export interface SchemeServerOptions {
  readonly oauth1: OAuth1VerifierOptions
  readonly ost: OstVerifierOptions
  readonly 'jwt-bearer': JwtBearerVerifierOptions
  readonly 'bearer-token': BearerTokenVerifierOptions
  readonly 'api-key': ApiKeyVerifierOptions
  readonly basic: BasicVerifierOptions
  readonly sigv4: SigV4VerifierOptions
  readonly oauth2: OAuth2VerifierOptions
}

/** The schemes apisign knows. */
export type SchemeId = keyof SchemeClientOptions

/** `{ scheme: id, ...clientOptions }` for any scheme of the table. */
export type SchemeAuthOptions = { [K in SchemeId]: { readonly scheme: K } & SchemeClientOptions[K] }[SchemeId]
/** `{ scheme: id, ...serverOptions }` for any scheme of the table. */
export type SchemeVerifierConfig = { [K in SchemeId]: { readonly scheme: K } & SchemeServerOptions[K] }[SchemeId]

/** What the spec and the gateway tell a scheme besides its options. */
export interface SchemeContext {
  /** The spec's entry for this scheme, when selection came from `securitySchemes`. */
  readonly securityScheme?: OpenApiSecurityScheme
  /** The API's base path (e.g. `/testnet/v2`), for schemes that sign a path relative to it. */
  readonly basePath?: string
  /** The server clock, ms. */
  readonly now?: () => number
}

/** One row of the table. */
export interface SchemeDescriptor<K extends SchemeId> {
  readonly id: K
  readonly title: string
  /** Whether an OpenAPI security scheme without `x-apisign-scheme` reads as this scheme by default. */
  readonly fromOpenApi: (s: OpenApiSecurityScheme) => boolean
  readonly applier: (options: SchemeClientOptions[K], context: SchemeContext) => AuthApplier
  readonly verifier: (options: SchemeServerOptions[K], context: SchemeContext) => SchemeVerifier
  /** The body the real provider answers a rejected request with (status 401). */
  readonly rejectionBody: (verdict: Extract<SchemeVerdict, { ok: false }>) => unknown
}

/**
 * Mastercard's gateway envelope (`Errors.Error[]`).
 *
 * @example
 * ```ts
 * res.writeHead(401).end(JSON.stringify(mastercardErrorBody({ code: 'ERR_SIGNATURE_INVALID', message: 'bad signature' })))
 * ```
 */
export function mastercardErrorBody(verdict: { readonly code: string; readonly message: string }) {
  return { Errors: { Error: [{ Source: 'Gateway', ReasonCode: verdict.code, Description: verdict.message, Recoverable: false }] } }
}
const genericErrorBody = (verdict: { readonly code: string; readonly message: string }) => ({ error: { code: verdict.code, message: verdict.message } })
// The OST platform's envelope (reference §1.10): 401 UNAUTHORIZED, the offending parameter in error_data.
const ostErrorBody = (verdict: { readonly code: string; readonly message: string }) => ({
  success: false,
  err: {
    code: 'UNAUTHORIZED',
    msg: 'We could not authenticate the request. Please review your credentials and authentication method.',
    internal_id: verdict.code,
    error_data: [{ parameter: verdict.code === 'ERR_TIMESTAMP_OUT_OF_WINDOW' ? 'api_request_timestamp' : verdict.code.startsWith('ERR_CREDENTIALS') ? 'api_key' : 'api_signature', msg: verdict.message }],
  },
})

const isBearer = (s: OpenApiSecurityScheme) => s.type?.toLowerCase() === 'http' && s.scheme?.toLowerCase() === 'bearer'
const headerName = (s: OpenApiSecurityScheme | undefined) => (s?.type === 'apiKey' && s.in === 'header' && typeof s.name === 'string' ? s.name : undefined)

/**
 * The scheme table. Each row builds its client applier and its verifier from options (plus what the spec
 * says: an API key's `in`/`name`, a token's header), and knows its provider's error body.
 *
 * @example
 * ```ts
 * const verifier = SCHEMES.ost.verifier({ keys: { [apiKey]: secret } }, { basePath: '/testnet/v2' })
 * ```
 */
export const SCHEMES: { readonly [K in SchemeId]: SchemeDescriptor<K> } = {
  oauth1: {
    id: 'oauth1',
    title: 'OAuth 1.0a (Mastercard RSA-SHA256 + oauth_body_hash, or RFC 5849)',
    fromOpenApi: (s) => s.type === 'http' && s.scheme?.toLowerCase() === 'oauth',
    applier: (o) => oauth1Auth({ ...o, scheme: 'oauth1' }),
    verifier: (o, c) => createOAuth1Verifier({ ...(c.now === undefined ? {} : { now: c.now }), ...o }),
    rejectionBody: mastercardErrorBody,
  },
  ost: {
    id: 'ost',
    title: 'OST1-HMAC-SHA256 query/form signing',
    fromOpenApi: () => false,
    applier: (o) => ostAuth(o),
    verifier: (o, c) => createOstVerifier({ ...(c.basePath === undefined ? {} : { basePath: c.basePath }), ...(c.now === undefined ? {} : { now: c.now }), ...o }),
    rejectionBody: ostErrorBody,
  },
  'jwt-bearer': {
    id: 'jwt-bearer',
    title: 'HS256 JWT bearer + X-Api-Key',
    fromOpenApi: () => false,
    applier: (o) => jwtBearerAuth(o),
    verifier: (o, c) => createJwtBearerVerifier({ ...(c.now === undefined ? {} : { now: c.now }), ...o }),
    rejectionBody: genericErrorBody,
  },
  sigv4: {
    id: 'sigv4',
    title: 'AWS Signature Version 4',
    // API Gateway's own extension for IAM-signed operations.
    fromOpenApi: (s) => s['x-amazon-apigateway-authtype'] === 'awsSigv4',
    applier: (o) => sigv4Auth(o),
    verifier: (o, c) => createSigV4Verifier({ ...(c.now === undefined ? {} : { now: c.now }), ...o }),
    rejectionBody: genericErrorBody,
  },
  'bearer-token': {
    id: 'bearer-token',
    title: 'Provider-issued bearer token',
    fromOpenApi: (s) => isBearer(s),
    applier: (o, c) => {
      const header = o.header ?? headerName(c.securityScheme)
      return headerTokenAuth({ ...o, ...(header === undefined ? { header: 'Authorization', scheme: 'Bearer' } : { header }) })
    },
    verifier: (o, c) => {
      const header = o.header ?? headerName(c.securityScheme)
      return createBearerTokenVerifier({ ...(c.now === undefined ? {} : { now: c.now }), ...o, ...(header === undefined ? {} : { header }) })
    },
    rejectionBody: genericErrorBody,
  },
  'api-key': {
    id: 'api-key',
    title: 'API key in a header, query parameter or body field',
    fromOpenApi: (s) => s.type === 'apiKey' && (s.in === 'header' || s.in === 'query'),
    applier: (o, c) => apiKeyAuth({ ...openApiPlacement(c.securityScheme), ...o }),
    verifier: (o, c) => createApiKeyVerifier({ ...(c.now === undefined ? {} : { now: c.now }), ...openApiPlacement(c.securityScheme), ...o }),
    rejectionBody: genericErrorBody,
  },
  oauth2: {
    id: 'oauth2',
    title: 'OAuth 2.0 client credentials under FAPI 2.0 (private_key_jwt + DPoP)',
    fromOpenApi: (s) => s.type === 'oauth2',
    applier: (o, c) => oauth2Auth({ ...clientCredentialsTokenUrl(c.securityScheme), ...o }),
    verifier: (o, c) => createOAuth2Verifier({ ...(c.now === undefined ? {} : { now: c.now }), ...o }),
    rejectionBody: oauth2ErrorBody,
  },
  basic: {
    id: 'basic',
    title: 'HTTP Basic (RFC 7617)',
    fromOpenApi: (s) => s.type?.toLowerCase() === 'http' && s.scheme?.toLowerCase() === 'basic',
    applier: (o) => basicAuth(o),
    verifier: (o, c) => createBasicVerifier({ ...(c.now === undefined ? {} : { now: c.now }), ...o }),
    rejectionBody: genericErrorBody,
  },
}

// OpenAPI 3.x §4.8.29: an oauth2 scheme's clientCredentials flow names the token endpoint (absolute only:
// a relative one would need the server URL, which the profile gives as tokenUrl instead).
function clientCredentialsTokenUrl(s: OpenApiSecurityScheme | undefined): { tokenUrl?: string } {
  const flows = s?.['flows'] as { clientCredentials?: { tokenUrl?: unknown } } | undefined
  const tokenUrl = flows?.clientCredentials?.tokenUrl
  return typeof tokenUrl === 'string' && /^https?:\/\//.test(tokenUrl) ? { tokenUrl } : {}
}

function openApiPlacement(s: OpenApiSecurityScheme | undefined): { in?: 'header' | 'query'; name?: string } {
  if (s?.type !== 'apiKey' || typeof s.name !== 'string') return {}
  return s.in === 'header' || s.in === 'query' ? { in: s.in, name: s.name } : {}
}

const descriptor = (id: unknown): SchemeDescriptor<SchemeId> => {
  if (typeof id !== 'string' || !Object.hasOwn(SCHEMES, id)) {
    throw new ApisignError('ERR_SCHEME_CONFIG', `unknown auth scheme ${JSON.stringify(String(id)).slice(0, 40)}; known: ${Object.keys(SCHEMES).join(', ')}`)
  }
  return SCHEMES[id as SchemeId] as unknown as SchemeDescriptor<SchemeId>
}

/**
 * Which scheme an OpenAPI `securitySchemes` entry is: `x-apisign-scheme` when given, else the first row of
 * the table that reads it by default (`http basic` -> basic, `http bearer` -> bearer-token, `apiKey` ->
 * api-key, API Gateway's `awsSigv4` -> sigv4).
 *
 * @example
 * ```ts
 * schemeOf({ type: 'apiKey', in: 'query', name: 'api_signature', 'x-apisign-scheme': 'ost' }) // 'ost'
 * ```
 */
export function schemeOf(securityScheme: OpenApiSecurityScheme): SchemeId | undefined {
  const explicit = securityScheme['x-apisign-scheme']
  if (explicit !== undefined) return descriptor(explicit).id
  return (Object.values(SCHEMES) as Array<SchemeDescriptor<SchemeId>>).find((d) => d.fromOpenApi(securityScheme))?.id
}

const isApplier = (auth: unknown): auth is AuthApplier => typeof (auth as AuthApplier | undefined)?.apply === 'function'
const without = <T extends { scheme?: unknown }>(o: T): Omit<T, 'scheme'> => {
  const { scheme: _scheme, ...rest } = o
  return rest
}

/**
 * The AuthApplier for `createClient`'s `auth` option: an applier as given, or a `{ scheme, ... }` config
 * built through the table.
 *
 * @example
 * ```ts
 * const auth = resolveAuth({ scheme: 'basic', username: 'key', password: fromEnv('PARTNER_SECRET') })
 * ```
 */
export function resolveAuth(auth: SchemeAuthOptions | AuthApplier, context: SchemeContext = {}): AuthApplier {
  if (isApplier(auth)) return auth
  if (auth === null || typeof auth !== 'object') throw new TypeError('auth must be { scheme, ... } or an AuthApplier')
  return descriptor(auth.scheme).applier(without(auth) as never, context)
}

/**
 * A verifier through the table, from `{ scheme, ...options }` (or a ready verifier, returned as is).
 *
 * @example
 * ```ts
 * const verifier = createSchemeVerifier({ scheme: 'api-key', keys: [process.env.PARTNER_KEY!] })
 * ```
 */
export function createSchemeVerifier(config: SchemeVerifierConfig | SchemeVerifier, context: SchemeContext = {}): SchemeVerifier {
  if (typeof (config as SchemeVerifier).verify === 'function') return config as SchemeVerifier
  return descriptor((config as SchemeVerifierConfig).scheme).verifier(without(config as SchemeVerifierConfig) as never, context)
}

/** Client credentials per `securitySchemes` name: a `{ scheme?, ... }` config (scheme inferred from the spec when absent) or an applier. */
export type CredentialsBySchemeName = Readonly<Record<string, (Partial<Pick<SchemeAuthOptions, 'scheme'>> & Record<string, unknown>) | AuthApplier>>

function schemeFor(name: string, securityScheme: OpenApiSecurityScheme | undefined, given: string | undefined): SchemeId {
  if (given !== undefined) return descriptor(given).id
  const inferred = securityScheme === undefined ? undefined : schemeOf(securityScheme)
  if (inferred === undefined) throw new ApisignError('ERR_SCHEME_CONFIG', `security scheme ${name}: say which scheme it is ({ scheme: ... } or x-apisign-scheme)`)
  return inferred
}

/**
 * An AuthApplier that picks the scheme(s) per operation from the spec's `security`: the first alternative
 * whose schemes all have credentials wins, and its schemes are applied together (e.g. `jwtBearer` +
 * `apiKey`); `{}` allows an anonymous call. Operations are found by method and path below the client's
 * base URL.
 *
 * @example
 * ```ts
 * const api = createClient({ baseURL, auth: authForSpec(spec, {
 *   ostHmac: { apiKey, apiSecret: fromEnv('OST_API_SECRET') },
 *   jwtBearer: { scheme: 'jwt-bearer', apiKey, secret: fromEnv('ORIGINAL_API_SECRET') },
 *   apiKey: { key: apiKey },
 * }) })
 * ```
 */
export function authForSpec(spec: Readonly<Record<string, unknown>>, credentials: CredentialsBySchemeName): AuthApplier {
  const index = indexOperations(spec)
  const appliers = new Map<string, AuthApplier>()
  for (const [name, given] of Object.entries(credentials)) {
    if (isApplier(given)) {
      appliers.set(name, given)
      continue
    }
    const securityScheme = index.securitySchemes[name]
    if (securityScheme === undefined) throw new ApisignError('ERR_SCHEME_CONFIG', `the spec has no security scheme named ${name}`)
    const id = schemeFor(name, securityScheme, given.scheme)
    appliers.set(name, SCHEMES[id].applier(without(given) as never, { securityScheme }))
  }
  // Which appliers (with which scopes) authorised a request, so its response reaches exactly them.
  const applied = new WeakMap<object, Array<{ applier: AuthApplier; scopes: readonly string[] | undefined }>>()
  return {
    async onResponse(response, context) {
      let verdict: 'retry' | undefined
      for (const { applier, scopes } of applied.get(response.request) ?? []) {
        if ((await applier.onResponse?.(response, scopes === undefined ? context : { ...context, scopes })) === 'retry') verdict = 'retry'
      }
      return verdict
    },
    async apply(request, context) {
      const path = pathBelow(request.url.pathname, context.baseURL.pathname) ?? request.url.pathname
      const operation = index.find(request.method, path)
      if (operation === undefined) throw new ApisignError('ERR_SCHEME_CONFIG', `no operation of the spec matches ${request.method} ${path}`)
      if (!operation.declared) {
        // Nothing declared: one scheme given is the scheme; several would be a guess.
        if (appliers.size !== 1) throw new ApisignError('ERR_SCHEME_CONFIG', `${operation.operationId ?? operation.template} declares no security; give one scheme or declare security in the spec`)
        const only = [...appliers.values()][0] as AuthApplier
        applied.set(request, [{ applier: only, scopes: undefined }])
        return only.apply(request, context)
      }
      if (operation.security.length === 0) return { headers: {} }
      const chosen = chooseRequirement(operation.security, (name) => appliers.has(name))
      if (chosen === undefined) {
        const wanted = operation.security.map((r) => Object.keys(r).join(' + ')).join(' or ')
        throw new ApisignError('ERR_CREDENTIALS_MISSING', `${operation.operationId ?? operation.template} needs ${wanted}; no credentials were given for it`)
      }
      // Each scheme sees the scopes its own entry of the requirement names (OAuth 2.0 tokens per scope set).
      const entries = Object.entries(chosen).map(([name, scopes]) => ({ applier: appliers.get(name) as AuthApplier, scopes: scopes.length === 0 ? undefined : scopes }))
      applied.set(request, entries)
      const list = entries.map(({ applier, scopes }): AuthApplier => (scopes === undefined ? applier : { apply: (r, c) => applier.apply(r, { ...c, scopes }) }))
      if (list.length === 0) return { headers: {} }
      return (list.length === 1 ? (list[0] as AuthApplier) : composeAuth(...list)).apply(request, context)
    },
  }
}

/**
 * The first alternative all of whose schemes are available (`{}` = anonymous, always available).
 *
 * @example
 * ```ts
 * chooseRequirement([{ basic: [] }, { apiKey: [] }], (name) => name === 'apiKey') // { apiKey: [] }
 * ```
 */
export function chooseRequirement(alternatives: readonly SecurityRequirement[], available: (name: string) => boolean): SecurityRequirement | undefined {
  return alternatives.find((requirement) => Object.keys(requirement).every(available))
}
