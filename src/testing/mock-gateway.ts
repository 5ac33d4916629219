import { readSourceFile } from '../keys/source.js'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parse as parseYaml } from 'yaml'
import { type ApisignEncryptionConfig, type FieldEncryption, type KeyMaterial, type MastercardEncryptionConfig, createEncryption } from '../encryption/index.js'
import { ApisignError } from '../errors.js'
import { limitOption } from '../option-values.js'
import { type GatewayLimits, applyServerLimits, pushBounded, readBodyWithin, requestTarget, resolveGatewayLimits, serverOptions } from './gateway-limits.js'
import { type OpenApiSecurityScheme, type SecurityRequirement, indexOperations } from '../schemes/openapi.js'
import { type SchemeId, type SchemeServerOptions, SCHEMES, schemeOf } from '../schemes/table.js'
import type { SchemeVerdict, SchemeVerifier } from '../pipeline/types.js'
import { type ConsumerKeys, createOAuth1Verifier } from '../verify/index.js'
import { type AuthorizationServer, type AuthorizationServerOptions, createAuthorizationServer, gatewayOAuth2Verifier } from './authorization-server.js'
import type { KeyStore, KeyUsage } from '../quotas/index.js'
import { type GatewayProviderOptions, createGatewayProvider, storeCredentials } from './gateway-quotas.js'
import { type MockGatewayTls, createGatewayServer } from './tls.js'

/**
 * Options of {@link startMockGateway}. The provider side (`quotas`, `keyStore`, `usageLog`, `admin`) is
 * described in gateway-quotas.ts: with a `keyStore`, every scheme without keys of its own reads them there.
 */
export interface MockGatewayOptions extends GatewayProviderOptions {
  /** OpenAPI 3.x spec: a path (YAML or JSON) or the parsed object. */
  readonly spec: string | Record<string, unknown>
  /**
   * OAuth 1.0a callers: consumer keys and their public keys (or pass a ready `verifier`). They guard the
   * operations that declare no `security` in the spec.
   */
  readonly consumers?: ConsumerKeys
  readonly verifier?: SchemeVerifier
  /**
   * Server-side credentials per `securitySchemes` name, for operations that declare `security`:
   * `{ scheme?, ...verifier options }` (the scheme is inferred from the spec when absent, e.g. from
   * `x-apisign-scheme`) or a ready verifier. Every scheme the spec's operations use must be configured.
   *
   * ```ts
   * security: { ostHmac: { keys: { [apiKey]: apiSecret } }, jwtBearer: { keys: { [apiKey]: secret } }, apiKey: { keys: [apiKey] } }
   * ```
   */
  readonly security?: Readonly<Record<string, ({ readonly scheme?: SchemeId } & Record<string, unknown>) | SchemeVerifier>>
  /** Answer 429 with `Retry-After` once a caller exceeds `requests` per `perMs` (fixed window per principal). */
  readonly rateLimit?: { readonly requests: number; readonly perMs: number }
  /** Server clock, ms (verifiers' timestamp windows, rate-limit windows). Default `Date.now`. */
  readonly now?: () => number
  /**
   * The client's encryption config (a `mastercard-client-encryption` config or apisign's typed one): the
   * gateway applies its partner-side view, decrypting request fields where the client encrypts them and
   * encrypting response fields where the client decrypts them. A `FieldEncryption` is used as given
   * (already partner-side).
   */
  readonly encryption?: FieldEncryption | MastercardEncryptionConfig | ApisignEncryptionConfig
  /**
   * The partner's own keys, as in a real MDES set-up where the two sides have separate key pairs: the
   * private key it decrypts requests with (the pair of the client's `encryptionCertificate`), and the
   * certificate it encrypts responses to (the client's, the pair of the client's `privateKey`). Without
   * them the gateway uses the client config's own keys, which only works when the client encrypts to
   * its own certificate.
   */
  readonly partnerKeys?: PartnerKeys
  /**
   * Run the partner's clock this far ahead (negative: behind) of `now`, ms: verification windows and the
   * `Date` header both use it, to rehearse clock-skew handling. Default 0.
   */
  readonly clockOffsetMs?: number
  /** Default 0 (a free port). */
  readonly port?: number
  /** Always a loopback address. Default 127.0.0.1. */
  readonly host?: '127.0.0.1' | 'localhost' | '::1'
  /** One line per request (never a secret). Default: none. */
  readonly log?: (line: string) => void
  /** Put the acceptable signature base string in 401 bodies, as gateways do. Default true. */
  readonly debug?: boolean
  /** Serve HTTPS with this certificate, optionally requiring client certificates (mTLS). Default: HTTP. */
  readonly tls?: MockGatewayTls
  /**
   * The OAuth 1.0a verdict (and so the 401 body) for an unknown consumer key: the gateway's own
   * `ERR_OAUTH1_UNKNOWN_CONSUMER` (default) or `'signature-invalid'`, indistinguishable from a bad signature.
   */
  readonly unknownConsumer?: 'unknown-consumer' | 'signature-invalid'
  /** Body, head, timeout, connection and request-log limits (see {@link GatewayLimits} for the defaults). */
  readonly limits?: GatewayLimits
  /**
   * A FAPI 2.0 authorization server at the gateway's origin (token endpoint `/oauth2/token`, metadata,
   * JWKS); `oauth2` security schemes then accept its tokens without further options.
   */
  readonly authorizationServer?: AuthorizationServerOptions
}

/** A running mock gateway. */
export interface MockGateway {
  /** Base URL including the spec's server base path, e.g. `http://127.0.0.1:40123/mini` (`https:` with `tls`). */
  readonly url: string
  /** The authorization server, when `authorizationServer` was given. */
  readonly authorizationServer?: AuthorizationServer
  /** Requests served so far, with their verification outcome: the last `limits.requestLogSize` (default 1000). */
  readonly requests: ReadonlyArray<{ method: string; path: string; status: number; code?: string; principal?: string; body?: unknown }>
  /** Per-key usage: requests, rejections by code, bytes, per operation, and the quota windows now. */
  usage(): Promise<Record<string, KeyUsage>>
  /** The admin API (`admin` option): its URL and bearer token. */
  readonly admin?: { readonly url: string; readonly token: string }
  /** The key store the schemes read (`keyStore` option). */
  readonly keyStore?: KeyStore
  close(): Promise<void>
}

interface Route {
  readonly template: string
  readonly pattern: RegExp
  readonly methods: Map<string, Record<string, unknown>>
}

interface Guard {
  readonly verifier: SchemeVerifier
  readonly rejectionBody: (verdict: Extract<SchemeVerdict, { ok: false }>) => unknown
}

function loadSpec(spec: MockGatewayOptions['spec']): Record<string, unknown> {
  if (typeof spec !== 'string') return spec
  // A missing or unreadable file is ERR_FILE_NOT_FOUND / ERR_FILE_UNREADABLE naming it, not a raw ENOENT.
  const text = readSourceFile(spec, 'spec').toString('utf8')
  try {
    return (spec.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as Record<string, unknown>
  } catch (cause) {
    throw new ApisignError('ERR_SPEC_INVALID', `${spec} is not valid YAML/JSON`, { cause })
  }
}

function resolveRef(spec: Record<string, unknown>, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { $ref?: unknown }).$ref === 'string') {
    const ref = (value as { $ref: string }).$ref
    if (!ref.startsWith('#/')) return value
    let node: unknown = spec
    for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
    return resolveRef(spec, node)
  }
  return value
}

/**
 * A minimal instance of a JSON schema, for responses without an example (valid against the schema).
 *
 * @example
 * ```ts
 * sampleFromSchema(spec, { type: 'object', properties: { id: { type: 'string' } } }) // { id: 'string' }
 * ```
 */
export function sampleFromSchema(spec: Record<string, unknown>, schemaIn: unknown, depth = 0): unknown {
  const schema = resolveRef(spec, schemaIn) as Record<string, unknown> | undefined
  if (schema === undefined || depth > 8) return null
  if (schema['example'] !== undefined) return schema['example']
  if (Array.isArray(schema['enum'])) return schema['enum'][0]
  const type = schema['type']
  if (type === 'object' || schema['properties'] !== undefined) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries((schema['properties'] as Record<string, unknown> | undefined) ?? {})) out[k] = sampleFromSchema(spec, v, depth + 1)
    return out
  }
  if (type === 'array') return [sampleFromSchema(spec, schema['items'], depth + 1)]
  if (type === 'integer' || type === 'number') return typeof schema['minimum'] === 'number' ? schema['minimum'] : 0
  if (type === 'boolean') return false
  if (type === 'string') return schema['format'] === 'date-time' ? '1970-01-01T00:00:00Z' : 'string'
  return null
}

/**
 * The success response of an operation: its status and example (or a sample of its schema).
 *
 * @example
 * ```ts
 * const { status, body } = exampleResponse(spec, spec.paths['/payments'].get)
 * ```
 */
export function exampleResponse(spec: Record<string, unknown>, operation: Record<string, unknown>): { status: number; body: unknown } {
  const responses = (operation['responses'] ?? {}) as Record<string, unknown>
  const code = Object.keys(responses).find((c) => /^2\d\d$/.test(c)) ?? '200'
  const response = resolveRef(spec, responses[code]) as Record<string, unknown> | undefined
  const media = ((response?.['content'] ?? {}) as Record<string, Record<string, unknown>>)['application/json']
  if (media === undefined) return { status: Number(code), body: undefined }
  if (media['example'] !== undefined) return { status: Number(code), body: media['example'] }
  const examples = media['examples'] as Record<string, { value?: unknown }> | undefined
  const first = examples === undefined ? undefined : Object.values(examples)[0]
  if (first !== undefined) return { status: Number(code), body: (resolveRef(spec, first) as { value?: unknown }).value }
  return { status: Number(code), body: sampleFromSchema(spec, media['schema']) }
}

function basePathOf(spec: Record<string, unknown>): string {
  const servers = spec['servers'] as Array<{ url?: string }> | undefined
  const first = servers?.[0]?.url
  if (first === undefined) return ''
  try {
    return new URL(first, 'http://placeholder').pathname.replace(/\/$/, '')
  } catch {
    return ''
  }
}

type Mapping = { element: string; obj: string }
const invert = (list: unknown): Mapping[] => ((list as Mapping[] | undefined) ?? []).map(({ element, obj }) => ({ element: obj, obj: element }))
const invertTyped = (list: unknown) => ((list as Array<{ from: string; to: string }> | undefined) ?? []).map(({ from, to }) => ({ from: to, to: from }))

/** The partner's own encryption keys (see {@link MockGatewayOptions.partnerKeys}). */
export interface PartnerKeys {
  /** The partner's private key: decrypts the fields clients encrypt to the partner's certificate. */
  readonly decryptionKey: KeyMaterial
  /** The certificate the partner encrypts responses to: the client's, as uploaded to the partner. */
  readonly encryptionCertificate: KeyMaterial
}

const CLIENT_KEY_FIELDS = ['privateKey', 'keyStore', 'keyStoreAlias', 'keyStorePassword', 'encryptionCertificate', 'encryptionKey', 'publicKeyFingerprint', 'decryptionKey', 'kid']

/**
 * The partner's side of a client encryption config: what the client encrypts, the partner decrypts (at
 * the inverse mapping), and what the client decrypts, the partner encrypts. With `keys`, the client's
 * keys are replaced by the partner's own (its decryption key, the client's certificate); the `kid` is
 * then computed from that certificate.
 *
 * @example
 * ```ts
 * const gatewaySide = createEncryption(partnerView(clientEncryptionConfig, { decryptionKey: './partner-key.pem', encryptionCertificate: './client-cert.pem' }))
 * ```
 */
export function partnerView(config: Record<string, unknown>, keys?: PartnerKeys): Record<string, unknown> {
  const rekey = (c: Record<string, unknown>, typed: boolean): Record<string, unknown> => {
    if (keys === undefined) return c
    if (keys === null || typeof keys !== 'object' || keys.decryptionKey === undefined || keys.encryptionCertificate === undefined) {
      throw new TypeError('partnerKeys must be { decryptionKey, encryptionCertificate }')
    }
    const rest = Object.fromEntries(Object.entries(c).filter(([k]) => !CLIENT_KEY_FIELDS.includes(k)))
    return { ...rest, encryptionCertificate: keys.encryptionCertificate, [typed ? 'decryptionKey' : 'privateKey']: keys.decryptionKey }
  }
  if (Array.isArray(config['paths'])) {
    return rekey({
      ...config,
      paths: (config['paths'] as Array<Record<string, unknown>>).map((p) => ({ ...p, toEncrypt: invert(p['toDecrypt']), toDecrypt: invert(p['toEncrypt']) })),
    }, false)
  }
  if (Array.isArray(config['endpoints'])) {
    return rekey({
      ...config,
      endpoints: (config['endpoints'] as Array<Record<string, unknown>>).map((e) => ({ ...e, encrypt: invertTyped(e['decrypt']), decrypt: invertTyped(e['encrypt']) })),
    }, true)
  }
  return config
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options']

/**
 * A local mock of the partner's gateway for contract tests and the demo: an HTTP server on a loopback
 * address that verifies every request's OAuth 1.0a signature as the real gateway does (401 with the
 * gateway-style body otherwise), decrypts request fields and encrypts response fields per the encryption
 * config, routes by the spec's paths and methods (404/405 otherwise), answers with the spec's examples
 * (or a schema-valid sample), and logs one line per request.
 *
 * @example
 * ```ts
 * import { startMockGateway } from 'apisign/testing'
 * const gateway = await startMockGateway({ spec: 'openapi/payments.yaml', consumers: { 'ck!abc': { key: publicKey } } })
 * const api = createClient({ baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!abc', key } })
 * await gateway.close()
 * ```
 */
export async function startMockGateway(options: MockGatewayOptions): Promise<MockGateway> {
  if (options.rateLimit !== undefined) {
    limitOption(options.rateLimit.requests, 'rateLimit.requests', 0, { integer: true })
    limitOption(options.rateLimit.perMs ?? Number.NaN, 'rateLimit.perMs', 0, { positive: true })
  }
  const limits = resolveGatewayLimits(options.limits)
  const spec = loadSpec(options.spec)
  if (typeof spec['paths'] !== 'object' || spec['paths'] === null) throw new ApisignError('ERR_SPEC_INVALID', 'spec has no paths')
  const offset = options.clockOffsetMs ?? 0
  if (typeof offset !== 'number' || !Number.isFinite(offset)) throw new TypeError(`clockOffsetMs must be a finite number of ms. Received ${String(offset)}`)
  const baseNow = options.now ?? Date.now
  const now = offset === 0 ? baseNow : () => baseNow() + offset
  const basePath = basePathOf(spec)
  const index = indexOperations(spec)
  const provider = createGatewayProvider(options)
  const store = provider.keyStore
  const consumers = options.consumers ?? (store === undefined ? undefined : (storeCredentials('oauth1', store)['consumers'] as ConsumerKeys))
  const defaultGuard: Guard | undefined =
    options.verifier !== undefined || consumers !== undefined
      ? {
          verifier:
            options.verifier ??
            createOAuth1Verifier({ consumers: consumers as ConsumerKeys, debug: options.debug ?? true, now, async: true, ...(options.unknownConsumer === undefined ? {} : { unknownConsumer: options.unknownConsumer }) }),
          rejectionBody: SCHEMES.oauth1.rejectionBody,
        }
      : undefined
  let authorizationServer: AuthorizationServer | undefined
  const guards = new Map<string, Guard>()
  // With a key store, the spec's other schemes read their keys there too (SigV4 needs its region and service in `security`).
  const configured: Record<string, ({ readonly scheme?: SchemeId } & Record<string, unknown>) | SchemeVerifier> = { ...options.security }
  if (store !== undefined) {
    for (const [name, securityScheme] of Object.entries(index.securitySchemes)) {
      const id = schemeOf(securityScheme)
      if (configured[name] === undefined && id !== undefined && id !== 'oauth1' && id !== 'sigv4') configured[name] = { scheme: id }
    }
  }
  for (const [name, given] of Object.entries(configured)) {
    const securityScheme: OpenApiSecurityScheme | undefined = index.securitySchemes[name]
    if (securityScheme === undefined) throw new ApisignError('ERR_SCHEME_CONFIG', `the spec has no security scheme named ${name}`)
    const id = (given as { scheme?: SchemeId }).scheme ?? schemeOf(securityScheme)
    if (id === undefined || !Object.hasOwn(SCHEMES, id)) throw new ApisignError('ERR_SCHEME_CONFIG', `security scheme ${name}: say which scheme it is ({ scheme: ... } or x-apisign-scheme)`)
    const row = SCHEMES[id]
    if (typeof (given as SchemeVerifier).verify === 'function') {
      guards.set(name, { verifier: given as SchemeVerifier, rejectionBody: row.rejectionBody })
      continue
    }
    const { scheme: _scheme, ...own } = given as { scheme?: SchemeId } & Record<string, unknown>
    const verifierOptions = store === undefined ? own : { ...storeCredentials(id, store), ...own }
    const verifier =
      id === 'oauth2' && options.authorizationServer !== undefined
        ? gatewayOAuth2Verifier(verifierOptions, () => authorizationServer, now)
        : (row.verifier as (o: SchemeServerOptions[SchemeId], c: object) => SchemeVerifier)({ ...(id === 'oauth1' ? { async: true } : {}), ...verifierOptions } as never, { securityScheme, basePath, now })
    guards.set(name, { verifier, rejectionBody: row.rejectionBody })
  }
  // With an authorization server, the spec's oauth2 schemes accept its tokens without further options.
  if (options.authorizationServer !== undefined) {
    for (const [name, securityScheme] of Object.entries(index.securitySchemes)) {
      if (!guards.has(name) && schemeOf(securityScheme) === 'oauth2') guards.set(name, { verifier: gatewayOAuth2Verifier({}, () => authorizationServer, now), rejectionBody: SCHEMES.oauth2.rejectionBody })
    }
  }
  if (defaultGuard === undefined && guards.size === 0) throw new TypeError('startMockGateway needs consumers, a verifier, security credentials or a keyStore')
  // `consumers` / `verifier` also serve the spec's OAuth 1.0a security schemes (x-apisign-scheme: oauth1).
  if (defaultGuard !== undefined) {
    for (const [name, securityScheme] of Object.entries(index.securitySchemes)) {
      if (!guards.has(name) && schemeOf(securityScheme) === 'oauth1') guards.set(name, defaultGuard)
    }
  }
  // Every scheme an operation names must be configured: a contract test must not pass by accident.
  for (const [template, item] of Object.entries(spec['paths'] as Record<string, Record<string, unknown>>)) {
    for (const m of METHODS) {
      const found = item[m] === undefined ? undefined : index.find(m, template.replace(/\{[^}]+\}/g, 'x'))
      for (const requirement of found?.security ?? []) {
        for (const name of Object.keys(requirement)) {
          if (!guards.has(name)) throw new ApisignError('ERR_SCHEME_CONFIG', `${m.toUpperCase()} ${template} requires security scheme ${name}; pass its credentials in security`)
        }
      }
      if (item[m] !== undefined && found?.declared !== true && defaultGuard === undefined) {
        throw new ApisignError('ERR_SCHEME_CONFIG', `${m.toUpperCase()} ${template} declares no security; pass consumers or a verifier for it`)
      }
    }
  }
  const authenticate = async (method: string, path: string, received: Parameters<SchemeVerifier['verify']>[0]) => {
    const found = index.find(method, path)
    if (found?.declared !== true) {
      const verdict = await (defaultGuard as Guard).verifier.verify(received)
      return { verdict, guard: defaultGuard as Guard }
    }
    const security: readonly SecurityRequirement[] = found.security
    // `security: []` declares the operation anonymous (OpenAPI 3.x §4.8.10).
    if (security.length === 0) return { verdict: { ok: true, principal: 'anonymous' } as SchemeVerdict, guard: undefined }
    let first: { verdict: SchemeVerdict; guard: Guard } | undefined
    for (const requirement of security) {
      const principals: string[] = []
      const answerHeaders: Record<string, string> = {}
      let failed: { verdict: SchemeVerdict; guard: Guard } | undefined
      for (const name of Object.keys(requirement)) {
        const guard = guards.get(name) as Guard
        const scopes = requirement[name] ?? []
        const verdict = await guard.verifier.verify(received, scopes.length === 0 ? undefined : { scopes })
        if (!verdict.ok) {
          failed = { verdict, guard }
          break
        }
        principals.push(verdict.principal)
        Object.assign(answerHeaders, verdict.headers)
      }
      if (failed === undefined) {
        const firstName = Object.keys(requirement)[0]
        return { verdict: { ok: true, principal: principals.join('+') || 'anonymous', headers: answerHeaders } as SchemeVerdict, guard: firstName === undefined ? undefined : guards.get(firstName) }
      }
      first ??= failed
    }
    return first as { verdict: SchemeVerdict; guard: Guard }
  }
  const windows = new Map<string, { start: number; count: number }>()
  const encryption =
    options.encryption === undefined
      ? undefined
      : typeof (options.encryption as FieldEncryption).encrypt === 'function'
        ? (options.encryption as FieldEncryption)
        : createEncryption(partnerView(options.encryption as unknown as Record<string, unknown>, options.partnerKeys))
  const routes: Route[] = Object.entries(spec['paths'] as Record<string, Record<string, unknown>>).map(([template, item]) => ({
    template,
    pattern: new RegExp(`^${template.replace(/[.*+?^${}()|[\]\\]/g, (c) => (c === '{' || c === '}' ? c : `\\${c}`)).replace(/\{[^}]+\}/g, '[^/]+')}$`),
    methods: new Map(METHODS.filter((m) => item[m] !== undefined).map((m) => [m.toUpperCase(), item[m] as Record<string, unknown>])),
  }))
  const requests: Array<{ method: string; path: string; status: number; code?: string; principal?: string; body?: unknown }> = []
  const log = options.log ?? (() => undefined)

  // Per request: what the usage record needs (set by handle, read when the response is finished).
  const seen = new WeakMap<ServerResponse, { principal?: string; operation?: string; code?: string; bytesIn: number; bytesOut: number; rateHeaders?: Readonly<Record<string, string>> }>()
  const send = (res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string | undefined> = {}) => {
    // The partner's clock, offset included: what a client learns its skew from.
    res.sendDate = false
    const headers: Record<string, string> = { ...seen.get(res)?.rateHeaders, date: new Date(now()).toUTCString() }
    for (const [k, v] of Object.entries(extraHeaders)) if (v !== undefined) headers[k] = v
    if (body === undefined) {
      res.writeHead(status, headers).end()
      return
    }
    const text = JSON.stringify(body)
    const info = seen.get(res)
    if (info !== undefined) info.bytesOut = Buffer.byteLength(text)
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: Buffer, { url, pathname }: { url: string; pathname: string }) => {
    const method = req.method ?? 'GET'
    const path = basePath !== '' && pathname.startsWith(basePath) ? pathname.slice(basePath.length) || '/' : pathname
    const usage = seen.get(res)
    if (usage !== undefined) usage.bytesIn = raw.length
    let principal: string | undefined
    const record = (status: number, code?: string, body?: unknown) => {
      const info = seen.get(res)
      if (info !== undefined) {
        if (code !== undefined) info.code = code
        if (principal !== undefined) info.principal = principal
      }
      pushBounded(requests, { method, path, status, ...(code === undefined ? {} : { code }), ...(principal === undefined ? {} : { principal }), ...(body === undefined ? {} : { body }) }, limits.requestLogSize)
      log(`${method} ${pathname} -> ${status}${code === undefined ? '' : ` ${code}`}`)
    }
    if (authorizationServer !== undefined) {
      const answer = await authorizationServer.handle({ method, url, headers: req.headers, body: raw })
      if (answer !== undefined) {
        principal = answer.principal
        record(answer.status, answer.code)
        return send(res, answer.status, answer.body, answer.headers)
      }
    }
    const route = routes.find((r) => r.pattern.test(path))
    // A real gateway authenticates before it routes: a badly signed call to an unknown path is a 401, not
    // a 404 that would hide the signing problem (apisign doctor's probe relies on this).
    if (route?.methods.get(method) === undefined && defaultGuard !== undefined) {
      const verdict = await defaultGuard.verifier.verify({ method, url, headers: req.headers, body: raw })
      if (!verdict.ok) {
        record(401, verdict.code)
        return send(res, 401, defaultGuard.rejectionBody(verdict))
      }
    }
    if (route === undefined) {
      record(404, 'NOT_FOUND')
      return send(res, 404, { Errors: { Error: [{ Source: 'Gateway', ReasonCode: 'NOT_FOUND', Description: 'no such resource', Recoverable: false }] } })
    }
    const operation = route.methods.get(method)
    if (operation === undefined) {
      record(405, 'METHOD_NOT_ALLOWED')
      return send(res, 405, { Errors: { Error: [{ Source: 'Gateway', ReasonCode: 'METHOD_NOT_ALLOWED', Description: `${method} not allowed`, Recoverable: false }] } }, { allow: [...route.methods.keys()].join(', ') })
    }
    const { verdict, guard } = await authenticate(method, path, { method, url, headers: req.headers, body: raw })
    if (!verdict.ok) {
      record(verdict.status ?? 401, verdict.code)
      return send(res, verdict.status ?? 401, (guard as Guard).rejectionBody(verdict), verdict.headers)
    }
    principal = verdict.principal
    provider.used(principal)
    const operationId = `${method} ${route.template}`
    const info = seen.get(res)
    if (info !== undefined) info.operation = operationId
    const decision = await provider.quota(principal, operationId)
    if (decision !== undefined) {
      if (info !== undefined) info.rateHeaders = decision.headers
      if (!decision.allowed) {
        const code = decision.status === 503 ? 'ERR_QUOTA_STORE_UNAVAILABLE' : 'ERR_RATE_LIMITED'
        record(decision.status ?? 429, code)
        const message = code === 'ERR_RATE_LIMITED' ? `quota ${decision.full?.window.label ?? ''} exceeded` : 'quota store unavailable'
        return send(res, decision.status ?? 429, (guard ?? { rejectionBody: SCHEMES.oauth1.rejectionBody }).rejectionBody({ ok: false, code, message }))
      }
    }
    if (options.rateLimit !== undefined) {
      const t = now()
      let window = windows.get(verdict.principal)
      if (window === undefined || t - window.start >= options.rateLimit.perMs) windows.set(verdict.principal, (window = { start: t, count: 0 }))
      if (++window.count > options.rateLimit.requests) {
        const retryAfter = Math.max(1, Math.ceil((window.start + options.rateLimit.perMs - t) / 1000))
        record(429, 'ERR_RATE_LIMITED')
        return send(res, 429, (guard ?? { rejectionBody: SCHEMES.oauth1.rejectionBody }).rejectionBody({ ok: false, code: 'ERR_RATE_LIMITED', message: 'rate limit exceeded' }), { 'retry-after': String(retryAfter) })
      }
    }
    let requestBody: unknown
    if (raw.length > 0 && /json/i.test(String(req.headers['content-type'] ?? ''))) {
      try {
        requestBody = JSON.parse(raw.toString('utf8'))
        // decryptAsync: the partner's key may be held in an HSM too (a Decrypter).
        if (encryption !== undefined) {
          const message = { url: path, body: requestBody, headers: req.headers as Record<string, string> }
          requestBody = (typeof encryption.decryptAsync === 'function' ? await encryption.decryptAsync(message) : encryption.decrypt(message)).body
        }
      } catch (error) {
        const code = error instanceof ApisignError ? error.code : 'INVALID_REQUEST'
        record(400, code)
        return send(res, 400, { Errors: { Error: [{ Source: 'Gateway', ReasonCode: code, Description: 'request body could not be read or decrypted', Recoverable: false }] } })
      }
    }
    const answer = exampleResponse(spec, operation)
    let body = answer.body
    let headers: Record<string, string | undefined> = {}
    if (encryption !== undefined && body !== undefined && body !== null && typeof body === 'object') {
      const encrypted = encryption.encrypt({ url: path, body })
      body = encrypted.body
      headers = encrypted.headers
    }
    record(answer.status, undefined, requestBody)
    return send(res, answer.status, body, { ...verdict.headers, ...headers })
  }

  const gatewayError = (res: ServerResponse, status: number, reasonCode: string, description: string) => {
    log(`${status} ${reasonCode}`)
    send(res, status, { Errors: { Error: [{ Source: 'Gateway', ReasonCode: reasonCode, Description: description, Recoverable: false }] } })
  }
  const scheme = options.tls === undefined ? 'http' : 'https'
  const server = createGatewayServer(options.tls, serverOptions(limits), (req, res) => {
    // Usage: one event per request once its answer is sent (key, operation and code set by handle()).
    const started = Date.now()
    const info: { principal?: string; operation?: string; code?: string; bytesIn: number; bytesOut: number } = { bytesIn: 0, bytesOut: 0 }
    seen.set(res, info)
    res.on('finish', () => {
      provider.record({
        at: started,
        key: info.principal ?? 'unauthenticated',
        ...(info.operation === undefined ? {} : { operation: info.operation }),
        method: req.method ?? 'GET',
        path: new URL(req.url ?? '/', 'http://gateway').pathname,
        status: res.statusCode,
        ...(info.code === undefined ? {} : { code: info.code }),
        bytesIn: info.bytesIn,
        bytesOut: info.bytesOut,
        durationMs: Date.now() - started,
      })
    })
    // A target that is not origin-form, or a malformed Host, is the client's error (400), answered
    // before the body is read; an oversized body is refused (413) without being buffered.
    const origin = requestTarget(req)
    if (origin === undefined) {
      res.setHeader('connection', 'close')
      return gatewayError(res, 400, 'INVALID_REQUEST', 'malformed Host header or request target')
    }
    // Verified as the URL the client signed: https when serving TLS.
    const target = { ...origin, url: origin.url.replace(/^http:/, `${scheme}:`) }
    const tooLarge = JSON.stringify({ Errors: { Error: [{ Source: 'Gateway', ReasonCode: 'PAYLOAD_TOO_LARGE', Description: `request body exceeds ${limits.maxBodyBytes} bytes`, Recoverable: false }] } })
    readBodyWithin(req, limits.maxBodyBytes, tooLarge)
      .then((raw) => (raw === undefined ? log(`${req.method ?? 'GET'} ${target.pathname} -> 413 PAYLOAD_TOO_LARGE`) : handle(req, res, raw, target)))
      .catch(() => {
        if (!res.headersSent) send(res, 500, { Errors: { Error: [{ Source: 'Gateway', ReasonCode: 'INTERNAL_ERROR', Recoverable: true }] } })
      })
  })
  applyServerLimits(server, limits)
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`port must be an integer from 0 to 65535. Received ${String(port)}`)
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new ApisignError('ERR_PORT_IN_USE', `port ${port} on ${host} is in use; pick another with port (or 0 for a free one)`, { cause: error }))
      else if (error.code === 'EACCES') reject(new ApisignError('ERR_CONFIG_INVALID', `port ${port} on ${host} needs privileges; use a port above 1023`, { cause: error }))
      else reject(error)
    })
    server.listen(port, host, resolve)
  })
  const { port: bound } = server.address() as AddressInfo
  try {
    await provider.start()
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    throw error
  }
  const origin = `${options.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${bound}`
  if (options.authorizationServer !== undefined) authorizationServer = createAuthorizationServer(options.authorizationServer, origin, `${origin}${basePath}`)
  return {
    url: `${origin}${basePath}`,
    ...(authorizationServer === undefined ? {} : { authorizationServer }),
    requests,
    usage: () => provider.usage(),
    ...(provider.admin === undefined ? {} : { admin: { url: provider.admin.url, token: provider.admin.token } }),
    ...(store === undefined ? {} : { keyStore: store }),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await provider.close()
    },
  }
}
